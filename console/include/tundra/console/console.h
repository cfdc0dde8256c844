// The project console (docs/console.md; its HTTP contract there too): served by
// `tundra-server serve` under /console/ on the sync port, a pure handler over the store like
// handle_request. A shell page and assets compiled in (console/assets), a JSON API whose
// routes are declared as data with who may call each (console_routes.cc), sessions kept in
// the store (so any server process answers any request), CSRF checked on every change.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "tundra/server/sql_store.h"
#include "tundra/web/assets.h"
#include "tundra/web/http.h"

namespace tundra::console {

struct ConsoleOptions {
    // Cookies carry `Secure` (serve with TLS, or --public-url https://... behind a proxy).
    bool secure_cookies = false;
    // The origin the browser sees when a proxy stands in front ("https://kurser.example.se",
    // from --public-url); an Origin header equal to it is the console's own. Empty: only the
    // request's own Host counts.
    std::string public_origin;
    // An uploaded import file (a project's staff list or import document is tens of MB).
    size_t max_upload_bytes = 64 << 20;
    // Any other request to the console (forms and JSON API calls).
    size_t max_body_bytes = 1 << 20;
    std::function<int64_t()> clock;  // ms since the epoch; default: the system clock
    // The pages and assets; default: console/assets as compiled in.
    const web::EmbeddedFile* assets = nullptr;
};

// Whether a request target belongs to the console (/console or /console/...).
bool is_console_target(std::string_view target);

class ConsoleHandler {
public:
    ConsoleHandler(server::SqlStore& store, ConsoleOptions opts = {});
    ~ConsoleHandler();
    // Thread-safe; never throws (a bug is a 500).
    web::HttpResponse handle(const web::HttpRequest& req);
    // The body limit of a request to `target` (the listener asks before reading a body).
    size_t body_limit(std::string_view target) const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace tundra::console
