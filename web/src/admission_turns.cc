#include "tundra/web/admission_turns.h"

#include <algorithm>
#include <cmath>

#include "tundra/core/mix.h"

namespace tundra::web {

double AdmissionTurns::place_of(std::string_view key) {
    uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : key) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    // FNV's low bits mix poorly for keys that differ at the end: finish with splitmix64's.
    h = mix64(h);
    return static_cast<double>(h >> 11) / static_cast<double>(1ULL << 53);
}

std::optional<std::chrono::seconds> AdmissionTurns::admit(std::string_view key, int64_t now_ms) const {
    double share = share_.load(std::memory_order_relaxed);
    if (share >= 1.0) return std::nullopt;
    const double period_ms = static_cast<double>(std::chrono::milliseconds(o_.period).count());
    // Where the circle has turned to: the place moves on by one whole turn per period.
    double turned = std::fmod(static_cast<double>(now_ms), period_ms) / period_ms;
    double at = place_of(key) + turned;
    at -= std::floor(at);
    if (at < share) return std::nullopt;
    // Its turn starts when the place comes round to 0 again.
    double wait_ms = std::min((1.0 - at) * period_ms, static_cast<double>(std::chrono::milliseconds(o_.max_wait).count()));
    return std::chrono::seconds(std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait_ms / 1000.0))));
}

void AdmissionTurns::note(bool refused, bool found_idle) {
    seen_.fetch_add(1, std::memory_order_relaxed);
    if (refused) refused_.fetch_add(1, std::memory_order_relaxed);
    if (found_idle) idle_.fetch_add(1, std::memory_order_relaxed);
}

void AdmissionTurns::tick(std::chrono::steady_clock::time_point now) {
    if (now - last_tick_ < o_.tick) return;
    double seconds = last_tick_ == std::chrono::steady_clock::time_point{}
                         ? 0.0
                         : std::chrono::duration<double>(now - last_tick_).count();
    last_tick_ = now;
    uint64_t seen = seen_.exchange(0, std::memory_order_relaxed);
    uint64_t refused = refused_.exchange(0, std::memory_order_relaxed);
    uint64_t idle = idle_.exchange(0, std::memory_order_relaxed);
    double share = share_.load(std::memory_order_relaxed);
    bool overloaded = refused >= static_cast<uint64_t>(std::max(1, o_.min_refused)) &&
                      static_cast<double>(refused) > o_.overload_ratio * static_cast<double>(seen);
    using TimePoint = std::chrono::steady_clock::time_point;
    // What the queue took over the last `hold` (since the last cut): the measure of a cut and
    // of room to grow, over seconds rather than one quarter second (the queue's refusals come
    // in bursts: devices returning for their turn with many rows waiting, waves of retries).
    recent_.push_back({now, seen, refused});
    while (recent_.size() > 1 && now - recent_.front().at >= o_.hold) recent_.pop_front();
    uint64_t recent_seen = 0, recent_refused = 0;
    for (const Counts& c : recent_) recent_seen += c.seen, recent_refused += c.refused;
    double refused_part = static_cast<double>(recent_refused) / static_cast<double>(std::max<uint64_t>(1, recent_seen));
    if (overloaded) {
        if (overload_since_ == TimePoint{}) overload_since_ = now;
        last_overloaded_ = now;
        // From share 1 the overload must have lasted `sustain` (a burst is the queue's to
        // absorb); below it, the last `hold` must be overloaded as a whole.
        bool lasting = share < 1.0 ? refused_part > o_.overload_ratio : now - overload_since_ >= o_.sustain;
        if (lasting && now - last_cut_ >= o_.hold) {
            share_.store(std::max(o_.min_share, share * std::clamp(1.0 - refused_part, o_.decrease_floor, o_.decrease)),
                         std::memory_order_relaxed);
            last_cut_ = now;
            recent_.clear();
        }
        return;
    }
    // A quiet tick or two inside an overload do not end it; `hold` without one does.
    if (overload_since_ != TimePoint{} && now - last_overloaded_ >= o_.hold) overload_since_ = TimePoint{};
    // Room to grow: under half the overload ratio refused over the last `hold` (near capacity
    // the queue refuses a request now and then; that is its work, not a reason to keep devices
    // waiting for their turn).
    bool quiet = refused_part <= o_.overload_ratio / 2;
    if (quiet && share < 1.0 && now - last_cut_ >= o_.hold) {
        double idle_part = static_cast<double>(idle) / static_cast<double>(std::max<uint64_t>(1, seen));
        double rate = o_.increase_per_second * std::clamp(2 * idle_part, 0.1, 1.0);
        share_.store(std::min(1.0, share + rate * std::min(seconds, 1.0)), std::memory_order_relaxed);
    }
}

}  // namespace tundra::web
