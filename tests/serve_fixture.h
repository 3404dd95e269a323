// The service tests' fixture: a 40-patient synthetic cohort with a clinical + msm_tc study of
// one epoch (the bundles served), a `cervirisk serve` child process, multipart patients.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "cli_run.h"

namespace cervirisk::testing::serve {

namespace fs = std::filesystem;

inline std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A 40-patient synthetic cohort and a clinical + msm_tc study of one epoch (the bundles served).
inline const fs::path& work_dir() {
  static fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("cerv_serve_" + std::to_string(::getpid()));
    fs::remove_all(d);
    auto r = run_cli("synth --out " + (d / "data").string() + " --size small --patients 40 --recurrence-rate 0.3");
    EXPECT_EQ(r.code, 0) << r.err;
    std::ofstream(d / "data" / "serve.toml")
        << slurp(d / "data" / "study.toml")
        << "\n[preprocess]\ntumour_size_px = 32\ncontext_size_px = 32\nworkers = 2\n[text]\nvocab_size = 200\n"
           "max_length = 48\npretrain_epochs = 0\n[train]\nepochs = 1\nbatch_size = 16\n";
    r = run_cli("study --no-report --variants clinical msm_tc --config " + (d / "data" / "serve.toml").string() +
                " --out " + (d / "run").string());
    EXPECT_EQ(r.code, 0) << r.err;
    return d;
  }();
  return dir;
}

// The server in a child process; its stderr in a file, from which the port is read.
struct Server {
  pid_t pid = -1;
  int port = 0;
  fs::path err;
  explicit Server(const std::string& args) {
    static int n = 0;
    err = work_dir() / ("serve_" + std::to_string(n++) + ".err");
    const std::string cmd = "exec " + std::string(CERV_BINARY) + " serve " + args + " --port 0 2> " + err.string();
    pid = ::fork();
    if (pid == 0) {
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 600 && port == 0; ++i) {
      const std::string e = slurp(err);
      const auto at = e.find("listening on http://127.0.0.1:");
      if (at != std::string::npos && e.find('\n', at) != std::string::npos) port = std::stoi(e.substr(at + 30));
      else std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~Server() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      int st = 0;
      ::waitpid(pid, &st, 0);
    }
  }
  bool alive() const { return ::kill(pid, 0) == 0; }
};

inline httplib::Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

inline httplib::MultipartFormDataItems patient(const std::string& id, bool with_text = true) {
  const fs::path d = work_dir() / "data";
  httplib::MultipartFormDataItems items{
      {"image", slurp(d / "images" / (id + "_t2.nii.gz")), "whatever-the-client-calls-it.nii.gz", "application/gzip"},
      {"mask", slurp(d / "masks" / (id + "_mask.nii.gz")), "m.nii.gz", "application/gzip"}};
  if (with_text) items.push_back({"report", slurp(d / "reports" / (id + ".txt")), "", "text/plain"});
  return items;
}

}  // namespace cervirisk::testing::serve
