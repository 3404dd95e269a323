// Shapley values of a black-box model: exact (all coalitions of a few players, e.g. the three
// modalities) and KernelSHAP (shap's KernelExplainer) for more players (the clinical features).
//
// Value of a coalition S: v(S) = link( Σ_b w_b f(x_S, bg_b,¬S) ) -- absent players take their
// values from each background row, the model output is averaged over the background and only
// then the link is applied (Lundberg & Lee 2017, "A Unified Approach to Interpreting Model
// Predictions", NeurIPS, arXiv:1705.07874; docs/report.md "Explanations").
// Efficiency: Σ φ = link(f(x)) − link(E_bg f) holds exactly for both methods.
//
// Torch-free header: the model is any callable on a batch of feature rows.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace cervirisk::explain {

// Link applied to the background-averaged output: identity (explain probabilities) or
// logit (explain log-odds; outputs must lie in (0,1)).
enum class Link { kIdentity, kLogit };
double apply_link(Link link, double p);
std::string link_name(Link link);

// The model: rows = samples, columns = features; returns one output per row. Called with
// at most ShapleyOptions::batch_size rows at a time.
using BatchModel = std::function<Eigen::VectorXd(const Eigen::MatrixXd&)>;
// Convenience adaptor for a model written on std::vector rows.
BatchModel batch_model_from_rows(
    std::function<std::vector<double>(const std::vector<std::vector<double>>&)> f);

// Reference samples that stand in for absent players. weights sum to 1.
struct Background {
  Eigen::MatrixXd data;     // rows = reference samples, columns = features
  Eigen::VectorXd weights;  // one per row
};
// Equally weighted background (a training-cohort sample).
Background make_background(const Eigen::MatrixXd& data);
// A k-means summary of `data` (k centres weighted by cluster size; k-means++ seeding from
// `seed`, Lloyd iterations; Arthur & Vassilvitskii 2007, doi:10.1145/1283383.1283494), as
// shap.kmeans offers for large backgrounds. Returns `data` itself when it has <= k rows.
Background kmeans_background(const Eigen::MatrixXd& data, int k, std::uint64_t seed, int max_iter = 100);

struct ShapleyOptions {
  Link link = Link::kIdentity;
  // Players as groups of feature columns (e.g. the columns of each modality's embedding).
  // Empty: one player per feature. Every feature must belong to exactly one group.
  std::vector<std::vector<int>> groups;
  std::size_t batch_size = 8192;  // rows per model call
};

// `players` groups of `width` consecutive columns each (player m = columns [m*width, (m+1)*width)):
// the per-modality slices of a fused vector.
std::vector<std::vector<int>> contiguous_groups(std::size_t players, std::int64_t width);

struct KernelShapOptions {
  Link link = Link::kIdentity;
  std::vector<std::vector<int>> groups;  // as ShapleyOptions::groups
  std::size_t batch_size = 8192;
  // Number of coalitions; 0 = shap's default 2·M + 2048 (M = varying players). Capped at
  // 2^M − 2, in which case every coalition is enumerated and the result is exact Shapley.
  std::size_t nsamples = 0;
  std::uint64_t seed = 0;  // the sampling stream (splitmix64; see docs/report.md)
};

struct Explanation {
  Eigen::VectorXd phi;         // one value per player, on the link scale
  double fx = 0;               // link(f(x))
  double expected = 0;         // link(Σ_b w_b f(bg_b))
  std::size_t coalitions = 0;  // coalitions evaluated (excluding the empty and full one)
  std::size_t model_rows = 0;  // rows passed to the model in total
  bool exact = false;          // every coalition was enumerated
};

// Exact Shapley values: enumerates all 2^P coalitions (P <= 20).
Explanation exact_shapley(const BatchModel& model, const Eigen::VectorXd& x, const Background& background,
                          const ShapleyOptions& options = {});

// KernelSHAP as shap's KernelExplainer (shap 0.4x with l1_reg=False; equal to shap's default
// l1_reg="auto" whenever >= 20% of the coalitions are evaluated, e.g. <= 12 players at the
// default budget -- below that shap would add an AIC-LASSO feature selection): Shapley-kernel weights;
// subset sizes enumerated completely from the smallest (and their complements) while the
// budget allows; the remaining sizes sampled with paired complements, duplicates adding weight;
// a weighted least squares with the efficiency constraint eliminated (the last varying player
// takes the remainder). Players whose values equal every background row get φ = 0.
Explanation kernel_shap(const BatchModel& model, const Eigen::VectorXd& x, const Background& background,
                        const KernelShapOptions& options = {});

// Explanations of many patients (rows of X) plus the cohort summary shap's bar plot uses.
struct CohortExplanation {
  Eigen::MatrixXd phi;  // patients × players
  Eigen::VectorXd fx;   // per patient
  double expected = 0;
  Eigen::VectorXd mean_abs;  // per player: mean over patients of |φ|
};
CohortExplanation exact_shapley_cohort(const BatchModel& model, const Eigen::MatrixXd& X,
                                       const Background& background, const ShapleyOptions& options = {});
CohortExplanation kernel_shap_cohort(const BatchModel& model, const Eigen::MatrixXd& X,
                                     const Background& background, const KernelShapOptions& options = {});

// The coalition sample KernelSHAP would use (exposed for tests and the Python reference):
// masks (coalitions × players, 0/1) and their kernel weights.
struct CoalitionSample {
  Eigen::MatrixXd masks;
  Eigen::VectorXd weights;
  std::size_t fixed = 0;  // leading rows from complete enumeration
};
CoalitionSample kernel_shap_coalitions(int players, std::size_t nsamples, std::uint64_t seed);

}  // namespace cervirisk::explain
