// The client's decoders of a login reply: what `tundra login` reads from a server (or from
// anything posing as one). Non-200 replies go through decode_error.
#include "tundra/core/protocol.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view in = tundra::fuzz::text(data, size);
    auto m = tundra::decode_login_response(in);
    if (m) tundra::fuzz::check(tundra::decode_login_response(tundra::encode(m.value())), "re-encoded login response");
    (void)tundra::decode_error(in);
    return 0;
}
