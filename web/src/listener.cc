// The HTTP/1.1 listener over Boost.Beast, plain or TLS (listener.h). One session
// template serves both stream types (Beast's "flex" server pattern): HttpSession<Derived>
// reads, hands the request to the handler on the worker pool, writes and logs;
// PlainSession and TlsSession only say what their stream is and how it closes. With TLS,
// DetectSession looks at a new connection's first bytes and closes it unless they start a
// TLS handshake.
#include "tundra/web/listener.h"

#include <sys/resource.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <atomic>
#include <deque>
#include <list>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "tundra/core/protocol.h"
#include "tundra/web/access_log.h"
#include "tundra/web/client_address.h"

namespace tundra::web {
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

namespace {
class Connection;

// Handlers are meant not to throw; one that does answers 500 rather than ending the process.
HttpResponse call_handler(const Handler& handler, const HttpRequest& r) {
    try {
        return handler(r);
    } catch (const std::exception& e) {
        HttpResponse out;
        out.status = 500;
        out.headers.emplace_back("Content-Type", "application/json");
        out.body = encode(ErrorBody{Errc::internal, std::string("unexpected error: ") + e.what()});
        return out;
    }
}
}

struct Listener::Impl {
    Handler handler;
    ListenerOptions opts;
    TrustedProxies proxies;
    std::optional<ssl::context> tls;
    std::mutex log_mu;
    // Connections are counted and listed here, declared before the io_context: one still
    // queued in it when it is destroyed unregisters itself on the way out.
    std::atomic<int> open{0};
    std::atomic<bool> waiting_for_slot{false};  // accepting paused at max_connections
    std::mutex mu;
    std::list<Connection*> connections;  // under mu
    bool stopping = false;               // under mu
    net::io_context ioc;
    // The acceptor, its back-off timer and the accept state below live on one strand.
    net::strand<net::io_context::executor_type> accept_strand;
    tcp::acceptor acceptor;
    net::steady_timer accept_timer;
    bool accepting = false;
    int accept_failures = 0;  // in the current burst
    SteadyClock::time_point limit_logged_at{};
    int limit_hits = 0;  // times the cap was hit since the last connection_limit line
    std::optional<net::signal_set> signals;
    net::thread_pool workers;
    // Admission control (listener.h): requests waiting for a worker, oldest first, and the
    // number being handled, under queue_mu. `go(false)` handles a request and sends its
    // answer; `go(true)` sends it a 503 instead.
    struct Job {
        SteadyClock::time_point at;
        bool low = false;
        bool keyed = false;  // has a turn key: its refusals set the share (AdmissionTurns)
        std::function<void(bool shed)> go;
    };
    std::mutex queue_mu;
    std::deque<Job> waiting;
    int running = 0;
    // Moving average of the handler's time for normal-priority requests, in microseconds.
    std::atomic<int64_t> service_us{0};
    net::steady_timer sweep_timer;  // on accept_strand
    uint16_t port = 0;  // the bound port, from listen()
    // Metrics (ListenerOptions::metrics), null without a registry.
    Family<Counter>* requests_total = nullptr;
    Family<Histogram>* request_seconds = nullptr;
    Family<Counter>* unavailable_total = nullptr;
    Gauge* turn_share = nullptr;
    AdmissionTurns turns;

    Impl(Handler h, ListenerOptions o)
        : handler(std::move(h)), opts(std::move(o)), ioc(std::max(1, opts.threads)),
          accept_strand(net::make_strand(ioc)), acceptor(accept_strand), accept_timer(accept_strand),
          workers(static_cast<size_t>(std::max(1, opts.workers))), sweep_timer(accept_strand),
          turns(opts.turns) {
        if (!opts.metrics) return;
        requests_total = &opts.metrics->counter("tundra_http_requests_total",
                                                "HTTP requests answered, by route and status", {"route", "status"});
        request_seconds = &opts.metrics->histogram(
            "tundra_http_request_duration_seconds",
            "Time from a request's headers to its answer written, by route", {"route"});
        unavailable_total = &opts.metrics->counter(
            "tundra_http_unavailable_total",
            "503 answers by reason: queue_full (refused by the listener's admission control), "
            "queue_delay (waited past max_queue_delay), turn (not its turn while saturated), "
            "else the error code", {"reason"});
        turn_share = &opts.metrics->gauge("tundra_http_turn_share",
                                          "Share of devices admitted in turn (1: all; below 1 while saturated)")
                          .with({});
        turn_share->set(1.0);
    }
    // One answered request, for the metrics.
    void count(std::string_view path, int status, const std::string& code, double seconds) {
        if (!requests_total) return;
        std::string route = opts.metrics_route ? opts.metrics_route(path) : "other";
        requests_total->with({route, std::to_string(status)}).inc();
        request_seconds->with({route}).observe(seconds);
        if (status == 503) unavailable_total->with({code.empty() ? "other" : code}).inc();
    }

    std::chrono::microseconds delay_limit(bool low) const {
        auto d = std::chrono::duration_cast<std::chrono::microseconds>(opts.max_queue_delay);
        return low ? d / 2 : d;
    }
    // Takes the request (it will be handled, or shed if it waits too long) or refuses it
    // (false: answer busy_response("queue_full") at once).
    bool admit(Job job);
    void work(Job job);
    void sweep();
    void schedule_sweep();
    // 503 `overloaded`, Retry-After `after` seconds, or (-1) spread over
    // [retry_after_seconds, + spread]; `reason` names it in the metrics.
    HttpResponse busy_response(const char* reason, int64_t after = -1) const {
        thread_local std::minstd_rand rng{std::random_device{}()};
        int spread = std::max(0, opts.retry_after_spread_seconds);
        if (after < 0) after = std::max(0, opts.retry_after_seconds) + std::uniform_int_distribution<int>(0, spread)(rng);
        HttpResponse busy;
        busy.status = 503;
        busy.headers.emplace_back("Content-Type", "application/json");
        busy.headers.emplace_back("Retry-After", std::to_string(after));
        busy.body = encode(ErrorBody{Errc::overloaded, "the server is busy; try again shortly"});
        busy.error_code = reason;
        return busy;
    }

    bool is_stopping() {
        std::lock_guard lock(mu);
        return stopping;
    }
    void do_accept();
    void on_accept(beast::error_code ec, tcp::socket socket);
    void note_limit();
    void start_connection(tcp::socket socket);
    // A connection closed: when accepting waits for a slot, resume it.
    void released() {
        int now = --open;
        if (now < opts.max_connections && waiting_for_slot.exchange(false))
            net::post(accept_strand, [this] { do_accept(); });
    }
    void log(const std::string& line) {
        if (!opts.log) return;
        std::lock_guard lock(log_mu);
        opts.log(line);
    }
    void event(std::string_view name, const std::string& message) {
        log(event_log_line(now_ms(), name, message));
    }
};

namespace {
// What every kind of connection shares: it counts against max_connections and is listed
// (so that stop() can close it) from construction to destruction.
class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(Listener::Impl& server, std::string peer) : server_(server), peer_(std::move(peer)) {
        std::lock_guard lock(server_.mu);
        born_stopping_ = server_.stopping;
        at_ = server_.connections.insert(server_.connections.end(), this);
        ++server_.open;
    }
    virtual ~Connection() {
        {
            std::lock_guard lock(server_.mu);
            server_.connections.erase(at_);
        }
        server_.released();
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    // Thread-safe: close now if idle, else after the answer in flight.
    virtual void shutdown() = 0;

protected:
    Listener::Impl& server_;
    std::string peer_;
    bool born_stopping_ = false;

private:
    std::list<Connection*>::iterator at_;
};

// Read a request (a short timeout for its headers, a longer one for its body, a body
// limit), handle it on the worker pool, write the answer, log it, repeat while keep-alive.
// Derived supplies stream(), do_eof() (a graceful close) and close_now().
template <class Derived>
class HttpSession : public Connection {
public:
    HttpSession(Listener::Impl& server, std::string peer, beast::flat_buffer buffer)
        : Connection(server, std::move(peer)), buffer_(std::move(buffer)) {
        closing_ = born_stopping_;
    }

    void shutdown() override {
        net::post(lowest().get_executor(), [self = self()] {
            self->closing_ = true;
            if (self->idle_) self->derived().close_now();
        });
    }

protected:
    Derived& derived() { return static_cast<Derived&>(*this); }
    std::shared_ptr<Derived> self() { return std::static_pointer_cast<Derived>(shared_from_this()); }
    beast::tcp_stream& lowest() { return beast::get_lowest_layer(derived().stream()); }

    void do_read() {
        if (closing_) return derived().do_eof();
        parser_.emplace();
        parser_->body_limit(server_.opts.max_body_bytes);
        parser_->header_limit(16 * 1024);
        lowest().expires_after(server_.opts.header_timeout);
        idle_ = true;
        http::async_read_header(derived().stream(), buffer_, *parser_,
                                beast::bind_front_handler(&HttpSession::on_header, self()));
    }

    beast::flat_buffer buffer_;
    bool idle_ = false;     // waiting for a request (or a TLS handshake): stop() may close it
    bool closing_ = false;  // stopping: no further request on this connection

private:
    void on_header(beast::error_code ec, std::size_t) {
        idle_ = false;
        started_ = SteadyClock::now();
        if (ec || parser_->is_done()) return on_read(ec, 0);
        if (server_.opts.body_limit_for) {
            // The target's own limit: Beast checked Content-Length against the largest one
            // while parsing the header, so check it again here; a chunked body is counted
            // against the limit set now as its chunks arrive.
            auto target = parser_->get().target();
            size_t limit = server_.opts.body_limit_for(std::string_view(target.data(), target.size()));
            if (auto length = parser_->content_length(); length && *length > limit)
                return on_read(http::error::body_limit, 0);
            parser_->body_limit(limit);
        }
        // The request has begun: its body gets the longer timeout.
        lowest().expires_after(server_.opts.read_timeout);
        http::async_read(derived().stream(), buffer_, *parser_,
                         beast::bind_front_handler(&HttpSession::on_read, self()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
            ec == beast::error::timeout || ec == ssl::error::stream_truncated)
            return derived().do_eof();
        begin_record();
        if (ec == http::error::body_limit) return write_error(413, Errc::too_large, "request body is over the limit");
        if (ec) {
            if (ec.category() == http::make_error_code(http::error::bad_method).category())
                return write_error(400, Errc::malformed, "malformed HTTP request: " + ec.message());
            return derived().close_now();
        }
        auto req = parser_->release();
        HttpRequest r;
        r.method = std::string(req.method_string());
        r.target = std::string(req.target());
        for (auto& f : req) {
            std::string name(f.name_string());
            std::transform(name.begin(), name.end(), name.begin(), ::tolower);
            r.headers[name] = std::string(f.value());
        }
        r.body = std::move(req.body());
        r.remote_address = record_.address;
        r.local_port = server_.port;
        unsigned version = req.version();
        bool keep_alive = req.keep_alive();
        // Admission control (listener.h): refused at once, or queued for a worker and shed
        // if it waits too long. Low-priority requests (the server's logins) get half of each
        // limit: a login flood never leaves sync rounds without room.
        bool low = server_.opts.low_priority && server_.opts.low_priority(r);
        bool keyed = false;
        if (!low && server_.opts.turn_key && server_.opts.turns.period.count() > 0) {
            std::string_view key = server_.opts.turn_key(r);
            keyed = !key.empty();
            if (keyed) {
                if (auto wait = server_.turns.admit(key, static_cast<int64_t>(now_ms())))
                    return respond(server_.busy_response("turn", wait->count()), version, keep_alive);
            }
        }
        struct Pending {
            HttpRequest request;
            unsigned version;
            bool keep_alive;
            // Keeps the network loop alive until the answer is sent (a graceful stop waits).
            decltype(net::make_work_guard(std::declval<beast::tcp_stream&>().get_executor())) work;
        };
        auto pending = std::make_shared<Pending>(
            Pending{std::move(r), version, keep_alive, net::make_work_guard(lowest().get_executor())});
        Listener::Impl::Job job;
        job.at = SteadyClock::now();
        job.low = low;
        job.keyed = keyed;
        job.go = [self = self(), pending](bool shed) {
            HttpResponse out = shed ? self->server_.busy_response("queue_delay") : call_handler(self->server_.handler, pending->request);
            net::post(self->lowest().get_executor(), [self, pending, out = std::move(out)]() mutable {
                self->respond(std::move(out), pending->version, pending->keep_alive);
            });
        };
        if (!server_.admit(std::move(job))) {
            pending->work.reset();
            return respond(server_.busy_response("queue_full"), version, keep_alive);
        }
    }

    // The access record of the request just read (as far as its headers say).
    void begin_record() {
        record_ = AccessRecord{};
        const auto& h = parser_->get();
        std::string forwarded;  // the last X-Forwarded-For field, if several
        for (auto [it, end] = h.equal_range("X-Forwarded-For"); it != end; ++it)
            forwarded = std::string(it->value());
        record_.address = client_address(peer_, forwarded, server_.proxies);
        record_.method = std::string(h.method_string());
        auto target = h.target();
        record_.route = route_of(std::string_view(target.data(), target.size()));
    }

    void respond(HttpResponse out, unsigned version, bool keep_alive) {
        record_.user = std::move(out.log_user);
        record_.device = std::move(out.log_device);
        error_code_ = std::move(out.error_code);
        auto res = std::make_shared<http::response<http::string_body>>(
            static_cast<http::status>(out.status), version);
        res->set(http::field::server, "tundra/1");
        // Set-Cookie may come several times (a session cookie set and another cleared).
        for (auto& [k, v] : out.headers) {
            if (beast::iequals(k, "Set-Cookie")) res->insert(k, v);
            else res->set(k, v);
        }
        res->body() = std::move(out.body);
        res->keep_alive(keep_alive && !closing_);
        res->prepare_payload();
        send(res);
    }

    void write_error(int status, Errc code, const std::string& msg) {
        error_code_ = std::string(errc_info(code).wire_name);
        auto res = std::make_shared<http::response<http::string_body>>(
            static_cast<http::status>(status), 11);
        res->set(http::field::content_type, "application/json");
        res->body() = encode(ErrorBody{code, msg});
        res->keep_alive(false);
        res->prepare_payload();
        send(res);
    }

    void send(std::shared_ptr<http::response<http::string_body>> res) {
        record_.status = static_cast<int>(res->result_int());
        record_.bytes = res->body().size();
        bool close = !res->keep_alive();
        lowest().expires_after(server_.opts.read_timeout);
        http::async_write(derived().stream(), *res,
                          [self = self(), res, close](beast::error_code ec, std::size_t) {
                              self->on_written(ec, close);
                          });
    }

    void on_written(beast::error_code ec, bool close) {
        double ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - started_).count();
        server_.count(record_.route, record_.status, error_code_, ms / 1000);
        if (server_.opts.log) {
            record_.time_ms = now_ms();
            record_.duration_ms = ms;
            server_.log(access_log_line(record_));
        }
        if (ec) return derived().close_now();
        if (close) return derived().do_eof();
        do_read();
    }

    std::optional<http::request_parser<http::string_body>> parser_;
    AccessRecord record_;
    std::string error_code_;  // of the answer being written, for the metrics
    SteadyClock::time_point started_;
};

class PlainSession : public HttpSession<PlainSession> {
public:
    PlainSession(Listener::Impl& server, std::string peer, tcp::socket&& socket)
        : HttpSession(server, std::move(peer), {}), stream_(std::move(socket)) {}

    void start() {
        net::dispatch(stream_.get_executor(), [self = self()] { self->do_read(); });
    }
    beast::tcp_stream& stream() { return stream_; }
    void do_eof() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.close();
    }
    void close_now() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        stream_.close();
    }

private:
    beast::tcp_stream stream_;
};

class TlsSession : public HttpSession<TlsSession> {
public:
    // `buffer` holds the bytes DetectSession already read (the start of the handshake).
    TlsSession(Listener::Impl& server, std::string peer, beast::tcp_stream&& stream,
               ssl::context& ctx, beast::flat_buffer&& buffer)
        : HttpSession(server, std::move(peer), std::move(buffer)), stream_(std::move(stream), ctx) {}

    void start() {
        if (closing_) return close_now();
        idle_ = true;  // nothing asked yet: a stop closes it
        lowest().expires_after(server_.opts.header_timeout);
        stream_.async_handshake(ssl::stream_base::server, buffer_.data(),
                                beast::bind_front_handler(&TlsSession::on_handshake, self()));
    }
    beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }
    void do_eof() {
        lowest().expires_after(server_.opts.header_timeout);
        stream_.async_shutdown([self = self()](beast::error_code) { self->close_now(); });
    }
    void close_now() {
        beast::error_code ec;
        lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
        lowest().close();
    }

private:
    void on_handshake(beast::error_code ec, std::size_t used) {
        if (ec) return close_now();  // not TLS after all, an untrusting client, or a timeout
        buffer_.consume(used);
        do_read();
    }

    beast::ssl_stream<beast::tcp_stream> stream_;
};

// With TLS on: a connection whose first bytes are not a TLS handshake is closed (a plain
// HTTP request would otherwise carry a password in clear to a server that then refuses it).
class DetectSession : public Connection {
public:
    DetectSession(Listener::Impl& server, std::string peer, tcp::socket&& socket)
        : Connection(server, std::move(peer)), stream_(std::move(socket)), ex_(stream_.get_executor()) {}

    void start() {
        net::dispatch(ex_, [self = std::static_pointer_cast<DetectSession>(shared_from_this())] {
            if (self->born_stopping_) return self->close();
            self->stream_.expires_after(self->server_.opts.header_timeout);
            beast::async_detect_ssl(self->stream_, self->buffer_,
                                    beast::bind_front_handler(&DetectSession::on_detect, self));
        });
    }
    void shutdown() override {
        net::post(ex_, [self = std::static_pointer_cast<DetectSession>(shared_from_this())] {
            self->close();
        });
    }

private:
    void on_detect(beast::error_code ec, bool is_tls) {
        if (ec || !is_tls) return close();
        handed_over_ = true;
        std::make_shared<TlsSession>(server_, peer_, std::move(stream_), *server_.tls, std::move(buffer_))
            ->start();
    }
    void close() {
        if (handed_over_) return;  // the TLS session owns the socket now
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        stream_.close();
    }

    beast::tcp_stream stream_;
    net::any_io_executor ex_;
    beast::flat_buffer buffer_;
    bool handed_over_ = false;
};
}  // namespace

bool Listener::Impl::admit(Job job) {
    std::unique_lock lock(queue_mu);
    int cap = opts.max_queued_requests / (job.low ? 2 : 1);
    auto refuse = [&] {
        if (job.keyed) turns.note(true);
        return false;
    };
    if (running + static_cast<int>(waiting.size()) >= cap) return refuse();
    int pool = std::max(1, opts.workers);
    if (running < pool && waiting.empty()) {
        if (job.keyed) turns.note(false, true);
        ++running;
        lock.unlock();
        net::post(workers, [this, job = std::move(job)]() mutable { work(std::move(job)); });
        return true;
    }
    // The wait this request can expect, from the handler's recent time.
    if (opts.max_queue_delay.count() > 0) {
        int64_t expected_us = static_cast<int64_t>(waiting.size() + 1) * service_us.load(std::memory_order_relaxed) / pool;
        if (expected_us > delay_limit(job.low).count()) return refuse();
    }
    if (job.keyed) turns.note(false);
    waiting.push_back(std::move(job));
    return true;
}

// A worker's loop: handle the job, then the oldest waiting one, until none waits. A job
// that waited past its limit is shed, not handled.
void Listener::Impl::work(Job job) {
    for (;;) {
        auto start = SteadyClock::now();
        bool late = opts.max_queue_delay.count() > 0 && start - job.at > delay_limit(job.low);
        if (late && job.keyed) turns.note(true);
        job.go(late);
        if (!late && !job.low) {
            auto took = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start).count();
            int64_t avg = service_us.load(std::memory_order_relaxed);
            service_us.store(avg == 0 ? took : avg + (took - avg) / 8, std::memory_order_relaxed);
        }
        std::lock_guard lock(queue_mu);
        if (waiting.empty()) {
            --running;
            return;
        }
        job = std::move(waiting.front());
        waiting.pop_front();
    }
}

// Sheds the requests that have waited past their limit while every worker is busy: their
// 503 goes out now, not when a worker frees.
void Listener::Impl::sweep() {
    std::vector<Job> late;
    {
        std::lock_guard lock(queue_mu);
        auto now = SteadyClock::now();
        for (auto it = waiting.begin(); it != waiting.end();) {
            if (now - it->at > delay_limit(it->low)) {
                if (it->keyed) turns.note(true);
                late.push_back(std::move(*it));
                it = waiting.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto& j : late) j.go(true);
    double before = turns.share();
    turns.tick(SteadyClock::now());
    double after = turns.share();
    if (after != before) {
        if (after < before) event("turns", "saturated: share of devices admitted cut to " + std::to_string(after));
        else if (after >= 1.0) event("turns", "every device admitted again");
    }
    if (turn_share) turn_share->set(after);
}

void Listener::Impl::schedule_sweep() {
    if (opts.max_queue_delay.count() <= 0 || is_stopping()) return;
    // A quarter of the queue delay, and at least as often as the turns' controller steps.
    SteadyClock::duration every = opts.max_queue_delay / 4;
    if (opts.turn_key && opts.turns.period.count() > 0) every = std::min<SteadyClock::duration>(every, opts.turns.tick);
    every = std::max<SteadyClock::duration>(std::chrono::milliseconds(1), every);
    sweep_timer.expires_after(every);
    sweep_timer.async_wait([this](beast::error_code ec) {
        if (ec) return;
        sweep();
        schedule_sweep();
    });
}

void Listener::Impl::do_accept() {
    if (accepting || is_stopping()) return;
    if (open.load() >= opts.max_connections) {
        // Set the flag before looking again, so that a connection closing in between
        // either sees it (and resumes us) or is counted out before the second look.
        waiting_for_slot.store(true);
        if (open.load() >= opts.max_connections) return note_limit();
        waiting_for_slot.store(false);
    }
    accepting = true;
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
        on_accept(ec, std::move(socket));
    });
}

void Listener::Impl::note_limit() {
    ++limit_hits;
    auto now = SteadyClock::now();
    if (limit_logged_at != SteadyClock::time_point{} && now - limit_logged_at < std::chrono::minutes(1))
        return;
    std::string msg = "connection limit reached: " + std::to_string(opts.max_connections) +
                      " connections open (--max-connections); new connections wait in the listen "
                      "backlog until one closes";
    if (limit_hits > 1)
        msg += " (reached " + std::to_string(limit_hits) + " times since the last report)";
    event("connection_limit", msg);
    limit_logged_at = now;
    limit_hits = 0;
}

void Listener::Impl::on_accept(beast::error_code ec, tcp::socket socket) {
    accepting = false;
    if (ec == net::error::operation_aborted || is_stopping()) return;
    if (ec) {
        // Out of file descriptors (EMFILE/ENFILE) or buffers: the pending connection stays
        // in the backlog, so retrying at once would fail the same way in a tight loop.
        ++accept_failures;
        auto delay = std::min(opts.accept_backoff_max,
                              opts.accept_backoff_min * (1 << std::min(accept_failures - 1, 10)));
        if (accept_failures == 1)
            event("accept_failed", "accept failed: " + ec.message() + "; retrying every " +
                                       std::to_string(opts.accept_backoff_min.count()) + "-" +
                                       std::to_string(opts.accept_backoff_max.count()) +
                                       " ms (further failures of this burst are not logged)");
        accept_timer.expires_after(delay);
        accept_timer.async_wait([this](beast::error_code e) {
            if (!e) do_accept();
        });
        return;
    }
    if (accept_failures > 0) {
        event("accept_recovered",
              "accepting again after " + std::to_string(accept_failures) + " failed accept() calls");
        accept_failures = 0;
    }
    start_connection(std::move(socket));
    do_accept();
}

void Listener::Impl::start_connection(tcp::socket socket) {
    beast::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    std::string peer = ec ? std::string() : ep.address().to_string();
    if (tls) std::make_shared<DetectSession>(*this, std::move(peer), std::move(socket))->start();
    else std::make_shared<PlainSession>(*this, std::move(peer), std::move(socket))->start();
}

Listener::Listener(Handler handler, ListenerOptions opts)
    : impl_(std::make_unique<Impl>(std::move(handler), std::move(opts))) {}

Listener::~Listener() = default;

bool Listener::tls() const { return impl_->tls.has_value(); }

namespace {
Result<ssl::context> load_tls(const std::string& cert, const std::string& key) {
    ssl::context ctx(ssl::context::tls_server);
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                    ssl::context::single_dh_use);
    beast::error_code ec;
    ctx.use_certificate_chain_file(cert, ec);
    if (ec) return Result<ssl::context>(Errc::invalid_argument, "cannot load --tls-cert '" + cert + "': " + ec.message());
    ctx.use_private_key_file(key, ssl::context::pem, ec);
    if (ec) return Result<ssl::context>(Errc::invalid_argument, "cannot load --tls-key '" + key + "': " + ec.message());
    if (SSL_CTX_check_private_key(ctx.native_handle()) != 1)
        return Result<ssl::context>(Errc::invalid_argument,
                                    "--tls-key '" + key + "' does not belong to --tls-cert '" + cert + "'");
    return ctx;
}
}  // namespace

Result<uint16_t> Listener::listen(const std::string& address, uint16_t port) {
    auto& o = impl_->opts;
    auto proxies = TrustedProxies::parse(o.trusted_proxies);
    if (!proxies) return proxies.status();
    impl_->proxies = std::move(proxies.value());
    if (o.tls_cert_file.empty() != o.tls_key_file.empty())
        return Result<uint16_t>(Errc::invalid_argument, "--tls-cert and --tls-key go together");
    if (!o.tls_cert_file.empty()) {
        auto ctx = load_tls(o.tls_cert_file, o.tls_key_file);
        if (!ctx) return ctx.status();
        impl_->tls.emplace(std::move(ctx.value()));
    }
    if (o.max_connections < 1) o.max_connections = 1;
    beast::error_code ec;
    auto addr = net::ip::make_address(address, ec);
    if (ec) return Result<uint16_t>(Errc::invalid_argument, "bad listen address '" + address + "'");
    tcp::endpoint ep(addr, port);
    auto& a = impl_->acceptor;
    a.open(ep.protocol(), ec);
    if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return Result<uint16_t>(Errc::network, "cannot listen on " + address + ":" +
                                                       std::to_string(port) + ": " + ec.message());
    // Catch SIGINT/SIGTERM from now on, so a signal sent as soon as the port is announced
    // already means a graceful stop.
    if (o.handle_signals && !impl_->signals) {
        impl_->signals.emplace(impl_->ioc, SIGINT, SIGTERM);
        impl_->signals->async_wait([this](beast::error_code e, int) {
            if (!e) stop();
        });
    }
    impl_->port = a.local_endpoint().port();
    return impl_->port;
}

void Listener::stop() {
    net::post(impl_->accept_strand, [this] {
        auto& I = *impl_;
        std::vector<std::shared_ptr<Connection>> live;
        {
            std::lock_guard lock(I.mu);
            if (I.stopping) return;
            I.stopping = true;
            for (auto* c : I.connections)
                if (auto s = c->weak_from_this().lock()) live.push_back(std::move(s));
        }
        I.waiting_for_slot = false;
        beast::error_code ec;
        I.acceptor.close(ec);
        I.accept_timer.cancel();
        I.sweep_timer.cancel();
        if (I.signals) I.signals->cancel(ec);  // so that run() can return
        for (auto& s : live) s->shutdown();
    });
}

void Listener::run() {
    net::post(impl_->accept_strand, [this] {
        impl_->do_accept();
        impl_->schedule_sweep();
    });
    std::vector<std::thread> extra;
    for (int i = 1; i < impl_->opts.threads; ++i) extra.emplace_back([this] { impl_->ioc.run(); });
    impl_->ioc.run();
    for (auto& t : extra) t.join();
    impl_->workers.join();
}

FdBudget fit_fd_limit(int max_connections) {
    // The store (database, WAL, shared memory), stdio, the event loop's own descriptors,
    // log files: what a server process holds besides its connections.
    constexpr uint64_t kReserve = 64;
    FdBudget b;
    b.max_connections_asked = std::max(1, max_connections);
    uint64_t want = static_cast<uint64_t>(b.max_connections_asked) + kReserve;
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        b.max_connections = b.max_connections_asked;
        return b;
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        rlimit raised = rl;
        raised.rlim_cur = rl.rlim_max == RLIM_INFINITY ? want : std::min<uint64_t>(want, rl.rlim_max);
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0) rl.rlim_cur = raised.rlim_cur;
    }
    b.soft_limit = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur;
    b.hard_limit = rl.rlim_max == RLIM_INFINITY ? UINT64_MAX : rl.rlim_max;
    uint64_t fits = b.soft_limit > kReserve ? b.soft_limit - kReserve : 1;
    b.max_connections = static_cast<int>(std::min<uint64_t>(static_cast<uint64_t>(b.max_connections_asked), fits));
    return b;
}

}  // namespace tundra::web
