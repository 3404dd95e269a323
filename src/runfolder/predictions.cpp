#include "runfolder/predictions.h"

#include <sstream>

#include "core/atomic_file.h"
#include "runfolder/csv_format.h"
#include "runfolder/layout.h"

namespace cervirisk::runfolder {

namespace fs = std::filesystem;

const std::vector<std::string> kPredictionColumns = {"id",    "cohort", "center",      "label", "time_months",
                                                     "event", "logit",  "probability", "risk",  "risk_group"};

std::string predictions_csv(const std::vector<Prediction>& rows) {
  std::ostringstream o;
  o.precision(17);  // %.17g: every double reads back exactly
  o << csv_header(kPredictionColumns);
  for (const auto& r : rows) {
    o << io::csv_field(r.id) << ',' << r.cohort << ',' << io::csv_field(r.center) << ',';
    (r.has_label() ? o << r.label : o << "NA") << ',';
    (r.has_time() ? o << r.time_months : o << "NA") << ',' << r.event << ',' << r.logit << ',' << r.probability << ',' << r.risk << ',' << r.risk_group << '\n';
  }
  return o.str();
}

void write_predictions(const fs::path& file, const std::vector<Prediction>& rows) {
  write_file_atomic(file, predictions_csv(rows));
}

std::vector<Prediction> read_predictions(const fs::path& file) {
  return read_csv_rows<Prediction>(file, kPredictionColumns, [](Prediction& p, const io::Table& t, std::size_t r) {
    p.id = t.cell(r, 0);
    if (p.id.empty()) cell_error(t, r, 0, "empty patient id");
    p.cohort = cell_choice(t, r, 1, kCohortNames);
    p.center = t.cell(r, 2);
    if (t.cell(r, 3) == "NA") {
      p.label = -1;
    } else if (t.cell(r, 3) == "0" || t.cell(r, 3) == "1") {
      p.label = t.cell(r, 3) == "1";
    } else {
      cell_error(t, r, 3, "'" + t.cell(r, 3) + "', expected 0, 1 or NA (no binary label)");
    }
    p.time_months = t.cell(r, 4) == "NA" ? -1 : cell_number(t, r, 4);
    if (p.time_months < 0 && t.cell(r, 4) != "NA")
      cell_error(t, r, 4, "'" + t.cell(r, 4) + "', expected a time >= 0 or NA (not recorded)");
    p.event = cell_flag(t, r, 5);
    p.logit = cell_number(t, r, 6);
    p.probability = cell_number(t, r, 7);
    if (!(p.probability >= 0 && p.probability <= 1))
      cell_error(t, r, 7, "'" + t.cell(r, 7) + "', expected a probability in [0, 1]");
    p.risk = cell_number(t, r, 8);
    p.risk_group = cell_choice(t, r, 9, {"high", "low"});
  });
}

}  // namespace cervirisk::runfolder
