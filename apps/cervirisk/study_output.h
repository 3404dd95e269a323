// What the study commands print on stdout: the AUC table of a run, the explanation summary.
#pragma once

#include "study/study.h"

namespace cervirisk::cli {

// variant x cohort: n, events, AUC [95% CI]; the step timings; the run folder.
void print_study_table(const study::StudyResult& r);
// One line: what was explained and how long each part took.
void print_explain_summary(const study::ExplainSummary& s);

}  // namespace cervirisk::cli
