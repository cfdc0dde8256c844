// The client's decoders of a sync reply (changes, outcomes, cursor, checksum) and of the
// rows and outcomes it stores and reads back from its replica.
#include "tundra/core/protocol.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view in = tundra::fuzz::text(data, size);
    auto m = tundra::decode_sync_response(in);
    if (m) {
        auto again = tundra::decode_sync_response(tundra::encode(m.value()));
        tundra::fuzz::check(again, "re-encoded sync response");
        if (again.value().changes.size() != m.value().changes.size()) __builtin_trap();
        for (auto& c : m.value().changes)
            tundra::fuzz::check(tundra::decode_row(tundra::encode_row(c.row)), "re-encoded row");
        for (auto& o : m.value().outcomes)
            tundra::fuzz::check(tundra::decode_outcome(tundra::encode_outcome(o)), "re-encoded outcome");
    }
    (void)tundra::decode_error(in);
    (void)tundra::decode_row(in);
    (void)tundra::decode_outcome(in);
    return 0;
}
