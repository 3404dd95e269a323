// The one place where every configuration key is declared, with its default and meaning.
// docs/config.md is generated from this table (`cervirisk --print-config-schema`); a test fails
// when it is stale.
#include <cmath>

#include "core/config.h"

namespace cervirisk::config {
namespace {
using S = std::vector<std::string>;
using D = std::vector<double>;
const double kInf = std::numeric_limits<double>::infinity();

std::vector<KeySpec> build() {
  std::vector<KeySpec> k = {
      // --- study -------------------------------------------------------------------------
      {"study.name", Type::kString, std::string("cervirisk study"), "Title used in the report."},
      {"study.seed", Type::kInt, std::int64_t{42}, "One seed for the whole run (splits, init, augmentation, bootstrap).", {}, 0, 4294967295.0},
      {"study.out_dir", Type::kString, std::string("out/study"), "Run folder (relative to the config file)."},
      {"study.threads", Type::kInt, std::int64_t{0}, "Intra-op threads; 0 = number of cores.", {}, 0, 1024},
      {"study.deterministic", Type::kBool, false, "Deterministic kernels and single-threaded data loading, for bit-identical reruns."},
      {"study.synthetic", Type::kBool, false, "The data are synthetic (said in the report and model card)."},
      // --- data --------------------------------------------------------------------------
      {"data.manifest", Type::kString, std::string("manifest.csv"), "Cohort manifest CSV (relative to the config file)."},
      {"data.endpoint", Type::kString, std::string("event"), "Binary endpoint: 'event' (recurrence during follow-up) or 'horizon' (recurrence within data.horizon_months).", {"event", "horizon"}},
      {"data.horizon_months", Type::kFloat, 24.0, "Horizon for the 'horizon' endpoint.", {}, 0.0, 600.0},
      {"data.dicom_series", Type::kString, std::string(""), "Regular expression on SeriesDescription choosing the series when an image folder holds several."},
      {"data.mask_segment", Type::kString, std::string(""), "Which structure of a mask file holding several (RTSTRUCT ROI, DICOM-SEG or .seg.nrrd segment: name, case-insensitive, or label value; label image: label value) when the manifest has no mask_segment column or leaves it empty ('' = the file's only one)."},
      {"data.max_missing_fraction", Type::kFloat, 0.5, "Warn when a clinical column misses more than this fraction.", {}, 0.0, 1.0},
      // --- clinical schema: [[clinical]] tables --------------------------------------------
      {"clinical", Type::kTableArray, std::string(""), "Declared clinical columns, one [[clinical]] table each."},
      {"clinical[].name", Type::kString, std::string(""), "Column name in the manifest.", {}, -kInf, kInf, true},
      {"clinical[].type", Type::kString, std::string("numeric"), "numeric, categorical or ordinal.", {"numeric", "categorical", "ordinal"}},
      {"clinical[].unit", Type::kString, std::string(""), "Unit of a numeric column (documentation)."},
      {"clinical[].min", Type::kFloat, -kInf, "Smallest plausible value (numeric)."},
      {"clinical[].max", Type::kFloat, kInf, "Largest plausible value (numeric)."},
      {"clinical[].levels", Type::kStringList, S{}, "Allowed levels (categorical) or ordered levels (ordinal)."},
      {"clinical[].log", Type::kBool, false, "Log-transform a positive numeric column before standardising."},
      // --- split -------------------------------------------------------------------------
      {"split.external_centers", Type::kStringList, S{}, "Centres held out as the external cohort (when the manifest has no cohort column)."},
      {"split.internal_fraction", Type::kFloat, 0.3, "Fraction of the non-external patients put in internal validation.", {}, 0.0, 0.9},
      {"split.stratify", Type::kBool, true, "Stratify the internal split by outcome."},
      // --- preprocess --------------------------------------------------------------------
      {"preprocess.frame", Type::kString, std::string("sagittal"), "Where the 2.5D slices are taken: 'sagittal' = the canonical anatomical frame (sagittal planes, columns anterior->posterior, rows superior->inferior, whatever the acquisition plane); 'acquisition' = the image's own slices (the old behaviour).", {"sagittal", "acquisition"}},
      {"preprocess.slice_spacing_mm", Type::kFloat, 4.0, "Distance between the 2.5D planes in the sagittal frame (mm).", {}, 0.1, 50.0},
      {"preprocess.spacing_mm", Type::kFloat, 0.8, "In-plane spacing the slices are resampled to.", {}, 0.05, 10.0},
      {"preprocess.tumour_margin_mm", Type::kFloat, 5.0, "Margin around the mask's bounding box for the tumour crop.", {}, 0.0, 100.0},
      {"preprocess.context_margin_mm", Type::kFloat, 15.0, "Extra peritumoral margin of the context crop.", {}, 0.0, 200.0},
      {"preprocess.tumour_fov_mm", Type::kFloat, 72.0, "Fixed field of view of the tumour crop in mm, so that absolute tumour size reaches the model (0 = the tumour's bounding box + tumour margin: every tumour fills the crop).", {}, 0.0, 500.0},
      {"preprocess.context_fov_mm", Type::kFloat, 0.0, "Fixed field of view of the context crop (0 = box + context margin).", {}, 0.0, 500.0},
      {"preprocess.neighbours", Type::kInt, std::int64_t{1}, "Slices each side of the largest-area slice (channels = 2k+1).", {}, 0, 5},
      {"preprocess.mask_channel", Type::kBool, false, "Feed the tumour mask to the image models as extra input channels (2k+1 mask planes after the 2k+1 image planes): the annotated outline, size and shape reach the network directly."},
      {"preprocess.tumour_size_px", Type::kInt, std::int64_t{64}, "Model input size of the tumour crop.", {}, 8, 1024},
      {"preprocess.context_size_px", Type::kInt, std::int64_t{96}, "Model input size of the context crop.", {}, 8, 1024},
      {"preprocess.clip_percentiles", Type::kFloatList, D{0.5, 99.5}, "Intensity percentiles of the whole image clipped before z-scoring with the clipped image's mean and SD."},
      {"preprocess.normalise", Type::kString, std::string("zscore"), "Intensity normalisation.", {"zscore", "minmax", "none"}},
      {"preprocess.cache_dir", Type::kString, std::string(""), "Preprocessing cache ('' = <out_dir>/cache)."},
      {"preprocess.workers", Type::kInt, std::int64_t{0}, "Parallel patients; 0 = number of cores.", {}, 0, 256},
      // --- augment -----------------------------------------------------------------------
      {"augment.enabled", Type::kBool, true, "Training-time augmentation."},
      {"augment.flip", Type::kBool, true, "Random left-right flips."},
      {"augment.rotate_deg", Type::kFloat, 10.0, "Largest in-plane rotation.", {}, 0.0, 180.0},
      {"augment.scale", Type::kFloat, 0.1, "Largest relative scaling.", {}, 0.0, 0.9},
      {"augment.intensity", Type::kFloat, 0.1, "Intensity jitter (gain and offset, in SDs).", {}, 0.0, 2.0},
      // --- text --------------------------------------------------------------------------
      {"text.pretrained", Type::kString, std::string(""), "HuggingFace BERT folder (config.json, vocab.txt, model.safetensors): its vocabulary, its architecture (from config.json, whatever model.preset says) and its weights start the report encoder of msm_t / msm_tc; '' = build a vocabulary and a BERT of the preset's shape and pretrain it on the training reports."},
      {"text.vocab_size", Type::kInt, std::int64_t{2000}, "Size of a vocabulary built from the training reports.", {}, 50, 200000},
      {"text.max_length", Type::kInt, std::int64_t{192}, "Token budget per report (with [CLS] and [SEP]).", {}, 8, 4096},
      {"text.long_policy", Type::kString, std::string("head_tail"), "Reports longer than max_length: head+tail truncation or chunks with mean pooling.", {"head_tail", "chunks", "truncate"}},
      {"text.lowercase", Type::kBool, true, "Lowercase before WordPiece (overridden by tokenizer_config.json)."},
      {"text.embedding", Type::kString, std::string("cls"), "Report embedding: pooled [CLS] or token mean.", {"cls", "mean"}},
      {"text.pretrain_epochs", Type::kInt, std::int64_t{8}, "Masked-language-model epochs on the training reports (0 = none); with text.pretrained, continued pretraining from the checkpoint.", {}, 0, 1000},
      {"text.mask_probability", Type::kFloat, 0.15, "MLM masking rate.", {}, 0.01, 0.9},
      {"text.whole_word_cjk", Type::kBool, false, "Whole-word masking for CJK runs."},
      {"text.pretrain_learning_rate", Type::kFloat, 5e-4, "Peak AdamW learning rate of MLM pretraining (linear warm-up and decay).", {}, 1e-7, 1.0},
      {"text.pretrain_batch_size", Type::kInt, std::int64_t{16}, "Rows per MLM pretraining step.", {}, 1, 4096},
      // --- model -------------------------------------------------------------------------
      {"model.preset", Type::kString, std::string("cpu-small"), "Architecture preset: 'cpu-small' (ConvNeXt-atto, a small dual-path ViT, a 2-layer BERT; 64/96 px crops) or 'paper' (ConvNeXt-T, CrossViT-tiny, BERT-base sizes; 240/224 px crops). It also sets the defaults of the keys marked 'paper:' here; a key given explicitly overrides it, and combinations that cannot work (a crop size the ViT's patches do not divide) are configuration errors naming the keys.", {"cpu-small", "paper"}},
      {"model.arch_file", Type::kString, std::string(""), "Architecture description (JSON/TOML) overriding the preset."},
      {"model.convnext_weights", Type::kString, std::string(""), "Pretrained ConvNeXt weights for every variant with the ConvNeXt branch: timm or torchvision layout, .safetensors (a torchvision .pth through `cervirisk weights convert`). Checked tensor by tensor (exit 4 naming missing / mis-shaped tensors; the ImageNet classifier is ignored); the stem is adapted to the MRI planes by timm's rule (1 channel: RGB filters summed; C != 3: RGB repeated and scaled by 3/C). '' = random initialisation."},
      {"model.vit_weights", Type::kString, std::string(""), "Pretrained CrossViT weights (timm layout, .safetensors) for every variant with the ViT branch; position embeddings are interpolated (bicubic, as timm) when the crop sizes differ from the checkpoint's, patch embeddings adapted as for model.convnext_weights. '' = random initialisation."},
      {"model.fusion_dim", Type::kInt, std::int64_t{64}, "Per-modality projection width.", {}, 4, 4096},
      {"model.modality_dropout", Type::kFloat, 0.15, "Probability of dropping a modality in training.", {}, 0.0, 0.9},
      {"model.dropout", Type::kFloat, 0.2, "Dropout in the fusion head.", {}, 0.0, 0.9},
      {"model.convnext_context", Type::kBool, true, "ConvNeXt embeds the context crop as well as the tumour crop (shared weights, embeddings concatenated), so the ConvNeXt and ViT branches see the same fields of view; false = the tumour crop only."},
      {"model.cox_head", Type::kBool, false, "Add a Cox partial-likelihood risk head (needs train.loss = 'bce+cox': an untrained head is a configuration error)."},
      // --- train -------------------------------------------------------------------------
      {"train.variants", Type::kStringList, S{"clinical", "convnext", "vit", "msm", "msm_t", "msm_tc"}, "Variants trained by `study`."},
      {"train.epochs", Type::kInt, std::int64_t{30}, "Maximum epochs.", {}, 1, 10000},
      {"train.batch_size", Type::kInt, std::int64_t{32}, "Batch size.", {}, 1, 4096},
      {"train.batch_shards", Type::kInt, std::int64_t{0}, "Parts of each CPU training batch run forward and backward on their own threads, one intra-op thread each, gradients summed in a fixed order (0 = one per thread, at least 4 rows per part; 1 = no split). Results depend on it: keep it fixed to reproduce a run on another machine.", {}, 0, 256},
      {"train.lr", Type::kFloat, 1e-3, "Learning rate of new layers.", {}, 0.0, 10.0},
      {"train.backbone_lr", Type::kFloat, 3e-4, "Learning rate of pretrained backbones.", {}, 0.0, 10.0},
      {"train.freeze_backbone_epochs", Type::kInt, std::int64_t{0}, "Epochs at the start of training in which the backbones (ConvNeXt, ViT, BERT) are frozen and only the projections, fusion head and clinical MLP learn (0 = none); useful with pretrained weights.", {}, 0, 10000},
      {"train.device", Type::kString, std::string("cpu"), "Torch device of training, prediction and explanations: 'cpu', 'cuda' or 'cuda:N' (--device overrides). CUDA needs a LibTorch built with CUDA (docs/install.md).", {}},
      {"train.precision", Type::kString, std::string("auto"), "Arithmetic of training and inference: 'fp32'; 'bf16' = bfloat16 autocast (CUDA only); 'auto' = bf16 on CUDA, fp32 on the CPU.", {"auto", "fp32", "bf16"}},
      {"train.weight_decay", Type::kFloat, 0.05, "AdamW weight decay.", {}, 0.0, 10.0},
      {"train.warmup_epochs", Type::kFloat, 2.0, "Linear warm-up before the cosine schedule.", {}, 0.0, 1000.0},
      {"train.grad_clip", Type::kFloat, 1.0, "Gradient-norm clipping (0 = none).", {}, 0.0, 1e6},
      {"train.loss", Type::kString, std::string("bce"), "Loss: 'bce' / 'focal' train the classifier (its logit is also the risk score); 'cox' trains the Cox head only (needs model.cox_head = false: the logit is then the Cox risk score and the probabilities come from recalibration); 'bce+cox' trains both heads (needs model.cox_head = true).", {"bce", "focal", "cox", "bce+cox"}},
      {"train.cox_weight", Type::kFloat, 1.0, "Weight of the Cox partial-likelihood loss in 'bce+cox' (loss = BCE + weight * Cox).", {}, 0.0, 1000.0},
      {"train.focal_gamma", Type::kFloat, 2.0, "Focal-loss gamma.", {}, 0.0, 10.0},
      {"train.class_balance", Type::kString, std::string("weighted"), "Class imbalance: weighted loss, balanced sampler, or none.", {"weighted", "sampler", "none"}},
      {"train.aux_targets", Type::kStringList, S{}, "Clinical columns the image branches also learn to predict from the image during training (multi-task: e.g. deep_stromal_invasion, figo_stage, parametrium): a categorical column with 2 levels or an ordinal column (BCE on the level scaled to [0, 1]) or a numeric one (MSE on its training z-score); missing values do not count. Training only: the bundle and every prediction are the image's alone. Empty = none.", {}},
      {"train.aux_weight", Type::kFloat, 0.5, "Weight of the auxiliary-target loss (train.aux_targets) against the recurrence loss.", {}, 0.0, 100.0},
      {"train.ema_decay", Type::kFloat, 0.0, "Exponential moving average of the weights, updated after every optimiser step with decay min(ema_decay, (1 + step) / (10 + step)): evaluation, epoch selection and the saved model use the average (0 = off; e.g. 0.98 over ~6 steps an epoch).", {}, 0.0, 0.99999},
      {"train.fusion_init", Type::kString, std::string("none"), "How a fusion variant starts: 'none' = every encoder from its own initialisation (and the MLM-pretrained BERT); 'ladder' = from the variants one rung below, trained earlier in the same run and seed: msm from convnext and vit, msm_t from msm, msm_tc from msm_t and clinical (encoders, their projections and missing-modality tokens; the fusion head starts fresh). The rungs must be listed before it in train.variants.", {"none", "ladder"}},
      {"train.early_stop_patience", Type::kInt, std::int64_t{8}, "Epochs without improvement on the selection data (train.selection) before stopping.", {}, 0, 10000},
      {"train.select_on", Type::kString, std::string("auc"), "Metric of epoch selection on the selection data (train.selection).", {"auc", "loss"}},
      {"train.selection", Type::kString, std::string("split"), "What selects the epoch (early stopping, best weights): 'split' = a stratified (event x centre) validation part of the training cohort, the model trained on the rest; 'cv' = k-fold inside the training cohort, the epoch count chosen as the median of the folds' best epochs and the model refit on the whole training cohort; 'internal' = the internal cohort (the old behaviour: its AUC is then optimistic; warned and stated in the report).", {"split", "cv", "internal"}},
      {"train.validation_fraction", Type::kFloat, 0.2, "Share of each event x centre stratum of the training cohort held out when train.selection = split.", {}, 0.05, 0.5},
      {"train.cv_folds", Type::kInt, std::int64_t{5}, "Folds when train.selection = cv.", {}, 2, 20},
      {"train.loader_workers", Type::kInt, std::int64_t{1}, "Background batch-assembly threads.", {}, 0, 64},
      // --- eval --------------------------------------------------------------------------
      {"eval.bootstrap", Type::kInt, std::int64_t{1000}, "Percentile bootstrap replicates (stratified by outcome) for the CIs of Se/Sp/PPV/NPV, C-index, calibration slope, time-dependent AUC, NRI and IDI (0 = none: those CIs are left out).", {}, 0, 100000},
      {"eval.recalibration", Type::kString, std::string("logistic"), "Map from logit to reported probability, fitted on held-out training-cohort predictions (the validation split, or out-of-fold with cv): 'logistic' = intercept and slope; 'intercept' = intercept only (slope 1); 'offset' = the log-odds shift that undoes class weighting (no fit); 'none'.", {"logistic", "intercept", "offset", "none"}},
      {"eval.threshold", Type::kString, std::string("youden"), "Decision threshold fitted on the training cohort.", {"youden", "fixed"}},
      {"eval.fixed_threshold", Type::kFloat, 0.5, "Threshold when eval.threshold = fixed.", {}, 0.0, 1.0},
      {"eval.cutpoint", Type::kString, std::string("maxstat"), "Risk cut-point fitted on the training cohort.", {"maxstat", "median"}},
      {"eval.km_times", Type::kFloatList, D{0, 12, 24, 36, 48, 60}, "Times (months) for numbers at risk and Kaplan-Meier survival per risk group (with CIs)."},
      {"eval.tdauc_horizons", Type::kFloatList, D{12, 24, 36}, "Horizons (months) for the time-dependent (IPCW) AUC of the risk score."},
      // --- explain -----------------------------------------------------------------------
      {"explain.background", Type::kInt, std::int64_t{32}, "Training-cohort background sample for SHAP.", {}, 1, 10000},
      {"explain.kernel_samples", Type::kInt, std::int64_t{2048}, "Extra KernelSHAP coalitions (beyond 2M).", {}, 0, 1000000},
      {"explain.head_fusion", Type::kString, std::string("mean"), "Attention-rollout head fusion.", {"mean", "max", "min"}},
      {"explain.discard_ratio", Type::kFloat, 0.0, "Attention-rollout discard ratio.", {}, 0.0, 0.99},
      // --- report ------------------------------------------------------------------------
      {"report.title", Type::kString, std::string(""), "Report title ('' = study.name)."},
  };
  return k;
}
}  // namespace

const std::vector<PresetDefault>& preset_defaults() {
  // model.preset = "paper": timm's crossvit_tiny_240 fields (240 px tumour crop in 12 px patches,
  // 224 px context crop in 16 px patches: its checkpoints load without interpolation), the
  // paper's 256-wide modality projections, a batch that fits a 224 px ConvNeXt-T + BERT-base
  // step in memory, and a gentler rate for the pretrained backbones.
  static const std::vector<PresetDefault> d{
      {"preprocess.tumour_size_px", std::int64_t{240}},
      {"preprocess.context_size_px", std::int64_t{224}},
      {"model.fusion_dim", std::int64_t{256}},
      {"train.batch_size", std::int64_t{16}},
      {"train.backbone_lr", 1e-4},
  };
  return d;
}

const std::vector<KeySpec>& schema() {
  static const std::vector<KeySpec> s = build();
  return s;
}

}  // namespace cervirisk::config
