// The server's decoder of the pull cursor a device sends back (signed; v1 cursors unsigned).
#include "tundra/core/cursor.h"
#include "fuzz_util.h"

// The key the seed corpus was signed with (fuzz/corpus/cursor/), so that the fuzzer starts
// from cursors that pass the MAC and explores what follows it.
static constexpr std::string_view kKey = "fuzz-cursor-key";

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view in = tundra::fuzz::text(data, size);
    auto d = tundra::decode_cursor(in, kKey);
    // A cursor that passes the MAC is exactly what this server encoded: a c3 cursor re-encodes
    // to the same text; a c2 cursor of the previous release to a c3 holding the same fields.
    if (d && !d.value().empty && !d.value().legacy) {
        std::string again = tundra::encode_cursor(d.value().cursor, kKey);
        if (in.substr(0, 3) == "c3.") {
            if (again != in) __builtin_trap();
        } else {
            auto back = tundra::decode_cursor(again, kKey);
            if (!back || !(back.value().cursor == d.value().cursor)) __builtin_trap();
        }
    }
    return 0;
}
