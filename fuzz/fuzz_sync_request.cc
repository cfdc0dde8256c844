// The server's decoder of POST /v1/sync bodies (actions, cursor, capabilities).
#include "tundra/core/protocol.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto m = tundra::decode_sync_request(tundra::fuzz::text(data, size));
    if (!m) return 0;
    auto again = tundra::decode_sync_request(tundra::encode(m.value()));
    tundra::fuzz::check(again, "re-encoded sync request");
    if (again.value().actions.size() != m.value().actions.size()) __builtin_trap();
    for (auto& a : m.value().actions)
        tundra::fuzz::check(tundra::decode_action(tundra::encode_action(a)), "re-encoded action");
    return 0;
}
