// The page budget: how many bytes to ask for in the next pull page, sized from the link's
// bandwidth and round-trip time, estimated separately as TCP does. Pure (no clock, no
// network): the sync engine feeds it what each request took. Internal to the SDK; not
// thread-safe (one per sync).
#pragma once

#include <cstdint>
#include <string>

namespace tundra::client {

struct PageBudgetConfig {
    uint64_t initial_bytes = 128 * 1024;  // before anything is known about the link
    uint64_t min_bytes = 2 * 1024;        // the server always sends at least one row
    uint64_t max_bytes = 16 * 1024 * 1024;
    // A page should take about this long to transfer: a drop costs at most the page in flight.
    double target_page_seconds = 2.0;
    // ...and its round trip may cost at most this share of its transfer time, so on a long
    // link pages grow to a multiple of the bandwidth-delay product.
    double rtt_share = 0.2;
};

// What is kept across syncs (the link is usually the same next time).
struct PageBudgetState {
    uint64_t budget = 0;     // bytes; 0 = initial
    uint64_t ceiling = 0;    // half the budget at the last cut; growth slows above it
    double bandwidth = 0;    // bytes per second, in the unit on_reply is given; 0 = unknown
    double rtt = 0;          // seconds; 0 = unknown
    std::string encode() const;                       // "budget,ceiling,bandwidth,rtt"
    static PageBudgetState decode(const std::string& s);  // tolerant: bad input = fresh
};

class PageBudget {
public:
    explicit PageBudget(PageBudgetConfig cfg = {}, PageBudgetState s = {});

    uint64_t bytes() const { return state_.budget; }
    const PageBudgetState& state() const { return state_; }

    // A complete reply of `bytes` (in the budget's unit: the sync engine passes decoded JSON
    // bytes, as the server counts max_bytes, so compression is part of the rate) that took
    // `seconds` from sending the request to its
    // last byte, the first byte after `first_byte_seconds` (0 = not known). The time to the
    // first byte is a round-trip sample (server time included: it is per-page overhead
    // too) and the rest the transfer, as TCP keeps its RTT and delivery-rate estimates
    // apart. Without it, the round trip is the fastest reply seen. Grows (or shrinks) the
    // budget towards bandwidth * max(target_page_seconds, rtt / rtt_share).
    void on_reply(uint64_t bytes, double seconds, double first_byte_seconds = 0);
    // The link broke mid-response (or any network failure of a pull): halve the budget
    // (floor min_bytes) and remember where it broke.
    void on_cut();

    // The size the estimates alone ask for; 0 while the bandwidth is unknown.
    uint64_t target() const;

private:
    uint64_t clamp(double b) const;
    PageBudgetConfig cfg_;
    PageBudgetState state_;
};

// How many queued actions go into one request: halves after a failed push (floor 1) and
// doubles back on success, up to the protocol's limit. Resending a subset is safe: the
// server deduplicates by (device, seq).
class PushBudget {
public:
    explicit PushBudget(size_t max) : max_(max == 0 ? 1 : max), n_(max_) {}
    size_t actions() const { return n_; }
    void on_success() { n_ = n_ * 2 > max_ ? max_ : n_ * 2; }
    void on_failure() { n_ = n_ / 2 == 0 ? 1 : n_ / 2; }

private:
    size_t max_;
    size_t n_;
};

}  // namespace tundra::client
