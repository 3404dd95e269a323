#include "serve/service.h"

#include <fcntl.h>
#include <malloc.h>
#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <regex>

#include "bundle/bundle.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "data/utf8.h"
#include "io/mask.h"
#include "io/volume.h"
#include "serve/upload.h"
#include "study/study.h"

namespace cervirisk::serve {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// An error answered to the client: status, message, the form field it concerns.
struct HttpError {
  int status;
  std::string message, field;
};

std::string now_iso() {
  const auto t = std::chrono::system_clock::now();
  const std::time_t s = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// JSON text of a response or audit line: request paths, field names and messages may carry any
// bytes a client sent, and nlohmann's dump throws on invalid UTF-8 (found by fuzzing: thrown from
// the audit line's destructor it ended the process); such bytes become U+FFFD.
std::string printable_json(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

bool constant_time_equal(const std::string& a, const std::string& b) {
  // Compares every byte whatever the first difference; the length is not secret.
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i)
    diff |= static_cast<unsigned char>((i < a.size() ? a[i] : 0) ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

std::string load_or_create_token(const fs::path& file) {
  if (file.empty()) return random_hex(24);
  if (fs::exists(file)) {
    std::string t = read_file(file);
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
    if (t.size() < 16) throw ConfigError("--token-file " + file.string() + ": the token must have at least 16 characters");
    return t;
  }
  const std::string t = random_hex(24);
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) throw OutputError("--token-file " + file.string() + ": cannot create it (mode 0600)");
  const std::string line = t + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!ok) throw OutputError("--token-file " + file.string() + ": cannot write it");
  return t;
}

struct LoadedModel {
  fs::path dir;
  bundle::Bundle bundle;
  json summary;
  std::mutex mutex;  // one prediction at a time per bundle (explanations change module state)
};

json model_summary(const fs::path& dir, const bundle::Bundle& b) {
  const auto m = b.arch.modalities();
  json mods = json::array();
  if (m.convnext || m.vit) mods.push_back("image");
  if (m.text) mods.push_back("report");
  if (m.clinical) mods.push_back("clinical");
  json clinical = json::array();
  if (m.clinical)
    for (const auto& c : b.spec.clinical.columns())
      clinical.push_back({{"name", c.name}, {"type", models::clinical_type_name(c.type)}, {"levels", c.levels}});
  bool synthetic = false;
  const fs::path run_json = dir.parent_path().parent_path() / "run.json";
  if (fs::exists(run_json)) {
    try {
      const auto rj = json::parse(read_file(run_json));
      synthetic = rj.value("synthetic", std::string()) == "true";
    } catch (const std::exception&) {
    }
  }
  const auto& t = b.info.training_cohort;
  return {{"variant", b.info.variant},
          {"preset", b.info.preset},
          {"training_cohort", {{"n", t.n}, {"events", t.events}, {"prevalence", t.prevalence}}},
          {"threshold", b.info.threshold},
          {"cutpoint", b.info.cutpoint},
          {"recalibration", b.info.recalibration.method},
          {"modalities", mods},
          {"clinical", clinical},
          {"synthetic", synthetic}};
}

// cpp-httplib (0.11) reads a request's body before any handler runs and applies
// --max-upload-mb to its Content-Length only: it inflates a Content-Encoding (gzip, deflate, br)
// into memory without a bound (a 1 MB gzip of zeros becomes 1 GB), and reads a chunked or
// length-less body to its end. Such a body is refused from its headers, before it is read.
std::optional<HttpError> unbounded_body(const httplib::Request& req) {
  if (req.method != "POST" && req.method != "PUT" && req.method != "PATCH" && req.method != "DELETE" &&
      req.method != "PRI")
    return std::nullopt;  // cpp-httplib reads no body for the others
  for (auto [a, b] = req.headers.equal_range("Content-Encoding"); a != b; ++a)
    if (a->second != "identity")
      return HttpError{415, "compressed request bodies are not accepted (send the files as they are: a .nii.gz stays gzip inside the form)",
                       "Content-Encoding"};
  if (req.has_header("Transfer-Encoding") || !req.has_header("Content-Length"))
    return HttpError{411, "a request body needs a Content-Length (chunked or length-less bodies are not accepted)",
                     "Content-Length"};
  return std::nullopt;
}

// When this thread's request reached routing (its headers read): a body that fails to arrive
// within the read timeout after it is a stalled upload (408), not a malformed one (400).
thread_local std::optional<std::chrono::steady_clock::time_point> g_routed_at;

}  // namespace

struct Service::Impl {
  ServeOptions opt;
  std::string token, token_id;
  std::map<std::string, std::unique_ptr<LoadedModel>> models;
  std::unique_ptr<httplib::Server> server;
  std::unique_ptr<PrivateTempDir> maps_root;
  std::mutex maps_mutex;
  std::deque<std::pair<std::string, std::chrono::steady_clock::time_point>> maps_order;
  std::mutex audit_mutex;
  std::ofstream audit_file;
  std::atomic<int> admitted{0};
  std::mutex slots_mutex;
  std::condition_variable slots_cv;
  int busy = 0;
  fs::path tmp_parent;

  void audit(const json& line) {
    std::lock_guard<std::mutex> lock(audit_mutex);
    if (audit_file.is_open()) {
      audit_file << printable_json(line) << "\n";
      audit_file.flush();
    } else {
      std::cerr << printable_json(line) << "\n";
    }
  }

  static void send_error(httplib::Response& res, const HttpError& e) {
    res.status = e.status;
    res.set_content(printable_json(json({{"error", e.message}, {"field", e.field}})), "application/json");
  }

  bool authorised(const httplib::Request& req) const {
    // The header's whole value: get_header_value ends it at a NUL byte, which would accept
    // "Bearer <token>\0<anything>". Two Authorization headers are ambiguous: refused.
    const auto [first, last] = req.headers.equal_range("Authorization");
    if (first == last || std::next(first) != last) return false;
    const std::string& h = first->second;
    const std::string prefix = "Bearer ";
    if (h.compare(0, prefix.size(), prefix) != 0) return false;
    return constant_time_equal(h.substr(prefix.size()), token);
  }

  fs::path maps_dir(const std::string& id) const { return maps_root->path() / id; }

  void keep_maps(const std::string& id) {
    std::lock_guard<std::mutex> lock(maps_mutex);
    maps_order.emplace_back(id, std::chrono::steady_clock::now());
    const auto max_age = std::chrono::minutes(opt.keep_maps_minutes);
    while (!maps_order.empty() && (maps_order.size() > opt.keep_maps ||
                                   std::chrono::steady_clock::now() - maps_order.front().second > max_age)) {
      std::error_code ec;
      fs::remove_all(maps_dir(maps_order.front().first), ec);
      maps_order.pop_front();
    }
  }

  bool maps_alive(const std::string& id) {
    std::lock_guard<std::mutex> lock(maps_mutex);
    const auto max_age = std::chrono::minutes(opt.keep_maps_minutes);
    for (const auto& [k, t] : maps_order)
      if (k == id) return std::chrono::steady_clock::now() - t <= max_age;
    return false;
  }

  // An uploaded image or mask written into the request's folder under a name of ours (never the
  // client's file name); a .zip becomes a folder (a DICOM series).
  fs::path save_upload(const httplib::MultipartFormData& f, const fs::path& dir, const std::string& field) {
    const std::string kind = sniff(f.content);
    if (kind == "zip") {
      const fs::path out = dir / field;
      fs::create_directories(out);
      ZipLimits lim;
      lim.max_bytes = static_cast<std::uint64_t>(opt.max_upload_mb) << 20;
      extract_zip(f.content, out, lim, field);
      return out;
    }
    std::string ext;
    if (kind == "gzip") ext = ".nii.gz";
    else if (kind == "nifti") ext = ".nii";
    else if (kind == "dicom") ext = ".dcm";
    else if (field == "mask") {
      // The mask formats the CLI reads whose first bytes say little: by the name's extension.
      std::string name = f.filename;
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      for (const char* e : {".seg.nrrd", ".nrrd", ".mha"})
        if (name.size() > std::strlen(e) && name.compare(name.size() - std::strlen(e), std::strlen(e), e) == 0) {
          ext = e;
          break;
        }
    }
    if (ext.empty())
      throw HttpError{400,
                      field == "image" ? "image: expected a NIfTI file (.nii / .nii.gz) or a .zip of one DICOM series"
                                       : "mask: expected NIfTI, NRRD / .seg.nrrd, MetaImage (.mha), a DICOM file or a .zip",
                      field};
    const fs::path out = dir / (field + ext);
    std::ofstream o(out, std::ios::binary);
    o.write(f.content.data(), static_cast<std::streamsize>(f.content.size()));
    if (!o) throw OutputError("cannot write the upload '" + out.string() + "' into the service's temporary folder");
    return out;
  }

  std::string scrub(std::string m, const fs::path& dir) const {
    const std::string d = dir.string();
    for (std::size_t p; !d.empty() && (p = m.find(d)) != std::string::npos;) m.replace(p, d.size(), "<upload>");
    return printable_message(m);
  }

  void predict(const httplib::Request& req, httplib::Response& res) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::string id = random_hex(8);
    const std::string variant = req.matches[1];
    json audit_line = {{"time", now_iso()}, {"request_id", id}, {"token_id", token_id}, {"endpoint", "predict"},
                       {"variant", variant}};
    json inputs = json::object();
    auto finish = [&](int status, const json& extra) {
      audit_line["status"] = status;
      audit_line["inputs"] = inputs;
      for (auto it = extra.begin(); it != extra.end(); ++it) audit_line[it.key()] = it.value();
      audit_line["latency_ms"] =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      audit(audit_line);
    };
    if (!authorised(req)) {
      send_error(res, {401, "missing or wrong bearer token (Authorization: Bearer <token>)", "Authorization"});
      finish(401, json::object());
      return;
    }
    const auto it = models.find(variant);
    if (it == models.end()) {
      send_error(res, {404, "no model '" + variant + "' is loaded (GET /v1/models lists them)", "variant"});
      finish(404, json::object());
      return;
    }
    // Admission: predictions running plus waiting, bounded.
    if (admitted.fetch_add(1) >= opt.workers + opt.queue) {
      admitted.fetch_sub(1);
      res.set_header("Retry-After", "5");
      send_error(res, {503, "the service is busy: try again in a few seconds", ""});
      finish(503, json::object());
      return;
    }
    struct Release {
      std::atomic<int>& n;
      ~Release() {
        // The last request out hands the freed upload and tensor memory back to the system, so
        // resident memory follows the load instead of keeping the peak of the busiest moment.
        if (n.fetch_sub(1) == 1) malloc_trim(0);
      }
    } release{admitted};
    std::optional<PrivateTempDir> tmp_dir;
    try {
      tmp_dir.emplace(tmp_parent);
    } catch (const OutputError& e) {
      return refuse_storage(res, e, finish);
    }
    const PrivateTempDir& tmp = *tmp_dir;
    try {
      for (const char* f : {"image", "mask"})
        if (!req.has_file(f)) throw HttpError{400, std::string(f) + ": missing (multipart/form-data field)", f};
      const auto image_part = req.get_file_value("image");
      const auto mask_part = req.get_file_value("mask");
      inputs["image"] = sha256_hex(image_part.content);
      inputs["mask"] = sha256_hex(mask_part.content);
      auto saved = [&](const httplib::MultipartFormData& part, const std::string& field) {
        try {
          return save_upload(part, tmp.path(), field);
        } catch (const OutputError&) {
          throw;
        } catch (const Error& e) {  // a refused or unreadable archive: the client's, named
          throw HttpError{400, scrub(e.what(), tmp.path()), field};
        } catch (const fs::filesystem_error& e) {  // a folder of a .zip's entries not made: ours
          throw OutputError(e.what());
        }
      };
      const fs::path image_path = saved(image_part, "image");
      const fs::path mask_path = saved(mask_part, "mask");
      study::PredictInput in;
      if (req.has_file("report")) {
        const auto r = req.get_file_value("report").content;
        inputs["report"] = sha256_hex(r);
        if (const auto bad = data::utf8_invalid_offset(r); bad != std::string::npos)
          throw HttpError{400, fmt::format("report: not valid UTF-8 (byte {})", bad), "report"};
        if (!r.empty()) in.report = r;
      }
      if (req.has_file("clinical")) {
        const auto c = req.get_file_value("clinical").content;
        inputs["clinical"] = sha256_hex(c);
        try {
          in.clinical = study::clinical_from_json(c, "clinical");
        } catch (const Error& e) {
          throw HttpError{400, scrub(e.what(), tmp.path()), "clinical"};
        }
      }
      if (req.has_file("mask_segment")) in.mask_segment = req.get_file_value("mask_segment").content;
      const bool explain = (req.has_file("explain") && req.get_file_value("explain").content == "1") ||
                           req.get_param_value("explain") == "1";
      io::Volume image, mask;
      try {
        image = io::read_image(image_path);
      } catch (const Error& e) {
        throw HttpError{400, scrub(e.what(), tmp.path()), "image"};
      }
      try {
        mask = io::read_mask(mask_path, image.geometry, io::MaskReadOptions{in.mask_segment});
      } catch (const Error& e) {
        throw HttpError{400, scrub(e.what(), tmp.path()), "mask"};
      }
      if (explain) in.explain_dir = maps_dir(id);
      study::PredictOutput out;
      {
        std::unique_lock<std::mutex> slot(slots_mutex);
        const auto deadline = t0 + std::chrono::seconds(opt.request_timeout_s);
        if (!slots_cv.wait_until(slot, deadline, [&] { return busy < opt.workers; }))
          throw HttpError{503, fmt::format("no worker became free within the request time limit ({} s)", opt.request_timeout_s), ""};
        ++busy;
        slot.unlock();
        struct Done {
          Impl& s;
          ~Done() {
            { std::lock_guard<std::mutex> l(s.slots_mutex); --s.busy; }
            s.slots_cv.notify_one();
          }
        } done{*this};
        std::lock_guard<std::mutex> lock(it->second->mutex);
        try {
          out = study::predict_loaded(it->second->bundle, image, mask, in);
        } catch (const OutputError&) {
          throw;
        } catch (const Error& e) {
          throw HttpError{400, scrub(e.what(), tmp.path()), ""};
        }
      }
      json body = {{"request_id", id},
                   {"variant", variant},
                   {"probability", out.probability},
                   {"logit", out.logit},
                   {"risk_group", out.risk_group},
                   {"threshold", out.threshold},
                   {"cutpoint", out.cutpoint},
                   {"modalities_present", out.modalities_present}};
      if (!out.modality_shap.empty()) {
        json m = json::object();
        for (const auto& [k, v] : out.modality_shap) m[k] = v;
        body["modality_shap"] = m;
        body["modality_expected"] = out.modality_expected;
      }
      if (!out.clinical_shap.empty()) {
        json m = json::object();
        for (const auto& [k, v] : out.clinical_shap) m[k] = v;
        body["clinical_shap"] = m;
        body["clinical_expected"] = out.clinical_expected;
      }
      if (explain) {
        json maps = json::object();
        for (const auto& p : out.maps) {
          const std::string name = p.filename().string();
          maps[name] = "/v1/predictions/" + id + "/maps/" + name;
        }
        body["maps"] = maps;
        keep_maps(id);
      }
      res.set_content(printable_json(body), "application/json");
      finish(200, {{"probability", out.probability}, {"risk_group", out.risk_group}});
    } catch (const HttpError& e) {
      std::error_code ec;
      fs::remove_all(maps_dir(id), ec);
      if (e.status == 503) res.set_header("Retry-After", "5");
      send_error(res, e);
      finish(e.status, {{"error_field", e.field}});
    } catch (const Error& e) {  // a readable upload the checks did not foresee: still the client's
      std::error_code ec;
      fs::remove_all(maps_dir(id), ec);
      if (e.code() == ExitCode::kOutputNotWritable) return refuse_storage(res, e, finish);
      send_error(res, {400, scrub(e.what(), tmp.path()), ""});
      finish(400, json::object());
    }
  }

  // The upload or its maps could not be stored (--tmp-dir full or not writable): 507, the path in
  // the service's log only (the client never sees the service's folders).
  template <typename Finish>
  static void refuse_storage(httplib::Response& res, const Error& e, Finish& finish) {
    log::error("serve: {}", printable_message(e.what()));
    send_error(res, {507, "the service cannot store the upload: its temporary folder is full or not writable", ""});
    finish(507, json::object());
  }

  // One audit line for the requests that are not predictions (model list, map downloads, and
  // those refused before a handler ran: 413, unknown endpoints).
  void audit_simple(const std::string& endpoint, int status, const std::string& detail = {}) {
    json line = {{"time", now_iso()}, {"endpoint", endpoint}, {"status", status}};
    if (!detail.empty()) line["detail"] = detail;
    audit(line);
  }

  void get_map(const httplib::Request& req, httplib::Response& res) {
    struct Log {
      Impl& s;
      httplib::Response& res;
      std::string id;
      ~Log() { s.audit_simple("map", res.status, id); }
    } log_line{*this, res, req.matches[1].str()};
    if (!authorised(req)) return send_error(res, {401, "missing or wrong bearer token", "Authorization"});
    const std::string id = req.matches[1], name = req.matches[2];
    const fs::path file = maps_dir(id) / name;
    if (!maps_alive(id) || !fs::exists(file))
      return send_error(res, {404, "no map '" + name + "' for request " + id + " (maps are kept for " +
                                       std::to_string(opt.keep_maps_minutes) + " minutes, the newest " +
                                       std::to_string(opt.keep_maps) + ")",
                              "name"});
    const bool png = name.size() > 4 && name.compare(name.size() - 4, 4, ".png") == 0;
    res.set_content(read_file(file), png ? "image/png" : "application/gzip");
  }
};

Service::Service(ServeOptions options) : impl_(std::make_unique<Impl>()) {
  auto& s = *impl_;
  s.opt = std::move(options);
  if (s.opt.models.empty()) throw ConfigError("serve: give at least one --model DIR (a bundle folder models/<variant>)");
  if (s.opt.workers < 1) throw ConfigError("serve: --workers must be >= 1");
  if (s.opt.tls_cert.empty() != s.opt.tls_key.empty()) throw ConfigError("serve: --tls-cert and --tls-key go together");
  io::set_voxel_limit(s.opt.max_voxels);
  for (const auto& dir : s.opt.models) {
    auto m = std::make_unique<LoadedModel>();
    m->dir = dir;
    m->bundle = bundle::load_bundle(dir);
    m->summary = model_summary(dir, m->bundle);
    const std::string v = m->bundle.info.variant;
    if (s.models.count(v))
      throw ConfigError("serve: two bundles of variant " + v + " (" + s.models[v]->dir.string() + ", " + dir.string() + ")");
    log::info("serve: loaded {} from {}", v, dir.string());
    s.models[v] = std::move(m);
  }
  s.token = load_or_create_token(s.opt.token_file);
  s.token_id = sha256_hex(s.token).substr(0, 8);
  if (s.opt.token_file.empty()) std::cerr << "token (this process only): " << s.token << "\n";
  s.tmp_parent = s.opt.tmp_dir.empty() ? fs::temp_directory_path() : s.opt.tmp_dir;
  s.maps_root = std::make_unique<PrivateTempDir>(s.tmp_parent);
  if (!s.opt.audit_log.empty()) {
    s.audit_file.open(s.opt.audit_log, std::ios::app);
    if (!s.audit_file) throw OutputError("serve: cannot append to the audit log " + s.opt.audit_log.string());
  }
  if (!s.opt.tls_cert.empty())
    s.server = std::make_unique<httplib::SSLServer>(s.opt.tls_cert.c_str(), s.opt.tls_key.c_str());
  else
    s.server = std::make_unique<httplib::Server>();
  if (!s.server->is_valid()) throw ConfigError("serve: cannot use the TLS certificate / key");
  auto& svr = *s.server;
  const int threads = s.opt.workers + s.opt.queue + 4;  // waiting requests hold a thread; /healthz always has one
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
  svr.set_payload_max_length(static_cast<std::size_t>(s.opt.max_upload_mb) << 20);
  svr.set_read_timeout(s.opt.read_timeout_s, 0);
  svr.set_write_timeout(s.opt.read_timeout_s, 0);
  // Bodies cpp-httplib would read without a bound: refused before they are read (the connection
  // is then closed; a client that sent `Expect: 100-continue` is refused before it sends them).
  auto refuse_body = [&s](const httplib::Request& req, httplib::Response& res) {
    const auto e = unbounded_body(req);
    if (!e) return false;
    s.audit_simple("refused", e->status, req.path.size() < 200 ? req.path : req.path.substr(0, 200));
    Impl::send_error(res, *e);
    res.set_header("Connection", "close");
    return true;
  };
  svr.set_pre_routing_handler([refuse_body](const httplib::Request& req, httplib::Response& res) {
    g_routed_at = std::chrono::steady_clock::now();
    return refuse_body(req, res) ? httplib::Server::HandlerResponse::Handled
                                 : httplib::Server::HandlerResponse::Unhandled;
  });
  svr.set_post_routing_handler([](const httplib::Request&, httplib::Response&) { g_routed_at.reset(); });
  svr.set_expect_100_continue_handler([refuse_body](const httplib::Request& req, httplib::Response& res) {
    return refuse_body(req, res) ? res.status : 100;
  });
  svr.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  // The viewer: its page and scripts, from web_dir (no token: the page asks for it).
  svr.Get("/", [&s](const httplib::Request&, httplib::Response& res) {
    const fs::path index = s.opt.web_dir / "index.html";
    if (s.opt.web_dir.empty() || !fs::exists(index))
      return Impl::send_error(res, {404, "no viewer files (build/share/cervirisk/web; --web-dir)", ""});
    res.set_header("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; connect-src 'self' blob:; style-src 'self' 'unsafe-inline'");
    res.set_content(read_file(index), "text/html; charset=utf-8");
  });
  svr.Get(R"(/static/(viewer\.js|niivue\.umd\.js))", [&s](const httplib::Request& req, httplib::Response& res) {
    const fs::path file = s.opt.web_dir / req.matches[1].str();
    if (s.opt.web_dir.empty() || !fs::exists(file))
      return Impl::send_error(res, {404, file.filename().string() + " is not installed (scripts/install-deps)", ""});
    res.set_header("Cache-Control", "max-age=3600");
    res.set_content(read_file(file), "application/javascript");
  });
  svr.Get("/v1/models", [&s](const httplib::Request& req, httplib::Response& res) {
    if (!s.authorised(req)) {
      s.audit_simple("models", 401);
      return Impl::send_error(res, {401, "missing or wrong bearer token", "Authorization"});
    }
    s.audit_simple("models", 200);
    json list = json::array();
    for (const auto& [v, m] : s.models) list.push_back(m->summary);
    res.set_content(printable_json(json({{"models", list}})), "application/json");
  });
  svr.Post(R"(/v1/models/([A-Za-z0-9_]+)/predict)",
           [&s](const httplib::Request& req, httplib::Response& res) { s.predict(req, res); });
  svr.Get(R"(/v1/predictions/([0-9a-f]{16})/maps/([A-Za-z0-9_.-]+\.(?:nii\.gz|png)))",
          [&s](const httplib::Request& req, httplib::Response& res) { s.get_map(req, res); });
  svr.set_error_handler([&s](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    // The body was being read (its headers had been) and did not come within the read timeout.
    if (res.status == 400 && g_routed_at &&
        std::chrono::steady_clock::now() - *g_routed_at >= std::chrono::seconds(s.opt.read_timeout_s))
      res.status = 408;
    // Refused before a handler ran (413 while reading the body, an unknown path): no file names,
    // the path only when it is not a predict upload.
    s.audit_simple("refused", res.status, req.path.size() < 200 ? req.path : req.path.substr(0, 200));
    const char* what = res.status == 413   ? "upload larger than the service's limit (--max-upload-mb)"
                       : res.status == 408 ? "upload stalled longer than the read timeout (--read-timeout)"
                       : res.status == 404 ? "no such endpoint"
                       : res.status == 405 ? "method not allowed"
                       : res.status == 414 ? "request line too long"
                                           : "bad request (a malformed request, a header line over 8 KB, or a body "
                                             "shorter than its Content-Length)";
    res.set_content(printable_json(json({{"error", what}, {"field", ""}})), "application/json");
  });
  svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    log::error("serve: internal error: {}", printable_message(what));
    Impl::send_error(res, {500, "internal error (logged by the service)", ""});
  });
}

Service::~Service() = default;

int Service::bind() {
  auto& s = *impl_;
  int port = s.opt.port;
  if (port == 0) {
    port = s.server->bind_to_any_port(s.opt.host);
    if (port <= 0) throw ConfigError("serve: cannot bind to " + s.opt.host + " (any port)");
  } else if (!s.server->bind_to_port(s.opt.host, port)) {
    throw ConfigError(fmt::format("serve: cannot bind to {}:{} (in use, or not an address of this machine)", s.opt.host, port));
  }
  return port;
}

void Service::run() { impl_->server->listen_after_bind(); }
void Service::stop() { impl_->server->stop(); }
const std::string& Service::token() const { return impl_->token; }

}  // namespace cervirisk::serve
