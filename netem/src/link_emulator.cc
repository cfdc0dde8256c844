#include "tundra/netem/link_emulator.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

namespace tundra::netem {
using Clock = std::chrono::steady_clock;

LinkProfile rural_3g() {
    return {"rural-3g", 1'000'000, 256'000, std::chrono::milliseconds(150), 0.01, {}, 0, 1};
}
LinkProfile edge_2g() {
    return {"edge-2g", 128'000, 64'000, std::chrono::milliseconds(600), 0.05, std::chrono::seconds(30), 0, 1};
}
LinkProfile slow_lossy() {
    return {"256k-600ms-5%", 256'000, 256'000, std::chrono::milliseconds(600), 0.05, {}, 0, 1};
}

namespace {
void hard_close(int fd) {
    linger l{1, 0};  // RST, like a link that vanished
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    shutdown(fd, SHUT_RDWR);
}
}  // namespace

struct LinkEmulator::Impl {
    uint16_t upstream;
    LinkProfile profile;
    int listen_fd = -1;
    uint16_t port = 0;
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> up{0}, down{0}, conns{0}, drops{0};
    std::thread acceptor, dropper;
    std::mutex mu;
    std::condition_variable cv;

    struct Conn {
        int client = -1, server = -1;
        std::atomic<bool> dead{false};
        std::atomic<uint64_t> down{0};  // this connection's bytes downstream
        std::vector<std::thread> threads;
    };
    std::list<std::shared_ptr<Conn>> live;

    void kill(Conn& c) {
        if (c.dead.exchange(true)) return;
        hard_close(c.client);
        hard_close(c.server);
    }

    // One direction: a reader stamps chunks with their due time; a writer delivers them.
    void pipe(std::shared_ptr<Conn> c, bool downstream, uint32_t seed) {
        int from = downstream ? c->server : c->client;
        int to = downstream ? c->client : c->server;
        double bps = downstream ? profile.down_bits_per_s : profile.up_bits_per_s;
        auto one_way = profile.rtt / 2;
        auto rto = std::max<std::chrono::milliseconds>(std::chrono::milliseconds(200), profile.rtt);
        std::mt19937 rng(seed);
        std::uniform_real_distribution<double> u(0, 1);
        struct Chunk {
            Clock::time_point due;
            std::string data;
        };
        std::deque<Chunk> queue;
        std::mutex qm;
        std::condition_variable qcv;
        bool eof = false;
        std::thread writer([&] {
            for (;;) {
                Chunk ch;
                {
                    std::unique_lock lock(qm);
                    qcv.wait(lock, [&] { return !queue.empty() || eof || c->dead; });
                    if (c->dead || (queue.empty() && eof)) break;
                    ch = std::move(queue.front());
                    queue.pop_front();
                }
                std::this_thread::sleep_until(ch.due);
                if (c->dead) break;
                // Counted before delivery, so a reader that has everything sees the count.
                (downstream ? down : up) += ch.data.size();
                if (downstream) c->down += ch.data.size();
                for (size_t off = 0; off < ch.data.size();) {
                    ssize_t w = ::send(to, ch.data.data() + off, ch.data.size() - off, MSG_NOSIGNAL);
                    if (w <= 0) {
                        kill(*c);
                        break;
                    }
                    off += static_cast<size_t>(w);
                }
                if (downstream && profile.drop_after_bytes && c->down >= profile.drop_after_bytes) {
                    ++drops;
                    kill(*c);
                }
            }
            if (!c->dead) shutdown(to, SHUT_WR);
        });
        Clock::time_point line_free = Clock::now();
        char buf[1460];
        for (;;) {
            pollfd p{from, POLLIN, 0};
            int pr = poll(&p, 1, 100);
            if (c->dead || stop) break;
            if (pr <= 0) continue;
            ssize_t n = ::recv(from, buf, sizeof buf, 0);
            if (n <= 0) break;
            auto now = Clock::now();
            auto ser = bps > 0 ? std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(static_cast<double>(n) * 8 / bps))
                               : Clock::duration{0};
            line_free = std::max(line_free, now) + ser;
            auto due = line_free + one_way;
            if (profile.loss > 0 && u(rng) < profile.loss) due += rto;  // a retransmission
            {
                std::lock_guard lock(qm);
                queue.push_back({due, std::string(buf, static_cast<size_t>(n))});
            }
            qcv.notify_one();
        }
        {
            std::lock_guard lock(qm);
            eof = true;
        }
        qcv.notify_one();
        writer.join();
    }

    void accept_loop() {
        uint32_t seed = profile.seed;
        while (!stop) {
            int cfd = ::accept(listen_fd, nullptr, nullptr);
            if (cfd < 0) return;
            int sfd = ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            a.sin_port = htons(upstream);
            int one = 1;
            setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            // The handshake crosses the link too.
            std::this_thread::sleep_for(profile.rtt);
            if (::connect(sfd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
                hard_close(cfd);
                ::close(cfd);
                ::close(sfd);
                continue;
            }
            ++conns;
            auto c = std::make_shared<Conn>();
            c->client = cfd;
            c->server = sfd;
            std::lock_guard lock(mu);
            live.remove_if([](auto& x) {
                if (!x->dead) return false;
                for (auto& t : x->threads) t.join();
                ::close(x->client);
                ::close(x->server);
                return true;
            });
            c->threads.emplace_back([this, c, s = seed++] { pipe(c, false, s * 2); });
            c->threads.emplace_back([this, c, s = seed++] { pipe(c, true, s * 2 + 1); });
            live.push_back(c);
        }
    }

    void drop_all() {
        std::lock_guard lock(mu);
        for (auto& c : live)
            if (!c->dead) {
                ++drops;
                kill(*c);
            }
    }
};

LinkEmulator::LinkEmulator(uint16_t upstream_port, LinkProfile profile)
    : impl_(std::make_unique<Impl>()) {
    impl_->upstream = upstream_port;
    impl_->profile = profile;
    impl_->listen_fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(impl_->listen_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(impl_->listen_fd, 64) != 0)
        throw std::runtime_error("link emulator: cannot listen");
    socklen_t len = sizeof a;
    getsockname(impl_->listen_fd, reinterpret_cast<sockaddr*>(&a), &len);
    impl_->port = ntohs(a.sin_port);
    impl_->acceptor = std::thread([this] { impl_->accept_loop(); });
    if (profile.drop_every.count() > 0)
        impl_->dropper = std::thread([this] {
            std::unique_lock lock(impl_->mu);
            while (!impl_->stop) {
                if (impl_->cv.wait_for(lock, impl_->profile.drop_every, [this] { return impl_->stop.load(); }))
                    break;
                lock.unlock();
                impl_->drop_all();
                lock.lock();
            }
        });
}

LinkEmulator::~LinkEmulator() {
    impl_->stop = true;
    impl_->cv.notify_all();
    ::shutdown(impl_->listen_fd, SHUT_RDWR);
    ::close(impl_->listen_fd);
    impl_->acceptor.join();
    if (impl_->dropper.joinable()) impl_->dropper.join();
    std::lock_guard lock(impl_->mu);
    for (auto& c : impl_->live) {
        impl_->kill(*c);
        for (auto& t : c->threads) t.join();
        ::close(c->client);
        ::close(c->server);
    }
}

uint16_t LinkEmulator::port() const { return impl_->port; }
const LinkProfile& LinkEmulator::profile() const { return impl_->profile; }
uint64_t LinkEmulator::bytes_up() const { return impl_->up; }
uint64_t LinkEmulator::bytes_down() const { return impl_->down; }
uint64_t LinkEmulator::connections() const { return impl_->conns; }
uint64_t LinkEmulator::drops() const { return impl_->drops; }
void LinkEmulator::reset_counters() { impl_->up = impl_->down = impl_->conns = impl_->drops = 0; }
void LinkEmulator::drop_all() { impl_->drop_all(); }

}  // namespace tundra::netem
