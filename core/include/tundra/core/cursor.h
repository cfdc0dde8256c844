// The pull cursor, a protocol type (docs/protocol.md, "Cursor"). Opaque to devices: the server
// issues it signed and decides every page from it alone, so a retried or replayed request gets
// the same decision (reset or not, phase, what deletions it still needs).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tundra/core/status.h"

namespace tundra {

struct SyncCursor {
    // An incremental pull reads changes with version > `after`. A full pull (first sync, or
    // a reset) goes in two phases fixed at its start (v0, t0): `priority` sends what the user
    // needs next among rows at or below v0, `rest` sends everything else above `after`.
    enum class Phase : char { incremental = 'i', priority = 'p', rest = 'n' };
    Phase phase = Phase::incremental;
    uint64_t after = 0;  // store version the device has caught up to (in this phase)
    uint64_t v0 = 0;     // full pull: store version when it began
    int64_t t0 = 0;      // full pull: wall time (ms) when it began; "upcoming" is [t0, t0+30d]
    // Hash of everything that decides what the user may see (role, person, sites, the
    // organisations they resolve to) when the cursor was issued; another value now means
    // the replica holds rows of another scope and must be rebuilt.
    std::string scope = {};
    // Full pull: the rows it still has to send, counted once when it began and lowered by
    // each page (so no page re-counts the store); kUnknown when not counted (incremental
    // pulls, cursors of the c2 form).
    static constexpr uint64_t kUnknown = ~uint64_t{0};
    uint64_t remaining = kUnknown;
    // The store's epoch when the cursor was issued (meta 'store_epoch', hex): a store restored
    // from a backup has a new epoch, so a cursor from before the restore is recognised.
    // Empty in cursors of the c2 form.
    std::string epoch = {};

    bool full() const { return phase != Phase::incremental; }
    // The deletions this cursor still needs start above this version: a device whose floor
    // is below the store's tombstone floor has missed deletions and must be rebuilt.
    uint64_t tombstones_after() const { return full() ? std::max(after, v0) : after; }
    bool operator==(const SyncCursor&) const = default;
};

// "c3.<phase>.<after>.<v0>.<t0>.<remaining>.<epoch>.<scope>.<mac>", mac = first 16 hex
// digits of HMAC-SHA256(key, everything before it); `remaining` is empty when unknown. `key`
// is the store's secret. The c2 form of the previous release ("c2.<phase>.<after>.<v0>.<t0>.
// <scope>.<mac>") still decodes, with remaining unknown and no epoch.
std::string encode_cursor(const SyncCursor& c, std::string_view key);
// Errors: malformed for anything this server did not issue (bad shape, bad signature).
// The unsigned cursors of protocol v1 servers ("123", "p.1.2.3") decode with
// `legacy = true` and no scope: the server rebuilds such a replica once.
struct DecodedCursor {
    SyncCursor cursor;
    bool legacy = false;
    bool empty = false;  // no cursor: a first sync
};
Result<DecodedCursor> decode_cursor(std::string_view text, std::string_view key);

// HMAC-SHA256 as lowercase hex.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

}  // namespace tundra
