// gzip decoding of request bodies (the server decodes before authenticating anyone).
#include "tundra/core/gzip.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view in = tundra::fuzz::text(data, size);
    constexpr size_t kLimit = 1 << 20;
    auto d = tundra::gzip_decompress(in, kLimit);
    if (d && d.value().size() > kLimit) __builtin_trap();
    // Whatever is compressed comes back unchanged.
    auto back = tundra::gzip_decompress(tundra::gzip_compress(in), size + 1);
    tundra::fuzz::check(back, "gzip round trip");
    if (back.value() != in) __builtin_trap();
    return 0;
}
