// `cervirisk serve` through real HTTP on localhost (cpp-httplib's client): a small bundle trained
// here, the prediction against `cervirisk predict`, every refusal with its status code, hostile
// uploads (zip-slip, symlink entries, a NIfTI header that promises 2^36 voxels), and the server
// still answering /healthz after all of it.
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zip.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
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
