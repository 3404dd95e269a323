// Python's torch.save files (zip format, torch >= 1.6) read without Python: the zip through
// LibTorch's PyTorchStreamReader, data.pkl through a small pickle machine that knows exactly the
// objects a state dict holds -- dicts / OrderedDicts, strings, numbers, tuples, lists and tensors
// rebuilt from their storages (torch._utils._rebuild_tensor_v2 / _rebuild_parameter). LibTorch's
// own pickle_load turns every OrderedDict into None, so it cannot read a saved state_dict.
// Anything else in the pickle (arbitrary classes, code) is refused: a checkpoint is data.
#include <caffe2/serialize/inline_container.h>
#include <fmt/format.h>

#include <cstring>
#include <map>
#include <memory>
#include <variant>

#include "core/error.h"
#include "models/weights.h"

namespace cervirisk::models {

namespace {

struct PyObj;
using Ref = std::shared_ptr<PyObj>;

struct PyObj {
  enum class Kind { kNone, kBool, kInt, kFloat, kStr, kTuple, kList, kDict, kGlobal, kTensor, kStorage, kMark };
  Kind kind = Kind::kNone;
  std::int64_t i = 0;
  double f = 0;
  std::string s, s2;                         // str; global: module, name
  std::vector<Ref> items;                    // tuple, list
  std::vector<std::pair<Ref, Ref>> entries;  // dict, in insertion order
  torch::Tensor tensor;                      // tensor; storage (1-D, its dtype)
};

Ref make(PyObj::Kind k) {
  auto r = std::make_shared<PyObj>();
  r->kind = k;
  return r;
}

class Unpickler {
 public:
  Unpickler(caffe2::serialize::PyTorchStreamReader& zip, std::string data, std::string file)
      : zip_(zip), data_(std::move(data)), file_(std::move(file)) {}

  Ref run() {
    while (true) {
      const auto op = static_cast<unsigned char>(byte());
      switch (op) {
        case 0x80: byte(); break;                                  // PROTO
        case 0x95: take(8); break;                                 // FRAME
        case '.': return pop();                                    // STOP
        case '(': stack_.push_back(make(PyObj::Kind::kMark)); break;
        case 'N': stack_.push_back(make(PyObj::Kind::kNone)); break;
        case 0x88: case 0x89: {                                    // NEWTRUE / NEWFALSE
          auto b = make(PyObj::Kind::kBool);
          b->i = op == 0x88;
          stack_.push_back(b);
          break;
        }
        case 'K': push_int(static_cast<unsigned char>(byte())); break;
        case 'M': push_int(le<std::uint16_t>()); break;
        case 'J': push_int(le<std::int32_t>()); break;
        case 0x8a: {                                               // LONG1
          const auto n = static_cast<unsigned char>(byte());
          const std::string b = take(n);
          std::int64_t v = 0;
          for (std::size_t k = 0; k < n && k < 8; ++k) v |= static_cast<std::int64_t>(static_cast<unsigned char>(b[k])) << (8 * k);
          if (n > 0 && n < 8 && (static_cast<unsigned char>(b[n - 1]) & 0x80)) v -= std::int64_t{1} << (8 * n);
          push_int(v);
          break;
        }
        case 'G': {                                                // BINFLOAT, big-endian
          std::string b = take(8);
          std::uint64_t u = 0;
          for (int k = 0; k < 8; ++k) u = (u << 8) | static_cast<unsigned char>(b[static_cast<std::size_t>(k)]);
          auto f = make(PyObj::Kind::kFloat);
          std::memcpy(&f->f, &u, 8);
          stack_.push_back(f);
          break;
        }
        case 'X': push_str(take(le<std::uint32_t>())); break;      // BINUNICODE
        case 0x8c: push_str(take(static_cast<unsigned char>(byte()))); break;  // SHORT_BINUNICODE
        case '}': stack_.push_back(make(PyObj::Kind::kDict)); break;
        case ']': stack_.push_back(make(PyObj::Kind::kList)); break;
        case ')': stack_.push_back(make(PyObj::Kind::kTuple)); break;
        case 't': {
          auto t = make(PyObj::Kind::kTuple);
          t->items = pop_to_mark();
          stack_.push_back(t);
          break;
        }
        case 0x85: case 0x86: case 0x87: {                         // TUPLE1..3
          auto t = make(PyObj::Kind::kTuple);
          const int n = op - 0x84;
          if (stack_.size() < static_cast<std::size_t>(n)) fail("stack underflow");
          t->items.assign(stack_.end() - n, stack_.end());
          stack_.resize(stack_.size() - static_cast<std::size_t>(n));
          stack_.push_back(t);
          break;
        }
        case 'q': memo_[static_cast<unsigned char>(byte())] = top(); break;  // BINPUT
        case 'r': memo_[le<std::uint32_t>()] = top(); break;                  // LONG_BINPUT
        case 0x94: memo_[memo_.size()] = top(); break;                         // MEMOIZE
        case 'h': stack_.push_back(memo(static_cast<unsigned char>(byte()))); break;
        case 'j': stack_.push_back(memo(le<std::uint32_t>())); break;
        case 'c': {                                                // GLOBAL
          auto g = make(PyObj::Kind::kGlobal);
          g->s = line();
          g->s2 = line();
          stack_.push_back(g);
          break;
        }
        case 'R': {                                                // REDUCE
          auto args = pop();
          auto fn = pop();
          stack_.push_back(call(fn, args));
          break;
        }
        case 'Q': stack_.push_back(persistent(pop())); break;      // BINPERSID
        case 's': {
          auto v = pop();
          auto k = pop();
          dict_of(top())->entries.emplace_back(k, v);
          break;
        }
        case 'u': {
          auto kv = pop_to_mark();
          auto d = dict_of(top());
          if (kv.size() % 2) fail("SETITEMS with an odd count");
          for (std::size_t k = 0; k + 1 < kv.size(); k += 2) d->entries.emplace_back(kv[k], kv[k + 1]);
          break;
        }
        case 'a': {
          auto v = pop();
          list_of(top())->items.push_back(v);
          break;
        }
        case 'e': {
          auto v = pop_to_mark();
          auto l = list_of(top());
          l->items.insert(l->items.end(), v.begin(), v.end());
          break;
        }
        case 'b': pop(); break;  // BUILD: the state of an OrderedDict (_metadata) or a tensor's; not needed
        default: fail(fmt::format("pickle opcode 0x{:02x} at byte {} is not part of a state dict", op, pos_ - 1));
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw FormatError(file_ + ": data.pkl: " + what); }
  char byte() {
    if (pos_ >= data_.size()) fail("truncated");
    return data_[pos_++];
  }
  std::string take(std::size_t n) {
    if (n > data_.size() - pos_) fail("truncated");
    std::string s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  template <typename T>
  T le() {
    const std::string b = take(sizeof(T));
    T v;
    std::memcpy(&v, b.data(), sizeof(T));
    return v;
  }
  std::string line() {
    const auto nl = data_.find('\n', pos_);
    if (nl == std::string::npos) fail("truncated GLOBAL");
    std::string s = data_.substr(pos_, nl - pos_);
    pos_ = nl + 1;
    return s;
  }
  void push_int(std::int64_t v) {
    auto r = make(PyObj::Kind::kInt);
    r->i = v;
    stack_.push_back(r);
  }
  void push_str(std::string s) {
    auto r = make(PyObj::Kind::kStr);
    r->s = std::move(s);
    stack_.push_back(r);
  }
  Ref pop() {
    if (stack_.empty()) fail("stack underflow");
    auto r = stack_.back();
    stack_.pop_back();
    return r;
  }
  Ref top() {
    if (stack_.empty()) fail("stack underflow");
    return stack_.back();
  }
  Ref memo(std::size_t k) {
    auto it = memo_.find(k);
    if (it == memo_.end()) fail(fmt::format("memo {} read before written", k));
    return it->second;
  }
  std::vector<Ref> pop_to_mark() {
    std::vector<Ref> out;
    while (true) {
      auto r = pop();
      if (r->kind == PyObj::Kind::kMark) break;
      out.push_back(r);
    }
    return {out.rbegin(), out.rend()};
  }
  Ref dict_of(const Ref& r) {
    if (r->kind != PyObj::Kind::kDict) fail("SETITEM on a non-dict");
    return r;
  }
  Ref list_of(const Ref& r) {
    if (r->kind != PyObj::Kind::kList) fail("APPEND on a non-list");
    return r;
  }
  static std::int64_t as_int(const Ref& r) { return r->kind == PyObj::Kind::kInt ? r->i : -1; }
  std::vector<std::int64_t> ints(const Ref& r) {
    if (r->kind != PyObj::Kind::kTuple) fail("expected a tuple of sizes");
    std::vector<std::int64_t> v;
    for (const auto& x : r->items) {
      if (x->kind != PyObj::Kind::kInt) fail("a size is not an integer");
      v.push_back(x->i);
    }
    return v;
  }

  Ref call(const Ref& fn, const Ref& args) {
    if (fn->kind != PyObj::Kind::kGlobal || args->kind != PyObj::Kind::kTuple) fail("REDUCE of a non-global");
    const std::string name = fn->s + "." + fn->s2;
    if (name == "collections.OrderedDict") return make(PyObj::Kind::kDict);
    if (name == "torch._utils._rebuild_tensor_v2" && args->items.size() >= 4) {
      const auto& a = args->items;
      if (a[0]->kind != PyObj::Kind::kStorage) fail("a tensor without a storage");
      const auto size = ints(a[2]), stride = ints(a[3]);
      const auto offset = as_int(a[1]);
      auto t = make(PyObj::Kind::kTensor);
      t->tensor = a[0]->tensor.as_strided(size, stride, offset).clone();
      return t;
    }
    if (name == "torch._utils._rebuild_parameter" && !args->items.empty() && args->items[0]->kind == PyObj::Kind::kTensor)
      return args->items[0];
    fail("'" + name + "' is not a tensor, dict or number (only state dicts are read)");
  }

  Ref persistent(const Ref& pid) {
    // ('storage', torch.FloatStorage, key, location, numel)
    if (pid->kind != PyObj::Kind::kTuple || pid->items.size() < 3 || pid->items[0]->s != "storage" ||
        pid->items[1]->kind != PyObj::Kind::kGlobal || pid->items[2]->kind != PyObj::Kind::kStr)
      fail("unexpected persistent id");
    const std::string key = pid->items[2]->s;
    if (auto it = storages_.find(key); it != storages_.end()) return it->second;
    static const std::map<std::string, c10::ScalarType> types{
        {"FloatStorage", torch::kFloat32}, {"DoubleStorage", torch::kFloat64}, {"HalfStorage", torch::kFloat16},
        {"BFloat16Storage", torch::kBFloat16}, {"LongStorage", torch::kInt64}, {"IntStorage", torch::kInt32},
        {"ShortStorage", torch::kInt16}, {"CharStorage", torch::kInt8}, {"ByteStorage", torch::kUInt8},
        {"BoolStorage", torch::kBool}};
    const auto t = types.find(pid->items[1]->s2);
    if (t == types.end()) fail("storage type '" + pid->items[1]->s2 + "' is not supported");
    const std::string record = "data/" + key;
    if (!zip_.hasRecord(record)) fail("no record '" + record + "' in the archive");
    auto [ptr, bytes] = zip_.getRecord(record);
    const auto elem = static_cast<std::size_t>(c10::elementSize(t->second));
    auto s = make(PyObj::Kind::kStorage);
    s->tensor = torch::empty({static_cast<std::int64_t>(bytes / elem)}, torch::TensorOptions().dtype(t->second));
    std::memcpy(s->tensor.data_ptr(), ptr.get(), bytes / elem * elem);
    storages_[key] = s;
    return s;
  }

  caffe2::serialize::PyTorchStreamReader& zip_;
  std::string data_, file_;
  std::size_t pos_ = 0;
  std::vector<Ref> stack_;
  std::map<std::size_t, Ref> memo_;
  std::map<std::string, Ref> storages_;
};

void flatten(const Ref& v, const std::string& prefix, TensorMap& out, const std::string& file) {
  if (v->kind == PyObj::Kind::kTensor) {
    out[prefix] = v->tensor;
    return;
  }
  if (v->kind != PyObj::Kind::kDict) return;  // numbers, strings (e.g. an "epoch" beside the weights)
  for (const auto& [k, val] : v->entries) {
    if (k->kind != PyObj::Kind::kStr) throw FormatError(file + ": a state-dict key is not a string");
    flatten(val, prefix.empty() ? k->s : prefix + "." + k->s, out, file);
  }
}

}  // namespace

TensorMap read_torch_state_dict(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) throw InputError("'" + path.string() + "' does not exist");
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> zip;
  std::string pkl;
  try {
    zip = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path.string());
    if (!zip->hasRecord("data.pkl")) throw FormatError("'" + path.string() + "' has no data.pkl");
    auto [ptr, n] = zip->getRecord("data.pkl");
    pkl.assign(static_cast<const char*>(ptr.get()), n);
  } catch (const c10::Error& e) {
    throw FormatError("'" + path.string() + "' is not a torch.save zip archive (" +
                      std::string(e.what_without_backtrace()).substr(0, 200) +
                      "); files of torch < 1.6's legacy format must be re-saved");
  }
  TensorMap out;
  try {
    flatten(Unpickler(*zip, std::move(pkl), path.string()).run(), "", out, path.string());
  } catch (const c10::Error& e) {
    throw FormatError("'" + path.string() + "': " + std::string(e.what_without_backtrace()).substr(0, 200));
  }
  if (out.empty()) throw FormatError("'" + path.string() + "' holds no tensors");
  return out;
}

}  // namespace cervirisk::models
