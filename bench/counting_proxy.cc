#include "counting_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace tundra::bench {

CountingProxy::CountingProxy(uint16_t upstream) : upstream_(upstream) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(listen_fd_, 64) != 0)
        throw std::runtime_error("proxy: cannot listen");
    socklen_t len = sizeof a;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
}

CountingProxy::~CountingProxy() {
    stop_ = true;
    shutdown(listen_fd_, SHUT_RDWR);
    close(listen_fd_);
    acceptor_.join();
    for (auto& t : relays_) t.join();
}

void CountingProxy::accept_loop() {
    while (!stop_) {
        int c = accept(listen_fd_, nullptr, nullptr);
        if (c < 0) return;
        ++connections;
        int u = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(upstream_);
        if (connect(u, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            close(c);
            close(u);
            continue;
        }
        relays_.emplace_back([this, c, u] {
            char buf[65536];
            pollfd fds[2] = {{c, POLLIN, 0}, {u, POLLIN, 0}};
            while (!stop_) {
                if (poll(fds, 2, 200) < 0) break;
                bool done = false;
                for (int i = 0; i < 2; ++i) {
                    if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
                    ssize_t n = read(fds[i].fd, buf, sizeof buf);
                    if (n <= 0) {
                        done = true;
                        break;
                    }
                    (i == 0 ? up : down) += static_cast<uint64_t>(n);
                    for (ssize_t off = 0; off < n;) {
                        ssize_t w = write(fds[1 - i].fd, buf + off, static_cast<size_t>(n - off));
                        if (w <= 0) {
                            done = true;
                            break;
                        }
                        off += w;
                    }
                }
                if (done) break;
            }
            close(c);
            close(u);
        });
    }
}

}  // namespace tundra::bench
