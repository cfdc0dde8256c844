// Turns under sustained overload (docs/protocol.md, "Overload"): which devices a saturated
// server keeps serving, and for how long the others should wait.
//
// The queue's own admission (listener.h) refuses whatever does not fit, whoever sent it. That
// keeps latency bounded but shares the shortfall out evenly: every device is answered less
// often, so every answer carries more rows (each device's changes pile up between its rounds),
// and answered rounds per second fall as the load rises. Turns keep a share of the devices on
// their normal cadence instead, and tell the rest to come back when their turn starts:
//
// - Each device has a place on a circle, from a hash of its key (the sync request's bearer
//   token), and the circle turns once per `period`. A device is admitted while its place,
//   moved on by the time, falls in the first `share` of the circle; otherwise it is answered
//   503 with Retry-After = the time until its turn comes round. So every device is served
//   for share x period out of every period, turns start evenly spread over time (no wave),
//   and a returning device's first round fetches what piled up in one go (each row once, at
//   its newest version), which costs much less than the rounds it skipped.
// - `share` is set by the queue: a tick is overloaded when more than `overload_ratio` of the
//   keyed requests in it were refused by the queue (full, or waited past its delay). Once
//   overload has lasted `sustain` (a burst, such as every device reconnecting to a restarted
//   server, is the queue's to absorb), an overloaded tick multiplies the share by the part
//   the queue took over the last `hold` (at most once per `hold`, not below `min_share`).
//   Below share 1 there is no such wait, but the last `hold` as a whole must be overloaded:
//   refusals come in bursts there (devices returning for their turn, waves of retries).
//   After `hold`, each tick while under half `overload_ratio` of the last `hold` was refused
//   grows it back, by up to `increase_per_second` as more of the requests find a worker idle.
//   At share 1 (any load the server keeps up with) nothing changes.
// - The wait is at most `max_wait`: a device sent away comes back then and asks again (a
//   503 costs the server little), so that it is not kept away long after the share grew.
//
// The place is computed from wall-clock time and the key only, so every server process over
// one store agrees on whose turn it is; each process sets its own share from its own queue.
// Thread-safe: admit() and note() from any thread, tick() from one.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>

namespace tundra::web {

struct TurnOptions {
    std::chrono::seconds period{120};
    double min_share = 0.1;
    // A cut multiplies the share by the part of the admitted requests the queue took, within
    // [decrease_floor, decrease]: a deep overload is met in a few steps, not one big jump
    // that overshoots while the devices already on their way still arrive.
    double decrease = 0.95;
    double decrease_floor = 0.7;
    // Growth a second: this much when most requests find a worker idle, down to a tenth of
    // it when hardly any does (the load follows a grown share only as the devices sent away
    // come back, so growing fast near capacity overshoots).
    double increase_per_second = 0.1;
    double overload_ratio = 0.02;  // refused / keyed requests in an overloaded tick
    int min_refused = 3;           // and at least this many refused
    // Overload must have lasted this long (no gap of `hold` without an overloaded tick)
    // before the first cut from share 1; once in turns, the next cut needs only `hold`.
    std::chrono::milliseconds sustain{5000};
    std::chrono::seconds max_wait{5};
    std::chrono::milliseconds tick{250};
    // After a cut, the next cut or any growth waits this long (the load takes a round or two
    // of every device to follow the share).
    std::chrono::milliseconds hold{3000};
};

class AdmissionTurns {
public:
    explicit AdmissionTurns(TurnOptions o = {}) : o_(o) {}

    // The key's place on the circle, in [0, 1): a stable hash (FNV-1a, the same in every
    // process and release).
    static double place_of(std::string_view key);

    // Whether the request with `key` may go on at wall-clock time `now_ms` (Unix ms): nullopt
    // when admitted, else how long until its turn starts (at least a second).
    std::optional<std::chrono::seconds> admit(std::string_view key, int64_t now_ms) const;

    // One keyed request that reached the queue: refused by it (full or too long a wait) or
    // not, and whether it found a worker idle.
    void note(bool refused, bool found_idle = false);

    // The controller's step; called often (it acts once per `tick` of `now`).
    void tick(std::chrono::steady_clock::time_point now);

    double share() const { return share_.load(std::memory_order_relaxed); }
    void set_share(double s) { share_.store(s, std::memory_order_relaxed); }  // tests

private:
    TurnOptions o_;
    std::atomic<double> share_{1.0};
    std::atomic<uint64_t> seen_{0}, refused_{0}, idle_{0};
    std::chrono::steady_clock::time_point last_tick_{}, last_cut_{};
    std::chrono::steady_clock::time_point overload_since_{}, last_overloaded_{};  // {}: none
    // The ticks of the last `hold` since the last cut (tick's thread only): below share 1 a
    // cut is judged and sized by them, and growth waits while they hold refusals.
    struct Counts {
        std::chrono::steady_clock::time_point at;
        uint64_t seen = 0, refused = 0;
    };
    std::deque<Counts> recent_;
};

}  // namespace tundra::web
