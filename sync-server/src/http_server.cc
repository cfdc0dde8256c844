// The sync server's listener: handle_request() over the store on the shared web listener, and
// the console's handler for /console targets.
#include "tundra/server/http_server.h"

#include <algorithm>
#include <thread>

namespace tundra::server {

HttpServer::HttpServer(Store& store, ServerOptions opts) { start(store, nullptr, std::move(opts)); }
HttpServer::HttpServer(SqlStore& store, ServerOptions opts) { start(store, &store, std::move(opts)); }

std::string metrics_route(std::string_view path) {
    for (std::string_view r : {"/v1/sync", "/v1/login", "/v1/password", "/healthz"})
        if (path == r) return std::string(r);
    if (path.rfind("/v1/reports/", 0) == 0) return "/v1/reports";
    if (console::is_console_target(path)) return "/console";
    return "other";
}

namespace {
// The store's side of /metrics, read at each scrape.
void watch_store(web::MetricsRegistry& m, SqlStore& store) {
    auto& active = m.gauge("tundra_devices_active", "Devices (tablets, not revoked) seen in the last 24 hours").with();
    auto& stale = m.gauge("tundra_devices_stale", "Devices (tablets, not revoked) not seen for 14 days").with();
    auto& bytes = m.gauge("tundra_store_size_bytes", "Size of the store's database").with();
    auto& version = m.gauge("tundra_store_version", "The store's version counter (rises with every change)").with();
    auto& errors = m.counter("tundra_store_stats_errors_total", "Scrapes whose store statistics could not be read").with();
    m.add_collector([&store, &active, &stale, &bytes, &version, &errors] {
        auto h = store.health_stats();
        if (!h) {
            errors.inc();
            return;
        }
        active.set(static_cast<double>(h->active_devices));
        stale.set(static_cast<double>(h->stale_devices));
        bytes.set(static_cast<double>(h->store_bytes));
        version.set(static_cast<double>(store.current_version()));
    });
}
}  // namespace

void HttpServer::start(Store& store, SqlStore* console_store, ServerOptions opts) {
    HandlerOptions handler = opts.handler;
    web::ListenerOptions lo = opts;
    metrics_ = opts.metrics;
    if (metrics_) {
        handler.metrics = std::make_shared<SyncMetrics>(*metrics_);
        lo.metrics_route = [](std::string_view path) { return metrics_route(path); };
        if (console_store) watch_store(*metrics_, *console_store);
    }
    // Logins may fill half the request queue at most (auth.cc turns a flood away cheaply).
    lo.low_priority = [](const HttpRequest& r) {
        return r.target.rfind("/v1/login", 0) == 0 || r.target.rfind("/console/login", 0) == 0;
    };
    // Sync rounds take turns when the server is saturated for a while (admission_turns.h):
    // keyed by the device's bearer token, so that a device keeps its turn from round to round.
    lo.turn_key = [](const HttpRequest& r) -> std::string_view {
        if (r.target.rfind("/v1/sync", 0) != 0) return {};
        auto it = r.headers.find("authorization");
        return it == r.headers.end() ? std::string_view{} : std::string_view(it->second);
    };
    if (!console_store) {
        listener_ = std::make_unique<web::Listener>(
            [&store, handler](const HttpRequest& r) { return handle_request(r, store, handler); }, std::move(lo));
        return;
    }
    console::ConsoleOptions co = opts.console;
    console_ = std::make_unique<console::ConsoleHandler>(*console_store, co);
    console::ConsoleHandler* con = console_.get();
    // Each target's own limit; the parser's limit while headers are read is the largest.
    size_t sync_limit = opts.max_body_bytes;
    lo.max_body_bytes = std::max({sync_limit, co.max_upload_bytes, co.max_body_bytes});
    lo.body_limit_for = [con, sync_limit](std::string_view target) {
        return console::is_console_target(target) ? con->body_limit(target) : sync_limit;
    };
    listener_ = std::make_unique<web::Listener>(
        [&store, handler, con](const HttpRequest& r) {
            if (console::is_console_target(r.target)) return con->handle(r);
            return handle_request(r, store, handler);
        },
        std::move(lo));
}

HttpServer::~HttpServer() = default;

Result<uint16_t> HttpServer::listen(const std::string& address, uint16_t port) {
    return listener_->listen(address, port);
}
bool HttpServer::tls() const { return listener_->tls(); }

Result<uint16_t> HttpServer::listen_metrics(const std::string& address, uint16_t port) {
    if (!metrics_) return Status(Errc::invalid_argument, "metrics: no registry (ServerOptions::metrics)");
    web::ListenerOptions lo;
    lo.threads = 1;
    lo.workers = 1;
    lo.handle_signals = false;  // the sync listener's signal stops both
    lo.max_connections = 64;
    auto registry = metrics_;
    metrics_listener_ = std::make_unique<web::Listener>(
        [registry](const HttpRequest& r) { return web::metrics_response(*registry, r); }, std::move(lo));
    return metrics_listener_->listen(address, port);
}

void HttpServer::run() {
    std::thread metrics;
    if (metrics_listener_) metrics = std::thread([this] { metrics_listener_->run(); });
    listener_->run();
    if (metrics_listener_) {
        metrics_listener_->stop();
        metrics.join();
    }
}

void HttpServer::stop() {
    listener_->stop();
    if (metrics_listener_) metrics_listener_->stop();
}

}  // namespace tundra::server
