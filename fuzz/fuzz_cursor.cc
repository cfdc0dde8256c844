// The server's decoder of the pull cursor a device sends back (signed; v1 cursors unsigned).
#include "tundra/core/cursor.h"
#include "fuzz_util.h"

// The key the seed corpus was signed with (fuzz/corpus/cursor/), so that the fuzzer starts
// from cursors that pass the MAC and explores what follows it.
static constexpr std::string_view kKey = "fuzz-cursor-key";

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view in = tundra::fuzz::text(data, size);
    auto d = tundra::decode_cursor(in, kKey);
    // A cursor that passes the MAC is exactly what this server encoded.
    if (d && !d.value().empty && !d.value().legacy && tundra::encode_cursor(d.value().cursor, kKey) != in)
        __builtin_trap();
    return 0;
}
