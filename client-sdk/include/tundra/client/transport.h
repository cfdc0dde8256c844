// The HTTP seam of the SDK. The default is libcurl (make_curl_transport): HTTPS with the
// server's certificate always verified, plain HTTP only to loopback unless allowed; tests
// plug in an in-process transport or a fault-injecting wrapper. No curl types appear here.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tundra/core/status.h"

namespace tundra::client {

struct HttpReply {
    int status = 0;
    std::map<std::string, std::string> headers;  // lowercase names
    std::string body;                            // decoded (gzip already undone)
    uint64_t bytes_sent = 0;                     // on the wire, headers included
    uint64_t bytes_received = 0;
    // From the start of the request to the first byte of the answer (round trip, server
    // time, and the upload); 0 when the transport does not know.
    double first_byte_seconds = 0;
};

class Transport {
public:
    virtual ~Transport() = default;
    // POSTs `body` (JSON) to base_url + path. A transport error (no connection, timeout,
    // dropped link) is a `network`/`timeout` Status; any HTTP answer is a reply. The whole
    // request (connect, send, receive) must end within `timeout` (what is left of the
    // caller's deadline); zero or less means the transport's own limits only.
    // Blocking; not thread-safe.
    virtual Result<HttpReply> post(const std::string& path, const std::string& body,
                                   const std::vector<std::pair<std::string, std::string>>& headers,
                                   std::chrono::milliseconds timeout) = 0;
    // A check the transport consults while a request is in flight (connecting, sending,
    // waiting, receiving), at least about once a second: when it returns true the request is
    // abandoned and post() returns `cancelled`. Empty: never. Used by a cancellable sync;
    // a transport that cannot be interrupted ignores it (the default).
    virtual void set_abort(std::function<bool()> abort) { (void)abort; }
};

struct CurlOptions {
    long connect_timeout_ms = 10000;
    // A slow link that is moving is not a failure: give up only when fewer than
    // low_speed_bytes per second arrive for low_speed_seconds.
    long low_speed_bytes = 16;
    long low_speed_seconds = 30;
    size_t gzip_request_min_bytes = 1024;
    size_t max_response_bytes = 256 * 1024 * 1024;
    // HTTPS: trust only the CA certificate(s) in this PEM file (a municipality's own CA);
    // empty: the system's trust store. Certificates are always verified.
    std::string ca_file;
    // Plain http:// is refused (invalid_argument, nothing sent) to anything but loopback
    // (127.0.0.0/8, ::1, localhost): passwords and tokens would cross the network in clear.
    bool allow_insecure_http = false;
};

// Whether `url` may be used: https://, or http:// to a loopback host, or any http:// when
// `allow_insecure_http`. Errors: invalid_argument saying why and what to do instead.
Status check_transport_security(const std::string& url, bool allow_insecure_http);

std::unique_ptr<Transport> make_curl_transport(const std::string& base_url, CurlOptions opts = {});

}  // namespace tundra::client
