// The sync server on the network: the web layer's listener (tundra/web/listener.h: plain or
// TLS, timeouts, connection cap, worker pool, access log) serving handle_request() over a
// Store, with logins at low priority so that a login flood never starves sync rounds.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tundra/server/handler.h"
#include "tundra/server/store.h"
#include "tundra/web/listener.h"

namespace tundra::server {

struct ServerOptions : web::ListenerOptions {
    HandlerOptions handler;
};

using web::FdBudget;
using web::fit_fd_limit;

class HttpServer {
public:
    HttpServer(Store& store, ServerOptions opts = {});
    ~HttpServer();
    // As web::Listener::listen: the bound port; invalid_argument or network.
    Result<uint16_t> listen(const std::string& address, uint16_t port);
    bool tls() const;
    // Serves until stop() or SIGINT/SIGTERM (when handle_signals).
    void run();
    // Thread-safe.
    void stop();

private:
    std::unique_ptr<web::Listener> listener_;
};

}  // namespace tundra::server
