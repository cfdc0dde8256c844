// A loopback TCP relay that counts the bytes crossing it each way: what a sync costs on
// the wire, headers included, independent of what libcurl reports.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace tundra::bench {

class CountingProxy {
public:
    explicit CountingProxy(uint16_t upstream_port);
    ~CountingProxy();
    uint16_t port() const { return port_; }
    void reset() { up = down = connections = 0; }
    std::atomic<uint64_t> up{0}, down{0}, connections{0};

private:
    void accept_loop();
    uint16_t upstream_;
    uint16_t port_ = 0;
    int listen_fd_ = -1;
    std::atomic<bool> stop_{false};
    std::thread acceptor_;
    std::vector<std::thread> relays_;
};

}  // namespace tundra::bench
