// cervirisk serve: the bundles behind a REST API on this machine (docs/service.md).
#include <malloc.h>

#include <csignal>
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "core/torch/runtime.h"
#include "serve/service.h"

namespace cervirisk::cli {
namespace {
serve::Service* g_service = nullptr;
extern "C" void stop_service(int) {
  if (g_service) g_service->stop();
}
}  // namespace

void add_serve(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("serve", "REST service for one patient at a time (docs/service.md)");
  auto o = std::make_shared<serve::ServeOptions>();
  sub->add_option("--model", o->models, "Bundle folder models/<variant> (repeat for several)")->required();
  sub->add_option("--host", o->host, "Address to listen on (default 127.0.0.1: this machine only)");
  sub->add_option("--port", o->port, "Port (0 = a free one, printed)")->check(CLI::Range(0, 65535));
  sub->add_option("--token-file", o->token_file,
                  "Bearer token file: read, or created with a random token (mode 0600) when absent; without it a "
                  "token for this process is printed");
  sub->add_option("--tls-cert", o->tls_cert, "PEM certificate (HTTPS; with --tls-key)");
  sub->add_option("--tls-key", o->tls_key, "PEM private key");
  sub->add_option("--workers", o->workers, "Predictions at once")->check(CLI::Range(1, 64));
  sub->add_option("--queue", o->queue, "Requests waiting beyond the workers before 503")->check(CLI::Range(0, 1024));
  sub->add_option("--max-upload-mb", o->max_upload_mb, "Largest request body, and largest expanded .zip")
      ->check(CLI::Range(1, 16384));
  sub->add_option("--max-voxels", o->max_voxels, "Largest image / mask volume (from its header, before reading)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 31));
  sub->add_option("--read-timeout", o->read_timeout_s, "Seconds a connection may stall a read or write")
      ->check(CLI::Range(1, 3600));
  sub->add_option("--request-timeout", o->request_timeout_s,
                  "Seconds a request may wait for a worker before 503 (a running prediction is not interrupted)")
      ->check(CLI::Range(1, 86400));
  sub->add_option("--keep-maps", o->keep_maps, "Prediction maps kept (the newest)");
  sub->add_option("--keep-maps-minutes", o->keep_maps_minutes, "How long maps are kept");
  sub->add_option("--audit-log", o->audit_log, "Audit log (JSON lines, appended; default stderr)");
  sub->add_option("--tmp-dir", o->tmp_dir,
                  "Folder of the requests' private upload folders and the prediction maps (default: the system's, "
                  "$TMPDIR or /tmp)");
  sub->add_option("--web-dir", o->web_dir, "The viewer's files (default: share/cervirisk/web beside the binary's folder)");
  sub->callback([&g, o] {
    apply_globals(g);
    if (o->web_dir.empty()) {
      std::error_code ec;
      const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
      if (!ec) o->web_dir = exe.parent_path().parent_path() / "share" / "cervirisk" / "web";
    }
    // Each request thread would otherwise get its own malloc arena that keeps the peak of the
    // request it served: resident memory then grows with concurrency, not with use.
    mallopt(M_ARENA_MAX, o->workers + 2);
    serve::Service service(*o);
    const int port = service.bind();
    g_service = &service;
    std::signal(SIGINT, stop_service);
    std::signal(SIGTERM, stop_service);
    std::cerr << "listening on " << (o->tls_cert.empty() ? "http" : "https") << "://" << o->host << ":" << port
              << std::endl;
    service.run();
    g_service = nullptr;
  });
}

}  // namespace cervirisk::cli
