// LinkEmulator: listens on 127.0.0.1:<port()> and relays every connection to an upstream
// port on loopback, shaping it like a rural link:
// - one-way latency (rtt/2 each way) and a bandwidth cap each way (serialisation delay);
// - "loss": TCP hides lost packets as stalls, so each 1,460-byte segment is delayed by a
//   further retransmission timeout (max(200 ms, rtt)) with probability `loss`;
// - drops: every `drop_every` all live connections are reset (RST), and optionally a
//   connection is reset after `drop_after_bytes` bytes down.
// Counters tell the bytes that crossed each way (headers included) and the drops.
// Thread-safe; the destructor closes everything.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace tundra::netem {

struct LinkProfile {
    std::string name = "loopback";
    double down_bits_per_s = 0;  // 0 = unlimited
    double up_bits_per_s = 0;
    std::chrono::milliseconds rtt{0};
    double loss = 0;  // 0..1, per segment
    std::chrono::milliseconds drop_every{0};  // 0 = never
    uint64_t drop_after_bytes = 0;             // per connection, downstream; 0 = never
    uint32_t seed = 1;
};

// The brief's profiles.
LinkProfile rural_3g();   // 1 Mbit/s down, 256 kbit/s up, 150 ms, 1% loss
LinkProfile edge_2g();    // 128 kbit/s down, 64 kbit/s up, 600 ms, 5% loss, drops every 30 s
LinkProfile slow_lossy(); // 256 kbit/s both ways, 600 ms, 5% loss (the comparison link)

class LinkEmulator {
public:
    LinkEmulator(uint16_t upstream_port, LinkProfile profile);
    ~LinkEmulator();
    uint16_t port() const;
    const LinkProfile& profile() const;

    uint64_t bytes_up() const;
    uint64_t bytes_down() const;
    uint64_t connections() const;
    uint64_t drops() const;
    void reset_counters();
    // Resets every live connection now.
    void drop_all();

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace tundra::netem
