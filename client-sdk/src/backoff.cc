// Retry back-off arithmetic.
#include "backoff.h"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace tundra::client {

std::chrono::milliseconds backoff_delay(int attempt, double unit,
                                        std::chrono::milliseconds retry_after, BackoffPolicy p) {
    int shift = std::clamp(attempt, 0, 20);
    int64_t ceiling = std::min<int64_t>(p.cap.count(), p.base.count() << std::min(shift, 30));
    unit = std::clamp(unit, 0.0, 1.0);
    auto delay = std::chrono::milliseconds(static_cast<int64_t>(unit * static_cast<double>(ceiling)));
    return std::max(delay, retry_after);
}

bool retry_fits(std::chrono::milliseconds delay, std::chrono::milliseconds left,
                std::chrono::milliseconds min_try) {
    return delay + min_try <= left;
}

std::optional<std::chrono::milliseconds> parse_retry_after(const std::string& value) {
    if (value.empty() || value.size() > 9) return std::nullopt;
    int64_t s = 0;
    for (char c : value) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
        s = s * 10 + (c - '0');
    }
    return std::chrono::milliseconds(s * 1000);
}

}  // namespace tundra::client
