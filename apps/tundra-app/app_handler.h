// The tablet app's request handler: a pure function of the request and the tablet (no
// sockets), as the sync server's handle_request. Every request must come from this machine's
// browser for this server (web/local_guard.h: Host, Origin, Sec-Fetch-Site); then the shell
// page and assets are served, or the JSON API (app_routes.h) with the session cookie's access
// checked against the route's. Never sends CORS headers; API answers are never cached.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "app_routes.h"
#include "pin_gate.h"
#include "tundra/web/assets.h"

namespace tundra::app {

struct AppHandlerOptions {
    std::chrono::milliseconds idle_lock{5 * 60 * 1000};    // WCAG 2.2.1: the page warns a minute before
    std::chrono::milliseconds session_max{12 * 3600 * 1000};
    int pin_tries_per_minute = 30;  // across all people on the tablet
    std::function<int64_t()> clock;  // ms since the epoch; default: the system clock
};

class AppHandler {
public:
    AppHandler(Tablet& tablet, SyncScheduler& sync, const web::AssetTable& assets, AppHandlerOptions opts = {});
    // Thread-safe; never throws.
    web::HttpResponse handle(const web::HttpRequest& req);
    web::SessionTable& sessions() { return sessions_; }

private:
    web::HttpResponse api(const web::HttpRequest& req, const std::string& path);

    Tablet& tablet_;
    SyncScheduler& sync_;
    const web::AssetTable& assets_;
    AppHandlerOptions opts_;
    web::SessionTable sessions_;
    PinGate pins_;
};

}  // namespace tundra::app
