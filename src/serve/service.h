// `cervirisk serve`: the model bundles of a study behind a REST API for one patient at a time
// (docs/service.md). Every bundle is loaded once; /v1 needs a bearer token; uploads live in a
// private temporary folder for the request's duration; an audit log records each request
// without patient identifiers.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace cervirisk::serve {

struct ServeOptions {
  std::vector<std::filesystem::path> models;  // bundle folders (models/<variant>)
  std::string host = "127.0.0.1";
  int port = 8080;                            // 0 = a free port (printed)
  std::filesystem::path token_file;           // read, or created (0600) with a random token; "" = a token for this process, printed
  std::filesystem::path tls_cert, tls_key;    // both: HTTPS
  int workers = 2;                            // predictions at once
  int queue = 8;                              // more waiting than this: 503 with Retry-After
  std::int64_t max_upload_mb = 512;
  std::int64_t max_voxels = std::int64_t{1} << 28;  // per image / mask volume, checked from the headers
  int read_timeout_s = 30;                    // a client that stalls an upload longer is dropped
  int request_timeout_s = 120;                // a request still waiting for a worker this long after it arrived: 503
  std::size_t keep_maps = 64;                 // prediction maps kept (oldest dropped) ...
  int keep_maps_minutes = 60;                 // ... and for at most this long
  std::filesystem::path audit_log;            // JSON lines; "" = stderr
  std::filesystem::path tmp_dir;              // "" = the system's
  std::filesystem::path web_dir;              // the viewer's files (index.html, viewer.js, niivue.umd.js); "" = no viewer
};

class Service {
 public:
  explicit Service(ServeOptions options);
  ~Service();
  // Binds (ConfigError exit 2 when the address cannot be bound) and returns the port.
  int bind();
  // Serves until stop(); returns when stopped.
  void run();
  void stop();
  const std::string& token() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cervirisk::serve
