#include "tundra/server/http_server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>

#include <algorithm>
#include <atomic>

#include "tundra/core/protocol.h"
#include <list>
#include <mutex>
#include <thread>
#include <vector>

namespace tundra::server {
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {
class Session;
}

struct HttpServer::Impl {
    Store& store;
    ServerOptions opts;
    net::io_context ioc;
    tcp::acceptor acceptor{ioc};
    std::mutex mu;
    std::list<std::weak_ptr<Session>> sessions;
    bool stopping = false;
    std::optional<net::signal_set> signals;
    net::thread_pool workers{static_cast<size_t>(std::max(1, opts.workers))};
    std::atomic<int> queued{0};

    Impl(Store& s, ServerOptions o) : store(s), opts(std::move(o)), ioc(std::max(1, opts.threads)) {}
    void do_accept();
    void log(const std::string& line) {
        if (opts.log) opts.log(line);
    }
};

namespace {
// One object per connection: read a request (with timeout and body limit), handle it,
// write the response, repeat while keep-alive.
class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket&& socket, HttpServer::Impl& server)
        : stream_(std::move(socket)), server_(server) {}

    void start() { net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); }); }

    // Called on stop: close the connection if idle, else after the response in flight.
    void shutdown() {
        net::post(stream_.get_executor(), [self = shared_from_this()] {
            self->closing_ = true;
            if (self->idle_) {
                beast::error_code ec;
                self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
                self->stream_.close();
            }
        });
    }

private:
    void do_read() {
        if (closing_) return do_close();
        parser_.emplace();
        parser_->body_limit(server_.opts.max_body_bytes);
        parser_->header_limit(16 * 1024);
        stream_.expires_after(server_.opts.read_timeout);
        idle_ = true;
        http::async_read(stream_, buffer_, *parser_,
                         beast::bind_front_handler(&Session::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        idle_ = false;
        if (ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
            ec == beast::error::timeout)
            return do_close();
        if (ec == http::error::body_limit) return write_error(413, Errc::too_large, "request body is over the limit");
        if (ec) {
            if (ec.category() == http::make_error_code(http::error::bad_method).category())
                return write_error(400, Errc::malformed, "malformed HTTP request: " + ec.message());
            return do_close();
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
        beast::error_code peer_ec;
        auto peer = stream_.socket().remote_endpoint(peer_ec);
        if (!peer_ec) r.remote_address = peer.address().to_string();
        unsigned version = req.version();
        bool keep_alive = req.keep_alive();
        // Logins may fill half the queue at most: a login flood never leaves sync rounds
        // without room (auth.cc turns the flood itself away cheaply).
        bool login = r.target.rfind("/v1/login", 0) == 0;
        if (server_.queued.load() >= server_.opts.max_queued_requests / (login ? 2 : 1)) {
            server_.log(r.method + " " + r.target + " 503 overloaded");
            HttpResponse busy;
            busy.status = 503;
            busy.headers.emplace_back("Content-Type", "application/json");
            busy.headers.emplace_back("Retry-After", std::to_string(server_.opts.retry_after_seconds));
            busy.body = encode(ErrorBody{Errc::overloaded, "the server is busy; try again shortly"});
            return respond(std::move(busy), version, keep_alive);
        }
        ++server_.queued;
        // The work guard keeps the network loop alive (a graceful stop waits for the answer).
        net::post(server_.workers, [self = shared_from_this(), r = std::move(r), version, keep_alive,
                                    work = net::make_work_guard(stream_.get_executor())]() mutable {
            HttpResponse out = handle_request(r, self->server_.store, self->server_.opts.handler);
            --self->server_.queued;
            self->server_.log(r.method + " " + r.target + " " + std::to_string(out.status) + " " +
                              std::to_string(out.body.size()));
            net::post(self->stream_.get_executor(), [self, out = std::move(out), version, keep_alive]() mutable {
                self->respond(std::move(out), version, keep_alive);
            });
            work.reset();
        });
    }

    void respond(HttpResponse out, unsigned version, bool keep_alive) {
        auto res = std::make_shared<http::response<http::string_body>>(
            static_cast<http::status>(out.status), version);
        res->set(http::field::server, "tundra/1");
        for (auto& [k, v] : out.headers) res->set(k, v);
        res->body() = std::move(out.body);
        res->keep_alive(keep_alive && !closing_);
        res->prepare_payload();
        send(res);
    }

    void write_error(int status, Errc code, const std::string& msg) {
        auto res = std::make_shared<http::response<http::string_body>>(
            static_cast<http::status>(status), 11);
        res->set(http::field::content_type, "application/json");
        res->body() = encode(ErrorBody{code, msg});
        res->keep_alive(false);
        res->prepare_payload();
        send(res);
    }

    void send(std::shared_ptr<http::response<http::string_body>> res) {
        bool close = !res->keep_alive();
        stream_.expires_after(server_.opts.read_timeout);
        http::async_write(stream_, *res,
                          [self = shared_from_this(), res, close](beast::error_code ec, std::size_t) {
                              if (ec || close) return self->do_close();
                              self->do_read();
                          });
    }

    void do_close() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.close();
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    HttpServer::Impl& server_;
    bool idle_ = false;
    bool closing_ = false;
};
}  // namespace

void HttpServer::Impl::do_accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
        if (ec) {
            if (ec == net::error::operation_aborted) return;
            log("accept failed: " + ec.message());
        } else {
            auto s = std::make_shared<Session>(std::move(socket), *this);
            {
                std::lock_guard lock(mu);
                if (stopping) return;
                sessions.remove_if([](auto& w) { return w.expired(); });
                sessions.push_back(s);
            }
            s->start();
        }
        do_accept();
    });
}

HttpServer::HttpServer(Store& store, ServerOptions opts)
    : impl_(std::make_unique<Impl>(store, std::move(opts))) {}

HttpServer::~HttpServer() = default;

Result<uint16_t> HttpServer::listen(const std::string& address, uint16_t port) {
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
    if (impl_->opts.handle_signals && !impl_->signals) {
        impl_->signals.emplace(impl_->ioc, SIGINT, SIGTERM);
        impl_->signals->async_wait([this](beast::error_code e, int) {
            if (!e) stop();
        });
    }
    return a.local_endpoint().port();
}

void HttpServer::stop() {
    net::post(impl_->ioc, [this] {
        std::vector<std::shared_ptr<Session>> live;
        {
            std::lock_guard lock(impl_->mu);
            if (impl_->stopping) return;
            impl_->stopping = true;
            for (auto& w : impl_->sessions)
                if (auto s = w.lock()) live.push_back(s);
        }
        beast::error_code ec;
        impl_->acceptor.close(ec);
        if (impl_->signals) impl_->signals->cancel(ec);  // so that run() can return
        for (auto& s : live) s->shutdown();
    });
}

void HttpServer::run() {
    impl_->do_accept();
    std::vector<std::thread> extra;
    for (int i = 1; i < impl_->opts.threads; ++i) extra.emplace_back([this] { impl_->ioc.run(); });
    impl_->ioc.run();
    for (auto& t : extra) t.join();
    impl_->workers.join();
}

}  // namespace tundra::server
