// Hybrid logical clock (Kulkarni et al.): 48 bits of wall-clock milliseconds and a 16-bit
// logical counter packed into one uint64, so stamps compare as integers. Ties between
// devices are broken by device id (see Stamp).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace tundra {

struct Hlc {
    uint64_t value = 0;

    static Hlc from_parts(uint64_t physical_ms, uint16_t logical) {
        return Hlc{(physical_ms << 16) | logical};
    }
    uint64_t physical_ms() const { return value >> 16; }
    uint16_t logical() const { return static_cast<uint16_t>(value & 0xffff); }
    auto operator<=>(const Hlc&) const = default;
    // ISO 8601 UTC of the physical part, for humans.
    std::string to_iso() const;
};

// Milliseconds since the Unix epoch from the system clock.
uint64_t wall_clock_ms();

// Not thread-safe; callers that share a clock serialise access.
class HlcClock {
public:
    using WallClock = std::function<uint64_t()>;
    explicit HlcClock(WallClock wall = wall_clock_ms, Hlc last = {})
        : wall_(std::move(wall)), last_(last) {}

    // A stamp for a local event: strictly greater than every stamp issued or observed.
    Hlc now();
    // Merges a stamp received from elsewhere; the next now() is greater than it.
    Hlc observe(Hlc remote);
    Hlc last() const { return last_; }
    uint64_t wall_ms() const { return wall_(); }

private:
    WallClock wall_;
    Hlc last_;
};

}  // namespace tundra
