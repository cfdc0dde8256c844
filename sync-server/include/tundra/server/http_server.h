// The sync server on the network: the web layer's listener (tundra/web/listener.h: plain or
// TLS, timeouts, connection cap, worker pool, access log) serving handle_request() over a
// Store, with logins at low priority so that a login flood never starves sync rounds; over a
// SqlStore also the project console under /console/ (tundra/console/console.h), each
// request's body limit the console's or the sync API's.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tundra/console/console.h"
#include "tundra/server/handler.h"
#include "tundra/server/sql_store.h"
#include "tundra/server/store.h"
#include "tundra/web/listener.h"

namespace tundra::server {

struct ServerOptions : web::ListenerOptions {
    HandlerOptions handler;
    console::ConsoleOptions console;  // with a SqlStore
};

using web::FdBudget;
using web::fit_fd_limit;

class HttpServer {
public:
    // The sync API only.
    HttpServer(Store& store, ServerOptions opts = {});
    // The sync API and the console.
    HttpServer(SqlStore& store, ServerOptions opts = {});
    ~HttpServer();
    // As web::Listener::listen: the bound port; invalid_argument or network.
    Result<uint16_t> listen(const std::string& address, uint16_t port);
    bool tls() const;
    // The metrics listener (docs/operations.md, "Metrics"): GET /metrics only, in the
    // Prometheus text format, on its own address; needs `opts.metrics` (a registry) given to
    // the constructor, which the sync listener and handler count into. Call before run().
    // Returns the bound port. Errors: as listen(); invalid_argument without a registry.
    Result<uint16_t> listen_metrics(const std::string& address, uint16_t port);
    // Serves until stop() or SIGINT/SIGTERM (when handle_signals); the metrics listener too.
    void run();
    // Thread-safe.
    void stop();

private:
    void start(Store& store, SqlStore* console_store, ServerOptions opts);
    std::unique_ptr<console::ConsoleHandler> console_;
    std::unique_ptr<web::Listener> listener_;
    std::shared_ptr<web::MetricsRegistry> metrics_;
    std::unique_ptr<web::Listener> metrics_listener_;
};

// The route label of the sync server's request metrics: /v1/sync, /v1/login, /v1/password,
// /v1/reports, /healthz, /console, or other.
std::string metrics_route(std::string_view path);

}  // namespace tundra::server
