// Raw sockets and an in-process HTTP server for the listener's tests: what a slow,
// idle or hostile client does on the wire.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tundra/server/http_server.h"

namespace tundra::testing {

// A connected TCP socket to 127.0.0.1:port, closed with the object.
class RawConn {
public:
    explicit RawConn(uint16_t port) {
        fd_ = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    }
    ~RawConn() { close(); }
    RawConn(const RawConn&) = delete;
    RawConn& operator=(const RawConn&) = delete;
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    bool connected() const { return connected_; }
    bool send(const std::string& s) {
        return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
    }
    // Reads what arrives within `wait` (stops early at end of stream). `closed` tells
    // whether the peer closed (or reset) the connection.
    std::string read_for(std::chrono::milliseconds wait, bool* closed = nullptr) {
        std::string out;
        auto until = std::chrono::steady_clock::now() + wait;
        if (closed) *closed = false;
        for (;;) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
            if (left.count() <= 0) return out;
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return out;
            char buf[4096];
            ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) {
                if (closed) *closed = true;
                return out;
            }
            out.append(buf, static_cast<size_t>(n));
        }
    }
    // Reads until an HTTP response's headers and `Content-Length` body are in, or `wait`.
    std::string read_response(std::chrono::milliseconds wait) {
        std::string out;
        auto until = std::chrono::steady_clock::now() + wait;
        while (std::chrono::steady_clock::now() < until) {
            bool closed = false;
            out += read_for(std::chrono::milliseconds(20), &closed);
            auto end = out.find("\r\n\r\n");
            if (end != std::string::npos) {
                auto cl = out.find("Content-Length: ");
                size_t len = cl == std::string::npos ? 0 : std::stoul(out.substr(cl + 16));
                if (out.size() >= end + 4 + len) return out;
            }
            if (closed) return out;
        }
        return out;
    }
    // Waits up to `wait` for the server to close the connection; returns how long it took,
    // or -1 ms if it did not.
    std::chrono::milliseconds time_to_close(std::chrono::milliseconds wait) {
        auto t0 = std::chrono::steady_clock::now();
        bool closed = false;
        read_for(wait, &closed);
        if (!closed) return std::chrono::milliseconds(-1);
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    }

private:
    int fd_ = -1;
    bool connected_ = false;
};

// A real HttpServer on 127.0.0.1:0 in this process, keeping its log lines.
struct LiveServer {
    std::mutex mu;
    std::vector<std::string> lines;
    server::HttpServer http;
    uint16_t port = 0;
    std::thread thread;

    LiveServer(server::Store& store, server::ServerOptions o) : http(store, with_log(o)) {
        auto p = http.listen("127.0.0.1", 0);
        if (!p) throw std::runtime_error(p.status().to_string());
        port = p.value();
        thread = std::thread([this] { http.run(); });
    }
    ~LiveServer() {
        http.stop();
        thread.join();
    }
    std::vector<std::string> log() {
        std::lock_guard lock(mu);
        return lines;
    }
    // Log lines containing `needle`.
    int count(const std::string& needle) {
        int n = 0;
        for (auto& l : log()) n += l.find(needle) != std::string::npos;
        return n;
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }

private:
    server::ServerOptions with_log(server::ServerOptions o) {
        o.handle_signals = false;
        o.log = [this](const std::string& line) {
            std::lock_guard lock(mu);
            lines.push_back(line);
        };
        return o;
    }
};

inline const char* kHealthz = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";

}  // namespace tundra::testing
