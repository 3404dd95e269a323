#include "models/mlm.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <numeric>

#include "core/error.h"
#include "core/log.h"
#include "core/random.h"
#include "text/unicode.h"

namespace cervirisk::models {

namespace {
constexpr std::int64_t kIgnore = -100;  // torch's cross_entropy ignore_index default

struct Rows {
  std::vector<std::vector<std::int64_t>> ids, mask;
};

Rows encode_all(const text::Tokenizer& tok, const std::vector<std::string>& reports, std::size_t max_length) {
  Rows r;
  for (const auto& rep : reports) {
    text::Encoded e = tok.encode(rep, max_length, text::LongPolicy::kChunks);
    if (e.n_tokens == 0) continue;
    for (auto& c : e.chunks) {
      r.ids.push_back(std::move(c.ids));
      r.mask.push_back(std::move(c.attention_mask));
    }
  }
  return r;
}

// Stacks rows [first, last) of the order, trimmed to the longest real length in the batch.
std::pair<torch::Tensor, torch::Tensor> make_batch(const Rows& rows, const std::vector<std::size_t>& order,
                                                   std::size_t first, std::size_t last) {
  std::int64_t len = 1;
  for (std::size_t i = first; i < last; ++i) {
    const auto& m = rows.mask[order[i]];
    len = std::max<std::int64_t>(len, std::accumulate(m.begin(), m.end(), std::int64_t{0}));
  }
  const auto B = static_cast<std::int64_t>(last - first);
  auto ids = torch::empty({B, len}, torch::kLong), mask = torch::empty({B, len}, torch::kLong);
  auto ia = ids.accessor<std::int64_t, 2>(), ma = mask.accessor<std::int64_t, 2>();
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t t = 0; t < len; ++t) {
      ia[b][t] = rows.ids[order[first + static_cast<std::size_t>(b)]][static_cast<std::size_t>(t)];
      ma[b][t] = rows.mask[order[first + static_cast<std::size_t>(b)]][static_cast<std::size_t>(t)];
    }
  return {ids, mask};
}

struct TokenKinds {
  std::vector<char> continuation, cjk, special;
};

TokenKinds token_kinds(const text::Tokenizer& tok) {
  TokenKinds k;
  const auto& toks = tok.vocab().tokens();
  const std::string& pre = tok.options().wordpiece.continuing_prefix;
  k.continuation.assign(toks.size(), 0);
  k.cjk.assign(toks.size(), 0);
  k.special.assign(toks.size(), 0);
  for (std::size_t i = 0; i < toks.size(); ++i) {
    const std::string& t = toks[i];
    k.continuation[i] = !pre.empty() && t.size() > pre.size() && t.compare(0, pre.size(), pre) == 0;
    auto u = text::utf8_to_u32(t);
    k.cjk[i] = u.size() == 1 && text::is_cjk(u[0]);
    k.special[i] = tok.is_special(static_cast<std::int64_t>(i));
  }
  return k;
}

MaskedBatch mask_with(const torch::Tensor& ids, const torch::Tensor& attention_mask, const text::Tokenizer& tok,
                      const TokenKinds& kinds, double p, bool whole_word, std::mt19937_64& rng);
}  // namespace

MaskedBatch mask_tokens(const torch::Tensor& ids, const torch::Tensor& attention_mask, const text::Tokenizer& tok,
                        double p, bool whole_word, std::mt19937_64& rng) {
  return mask_with(ids, attention_mask, tok, token_kinds(tok), p, whole_word, rng);
}

namespace {
MaskedBatch mask_with(const torch::Tensor& ids, const torch::Tensor& attention_mask, const text::Tokenizer& tok,
                      const TokenKinds& kinds, double p, bool whole_word, std::mt19937_64& rng) {
  MaskedBatch out{ids.clone(), torch::full_like(ids, kIgnore)};
  auto in = out.input_ids.accessor<std::int64_t, 2>();
  auto lab = out.labels.accessor<std::int64_t, 2>();
  auto msk = attention_mask.accessor<std::int64_t, 2>();
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  const auto V = static_cast<std::int64_t>(tok.vocab().size());
  std::uniform_int_distribution<std::int64_t> any_token(0, V - 1);
  auto random_token = [&] {
    for (;;) {
      std::int64_t t = any_token(rng);
      if (!kinds.special[static_cast<std::size_t>(t)]) return t;
    }
  };
  for (std::int64_t b = 0; b < ids.size(0); ++b) {
    // Groups of positions masked together: single tokens, or whole words / CJK n-grams.
    std::vector<std::vector<std::int64_t>> groups;
    for (std::int64_t t = 0; t < ids.size(1); ++t) {
      const std::int64_t id = in[b][t];
      if (!msk[b][t] || kinds.special[static_cast<std::size_t>(id)]) continue;
      const auto uid = static_cast<std::size_t>(id);
      bool join = false;
      if (whole_word && !groups.empty() && groups.back().back() == t - 1) {
        const auto prev = static_cast<std::size_t>(in[b][t - 1]);
        if (kinds.continuation[uid]) join = true;
        else if (kinds.cjk[uid] && kinds.cjk[prev] && groups.back().size() < 3 && u01(rng) < 0.5) join = true;
      }
      if (join) groups.back().push_back(t);
      else groups.push_back({t});
    }
    if (groups.empty()) continue;
    std::vector<std::size_t> chosen;
    for (std::size_t g = 0; g < groups.size(); ++g)
      if (u01(rng) < p) chosen.push_back(g);
    if (chosen.empty()) chosen.push_back(std::uniform_int_distribution<std::size_t>(0, groups.size() - 1)(rng));
    for (std::size_t g : chosen) {
      const double r = u01(rng);
      for (std::int64_t t : groups[g]) {
        lab[b][t] = in[b][t];
        if (r < 0.8) in[b][t] = tok.mask_id();
        else if (r < 0.9) in[b][t] = random_token();
      }
    }
  }
  return out;
}
}  // namespace

namespace {

void check_options(const Bert& bert, const text::Tokenizer& tok, const MlmOptions& opt) {
  if (opt.epochs < 0) throw ConfigError("text.pretrain_epochs must be >= 0");
  if (opt.batch_size < 1) throw ConfigError("MLM batch size must be >= 1");
  if (!(opt.mask_probability > 0 && opt.mask_probability < 1))
    throw ConfigError("text.mask_probability must be in (0, 1), got " + std::to_string(opt.mask_probability));
  if (static_cast<std::int64_t>(tok.vocab().size()) != bert->config().vocab_size)
    throw ModelError("tokenizer vocabulary has " + std::to_string(tok.vocab().size()) + " tokens, BERT vocab_size is " +
                     std::to_string(bert->config().vocab_size));
}

struct HeldBatch {
  torch::Tensor ids, mask, labels;
};

// Fixed held-out masks (their own generator), so that the held-out loss is comparable between
// epochs.
std::vector<HeldBatch> held_out_batches(const Rows& held, const text::Tokenizer& tok, const TokenKinds& kinds,
                                        const MlmOptions& opt, const torch::Device& device) {
  std::vector<HeldBatch> batches;
  std::mt19937_64 hr(derive_seed(opt.seed, "mlm.held_out_masks"));
  std::vector<std::size_t> order(held.ids.size());
  std::iota(order.begin(), order.end(), 0);
  for (std::size_t s = 0; s < order.size(); s += static_cast<std::size_t>(opt.batch_size)) {
    auto [ids, mask] = make_batch(held, order, s, std::min(order.size(), s + static_cast<std::size_t>(opt.batch_size)));
    MaskedBatch mb = mask_with(ids, mask, tok, kinds, opt.mask_probability, opt.whole_word, hr);
    batches.push_back({mb.input_ids.to(device), mask.to(device), mb.labels.to(device)});
  }
  return batches;
}

// Mean cross-entropy and accuracy over the masked held-out tokens (NaN without held-out rows).
void evaluate(BertForMaskedLM& mlm, const std::vector<HeldBatch>& batches, MlmEpoch& e) {
  e.held_out_loss = std::nan("");
  e.held_out_accuracy = std::nan("");
  if (batches.empty()) return;
  torch::NoGradGuard ng;
  mlm->eval();
  double sum = 0, correct = 0, n = 0;
  for (const auto& hb : batches) {
    auto logits = mlm(hb.ids, hb.mask);
    auto flat = logits.view({-1, logits.size(-1)});
    auto lab = hb.labels.view({-1});
    sum += torch::nn::functional::cross_entropy(
               flat, lab, torch::nn::functional::CrossEntropyFuncOptions().ignore_index(kIgnore).reduction(torch::kSum))
               .item<double>();
    auto valid = lab.ne(kIgnore);
    correct += flat.argmax(-1).eq(lab).logical_and(valid).sum().item<double>();
    n += valid.sum().item<double>();
  }
  e.held_out_loss = sum / std::max(n, 1.0);
  e.held_out_accuracy = correct / std::max(n, 1.0);
}

// AdamW (Loshchilov & Hutter 2019, arXiv:1711.05101); no decay on biases and LayerNorm, as in
// BERT's optimiser.
std::unique_ptr<torch::optim::AdamW> make_optimizer(BertForMaskedLM& mlm, const MlmOptions& opt) {
  std::vector<torch::Tensor> decay, no_decay;
  for (const auto& p : mlm->named_parameters(true)) {
    if (p.value().dim() < 2) no_decay.push_back(p.value());
    else decay.push_back(p.value());
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                 torch::optim::AdamWOptions(opt.learning_rate).weight_decay(opt.weight_decay)));
  groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(
                                    torch::optim::AdamWOptions(opt.learning_rate).weight_decay(0.0)));
  return std::make_unique<torch::optim::AdamW>(groups, torch::optim::AdamWOptions(opt.learning_rate));
}

// Linear warm-up over warmup_fraction of the steps, then linear decay to 0 (BERT's schedule).
struct LinearSchedule {
  double base_lr, total_steps, warmup;
  LinearSchedule(const MlmOptions& opt, std::size_t steps_per_epoch)
      : base_lr(opt.learning_rate),
        total_steps(static_cast<double>(steps_per_epoch) * opt.epochs),
        warmup(std::max(1.0, opt.warmup_fraction * total_steps)) {}
  double lr(double step) const {
    return base_lr * (step <= warmup ? step / warmup
                                     : std::max(0.0, (total_steps - step) / std::max(1.0, total_steps - warmup)));
  }
};

// The state one epoch of training advances.
struct Training {
  BertForMaskedLM mlm;
  torch::optim::AdamW& optimizer;
  LinearSchedule schedule;
  torch::Device device;
  double step = 0;
};

// One pass over the training rows in a fresh shuffled order with fresh masks; returns the mean
// cross-entropy over the masked tokens.
double train_epoch(Training& t, const Rows& train, std::vector<std::size_t>& order, const text::Tokenizer& tok,
                   const TokenKinds& kinds, const MlmOptions& opt, std::mt19937_64& rng) {
  t.mlm->train();
  std::shuffle(order.begin(), order.end(), rng);
  const std::size_t n_rows = order.size();
  double loss_sum = 0, tokens = 0;
  for (std::size_t s = 0; s < n_rows; s += static_cast<std::size_t>(opt.batch_size)) {
    auto [ids, mask] = make_batch(train, order, s, std::min(n_rows, s + static_cast<std::size_t>(opt.batch_size)));
    MaskedBatch mb = mask_with(ids, mask, tok, kinds, opt.mask_probability, opt.whole_word, rng);
    const double lr = t.schedule.lr(++t.step);
    for (auto& g : t.optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
    auto logits = t.mlm(mb.input_ids.to(t.device), mask.to(t.device));
    auto labels = mb.labels.to(t.device).view({-1});
    auto loss = torch::nn::functional::cross_entropy(logits.view({-1, logits.size(-1)}), labels,
                                                     torch::nn::functional::CrossEntropyFuncOptions().ignore_index(kIgnore));
    t.optimizer.zero_grad();
    loss.backward();
    if (opt.clip_grad_norm > 0) torch::nn::utils::clip_grad_norm_(t.mlm->parameters(), opt.clip_grad_norm);
    t.optimizer.step();
    const double n = labels.ne(kIgnore).sum().item<double>();
    loss_sum += loss.item<double>() * n;
    tokens += n;
  }
  return loss_sum / std::max(tokens, 1.0);
}

}  // namespace

MlmResult pretrain_mlm(Bert& bert, const text::Tokenizer& tok, const std::vector<std::string>& train_reports,
                       const std::vector<std::string>& held_out_reports, const MlmOptions& opt) {
  check_options(bert, tok, opt);
  const std::size_t max_length =
      std::min<std::size_t>(opt.max_length, static_cast<std::size_t>(bert->config().max_position_embeddings));
  const TokenKinds kinds = token_kinds(tok);
  Rows train = encode_all(tok, train_reports, max_length);
  Rows held = encode_all(tok, held_out_reports, max_length);
  if (train.ids.empty()) throw ConfigError("MLM pretraining: the training reports hold no tokens");

  torch::manual_seed(derive_seed(opt.seed, "mlm.torch"));
  std::mt19937_64 rng(derive_seed(opt.seed, "mlm.masks"));
  BertForMaskedLM mlm(bert);
  const torch::Device device = bert->parameters().front().device();
  mlm->to(device);
  const std::vector<HeldBatch> held_batches = held_out_batches(held, tok, kinds, opt, device);
  auto optimizer = make_optimizer(mlm, opt);
  const std::size_t n_rows = train.ids.size();
  const std::size_t batch = static_cast<std::size_t>(opt.batch_size);
  Training t{mlm, *optimizer, LinearSchedule(opt, (n_rows + batch - 1) / batch), device};

  MlmResult result;
  MlmEpoch e0;
  evaluate(mlm, held_batches, e0);
  e0.train_loss = std::nan("");
  result.epochs.push_back(e0);
  log::info("MLM pretraining: {} training rows ({} reports), {} held-out rows, {} epochs; held-out loss before: {:.4f}",
            n_rows, train_reports.size(), held.ids.size(), opt.epochs, e0.held_out_loss);

  std::vector<std::size_t> order(n_rows);
  std::iota(order.begin(), order.end(), 0);
  for (int epoch = 1; epoch <= opt.epochs; ++epoch) {
    auto t0 = std::chrono::steady_clock::now();
    MlmEpoch e;
    e.epoch = epoch;
    e.train_loss = train_epoch(t, train, order, tok, kinds, opt, rng);
    evaluate(mlm, held_batches, e);
    e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    result.epochs.push_back(e);
    log::info("MLM epoch {}/{}: train loss {:.4f}, held-out loss {:.4f} (accuracy {:.3f}), {:.1f} s", epoch, opt.epochs,
              e.train_loss, e.held_out_loss, e.held_out_accuracy, e.seconds);
    if (opt.on_epoch) opt.on_epoch(epoch, e.train_loss, e.held_out_loss);
  }
  mlm->eval();
  result.head = mlm->cls;
  return result;
}

}  // namespace cervirisk::models
