// Shared by the harnesses: inputs as text, and properties that must hold (a failed check is
// a crash the fuzzer keeps).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string_view>

#include "tundra/core/status.h"

namespace tundra::fuzz {

inline std::string_view text(const uint8_t* data, size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

template <class R>
void check(const R& r, const char* what) {
    if (r) return;
    std::fprintf(stderr, "%s failed: %s\n", what, r.status().to_string().c_str());
    __builtin_trap();
}

}  // namespace tundra::fuzz
