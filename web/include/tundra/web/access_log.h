// The server's log lines: one JSON object per line, so that a log collector parses them
// without patterns. Access lines name who asked for what, never a secret (no password, no
// token, no query string); event lines (category "http") report the listener's state.
// Pure functions, no I/O; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tundra::web {

// One answered request.
struct AccessRecord {
    uint64_t time_ms = 0;       // when the answer was sent, ms since the epoch (UTC)
    std::string address = {};   // the client's address (see client_address.h)
    std::string user = {};      // empty when the request named nobody valid
    std::string device = {};
    std::string method = {};
    std::string route = {};     // the path only: the query string never reaches the log
    int status = 0;
    uint64_t bytes = 0;         // response body bytes as sent (after gzip)
    double duration_ms = 0;     // from the request's headers to the answer's last byte
};

// {"time":"2026-11-23T08:00:00.000Z","category":"http.access","address":...,"user":...,
//  "device":...,"method":...,"route":...,"status":200,"bytes":1234,"duration_ms":1.5}
std::string access_log_line(const AccessRecord& r);

// {"time":...,"category":"http","event":"connection_limit","message":"..."}
std::string event_log_line(uint64_t time_ms, std::string_view event, std::string_view message);

// A request target's path without its query string (which may carry secrets).
std::string route_of(std::string_view target);

// UTC ISO 8601 with milliseconds: 2026-11-23T08:00:00.123Z.
std::string iso8601_ms(uint64_t time_ms);

// The wall clock in ms since the epoch.
uint64_t now_ms();

}  // namespace tundra::web
