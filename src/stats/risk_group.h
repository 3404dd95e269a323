// The one rule that splits patients at a risk cut-point, shared by the cut-point search
// (stats/cutpoint.h: the low group is score <= cut), the study's risk groups, `cervirisk predict`
// and the report: high risk = score > cut.
#pragma once

namespace cervirisk::stats {

inline bool is_high_risk(double score, double cut) { return score > cut; }
inline const char* risk_group(double score, double cut) { return is_high_risk(score, cut) ? "high" : "low"; }

}  // namespace cervirisk::stats
