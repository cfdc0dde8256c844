// The HTTP request and answer as the web layer passes them to a handler and back: plain
// values, no sockets and no Beast types, so that every handler (the sync server's API, the
// tablet app's) is a pure function tested without a network. Helpers for the headers every
// handler reads. Thread-safe (no state).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tundra/core/status.h"

namespace tundra::web {

struct HttpRequest {
    std::string method;  // "GET", "POST", ...
    std::string target;  // "/v1/sync?x=1": path and query string as sent
    std::map<std::string, std::string> headers;  // lowercase names
    std::string body;
    // The client's address as the listener decided it (the peer, or X-Forwarded-For's last
    // hop when the peer is a trusted proxy; client_address.h).
    std::string remote_address;
    // The listener's own port (what a Host header must name for a loopback-only app).
    unsigned short local_port = 0;
};

struct HttpResponse {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    // For the access log (never sent): who the request was answered for, once the handler
    // knows; empty otherwise.
    std::string log_user;
    std::string log_device;
    // For metrics (never sent): the error code of an error answer (`busy`, `overloaded`,
    // ...), when the handler knows it.
    std::string error_code;
    // The deflate level gzip_if_accepted uses: 6 unless the handler knows the link is fast
    // enough that the server's CPU, not the bytes, is what the answer waits on.
    int gzip_level = 6;
};

// A header's value ("" when absent); `lower_name` in lowercase.
std::string header(const HttpRequest& req, std::string_view lower_name);
// The path of the target, without the query string.
std::string path_of(const HttpRequest& req);
// The query string's parameters, %-decoded ('+' as space). A repeated key keeps the last.
std::map<std::string, std::string> query_of(const HttpRequest& req);
// %-decodes `text`; false on a bad escape.
bool percent_decode(std::string_view text, std::string& out, bool plus_is_space);

// The value of cookie `name` in the request's Cookie header ("" when absent).
std::string cookie(const HttpRequest& req, std::string_view name);

struct CookieOptions {
    std::string path = "/";
    bool secure = false;
    // Max-Age in seconds; negative: a session cookie; 0: delete it.
    long max_age_s = -1;
};
// A Set-Cookie value that is always HttpOnly and SameSite=Strict.
std::string set_cookie(std::string_view name, std::string_view value, const CookieOptions& opts = {});

HttpResponse json_response(int status, std::string body);

// JSON APIs take JSON only: a body sent as a form or text is refused before it is read (a
// browser can send those cross-site without a preflight). Parameters such as
// `; charset=utf-8` are allowed; the media type is compared without case. Error:
// invalid_argument naming what was sent.
Status require_json(const HttpRequest& req);

// Compresses the answer's body with gzip when the request takes gzip (Accept-Encoding), the
// body has at least `min_bytes` and is not encoded already (assets come compressed): sets
// Content-Encoding and Vary. The sync API and the console answer through it.
void gzip_if_accepted(const HttpRequest& req, HttpResponse& r, size_t min_bytes = 860);

}  // namespace tundra::web
