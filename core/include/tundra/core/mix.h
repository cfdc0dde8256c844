// splitmix64's finaliser: spreads every bit of a 64-bit value over all of them (a hash's
// last step). Used by the row cache's index and by admission turns' places, which tests pin.
#pragma once

#include <cstdint>

namespace tundra {

constexpr uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

}  // namespace tundra
