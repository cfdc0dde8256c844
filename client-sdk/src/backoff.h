// Retry back-off: exponential with full jitter, at least Retry-After, and never past the
// deadline. Pure (the random draw and the clock are arguments), tested without a network.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace tundra::client {

struct BackoffPolicy {
    std::chrono::milliseconds base{250};
    std::chrono::milliseconds cap{8000};
};

// The wait before retry number `attempt` (0 = after the first failure): uniform in
// [0, min(cap, base * 2^attempt)] by `unit` in [0, 1), and at least `retry_after`.
std::chrono::milliseconds backoff_delay(int attempt, double unit,
                                        std::chrono::milliseconds retry_after = {},
                                        BackoffPolicy p = {});

// Whether waiting `delay` and then trying again still fits in `left` of the deadline: a
// retry needs some time of its own after the wait (`min_try`), else it is not worth it.
bool retry_fits(std::chrono::milliseconds delay, std::chrono::milliseconds left,
                std::chrono::milliseconds min_try = std::chrono::milliseconds(100));

// Parses a Retry-After header given in seconds; nullopt for dates or garbage.
std::optional<std::chrono::milliseconds> parse_retry_after(const std::string& value);

}  // namespace tundra::client
