// The Boost.Beast HTTP/1.1 listener. One object per connection with a read timeout and a
// body limit; each request is passed to handle_request(). Beast stays inside
// http_server.cc so that only one translation unit pays for its compile time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "tundra/server/handler.h"
#include "tundra/server/store.h"

namespace tundra::server {

struct ServerOptions {
    int threads = 2;
    std::chrono::seconds read_timeout{30};
    size_t max_body_bytes = 16 * 1024 * 1024;  // on the wire (possibly gzip)
    HandlerOptions handler;
    std::function<void(const std::string&)> log;  // access/error log lines; may be empty
    bool handle_signals = true;
    // Requests are handled on a worker pool so that network threads never wait on the
    // store. Past this many waiting requests the server answers 503 with Retry-After
    // instead of queueing without bound.
    int workers = 2;
    int max_queued_requests = 64;
    int retry_after_seconds = 2;  // SIGINT/SIGTERM stop the server gracefully (from listen() on)
};

class HttpServer {
public:
    HttpServer(Store& store, ServerOptions opts = {});
    ~HttpServer();
    // Binds and listens; returns the bound port (pass 0 for an OS-assigned one).
    Result<uint16_t> listen(const std::string& address, uint16_t port);
    // Serves until stop() or SIGINT/SIGTERM (when handle_signals); then stops accepting,
    // lets requests in flight finish, closes idle connections and returns.
    void run();
    // Thread-safe.
    void stop();

    struct Impl;  // defined in http_server.cc

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace tundra::server
