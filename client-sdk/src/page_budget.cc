// Page budget: bandwidth and round trip estimated apart; multiplicative decrease on cuts.
#include "page_budget.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace tundra::client {

std::string PageBudgetState::encode() const {
    char buf[128];
    std::snprintf(buf, sizeof buf, "%llu,%llu,%.1f,%.4f", static_cast<unsigned long long>(budget),
                  static_cast<unsigned long long>(ceiling), bandwidth, rtt);
    return buf;
}

PageBudgetState PageBudgetState::decode(const std::string& s) {
    PageBudgetState st;
    if (s.empty()) return st;
    unsigned long long b = 0, c = 0;
    double bw = 0, rtt = 0;
    int n = std::sscanf(s.c_str(), "%llu,%llu,%lf,%lf", &b, &c, &bw, &rtt);
    if (n >= 1) st.budget = b;  // a bare number: the budget of an older build
    if (n == 4 && bw >= 0 && rtt >= 0) {
        st.ceiling = c;
        st.bandwidth = bw;
        st.rtt = rtt;
    }
    return st;
}

PageBudget::PageBudget(PageBudgetConfig cfg, PageBudgetState s) : cfg_(cfg), state_(s) {
    if (state_.budget == 0) state_.budget = cfg_.initial_bytes;
    state_.budget = clamp(static_cast<double>(state_.budget));
}

uint64_t PageBudget::clamp(double b) const {
    return static_cast<uint64_t>(
        std::clamp(b, static_cast<double>(cfg_.min_bytes), static_cast<double>(cfg_.max_bytes)));
}

uint64_t PageBudget::target() const {
    if (state_.bandwidth <= 0) return 0;
    double seconds = std::max(cfg_.target_page_seconds, state_.rtt / cfg_.rtt_share);
    return clamp(state_.bandwidth * seconds);
}

void PageBudget::on_reply(uint64_t reply_bytes, double seconds, double first_byte_seconds) {
    if (seconds <= 0) seconds = 1e-6;
    auto& s = state_;
    double bytes = static_cast<double>(reply_bytes);
    double transfer = 0;
    if (first_byte_seconds > 0 && first_byte_seconds <= seconds) {
        // Smoothed as TCP's SRTT (1/8 gain); the transfer is what follows the first byte.
        s.rtt = s.rtt <= 0 ? first_byte_seconds : 0.875 * s.rtt + 0.125 * first_byte_seconds;
        transfer = seconds - first_byte_seconds;
        // A reply of a few packets says little about the rate: only count real transfers.
        if (reply_bytes < 8 * 1024) transfer = 0;
    } else {
        // The fastest reply seen, slowly forgotten (a route may get longer). A large reply
        // includes its transfer, so it only lowers the estimate when it is faster still.
        s.rtt = s.rtt <= 0 ? seconds : std::min(seconds, s.rtt * 1.005);
        transfer = seconds - s.rtt;
        if (transfer <= 0.25 * seconds) transfer = 0;
    }
    // Bandwidth only from replies whose transfer is a real part of their time: a tiny reply
    // is mostly round trip and would make the link look slow. Every reply still proves the
    // link carries at least bytes/seconds, which raises a measured estimate but never
    // stands in for one.
    if (transfer > 0) {
        double sample = bytes / transfer;
        s.bandwidth = s.bandwidth <= 0 ? sample : 0.75 * s.bandwidth + 0.25 * sample;
    }
    if (s.bandwidth > 0) s.bandwidth = std::max(s.bandwidth, bytes / seconds);
    // Grow as TCP's slow start does: double until the first cut and below the point of the
    // last cut, a quarter at a time above it.
    bool slow_start = s.ceiling == 0 || s.budget < s.ceiling;
    double grown = static_cast<double>(s.budget) * (slow_start ? 2.0 : 1.25);
    uint64_t t = target();
    double next = t == 0 ? grown : std::min(grown, static_cast<double>(t));
    s.budget = clamp(next);
}

void PageBudget::on_cut() {
    state_.budget = clamp(static_cast<double>(state_.budget) / 2);
    state_.ceiling = state_.budget;
}

}  // namespace tundra::client
