// The sync server's listener: handle_request() over the store on the shared web listener, and
// the console's handler for /console targets.
#include "tundra/server/http_server.h"

#include <algorithm>

namespace tundra::server {

HttpServer::HttpServer(Store& store, ServerOptions opts) { start(store, nullptr, std::move(opts)); }
HttpServer::HttpServer(SqlStore& store, ServerOptions opts) { start(store, &store, std::move(opts)); }

void HttpServer::start(Store& store, SqlStore* console_store, ServerOptions opts) {
    HandlerOptions handler = opts.handler;
    web::ListenerOptions lo = opts;
    // Logins may fill half the request queue at most (auth.cc turns a flood away cheaply).
    lo.low_priority = [](const HttpRequest& r) {
        return r.target.rfind("/v1/login", 0) == 0 || r.target.rfind("/console/login", 0) == 0;
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
void HttpServer::run() { listener_->run(); }
void HttpServer::stop() { listener_->stop(); }

}  // namespace tundra::server
