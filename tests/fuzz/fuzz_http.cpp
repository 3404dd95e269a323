// The service's request handling: one `cervirisk serve` Service in this process (the bundles of
// $CERV_FUZZ_MODELS, colon-separated, made by scripts/fuzz), each input sent as raw bytes over a
// loopback connection -- request line, headers, multipart bodies, all mutated. Findings besides
// crashes and sanitizer reports: a 5xx other than 503/507 (an input the service did not foresee is
// the client's 4xx), a response that is not HTTP, an upload folder left behind.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "fuzz_util.h"
#include "serve/service.h"

namespace {

cervirisk::serve::Service* g_service = nullptr;
int g_port = 0;
std::filesystem::path g_tmp;

// The token of the committed seed requests (tests/fuzz/corpus/http): "Bearer fuzz-token-...".
constexpr const char* kToken = "fuzz-token-5f1c2a9e0b7d4c3a8e6f1b2d9c0a7e4f";

std::string exchange(const std::uint8_t* data, std::size_t size) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(g_port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    // An interrupted connect goes on in the background: wait for it and read its outcome.
    int err = errno;
    if (err == EINTR) {
      pollfd p{fd, POLLOUT, 0};
      while (::poll(&p, 1, 10000) < 0 && errno == EINTR) {
      }
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    }
    if (err != 0) {
      std::fprintf(stderr, "connect to the service: %s\n", std::strerror(err));
      std::abort();
    }
  }
  std::size_t sent = 0;
  while (sent < size) {
    const ssize_t n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the server may close early (a refused body): not a finding
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string reply;
  char buf[65536];
  // libFuzzer's timeout timer (SIGALRM every timeout/2 + 1 s) interrupts poll and recv: EINTR
  // is retried against the same deadline (taking it for silence was a false "no answer").
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    const int ready = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      std::fprintf(stderr, "the service did not answer within 120 s\n");
      std::abort();
    }
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    reply.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return reply;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using namespace cervirisk;
  const char* models = std::getenv("CERV_FUZZ_MODELS");
  if (!models || !*models) {
    std::fprintf(stderr, "fuzz_http: set CERV_FUZZ_MODELS to bundle folders (scripts/fuzz makes them)\n");
    std::exit(2);
  }
  serve::ServeOptions opt;
  std::string list = models;
  for (std::size_t at = 0; at <= list.size();) {
    const std::size_t colon = std::min(list.find(':', at), list.size());
    if (colon > at) opt.models.emplace_back(list.substr(at, colon - at));
    at = colon + 1;
  }
  const auto token_file = fuzz::write_input("token", std::string_view(kToken));
  ::chmod(token_file.c_str(), 0600);
  g_tmp = fuzz::scratch() / "uploads";
  std::filesystem::create_directories(g_tmp);
  opt.port = 0;
  opt.token_file = token_file;
  opt.workers = 1;
  opt.queue = 4;
  opt.max_upload_mb = 4;
  opt.max_voxels = std::int64_t{1} << 22;
  opt.read_timeout_s = 1;
  opt.request_timeout_s = 20;
  opt.keep_maps = 4;
  opt.audit_log = fuzz::scratch() / "audit.jsonl";
  opt.tmp_dir = g_tmp;
  static serve::Service service(opt);
  g_service = &service;
  g_port = service.bind();
  std::thread([] { g_service->run(); }).detach();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string reply = exchange(data, size);
  if (reply.empty()) return 0;  // closed without an answer (a malformed request line): allowed
  if (reply.compare(0, 9, "HTTP/1.1 ") != 0 || reply.size() < 12) {
    std::fprintf(stderr, "not an HTTP response: %.200s\n", reply.c_str());
    std::abort();
  }
  const int status = std::atoi(reply.c_str() + 9);
  if (status >= 500 && status != 503 && status != 507) {
    std::fprintf(stderr, "status %d for a client's request:\n%.2000s\n", status, reply.c_str());
    std::abort();
  }
  // Each request's upload folder is gone once its answer is sent (the maps folder stays).
  int left = 0;
  for (const auto& e : std::filesystem::directory_iterator(g_tmp)) left += e.is_directory() ? 1 : 0;
  if (left > 1) {
    std::fprintf(stderr, "%d folders left in the service's temporary folder\n", left);
    std::abort();
  }
  return 0;
}
