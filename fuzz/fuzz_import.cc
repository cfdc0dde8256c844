// The importer (`tundra-server import`): a whole JSON document into a fresh in-memory store
// for each input, so that every crash reproduces from its input alone.
#include "tundra/server/sql_store.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    tundra::server::StoreOptions o;
    o.kdf_iterations = 1;  // users' passwords are hashed at import; the cost is not under test
    o.wall = [] { return uint64_t{1795420800000}; };  // 2026-11-23T08:00:00Z
    auto store = tundra::server::SqlStore::open(":memory:", o);
    tundra::fuzz::check(store, "opening an in-memory store");
    (void)store.value()->import_json(tundra::fuzz::text(data, size));
    return 0;
}
