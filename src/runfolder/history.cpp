#include "runfolder/history.h"

#include "core/atomic_file.h"
#include "runfolder/csv_format.h"

namespace cervirisk::runfolder {

const std::vector<std::string> kHistoryColumns = {"epoch", "train_loss", "val_loss", "val_auc"};

void write_history(const std::filesystem::path& file, const std::vector<EpochRow>& rows) {
  std::string o = csv_header(kHistoryColumns);
  for (const auto& r : rows)
    o += shortest(r.epoch) + ',' + shortest(r.train_loss) + ',' + shortest(r.val_loss) + ',' + shortest(r.val_auc) + '\n';
  write_file_atomic(file, o);
}

std::vector<EpochRow> read_history(const std::filesystem::path& file) {
  return read_csv_rows<EpochRow>(file, kHistoryColumns, [](EpochRow& e, const io::Table& t, std::size_t r) {
    e = {cell_number(t, r, 0), cell_number_or_nan(t, r, 1), cell_number_or_nan(t, r, 2), cell_number_or_nan(t, r, 3)};
  });
}

}  // namespace cervirisk::runfolder
