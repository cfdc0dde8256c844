// Request handling as a pure function of (request, store): no sockets, so it is tested
// directly and the Beast listener (web/src/listener.cc) stays a thin adapter.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tundra/server/store.h"
#include "tundra/web/http.h"

namespace tundra::server {

// The web layer's request and answer (tundra/web/http.h).
using web::HttpRequest;
using web::HttpResponse;

struct HandlerOptions {
    size_t max_body_bytes = 32 * 1024 * 1024;  // after gzip decoding
    size_t gzip_min_bytes = 860;               // smaller responses are not worth compressing
};

// Never throws: a bug becomes a 500 with code `internal`.
HttpResponse handle_request(const HttpRequest& req, Store& store, const HandlerOptions& opts = {});

}  // namespace tundra::server
