// The sync server's listener: handle_request() over the store on the shared web listener.
#include "tundra/server/http_server.h"

namespace tundra::server {

HttpServer::HttpServer(Store& store, ServerOptions opts) {
    HandlerOptions handler = opts.handler;
    web::ListenerOptions lo = opts;
    // Logins may fill half the request queue at most (auth.cc turns a flood away cheaply).
    lo.low_priority = [](const HttpRequest& r) { return r.target.rfind("/v1/login", 0) == 0; };
    listener_ = std::make_unique<web::Listener>(
        [&store, handler](const HttpRequest& r) { return handle_request(r, store, handler); }, std::move(lo));
}

HttpServer::~HttpServer() = default;

Result<uint16_t> HttpServer::listen(const std::string& address, uint16_t port) {
    return listener_->listen(address, port);
}
bool HttpServer::tls() const { return listener_->tls(); }
void HttpServer::run() { listener_->run(); }
void HttpServer::stop() { listener_->stop(); }

}  // namespace tundra::server
