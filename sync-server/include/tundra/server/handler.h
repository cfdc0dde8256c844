// Request handling as a pure function of (request, store): no sockets, so it is tested
// directly and the Beast session (http_server.cc) stays a thin adapter.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tundra/server/store.h"

namespace tundra::server {

struct HttpRequest {
    std::string method;  // "GET", "POST", ...
    std::string target;  // "/v1/sync"
    std::map<std::string, std::string> headers;  // lowercase names
    std::string body;
    // The client's address as the server decided it (the peer, or X-Forwarded-For's last
    // hop when the peer is a --trusted-proxy). Used for login throttling and the access log.
    std::string remote_address;
};

struct HttpResponse {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    // For the access log (never sent): who the request was answered for, once the handler
    // knows (a successful login, or a valid bearer token); empty otherwise.
    std::string log_user;
    std::string log_device;
};

struct HandlerOptions {
    size_t max_body_bytes = 32 * 1024 * 1024;  // after gzip decoding
    size_t gzip_min_bytes = 860;               // smaller responses are not worth compressing
};

// Never throws: a bug becomes a 500 with code `internal`.
HttpResponse handle_request(const HttpRequest& req, Store& store, const HandlerOptions& opts = {});

}  // namespace tundra::server
