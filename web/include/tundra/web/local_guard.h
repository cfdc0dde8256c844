// The guard of a server that binds loopback for a browser on the same machine (the tablet
// app). Any web page the browser opens can send requests to 127.0.0.1, and a DNS-rebinding
// page can even read the answers under its own host name; so every request must name this
// server in `Host` (127.0.0.1:PORT, localhost:PORT or [::1]:PORT), and a request sent by a
// page of another origin is refused: `Origin`, when present, must be this server, and
// `Sec-Fetch-Site`, when present, must be same-origin or none (except a top-level GET
// navigation, which only opens the shell page). Pure; thread-safe.
#pragma once

#include <cstdint>

#include "tundra/core/status.h"
#include "tundra/web/http.h"

namespace tundra::web {

// Errors: forbidden, saying which header was wrong.
Status check_loopback_request(const HttpRequest& req, uint16_t port);

}  // namespace tundra::web
