// `cervirisk serve` through real HTTP on localhost (cpp-httplib's client): a small bundle trained
// here, the prediction against `cervirisk predict`, every refusal with its status code, hostile
// uploads (zip-slip, symlink entries, a NIfTI header that promises 2^36 voxels), and the server
// still answering /healthz after all of it. ServeAbuse.*: raw requests on a socket -- attempts
// to get past the token, stalled and truncated uploads, compression and archive bombs.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zip.h>
#include <zlib.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <limits>
#include <random>
#include <sstream>
#include <thread>

#include "cli_run.h"
#include "serve_fixture.h"

namespace fs = std::filesystem;
using cervirisk::testing::run_cli;
using json = nlohmann::json;
using namespace cervirisk::testing::serve;

namespace {

std::string zip_with(const std::string& name, const std::string& content, bool symlink) {
  const fs::path file = work_dir() / ("z_" + std::to_string(::getpid()) + ".zip");
  fs::remove(file);
  int err = 0;
  zip_t* z = zip_open(file.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  zip_source_t* s = zip_source_buffer(z, content.data(), content.size(), 0);
  const zip_int64_t i = zip_file_add(z, name.c_str(), s, ZIP_FL_ENC_UTF_8);
  if (symlink) zip_file_set_external_attributes(z, static_cast<zip_uint64_t>(i), 0, ZIP_OPSYS_UNIX, (S_IFLNK | 0777) << 16);
  zip_close(z);
  return slurp(file);
}

// A NIfTI-1 header whose dimensions promise 4096^3 int16 voxels (and no data behind it).
std::string header_bomb() {
  std::string h(352, '\0');
  auto put32 = [&](std::size_t off, std::int32_t v) { std::memcpy(&h[off], &v, 4); };
  auto put16 = [&](std::size_t off, std::int16_t v) { std::memcpy(&h[off], &v, 2); };
  auto putf = [&](std::size_t off, float v) { std::memcpy(&h[off], &v, 4); };
  put32(0, 348);
  const std::int16_t dim[8] = {3, 4096, 4096, 4096, 1, 1, 1, 1};
  for (int k = 0; k < 8; ++k) put16(40 + 2 * k, dim[k]);
  put16(70, 4);   // datatype int16
  put16(72, 16);  // bitpix
  for (int k = 0; k < 4; ++k) putf(76 + 4 * k, 1.f);
  putf(108, 352.f);  // vox_offset
  std::memcpy(&h[344], "n+1\0", 4);
  return h;
}

}  // namespace

TEST(Serve, PredictionEqualsTheCliAndEveryRefusalHasItsStatus) {
  const fs::path run = work_dir() / "run", data = work_dir() / "data";
  const fs::path token_file = work_dir() / "token";
  Server s("--model " + (run / "models" / "msm_tc").string() + " --model " + (run / "models" / "clinical").string() +
           " --token-file " + token_file.string() + " --max-upload-mb 8 --max-voxels 50000000 --audit-log " +
           (work_dir() / "audit.jsonl").string());
  ASSERT_GT(s.port, 0) << slurp(s.err);
  struct stat st{};
  ASSERT_EQ(::stat(token_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // created with a random token, private
  std::string token = slurp(token_file);
  token.pop_back();
  EXPECT_EQ(token.size(), 48u);
  httplib::Client c("127.0.0.1", s.port);
  c.set_read_timeout(60, 0);

  auto h = c.Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(h->body, R"({"status":"ok"})");
  // 401: no token, a wrong one, one a character short.
  for (const auto& hdr : {httplib::Headers{}, bearer("wrong"), bearer(token.substr(1))}) {
    auto r = c.Get("/v1/models", hdr);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(json::parse(r->body)["field"], "Authorization");
  }
  auto models = c.Get("/v1/models", bearer(token));
  ASSERT_TRUE(models);
  ASSERT_EQ(models->status, 200);
  const auto mj = json::parse(models->body)["models"];
  ASSERT_EQ(mj.size(), 2u);
  EXPECT_EQ(mj[1]["variant"], "msm_tc");
  EXPECT_EQ(mj[1]["synthetic"], true);
  EXPECT_EQ(mj[1]["modalities"], json({"image", "report", "clinical"}));

  // The prediction equals `cervirisk predict` for the same patient (report, clinical values).
  const std::string id = "A002";
  json cj = json::object();
  {
    std::ifstream m(data / "manifest.csv");
    std::string header, row;
    std::getline(m, header);
    while (std::getline(m, row) && row.rfind(id + ",", 0) != 0) {
    }
    std::vector<std::string> names, values;
    std::string f;
    for (std::stringstream hs(header); std::getline(hs, f, ',');) names.push_back(f);
    for (std::stringstream rs(row + ","); std::getline(rs, f, ',');) values.push_back(f);
    for (std::size_t k = 7; k < names.size() && k < values.size(); ++k)  // after time_months: the clinical columns
      cj[names[k]] = values[k].empty() ? json(nullptr) : json(values[k]);
  }
  std::ofstream(work_dir() / "clinical.json") << cj.dump();
  auto items = patient(id);
  items.push_back({"clinical", cj.dump(), "", "application/json"});
  auto p = c.Post("/v1/models/msm_tc/predict", bearer(token), items);
  ASSERT_TRUE(p);
  ASSERT_EQ(p->status, 200) << p->body;
  const auto pj = json::parse(p->body);
  auto cli = run_cli("predict --model " + (run / "models" / "msm_tc").string() + " --image " +
                     (data / "images" / (id + "_t2.nii.gz")).string() + " --mask " +
                     (data / "masks" / (id + "_mask.nii.gz")).string() + " --report " +
                     (data / "reports" / (id + ".txt")).string() + " --clinical " + (work_dir() / "clinical.json").string());
  ASSERT_EQ(cli.code, 0) << cli.err;
  const auto cj_out = json::parse(cli.out);
  for (const char* k : {"probability", "logit", "threshold", "cutpoint"})
    EXPECT_NEAR(pj[k].get<double>(), cj_out[k].get<double>(), 1e-6) << k;
  EXPECT_EQ(pj["risk_group"], cj_out["risk_group"]);
  EXPECT_EQ(pj["modalities_present"], cj_out["modalities_present"]);
  EXPECT_EQ(pj["request_id"].get<std::string>().size(), 16u);

  // Maps: served while kept, in the uploaded image's geometry (a NIfTI of the same size class).
  auto items_x = patient(id, false);
  items_x.push_back({"explain", "1", "", "text/plain"});
  items_x.push_back({"clinical", cj.dump(), "", "application/json"});
  auto px = c.Post("/v1/models/msm_tc/predict", bearer(token), items_x);
  ASSERT_TRUE(px);
  ASSERT_EQ(px->status, 200) << px->body;
  const auto pxj = json::parse(px->body);
  // The patient's Shapley values against the bundle's training backgrounds: efficiency (they sum
  // to the probability minus the background's expected value) for the modalities, exactly, and
  // for the clinical columns (KernelSHAP's constraint).
  ASSERT_TRUE(pxj.contains("modality_shap")) << px->body;
  double sum = 0;
  for (auto it = pxj["modality_shap"].begin(); it != pxj["modality_shap"].end(); ++it) sum += it.value().get<double>();
  EXPECT_EQ(pxj["modality_shap"], json::object({{"clinical", pxj["modality_shap"]["clinical"]},
                                                {"image (ConvNeXt)", pxj["modality_shap"]["image (ConvNeXt)"]},
                                                {"image (ViT)", pxj["modality_shap"]["image (ViT)"]},
                                                {"report", pxj["modality_shap"]["report"]}}));
  EXPECT_NEAR(sum, pxj["probability"].get<double>() - pxj["modality_expected"].get<double>(), 1e-5) << px->body;
  ASSERT_TRUE(pxj.contains("clinical_shap")) << px->body;
  sum = 0;
  for (auto it = pxj["clinical_shap"].begin(); it != pxj["clinical_shap"].end(); ++it) sum += it.value().get<double>();
  EXPECT_NEAR(sum, pxj["probability"].get<double>() - pxj["clinical_expected"].get<double>(), 1e-5) << px->body;
  EXPECT_TRUE(pxj["clinical_shap"].contains("age")) << px->body;
  const auto maps = pxj["maps"];
  ASSERT_FALSE(maps.empty());
  for (auto it = maps.begin(); it != maps.end(); ++it) {
    auto m = c.Get(it.value().get<std::string>().c_str(), bearer(token));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->status, 200) << it.key();
    EXPECT_GT(m->body.size(), 100u);
    EXPECT_EQ(c.Get(it.value().get<std::string>().c_str())->status, 401);
  }
  EXPECT_EQ(c.Get("/v1/predictions/0123456789abcdef/maps/rollout_tumour.nii.gz", bearer(token))->status, 404);

  // 404 unknown variant; 400 naming the field; 413 over the limit.
  EXPECT_EQ(c.Post("/v1/models/vit/predict", bearer(token), patient(id))->status, 404);
  auto no_mask = c.Post("/v1/models/msm_tc/predict", bearer(token), httplib::MultipartFormDataItems{patient(id)[0]});
  EXPECT_EQ(no_mask->status, 400);
  EXPECT_EQ(json::parse(no_mask->body)["field"], "mask");
  auto text_image = patient(id);
  text_image[0].content = "not an image at all";
  auto bad = c.Post("/v1/models/msm_tc/predict", bearer(token), text_image);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(json::parse(bad->body)["field"], "image");
  auto bad_json = patient(id);
  bad_json.push_back({"clinical", "{\"age\": ", "", "application/json"});
  auto bj = c.Post("/v1/models/msm_tc/predict", bearer(token), bad_json);
  EXPECT_EQ(bj->status, 400);
  EXPECT_EQ(json::parse(bj->body)["field"], "clinical");
  auto bad_utf8 = patient(id);
  bad_utf8[2].content = "\xff\xfe report";
  EXPECT_EQ(json::parse(c.Post("/v1/models/msm_tc/predict", bearer(token), bad_utf8)->body)["field"], "report");
  auto big = patient(id);
  big.push_back({"report", std::string(9 << 20, 'x'), "", "text/plain"});
  auto b413 = c.Post("/v1/models/msm_tc/predict", bearer(token), big);
  ASSERT_TRUE(b413);
  EXPECT_EQ(b413->status, 413);

  // Hostile uploads: zip-slip, an absolute path, a symlink entry; a header that promises 2^36 voxels.
  for (const auto& [name, link] : std::vector<std::pair<std::string, bool>>{
           {"../../escaped.dcm", false}, {"/etc/evil.dcm", false}, {"series/link.dcm", true}}) {
    auto z = patient(id);
    z[0].content = zip_with(name, "DICM", link);
    auto r = c.Post("/v1/models/msm_tc/predict", bearer(token), z);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << name << ": " << r->body;
    EXPECT_NE(r->body.find("zip archive refused"), std::string::npos) << r->body;
  }
  EXPECT_FALSE(fs::exists(fs::temp_directory_path() / "escaped.dcm"));
  auto bomb = patient(id);
  bomb[0].content = header_bomb();
  const auto t0 = std::chrono::steady_clock::now();
  auto rb = c.Post("/v1/models/msm_tc/predict", bearer(token), bomb);
  ASSERT_TRUE(rb);
  EXPECT_EQ(rb->status, 400) << rb->body;
  EXPECT_EQ(json::parse(rb->body)["field"], "image");
  EXPECT_NE(rb->body.find("68719476736 voxels"), std::string::npos) << rb->body;
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5.0);

  // Still up; the audit log has a line per request, with hashes and no file names.
  EXPECT_TRUE(s.alive());
  EXPECT_EQ(c.Get("/healthz")->status, 200);
  const std::string audit = slurp(work_dir() / "audit.jsonl");
  EXPECT_EQ(audit.find("whatever-the-client-calls-it"), std::string::npos);
  EXPECT_EQ(audit.find(id), std::string::npos);  // the patient id appears in no log line
  std::map<std::string, int> lines;
  std::stringstream as(audit);
  for (std::string l; std::getline(as, l);) {
    const auto j = json::parse(l);  // every line is JSON
    EXPECT_TRUE(j.contains("status") && j.contains("endpoint") && j.contains("time")) << l;
    if (j["endpoint"] == "predict") {
      EXPECT_TRUE(j.contains("request_id") && j.contains("latency_ms")) << l;
    }
    ++lines[j["endpoint"].get<std::string>()];
  }
  EXPECT_EQ(lines["predict"], 11);
  EXPECT_EQ(lines["refused"], 1);  // the 413
  EXPECT_EQ(lines["models"], 4);
  EXPECT_EQ(lines["map"], 2 * static_cast<int>(maps.size()) + 1);  // with and without the token, and the unknown one
}

// A full queue answers 503 with Retry-After; every request still ends 200 or 503, and the
// server answers /healthz afterwards.
TEST(Serve, AFullQueueIs503WithRetryAfter) {
  const fs::path run = work_dir() / "run";
  Server s("--model " + (run / "models" / "msm_tc").string() + " --token-file " + (work_dir() / "token2").string() +
           " --workers 1 --queue 0");
  ASSERT_GT(s.port, 0) << slurp(s.err);
  std::string token = slurp(work_dir() / "token2");
  token.pop_back();
  std::vector<std::future<std::pair<int, std::string>>> all;
  for (int k = 0; k < 8; ++k)
    all.push_back(std::async(std::launch::async, [&] {
      httplib::Client c("127.0.0.1", s.port);
      c.set_read_timeout(120, 0);
      auto items = patient("A003", false);
      items.push_back({"explain", "1", "", "text/plain"});
      auto r = c.Post("/v1/models/msm_tc/predict", bearer(token), items);
      return r ? std::make_pair(r->status, r->get_header_value("Retry-After")) : std::make_pair(-1, std::string());
    }));
  int ok = 0, busy = 0;
  for (auto& f : all) {
    const auto [status, retry] = f.get();
    EXPECT_TRUE(status == 200 || status == 503) << status;
    ok += status == 200;
    if (status == 503) {
      ++busy;
      EXPECT_EQ(retry, "5");
    }
  }
  EXPECT_GE(ok, 1);
  EXPECT_GE(busy, 1) << "8 simultaneous requests on one worker with no queue never found it busy";
  httplib::Client c("127.0.0.1", s.port);
  EXPECT_EQ(c.Get("/healthz")->status, 200);
}

// A DICOM series uploaded as a .zip (pydicom-written files, tests/data/dicom_objects/image) with a
// DICOM SEG mask and its segment: the same prediction as `cervirisk predict` on the folder.
TEST(Serve, ADicomSeriesZipAndASegMaskPredictLikeTheCli) {
  const fs::path run = work_dir() / "run";
  const fs::path series = fs::path(CERV_TEST_DATA) / "dicom_objects" / "image";
  const fs::path seg = fs::path(CERV_TEST_DATA) / "dicom_objects" / "seg_binary.dcm";
  const fs::path zfile = work_dir() / "series.zip";
  {
    int err = 0;
    zip_t* z = zip_open(zfile.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    ASSERT_NE(z, nullptr);
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(series)) files.push_back(e.path());
    for (const auto& f : files)
      zip_file_add(z, ("series/" + f.filename().string()).c_str(), zip_source_file(z, f.c_str(), 0, -1), ZIP_FL_ENC_UTF_8);
    ASSERT_EQ(zip_close(z), 0);
  }
  Server s("--model " + (run / "models" / "msm_tc").string() + " --token-file " + (work_dir() / "token3").string());
  ASSERT_GT(s.port, 0) << slurp(s.err);
  std::string token = slurp(work_dir() / "token3");
  token.pop_back();
  httplib::Client c("127.0.0.1", s.port);
  c.set_read_timeout(60, 0);
  httplib::MultipartFormDataItems items{{"image", slurp(zfile), "series.zip", "application/zip"},
                                        {"mask", slurp(seg), "seg.dcm", "application/dicom"}};
  auto no_segment = c.Post("/v1/models/msm_tc/predict", bearer(token), items);
  ASSERT_TRUE(no_segment);
  EXPECT_EQ(no_segment->status, 400);
  EXPECT_EQ(json::parse(no_segment->body)["field"], "mask");
  EXPECT_NE(no_segment->body.find("2 segments"), std::string::npos) << no_segment->body;
  items.push_back({"mask_segment", "GTV", "", "text/plain"});
  auto r = c.Post("/v1/models/msm_tc/predict", bearer(token), items);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto cli = run_cli("predict --model " + (run / "models" / "msm_tc").string() + " --image " + series.string() +
                     " --mask " + seg.string() + " --mask-segment GTV");
  ASSERT_EQ(cli.code, 0) << cli.err;
  EXPECT_NEAR(json::parse(r->body)["probability"].get<double>(), json::parse(cli.out)["probability"].get<double>(), 1e-6);

  // Damaged archives (truncated, bytes flipped in the entries, the directory or the DICOM data):
  // 400 naming the image, or a prediction -- never a 500, never a dead server.
  const std::string good = slurp(zfile);
  std::mt19937_64 rng(17);
  int refused = 0;
  for (int k = 0; k < 40; ++k) {
    std::string bad = good;
    if (k % 4 == 0) bad.resize(rng() % bad.size());
    else
      for (int f = 0; f < 1 + static_cast<int>(rng() % 6); ++f) bad[rng() % bad.size()] = static_cast<char>(rng());
    items[0].content = bad;
    auto m = c.Post("/v1/models/msm_tc/predict", bearer(token), items);
    ASSERT_TRUE(m) << "no answer to mutation " << k;
    EXPECT_TRUE(m->status == 200 || m->status == 400) << k << ": " << m->status << " " << m->body;
    if (m->status == 400) {
      ++refused;
      EXPECT_EQ(json::parse(m->body)["field"], "image") << m->body;
    }
  }
  EXPECT_GT(refused, 10);
  EXPECT_TRUE(s.alive());
  EXPECT_EQ(c.Get("/healthz")->status, 200);
}

// ---- Abuse: raw HTTP on a socket, so that headers, bodies and their timing are the test's ----

namespace {

std::string read_token(const fs::path& file) {
  std::string t = slurp(file);
  while (!t.empty() && t.back() == '\n') t.pop_back();
  return t;
}

long rss_kb(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  for (std::string l; std::getline(f, l);)
    if (l.rfind("VmRSS:", 0) == 0) return std::stol(l.substr(6));
  return -1;
}

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void send_all(int fd, const std::string& b) {  // stops quietly when the server stops reading
  for (std::size_t off = 0; off < b.size();) {
    const ssize_t n = ::send(fd, b.data() + off, b.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

struct Reply {
  int status = 0;  // 0: the connection ended (or the time ran out) without a response
  std::string head, body;
  double seconds = 0;  // until the response was complete, or the connection ended
};

// Reads one response (its headers, then Content-Length bytes of body unless it answers a HEAD).
Reply read_reply(int fd, double timeout_s, bool head_request = false) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto end = t0 + std::chrono::duration<double>(timeout_s);
  std::string in;
  Reply r;
  char buf[1 << 16];
  for (;;) {
    const auto head = in.find("\r\n\r\n");
    if (head != std::string::npos) {
      const auto cl = in.find("Content-Length: ");
      const std::size_t len = cl < head && !head_request ? std::stoul(in.substr(cl + 16)) : 0;
      if (in.size() >= head + 4 + len) {
        r.status = in.rfind("HTTP/1.1 ", 0) == 0 ? std::stoi(in.substr(9, 3)) : -1;
        r.head = in.substr(0, head);
        r.body = in.substr(head + 4, len);
        break;
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count();
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

// One request on a connection of its own. A second thread writes it while this one reads, so a
// response sent before the body was read is still seen; half_close: shutdown(SHUT_WR) after it.
Reply round_trip(int port, const std::string& request, double timeout_s = 60, bool half_close = false,
               bool head_request = false) {
  const int fd = connect_to(port);
  if (fd < 0) return {};
  std::thread writer([&] {
    send_all(fd, request);
    if (half_close) ::shutdown(fd, SHUT_WR);
  });
  Reply r = read_reply(fd, timeout_s, head_request);
  ::shutdown(fd, SHUT_RDWR);  // unblocks a writer the server stopped reading
  writer.join();
  ::close(fd);
  return r;
}

// A request as bytes: the request line, Host, the extra header lines ("Name: value\r\n" each),
// Content-Length unless `extra` has one or a Transfer-Encoding (or length < 0), the body.
std::string http(const std::string& method, const std::string& target, const std::string& extra = {},
                 const std::string& body = {}, long long length = -2) {
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra;
  if (length == -2) length = static_cast<long long>(body.size());
  if (length >= 0 && (method == "POST" || !body.empty())) r += "Content-Length: " + std::to_string(length) + "\r\n";
  return r + "\r\n" + body;
}

const std::string kBoundary = "cervirisk-abuse-boundary-7f3a";
const std::string kForm = "Content-Type: multipart/form-data; boundary=" + kBoundary + "\r\n";

std::string form_body(const httplib::MultipartFormDataItems& items) {
  std::string b;
  for (const auto& i : items) {
    b += "--" + kBoundary + "\r\nContent-Disposition: form-data; name=\"" + i.name + "\"";
    if (!i.filename.empty()) b += "; filename=\"" + i.filename + "\"";
    b += "\r\nContent-Type: " + (i.content_type.empty() ? std::string("text/plain") : i.content_type) + "\r\n\r\n" +
         i.content + "\r\n";
  }
  return b + "--" + kBoundary + "--\r\n";
}

std::string field_of(const Reply& r) {
  try {
    return json::parse(r.body).value("field", std::string("?"));
  } catch (const std::exception&) {
    return "(not JSON: " + r.body.substr(0, 80) + ")";
  }
}

// A gzip stream of n_mb MiB of zeros (about 1 KB per MiB).
std::string gzip_zeros(int n_mb) {
  z_stream zs{};
  deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
  std::string zeros(1 << 20, '\0'), out;
  std::vector<unsigned char> buf(1 << 16);
  for (int k = 0; k <= n_mb; ++k) {
    zs.next_in = reinterpret_cast<Bytef*>(zeros.data());
    zs.avail_in = k < n_mb ? static_cast<uInt>(zeros.size()) : 0;
    do {
      zs.next_out = buf.data();
      zs.avail_out = static_cast<uInt>(buf.size());
      deflate(&zs, k < n_mb ? Z_NO_FLUSH : Z_FINISH);
      out.append(reinterpret_cast<char*>(buf.data()), buf.size() - zs.avail_out);
    } while (zs.avail_out == 0);
  }
  deflateEnd(&zs);
  return out;
}

// Brotli (quality 11, window 24) of 1 GiB of zeros: 841 bytes.
const std::string kBrotliBomb(
    "\xcf\xff\xff\x7f\xf8\x27\x00\xe2\xb1\x40\x20\xf7\xfe\x9f\xff\xff\xff\xf0\x4f\x00\xc4\x61\x01\x80"
    "\xee\xfd\x3f\xff\xff\xff\xe1\x9f\x00\x88\xc3\x22\x00\xdd\xfb\x7f\xfe\xff\xff\xc3\x3f\x01\x10\x87"
    "\x05\x00\xba\xf7\xff\xfc\xff\xff\x87\x7f\x02\x20\x0e\x0b\x00\x74\xef\xff\xf9\xff\xff\x0f\xff\x04"
    "\x40\x1c\x16\x00\xe8\xde\xff\xf3\xff\xff\x1f\xfe\x09\x80\x38\x2c\x00\xd0\xbd\xff\xe7\xff\xff\x3f"
    "\xfc\x13\x00\x71\x58\x00\xa0\x7b\xff\xcf\xff\xff\x7f\xf8\x27\x00\xe2\xb0\x00\x40\xf7\xfe\x9f\xff"
    "\xff\xff\xf0\x4f\x00\xc4\x61\x01\x80\xee\xfd\x3f\xff\xff\xff\xe1\x9f\x00\x88\xc3\x02\x00\xdd\xfb"
    "\x7f\xfe\xff\xff\xc3\x3f\x01\x10\x87\x05\x00\xba\xf7\xff\xfc\xff\xff\x87\x7f\x02\x20\x0e\x0b\x00"
    "\x74\xef\xff\xf9\xff\xff\x0f\xff\x04\x40\x1c\x16\x00\xe8\xde\xff\xf3\xff\xff\x1f\xfe\x09\x80\x38"
    "\x2c\x00\xd0\xbd\xff\xe7\xff\xff\x3f\xfc\x13\x00\x71\x58\x00\xa0\x7b\xff\xcf\xff\xff\x7f\xf8\x27"
    "\x00\xe2\xb0\x00\x40\xf7\xfe\x9f\xff\xff\xff\xf0\x4f\x00\xc4\x61\x01\x80\xee\xfd\x3f\xff\xff\xff"
    "\xe1\x9f\x00\x88\xc3\x02\x00\xdd\xfb\x7f\xfe\xff\xff\xc3\x3f\x01\x10\x87\x05\x00\xba\xf7\xff\xfc"
    "\xff\xff\x87\x7f\x02\x20\x0e\x0b\x00\x74\xef\xff\xf9\xff\xff\x0f\xff\x04\x40\x1c\x16\x00\xe8\xde"
    "\xff\xf3\xff\xff\x1f\xfe\x09\x80\x38\x2c\x00\xd0\xbd\xff\xe7\xff\xff\x3f\xfc\x13\x00\x71\x58\x00"
    "\xa0\x7b\xff\xcf\xff\xff\x7f\xf8\x27\x00\xe2\xb0\x00\x40\xf7\xfe\x9f\xff\xff\xff\xf0\x4f\x00\xc4"
    "\x61\x01\x80\xee\xfd\x3f\xff\xff\xff\xe1\x9f\x00\x88\xc3\x02\x00\xdd\xfb\x7f\xfe\xff\xff\xc3\x3f"
    "\x01\x10\x87\x05\x00\xba\xf7\xff\xfc\xff\xff\x87\x7f\x02\x20\x0e\x0b\x00\x74\xef\xff\xf9\xff\xff"
    "\x0f\xff\x04\x40\x1c\x16\x00\xe8\xde\xff\xf3\xff\xff\x1f\xfe\x09\x80\x38\x2c\x00\xd0\xbd\xff\xe7"
    "\xff\xff\x3f\xfc\x13\x00\x71\x58\x00\xa0\x7b\xff\xcf\xff\xff\x7f\xf8\x27\x00\xe2\xb0\x00\x40\xf7"
    "\xfe\x9f\xff\xff\xff\xf0\x4f\x00\xc4\x61\x01\x80\xee\xfd\x3f\xff\xff\xff\xe1\x9f\x00\x88\xc3\x02"
    "\x00\xdd\xfb\x7f\xfe\xff\xff\xc3\x3f\x01\x10\x87\x05\x00\xba\xf7\xff\xfc\xff\xff\x87\x7f\x02\x20"
    "\x0e\x0b\x00\x74\xef\xff\xf9\xff\xff\x0f\xff\x04\x40\x1c\x16\x00\xe8\xde\xff\xf3\xff\xff\x1f\xfe"
    "\x09\x80\x38\x2c\x00\xd0\xbd\xff\xe7\xff\xff\x3f\xfc\x13\x00\x71\x58\x00\xa0\x7b\xff\xcf\xff\xff"
    "\x7f\xf8\x27\x00\xe2\xb0\x00\x40\xf7\xfe\x9f\xff\xff\xff\xf0\x4f\x00\xc4\x61\x01\x80\xee\xfd\x3f"
    "\xff\xff\xff\xe1\x9f\x00\x88\xc3\x02\x00\xdd\xfb\x7f\xfe\xff\xff\xc3\x3f\x01\x10\x87\x05\x00\xba"
    "\xf7\xff\xfc\xff\xff\x87\x7f\x02\x20\x0e\x0b\x00\x74\xef\xff\xf9\xff\xff\x0f\xff\x04\x40\x1c\x16"
    "\x00\xe8\xde\xff\xf3\xff\xff\x1f\xfe\x09\x80\x38\x2c\x00\xd0\xbd\xff\xe7\xff\xff\x3f\xfc\x13\x00"
    "\x71\x58\x00\xa0\x7b\xff\xcf\xff\xff\x7f\xf8\x27\x00\xe2\xb0\x00\x40\xf7\xfe\x9f\xff\xff\xff\xf0"
    "\x4f\x00\xc4\x61\x01\x80\xee\xfd\x3f\xff\xff\xff\xe1\x9f\x00\x88\xc3\x02\x00\xdd\xfb\x7f\xfe\xff"
    "\xff\xc3\x3f\x01\x10\x87\x05\x00\xba\xf7\xff\xfc\xff\xff\x87\x7f\x02\x20\x0e\x0b\x00\x74\xef\xff"
    "\xf9\xff\xff\x0f\xff\x04\x40\x1c\x16\x00\xe8\xde\xff\xf3\xff\xff\x1f\xfe\x09\x80\x38\x2c\x00\xd0"
    "\xbd\xff\xe7\xff\xff\x3f\xfc\x13\x00\x71\x58\x00\xa0\x7b\xff\xcf\xff\xff\x7f\xf8\x27\x00\xe2\xb0"
    "\x00\x40\xf7\xfe\x9f\xff\xff\xff\xf0\x4f\x00\xc4\x61\x01\x80\xee\xfd\x3f\xff\xff\xff\xe1\x9f\x00"
    "\x88\xc3\x02\x00\xdd\xfb\x7f\xfe\xff\xff\xc3\x3f\x01\x10\x87\x05\x00\xba\xf7\xff\xfc\xff\xff\x87"
    "\x7f\x02\x20\x0e\x0b\x00\x74\xef\xff\xf9\xff\xff\x0f\xff\x04\x40\x1c\x16\x00\xe8\xde\xff\xf3\xff"
    "\xff\x1f\xfe\x09\x80\x38\x2c\x00\xd0\xbd\xff\xcf\xff\xff\x7f\xfc\x13\x00\x71\x58\x00\xa0\x7b\xff"
    "\x0f",
    841);

// A zip archive of these entries (name, content), made with libzip; symlink: the entries' Unix
// mode says symbolic link.
std::string zip_of(const std::vector<std::pair<std::string, std::string>>& entries, bool symlink = false) {
  const fs::path file = work_dir() / ("zz_" + std::to_string(::getpid()) + ".zip");
  fs::remove(file);
  int err = 0;
  zip_t* z = zip_open(file.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  for (const auto& [name, content] : entries) {
    zip_source_t* s = zip_source_buffer(z, content.data(), content.size(), 0);
    const zip_int64_t i = zip_file_add(z, name.c_str(), s, ZIP_FL_ENC_UTF_8);
    if (symlink) zip_file_set_external_attributes(z, static_cast<zip_uint64_t>(i), 0, ZIP_OPSYS_UNIX, (S_IFLNK | 0777) << 16);
  }
  zip_close(z);
  return slurp(file);
}

void put_le(std::string& s, std::size_t at, std::uint64_t v, int bytes) {
  for (int k = 0; k < bytes; ++k) s[at + k] = static_cast<char>((v >> (8 * k)) & 0xff);
}

// A hand-made Zip64 archive: a.dcm (100 bytes, stored), then b.dcm, 16 MiB of zeros deflated
// (16 KB), whose declared size is 2^64 - 50: added to a's 100 it wraps around to 50.
std::string zip64_wraparound() {
  struct E {
    std::string name, data;
    int method;
    std::uint64_t declared;
  };
  std::string zeros(16 << 20, '\0'), deflated(1 << 20, '\0');
  z_stream zs{};
  deflateInit2(&zs, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY);
  zs.next_in = reinterpret_cast<Bytef*>(zeros.data());
  zs.avail_in = static_cast<uInt>(zeros.size());
  zs.next_out = reinterpret_cast<Bytef*>(deflated.data());
  zs.avail_out = static_cast<uInt>(deflated.size());
  deflate(&zs, Z_FINISH);
  deflated.resize(deflated.size() - zs.avail_out);
  deflateEnd(&zs);
  const std::vector<E> entries{{"a.dcm", std::string(100, 'x'), 0, 100},
                               {"b.dcm", deflated, 8, std::numeric_limits<std::uint64_t>::max() - 49}};
  const std::vector<std::string> plain{entries[0].data, zeros};
  std::string out, central;
  for (std::size_t k = 0; k < entries.size(); ++k) {
    const auto& e = entries[k];
    const std::uint32_t crc = static_cast<std::uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(plain[k].data()), static_cast<uInt>(plain[k].size())));
    std::string extra(20, '\0');  // Zip64: header id 1, 16 bytes: uncompressed, compressed size
    put_le(extra, 0, 1, 2);
    put_le(extra, 2, 16, 2);
    put_le(extra, 4, e.declared, 8);
    put_le(extra, 12, e.data.size(), 8);
    std::string local(30, '\0');
    put_le(local, 0, 0x04034b50, 4);
    put_le(local, 4, 45, 2);
    put_le(local, 8, e.method, 2);
    put_le(local, 12, 0x21, 2);
    put_le(local, 14, crc, 4);
    put_le(local, 18, 0xffffffff, 4);
    put_le(local, 22, 0xffffffff, 4);
    put_le(local, 26, e.name.size(), 2);
    put_le(local, 28, extra.size(), 2);
    std::string dir(46, '\0');
    put_le(dir, 0, 0x02014b50, 4);
    put_le(dir, 4, 45, 2);
    put_le(dir, 6, 45, 2);
    put_le(dir, 10, e.method, 2);
    put_le(dir, 14, 0x21, 2);
    put_le(dir, 16, crc, 4);
    put_le(dir, 20, 0xffffffff, 4);
    put_le(dir, 24, 0xffffffff, 4);
    put_le(dir, 28, e.name.size(), 2);
    put_le(dir, 30, extra.size(), 2);
    put_le(dir, 42, out.size(), 4);
    central += dir + e.name + extra;
    out += local + e.name + extra + e.data;
  }
  std::string eocd(22, '\0');
  put_le(eocd, 0, 0x06054b50, 4);
  put_le(eocd, 8, entries.size(), 2);
  put_le(eocd, 10, entries.size(), 2);
  put_le(eocd, 12, central.size(), 4);
  put_le(eocd, 16, out.size(), 4);
  return out + central + eocd;
}

// The files and folders under the service's temporary folder, as paths relative to it.
std::vector<std::string> tree(const fs::path& dir) {
  std::vector<std::string> all;
  for (const auto& e : fs::recursive_directory_iterator(dir)) all.push_back(fs::relative(e.path(), dir).string());
  return all;
}

// The server with TMPDIR set to a fresh folder of the test's (its upload folders go there).
struct ServerIn {
  fs::path tmp;
  std::unique_ptr<Server> server;
  ServerIn(const std::string& name, const std::string& args) : tmp(work_dir() / name) {
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    ::setenv("TMPDIR", tmp.c_str(), 1);
    server = std::make_unique<Server>(args);
    ::unsetenv("TMPDIR");
  }
  // Only the maps folder the service keeps from its start, and nothing in it.
  void expect_clean() const {
    const auto t = tree(tmp);
    ASSERT_EQ(t.size(), 1u) << ::testing::PrintToString(t);
    EXPECT_EQ(t[0].rfind("cervirisk-serve-", 0), 0u) << t[0];
  }
};

std::string msm_tc() { return (work_dir() / "run" / "models" / "msm_tc").string(); }

}  // namespace

// Every way of presenting a token but the right one is 401 (or 400 / 404, docs/service.md), and
// none of them gets a prediction or the model list; paths the routes do not name are 404.
TEST(ServeAbuse, AuthenticationBypassAttemptsAreRefused) {
  const fs::path token_file = work_dir() / "token_auth";
  Server s("--model " + msm_tc() + " --token-file " + token_file.string());
  ASSERT_GT(s.port, 0) << slurp(s.err);
  const std::string token = read_token(token_file);
  const std::string form = form_body(patient("A002"));
  auto get = [&](const std::string& path, const std::string& extra) { return round_trip(s.port, http("GET", path, extra)); };
  auto post = [&](const std::string& path, const std::string& extra) {
    return round_trip(s.port, http("POST", path, extra + kForm, form));
  };
  // The right token works through this raw client (the refusals below are the token's).
  auto ok = get("/v1/models", "Authorization: Bearer " + token + "\r\n");
  ASSERT_EQ(ok.status, 200) << ok.head;
  auto okp = post("/v1/models/msm_tc/predict", "Authorization: Bearer " + token + "\r\n");
  ASSERT_EQ(okp.status, 200) << okp.body;
  ASSERT_NE(okp.body.find("\"probability\""), std::string::npos);

  std::string upper = token;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::vector<std::pair<std::string, std::string>> wrong{
      {"no header", ""},
      {"empty", "Authorization: \r\n"},
      {"Bearer alone", "Authorization: Bearer\r\n"},
      {"Bearer and a space", "Authorization: Bearer \r\n"},
      {"wrong token", "Authorization: Bearer 0123456789abcdef0123456789abcdef0123456789abcdef\r\n"},
      {"a prefix of it", "Authorization: Bearer " + token.substr(0, token.size() - 1) + "\r\n"},
      {"half of it", "Authorization: Bearer " + token.substr(0, token.size() / 2) + "\r\n"},
      {"it and a suffix", "Authorization: Bearer " + token + "0\r\n"},
      {"a prefix and it", "Authorization: Bearer 0" + token + "\r\n"},
      {"it twice", "Authorization: Bearer " + token + token + "\r\n"},
      {"upper case", "Authorization: Bearer " + upper + "\r\n"},
      {"lower-case scheme", "Authorization: bearer " + token + "\r\n"},
      {"upper-case scheme", "Authorization: BEARER " + token + "\r\n"},
      {"two spaces", "Authorization: Bearer  " + token + "\r\n"},
      {"a tab", "Authorization: Bearer\t" + token + "\r\n"},
      {"no space", "Authorization: Bearer" + token + "\r\n"},
      {"another scheme", "Authorization: Basic " + token + "\r\n"},
      {"no scheme", "Authorization: " + token + "\r\n"},
      {"a NUL after it", "Authorization: Bearer " + token + std::string(1, '\0') + "x\r\n"},
      {"a wrong one first", "Authorization: Bearer wrong\r\nAuthorization: Bearer " + token + "\r\n"},
      {"a wrong one after it", "Authorization: Bearer " + token + "\r\nAuthorization: Bearer wrong\r\n"},
      {"it twice, in two headers", "Authorization: Bearer " + token + "\r\nAuthorization: Bearer " + token + "\r\n"},
      {"another header", "X-Authorization: Bearer " + token + "\r\nProxy-Authorization: Bearer " + token + "\r\n"},
      {"a cookie", "Cookie: token=" + token + "; Authorization=Bearer%20" + token + "\r\n"},
  };
  for (const auto& [what, header] : wrong) {
    auto g = get("/v1/models", header);
    EXPECT_EQ(g.status, 401) << what << ": " << g.head;
    EXPECT_EQ(field_of(g), "Authorization") << what;
    EXPECT_EQ(g.body.find("\"models\""), std::string::npos) << what;
    auto p = post("/v1/models/msm_tc/predict", header);
    EXPECT_EQ(p.status, 401) << what << ": " << p.head;
    EXPECT_EQ(p.body.find("probability"), std::string::npos) << what;
  }
  // The token in the query string: not a credential.
  for (const std::string q : {"?token=", "?access_token=", "?Authorization=Bearer%20", "?bearer="}) {
    EXPECT_EQ(get("/v1/models" + q + token, "").status, 401) << q;
    EXPECT_EQ(post("/v1/models/msm_tc/predict" + q + token, "").status, 401) << q;
  }
  // Header lines over cpp-httplib's 8 KB: 400, whatever they hold.
  for (const std::string& h : {"Authorization: Bearer " + std::string(9000, 'a') + "\r\n",
                               "Authorization: Bearer " + token + std::string(9000, ' ') + "\r\n",
                               "Authorization: Bearer " + std::string(1 << 20, 'a') + "\r\n"}) {
    EXPECT_EQ(get("/v1/models", h).status, 400) << h.size();
    EXPECT_EQ(post("/v1/models/msm_tc/predict", h).status, 400) << h.size();
  }
  // Paths: percent-decoded before routing (so %6d is 'm', and it still needs the token), never
  // normalised: doubled slashes, '..' (also %2e%2e), case, suffixes name no route: 404.
  EXPECT_EQ(get("/v1/%6dodels", "").status, 401);
  EXPECT_EQ(post("/v1/models/msm_tc%2fpredict", "").status, 401);
  EXPECT_EQ(round_trip(s.port, http("HEAD", "/v1/models", ""), 60, false, true).status, 401);
  for (const std::string path : {"//v1/models", "/v1//models", "/v1/../v1/models", "/v1/%2e%2e/v1/models",
                                 "/v1/%2E%2E/v1/models", "/x/..%2fv1/models", "/healthz/../v1/models", "/v1/models/",
                                 "/V1/MODELS", "/v1/models;x", "/v1/models%00", "/v1/models%20", "/./v1/models",
                                 "/v1/predictions/../../../etc/passwd", "/static/../../../etc/passwd",
                                 "/static/%2e%2e/%2e%2e/etc/passwd"}) {
    for (const std::string& auth : {std::string(), "Authorization: Bearer " + token + "\r\n"}) {
      auto g = get(path, auth);
      EXPECT_EQ(g.status, 404) << path << (auth.empty() ? "" : " with the token");
      EXPECT_EQ(g.body.find("\"models\""), std::string::npos) << path;
      EXPECT_EQ(g.body.find("root:"), std::string::npos) << path;
    }
  }
  for (const std::string path : {"//v1/models/msm_tc/predict", "/v1/models/msm_tc/predict/", "/v1/models/msm_tc/../msm_tc/predict",
                                 "/v1/models/msm_tc/%2e%2e/msm_tc/predict", "/v1/models/msm%5Ftc/../x/predict"}) {
    auto p = post(path, "");
    EXPECT_EQ(p.status, 404) << path << ": " << p.head;
    EXPECT_EQ(p.body.find("probability"), std::string::npos) << path;
  }
  EXPECT_TRUE(s.alive());
  EXPECT_EQ(get("/healthz", "").status, 200);
}

// A client that sends its headers and then stalls is answered 408 after --read-timeout (one that
// stalls inside its headers: 400), and holds only its own connection: the others are served
// meanwhile.
TEST(ServeAbuse, AStalledUploadIs408AndOthersAreServedMeanwhile) {
  const fs::path token_file = work_dir() / "token_slow";
  ServerIn in("slow_tmp", "--model " + msm_tc() + " --token-file " + token_file.string() + " --read-timeout 2");
  const Server& s = *in.server;
  ASSERT_GT(s.port, 0) << slurp(s.err);
  const std::string token = read_token(token_file);
  const std::string form = form_body(patient("A002"));
  const std::string request = http("POST", "/v1/models/msm_tc/predict", "Authorization: Bearer " + token + "\r\n" + kForm, form);
  // Stalled: all the headers and the first 1000 bytes of the body; the headers half-way.
  const int body_fd = connect_to(s.port), head_fd = connect_to(s.port);
  ASSERT_GE(body_fd, 0);
  ASSERT_GE(head_fd, 0);
  send_all(body_fd, request.substr(0, request.find("\r\n\r\n") + 4 + 1000));
  send_all(head_fd, request.substr(0, 60));
  const auto t0 = std::chrono::steady_clock::now();
  httplib::Client c("127.0.0.1", s.port);
  c.set_read_timeout(120, 0);
  auto h = c.Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  auto p = c.Post("/v1/models/msm_tc/predict", bearer(token), patient("A002"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, 200) << p->body;
  const Reply stalled = read_reply(body_fd, 30);
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(stalled.status, 408) << stalled.head << stalled.body;
  EXPECT_NE(stalled.body.find("--read-timeout"), std::string::npos) << stalled.body;
  EXPECT_GE(waited, 1.5);
  EXPECT_LT(waited, 30.0);
  const Reply half = read_reply(head_fd, 30);
  EXPECT_EQ(half.status, 400) << half.head;
  ::close(body_fd);
  ::close(head_fd);
  EXPECT_TRUE(s.alive());
  EXPECT_EQ(c.Get("/healthz")->status, 200);
  in.expect_clean();  // the stalled upload never reached the handler: no folder was made
  const std::string audit_err = slurp(s.err);
  EXPECT_NE(audit_err.find("\"status\":408"), std::string::npos);  // the audit (stderr) has the refusal
}

// A body shorter than its Content-Length, then the connection closed (whole or half): no crash,
// no upload folder left; a multipart body without its closing boundary: 400.
TEST(ServeAbuse, TruncatedUploadsLeaveNothingBehind) {
  const fs::path token_file = work_dir() / "token_trunc";
  ServerIn in("trunc_tmp", "--model " + msm_tc() + " --token-file " + token_file.string());
  const Server& s = *in.server;
  ASSERT_GT(s.port, 0) << slurp(s.err);
  const std::string token = read_token(token_file);
  const std::string auth = "Authorization: Bearer " + token + "\r\n";
  const std::string form = form_body(patient("A002"));
  for (int k = 0; k < 12; ++k) {
    const std::size_t sent = k % 3 == 0 ? form.size() : form.size() * static_cast<std::size_t>(k) / 12;
    const std::string head = http("POST", "/v1/models/msm_tc/predict", auth + kForm, "",
                                  static_cast<long long>(form.size()) + 4096);
    const int fd = connect_to(s.port);
    ASSERT_GE(fd, 0);
    send_all(fd, head + form.substr(0, sent));
    if (k % 2 == 0) {
      ::shutdown(fd, SHUT_WR);
      const Reply r = read_reply(fd, 30);  // the server answers a half-closed connection with nothing
      EXPECT_NE(r.status, 200) << k;
    }
    ::close(fd);
  }
  // Complete, but the multipart body is cut before its closing boundary.
  const std::string cut = form.substr(0, form.size() - kBoundary.size() - 8);
  const Reply r = round_trip(s.port, http("POST", "/v1/models/msm_tc/predict", auth + kForm, cut));
  EXPECT_EQ(r.status, 400) << r.head << r.body;
  httplib::Client c("127.0.0.1", s.port);
  c.set_read_timeout(120, 0);
  auto p = c.Post("/v1/models/msm_tc/predict", bearer(token), patient("A002"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, 200) << p->body;
  EXPECT_TRUE(s.alive());
  in.expect_clean();
}

// Bodies cpp-httplib would read without a bound are refused from their headers: a Content-Encoding
// (a gzip of 1 GiB of zeros, a brotli one, deflate, an unknown one: 415), chunked or length-less
// bodies (411); a Content-Length over the limit is 413. The server's memory does not follow the
// bombs, and it still predicts afterwards.
TEST(ServeAbuse, CompressionBombsAndUnboundedBodiesAreRefusedBeforeTheyAreRead) {
  const fs::path token_file = work_dir() / "token_bomb";
  Server s("--model " + msm_tc() + " --token-file " + token_file.string() + " --max-upload-mb 8 --read-timeout 3");
  ASSERT_GT(s.port, 0) << slurp(s.err);
  const std::string token = read_token(token_file);
  const std::string auth = "Authorization: Bearer " + token + "\r\n";
  const std::string path = "/v1/models/msm_tc/predict";
  httplib::Client c("127.0.0.1", s.port);
  c.set_read_timeout(120, 0);
  ASSERT_EQ(c.Post(path.c_str(), bearer(token), patient("A002"))->status, 200);  // warm
  const long rss0 = rss_kb(s.pid);
  ASSERT_GT(rss0, 0);

  const std::string gz = gzip_zeros(1024);  // 1 GiB when inflated
  ASSERT_LT(gz.size(), 2u << 20);
  for (const auto& [encoding, body] : std::vector<std::pair<std::string, std::string>>{
           {"gzip", gz}, {"br", kBrotliBomb}, {"deflate", gz.substr(10)}, {"GZIP", gz}, {"x-unknown", gz},
           {"identity, gzip", gz}}) {
    for (const std::string& type : {std::string("application/octet-stream"), "multipart/form-data; boundary=" + kBoundary}) {
      const Reply r = round_trip(
          s.port, http("POST", path, auth + "Content-Encoding: " + encoding + "\r\nContent-Type: " + type + "\r\n", body));
      EXPECT_EQ(r.status, 415) << encoding << " " << type << ": " << r.head;
      EXPECT_EQ(field_of(r), "Content-Encoding") << encoding;
      EXPECT_NE(r.head.find("Connection: close"), std::string::npos) << r.head;
    }
  }
  // A client that waits for "100 Continue" is refused before it sends the body.
  {
    const int fd = connect_to(s.port);
    send_all(fd, http("POST", path, auth + kForm + "Content-Encoding: gzip\r\nExpect: 100-continue\r\n", "",
                      static_cast<long long>(gz.size())));
    const Reply r = read_reply(fd, 30);
    ::close(fd);
    EXPECT_EQ(r.status, 415) << r.head;
  }
  // Chunked (20 MiB in 1 MiB chunks, over the 8 MB limit), or no length at all (to the close).
  std::string chunked;
  for (int k = 0; k < 20; ++k) chunked += "100000\r\n" + std::string(1 << 20, 'x') + "\r\n";
  chunked += "0\r\n\r\n";
  const Reply ch = round_trip(s.port, http("POST", path, auth + kForm + "Transfer-Encoding: chunked\r\n", chunked, -1));
  EXPECT_EQ(ch.status, 411) << ch.head;
  EXPECT_EQ(field_of(ch), "Content-Length");
  const Reply gzch = round_trip(
      s.port, http("POST", path, auth + kForm + "Transfer-Encoding: chunked\r\nContent-Length: 10\r\n", "a\r\n0123456789\r\n0\r\n\r\n", -1));
  EXPECT_EQ(gzch.status, 411) << gzch.head;
  const Reply nolen = round_trip(s.port, http("POST", path, auth + kForm, std::string(9 << 20, 'x'), -1), 30, true);
  EXPECT_EQ(nolen.status, 411) << nolen.head;
  // A Content-Length over the limit: 413 once the declared bytes are skipped (here: the read timeout).
  const Reply huge = round_trip(s.port, http("POST", path, auth + kForm, "0123456789", 1000000000000LL));
  EXPECT_EQ(huge.status, 413) << huge.head;

  const long rss1 = rss_kb(s.pid);
  EXPECT_LT(rss1 - rss0, 100 * 1024) << "resident memory " << rss0 << " kB -> " << rss1 << " kB";
  EXPECT_TRUE(s.alive());
  auto p = c.Post(path.c_str(), bearer(token), patient("A002"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, 200) << p->body;
}

// Archive bombs and hostile names in a DICOM-series zip: refused (400 naming the field) before
// anything of them is written; nothing appears outside the request's private folder, and the
// folder is gone afterwards.
TEST(ServeAbuse, ArchiveBombsAreRefusedNamingTheField) {
  const fs::path token_file = work_dir() / "token_zip";
  ServerIn in("zip_tmp", "--model " + msm_tc() + " --token-file " + token_file.string() + " --max-upload-mb 8");
  const Server& s = *in.server;
  ASSERT_GT(s.port, 0) << slurp(s.err);
  const std::string token = read_token(token_file);
  httplib::Client c("127.0.0.1", s.port);
  c.set_read_timeout(120, 0);
  auto send = [&](const std::string& field, const std::string& zip) {
    auto items = patient("A002", false);
    items[field == "image" ? 0 : 1].content = zip;
    items[field == "image" ? 0 : 1].filename = "series.zip";
    return c.Post("/v1/models/msm_tc/predict", bearer(token), items);
  };
  auto expect_refused = [&](const std::string& what, const std::string& field, const std::string& zip,
                            const std::string& says) {
    auto r = send(field, zip);
    ASSERT_TRUE(r) << what;
    EXPECT_EQ(r->status, 400) << what << ": " << r->body;
    EXPECT_EQ(json::parse(r->body)["field"], field) << what << ": " << r->body;
    EXPECT_NE(r->body.find(says), std::string::npos) << what << ": " << r->body;
  };
  // An entry of 9 MiB of zeros (9 KB compressed) against an 8 MB limit.
  const std::string big = zip_of({{"series/big.dcm", std::string(9 << 20, '\0')}});
  ASSERT_LT(big.size(), 100u << 10);
  expect_refused("9 MiB entry", "image", big, "more than 8 MB when expanded");
  expect_refused("9 MiB entry as the mask", "mask", big, "more than 8 MB when expanded");
  // The same entry declaring 1000 bytes (local header and central directory): refused while
  // expanding, at the declared size.
  std::string liar = zip_of({{"series/liar.dcm", std::string(4 << 20, '\0')}});
  put_le(liar, 22, 1000, 4);
  const auto cd = liar.find(std::string("PK\x01\x02", 4));
  ASSERT_NE(cd, std::string::npos);
  put_le(liar, cd + 24, 1000, 4);
  auto lr = send("image", liar);
  ASSERT_TRUE(lr);
  EXPECT_EQ(lr->status, 400) << lr->body;
  EXPECT_EQ(json::parse(lr->body)["field"], "image") << lr->body;
  EXPECT_NE(lr->body.find("zip archive refused"), std::string::npos) << lr->body;
  // Zip64 sizes that wrap the sum around: refused from the declared sizes.
  expect_refused("Zip64 wrap-around", "image", zip64_wraparound(), "when expanded");
  // More entries than 4096.
  std::vector<std::pair<std::string, std::string>> many;
  for (int k = 0; k < 5000; ++k) many.push_back({"series/" + std::to_string(k) + ".dcm", ""});
  expect_refused("5000 entries", "image", zip_of(many), "5000 entries, more than the limit of 4096");
  // A zip in the zip is a file like another (never expanded): no DICOM series, 400.
  auto nested = send("image", zip_of({{"series/inner.zip", big}}));
  ASSERT_TRUE(nested);
  EXPECT_EQ(nested->status, 400) << nested->body;
  EXPECT_EQ(json::parse(nested->body)["field"], "image");
  // Names that leave the folder, and a symbolic link.
  for (const std::string name : {"../x_escaped.dcm", "series/../../x_escaped.dcm", "a/b/../../../x_escaped.dcm",
                                 "..\\x_escaped.dcm", "C:/x_escaped.dcm", "/tmp/x_escaped.dcm", ".."}) {
    expect_refused(name, "image", zip_of({{name, "DICM"}, {"series/ok.dcm", "DICM"}}), "zip archive refused");
    expect_refused(name + " as the mask", "mask", zip_of({{name, "DICM"}}), "zip archive refused");
  }
  expect_refused("symlink", "image", zip_of({{"series/link.dcm", "/etc/passwd"}}, true), "is a symbolic link");

  for (const auto& e : fs::recursive_directory_iterator(work_dir()))
    EXPECT_EQ(e.path().filename().string().find("x_escaped"), std::string::npos) << e.path();
  EXPECT_FALSE(fs::exists("/tmp/x_escaped.dcm"));
  EXPECT_TRUE(s.alive());
  EXPECT_EQ(c.Get("/healthz")->status, 200);
  in.expect_clean();
}

// Bytes that are not UTF-8 in a request path, a map name or a form field name reach the error
// message and the audit line: they are replaced, never allowed to end the service (found by
// fuzzing: the audit line of a GET to an unknown path with byte 0xa8 in it threw, ending the
// process).
TEST(ServeAbuse, BytesThatAreNotUtf8InARequestAreAnsweredAndAudited) {
  const fs::path token_file = work_dir() / "token_utf8";
  const fs::path audit = work_dir() / "audit_utf8.jsonl";
  fs::remove(audit);
  Server s("--model " + msm_tc() + " --token-file " + token_file.string() + " --audit-log " + audit.string());
  ASSERT_GT(s.port, 0) << slurp(s.err);
  const std::string auth = "Authorization: Bearer " + read_token(token_file) + "\r\n";
  const auto map = round_trip(s.port, http("GET", "/v1/predictions/0123abcd/maps/\xa8gradcam.png", auth));
  EXPECT_EQ(map.status, 404) << map.head;
  const auto unknown = round_trip(s.port, http("GET", "/v1/\xff\xfe", auth));
  EXPECT_EQ(unknown.status, 404) << unknown.head;
  httplib::MultipartFormDataItems items = patient("A002");
  items.push_back({"\xc0\xaf", "x", "", ""});
  const auto form = round_trip(s.port, http("POST", "/v1/models/msm_tc/predict", auth + kForm, form_body(items)));
  EXPECT_GT(form.status, 0);
  EXPECT_TRUE(s.alive());
  EXPECT_EQ(round_trip(s.port, http("GET", "/healthz", "")).status, 200);
  std::ifstream in(audit);
  int lines = 0, replaced = 0;
  for (std::string l; std::getline(in, l); ++lines) {
    EXPECT_NO_THROW(json::parse(l)) << l;
    replaced += l.find("\xEF\xBF\xBD") != std::string::npos;  // U+FFFD where the path had 0xa8 / 0xff 0xfe
  }
  EXPECT_GE(lines, 3);
  EXPECT_GE(replaced, 2);
}
