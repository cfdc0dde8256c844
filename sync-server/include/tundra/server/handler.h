// Request handling as a pure function of (request, store): no sockets, so it is tested
// directly and the Beast listener (web/src/listener.cc) stays a thin adapter.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tundra/server/store.h"
#include "tundra/web/http.h"
#include "tundra/web/metrics.h"

namespace tundra::server {

// The web layer's request and answer (tundra/web/http.h).
using web::HttpRequest;
using web::HttpResponse;

// What handle_request counts (docs/operations.md, "Metrics"), registered once in a registry.
struct SyncMetrics {
    explicit SyncMetrics(web::MetricsRegistry& r);
    web::Family<web::Counter>& rounds;   // tundra_sync_rounds_total{outcome}: ok or the error code
    web::Family<web::Counter>& actions;  // tundra_sync_actions_total{result, reason}
    web::Histogram& round_seconds;       // tundra_sync_round_duration_seconds
    web::Family<web::Counter>& logins;   // tundra_logins_total{outcome}: ok or the error code
};

struct HandlerOptions {
    size_t max_body_bytes = 32 * 1024 * 1024;  // after gzip decoding
    size_t gzip_min_bytes = 860;               // smaller responses are not worth compressing
    std::shared_ptr<SyncMetrics> metrics = {};  // null: nothing counted
};

// Never throws: a bug becomes a 500 with code `internal`.
HttpResponse handle_request(const HttpRequest& req, Store& store, const HandlerOptions& opts = {});

}  // namespace tundra::server
