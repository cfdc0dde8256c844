// The server's first decoder, reached before any authentication: POST /v1/login.
#include "tundra/core/protocol.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto m = tundra::decode_login_request(tundra::fuzz::text(data, size));
    if (m) tundra::fuzz::check(tundra::decode_login_request(tundra::encode(m.value())), "re-encoded login request");
    return 0;
}
