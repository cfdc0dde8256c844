#include "tundra/core/hlc.h"

#include <chrono>
#include <ctime>

namespace tundra {

uint64_t wall_clock_ms() {
    using namespace std::chrono;
    return static_cast<uint64_t>(
        duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

std::string Hlc::to_iso() const {
    time_t secs = static_cast<time_t>(physical_ms() / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

Hlc HlcClock::now() {
    uint64_t wall = wall_();
    if (wall > last_.physical_ms()) {
        last_ = Hlc::from_parts(wall, 0);
    } else {
        last_ = Hlc{last_.value + 1};  // logical overflow carries into the physical part
    }
    return last_;
}

Hlc HlcClock::observe(Hlc remote) {
    if (remote > last_) last_ = remote;
    return now();
}

}  // namespace tundra
