// models/<variant>/history.csv: one row per training epoch (loss on the training batches, loss
// and AUC on the selection cohort). The header is the format tag.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace cervirisk::runfolder {

struct EpochRow {
  double epoch = 0, train_loss = 0, val_loss = 0, val_auc = 0;  // NaN: not computed (written empty)
};

extern const std::vector<std::string> kHistoryColumns;
void write_history(const std::filesystem::path& file, const std::vector<EpochRow>& rows);
std::vector<EpochRow> read_history(const std::filesystem::path& file);

}  // namespace cervirisk::runfolder
