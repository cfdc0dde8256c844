// The Boost.Beast HTTP/1.1 listener, plain or TLS (one session code path over both stream
// types), knowing nothing of what it serves: each request goes to a Handler (a pure
// function, tundra/web/http.h) on a worker pool. Per connection: a short timeout for a
// request's headers (so idle and slow-header connections do not hold a slot), a longer one
// for its body, a body limit; each answered request is logged as one JSON line
// (access_log.h). The number of open connections is capped: past it the listener stops
// accepting (new connections wait in the kernel's backlog) until one closes; accept errors
// (e.g. out of file descriptors) back off instead of spinning. Shared by the sync server
// and the tablet app; Beast stays inside listener.cc so that only one translation unit pays
// for its compile time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tundra/core/status.h"
#include "tundra/web/admission_turns.h"
#include "tundra/web/http.h"
#include "tundra/web/metrics.h"

namespace tundra::web {

// Called on a worker thread, several at once: must be thread-safe. Should not throw (one
// that does is answered 500 `internal`).
using Handler = std::function<HttpResponse(const HttpRequest&)>;

struct ListenerOptions {
    int threads = 2;
    // Waiting for a request's headers: a new connection (TLS handshake included) or an idle
    // keep-alive one. Short, so that idle and slowloris connections free their slot soon.
    std::chrono::milliseconds header_timeout{10000};
    // Reading a request's body once its headers are in, and writing the answer.
    std::chrono::milliseconds read_timeout{30000};
    size_t max_body_bytes = 16 * 1024 * 1024;  // on the wire (possibly gzip)
    // A body limit per request target (e.g. the console's import uploads may be larger than
    // an API call). When set, it decides each request's limit once its headers are in: a
    // Content-Length over it is answered 413 before the body is read, a chunked body as soon
    // as it grows past it. `max_body_bytes` must then be at least the largest limit it
    // returns (the parser's limit while the headers are read).
    std::function<size_t(std::string_view target)> body_limit_for;
    // Log lines, one JSON object each (access_log.h); may be empty. Called from several
    // threads, one call at a time.
    std::function<void(const std::string&)> log;
    bool handle_signals = true;  // SIGINT/SIGTERM stop the listener gracefully (from listen() on)
    // Requests are handled on a worker pool so that network threads never wait on the
    // handler. Admission control (docs/protocol.md, "Overload"): a request is answered 503
    // `overloaded` with Retry-After, without running the handler, when
    // - `max_queued_requests` requests are already waiting or running, or
    // - the wait it can expect (requests waiting x the recent handler time / workers) is
    //   over `max_queue_delay`, or
    // - it has waited for a worker longer than `max_queue_delay` (checked when a worker
    //   takes it, and every quarter of it while it waits: the 503 does not wait for a worker).
    // Requests `low_priority` picks (the server's logins) get half of each limit. 0 as
    // max_queue_delay: no time limit. Retry-After is drawn uniformly from [retry_after_seconds,
    // retry_after_seconds + retry_after_spread_seconds], so that the refused do not come
    // back in one wave.
    int workers = 2;
    int max_queued_requests = 256;
    std::chrono::milliseconds max_queue_delay{250};
    int retry_after_seconds = 1;
    int retry_after_spread_seconds = 2;
    std::function<bool(const HttpRequest&)> low_priority;
    // Turns under sustained overload (admission_turns.h), for the requests this names a key
    // for (empty: none; the sync server: a sync request's bearer token). While the queue keeps
    // refusing such requests, only a share of the keys is admitted at a time and the others
    // are answered 503 with Retry-After = the time until their turn; at any load the queue
    // keeps up with, the share is 1 and nothing changes. Needs max_queue_delay > 0 (its timer
    // steps the share); turns.period 0 turns them off. The view must point into the request.
    std::function<std::string_view(const HttpRequest&)> turn_key;
    TurnOptions turns;
    // Open connections at most (see fit_fd_limit). At the cap, accepting pauses until one
    // closes; that is logged (event `connection_limit`) at most once a minute.
    int max_connections = 10000;
    // After a failed accept() (EMFILE, ENFILE, ENOBUFS, ...) wait this long before the next
    // one, doubling up to the max; logged once per burst of failures (event `accept_failed`),
    // and once when accepting works again (`accept_recovered`).
    std::chrono::milliseconds accept_backoff_min{50};
    std::chrono::milliseconds accept_backoff_max{500};
    // TLS: PEM files (the chain, leaf first; an unencrypted key). Both or neither. With
    // them every connection must start a TLS handshake; one that does not is closed.
    std::string tls_cert_file;
    std::string tls_key_file;
    // Peers whose X-Forwarded-For is believed (CIDRs; see client_address.h).
    std::vector<std::string> trusted_proxies;
    // Where the listener counts what it answers (may be null): requests by route and status
    // (tundra_http_requests_total), their latency by route (tundra_http_request_duration_
    // seconds), every 503 by reason (tundra_http_unavailable_total: `queue_full`,
    // `queue_delay` and `turn` for the listener's own, else the handler's error code) and the
    // share of keys admitted (tundra_http_turn_share). `metrics_route` names a request's
    // route for these labels (a small fixed set; default: "other" for all).
    std::shared_ptr<MetricsRegistry> metrics;
    std::function<std::string(std::string_view path)> metrics_route;
};

class Listener {
public:
    Listener(Handler handler, ListenerOptions opts = {});
    ~Listener();
    // Loads the TLS certificate and key (if given), binds and listens; returns the bound
    // port (pass 0 for an OS-assigned one). Errors: invalid_argument (bad address, bad
    // trusted proxy, unreadable or mismatched certificate/key), network (cannot bind).
    Result<uint16_t> listen(const std::string& address, uint16_t port);
    // Whether connections are TLS (from a successful listen() with a certificate).
    bool tls() const;
    // Serves until stop() or SIGINT/SIGTERM (when handle_signals); then stops accepting,
    // lets requests in flight finish, closes idle connections and returns.
    void run();
    // Thread-safe.
    void stop();

    struct Impl;  // defined in listener.cc

private:
    std::unique_ptr<Impl> impl_;
};

// Raises this process's soft limit on open files (RLIMIT_NOFILE, up to the hard limit) so
// that `max_connections` sockets fit beside the files the process keeps open.
struct FdBudget {
    int max_connections = 0;   // what fits: the number asked for, or fewer
    uint64_t soft_limit = 0;   // the limit now in force
    uint64_t hard_limit = 0;
    bool lowered() const { return max_connections_asked > max_connections; }
    int max_connections_asked = 0;
};
FdBudget fit_fd_limit(int max_connections);

}  // namespace tundra::web
