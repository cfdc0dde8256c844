// One sync round, decided from what the device sends and the store's state, with no SQL: the
// cursor (reset or not, phase, deletions still owed), exactly-once by content (replay or
// apply), fair-seat stamp bounds, and the page. A backend (SqlStore today) supplies rows,
// device state and the transaction around the whole round. See docs/architecture.md,
// "A sync round".
#pragma once

#include <optional>
#include <string>

#include "tundra/core/action.h"
#include "tundra/core/cursor.h"
#include "tundra/core/hlc.h"
#include "tundra/core/protocol.h"
#include "tundra/server/store.h"

namespace tundra::server {

// What the store remembers of a device between rounds.
struct DeviceRoundState {
    uint64_t last_seq = 0;  // highest action seq applied (or refused) from this device
    // The server HLC of the device's latest round (its login, for a new device): every
    // request carried all the seqs it held below its new ones, so a later action cannot
    // have been made before it (docs/architecture.md, "Fair seats").
    Hlc stamp_floor;
};

// The exactly-once memory of one (device, seq): which action it was, and what came of it.
struct AppliedRecord {
    std::string hash;  // action_hash(); empty for records written before schema v3
    Outcome outcome;   // message may be empty after the retention (result and reason stay)
};

// Everything a round needs from the store, called inside one write transaction that the
// backend opens before sync_round and commits after it.
class RoundBackend {
public:
    virtual ~RoundBackend() = default;
    virtual Result<DeviceRoundState> device_state(const AuthContext& who) = 0;
    virtual Status save_device_state(const AuthContext& who, const DeviceRoundState& st) = 0;
    virtual Result<std::optional<AppliedRecord>> applied(const std::string& device,
                                                         uint64_t seq) = 0;
    // The record of an action of this device with this content, under whatever seq.
    virtual Result<std::optional<AppliedRecord>> applied_by_hash(const std::string& device,
                                                                 const std::string& hash) = 0;
    // Applies one action; a refusal comes back as a rejected outcome with nothing written.
    virtual Result<Outcome> apply(const AuthContext& who, const Action& a, Hlc acted) = 0;
    virtual Status record_applied(const std::string& device, const Action& a,
                                  const std::string& hash, const Outcome& o) = 0;
    // Scope of `who` now: a hash of everything that resolves what they may see.
    virtual Result<std::string> scope_hash(const AuthContext& who) = 0;
    // Deletions at or below this version are forgotten.
    virtual Result<uint64_t> tombstone_floor() = 0;
    virtual uint64_t current_version() = 0;
    // The page after `from`; sets out.changes/more/remaining and returns the next position.
    virtual Result<SyncCursor> pull(const AuthContext& who, const SyncCursor& from, int limit,
                                    uint64_t max_bytes, SyncResponse& out) = 0;
    virtual Result<ScopeChecksum> checksum(const AuthContext& who) = 0;
};

// Which store a cursor belongs to (meta store_epoch), and, for a store restored from a backup,
// the store and version the backup was taken from (meta restored_from_epoch,
// restored_at_version): a cursor of that store at or below that version is still good here.
struct StoreEpoch {
    std::string current;
    std::string restored_from;  // empty: never restored
    uint64_t restored_at = 0;
};

struct RoundContext {
    int64_t now_ms = 0;
    HlcClock& clock;
    uint64_t max_clock_ahead_ms = 0;
    std::string cursor_key;
    int limit = 0;  // rows per page
    StoreEpoch epoch = {};
};

// A hash of what an action says (type, stamp, fields — not its seq): a different action under
// a used seq is refused `seq_reused`; the same action is a retry under any seq, so one that a
// restored replica renumbered, or sends again under its old number, takes effect once.
std::string action_hash(const Action& a);

// One new action (not a retry) of `who`'s device, as a round applies it: its stamp limited to
// the clock-ahead bound and raised to `floor` (which it then raises), applied in its
// savepoint, and its outcome recorded under a.seq. The console's apply_actions uses it too.
Result<Outcome> apply_new_action(RoundBackend& store, const AuthContext& who, const Action& a,
                                 const std::string& hash, Hlc& floor, RoundContext& ctx);

Result<SyncResponse> sync_round(RoundBackend& store, const AuthContext& who,
                                const SyncRequest& req, RoundContext& ctx);

}  // namespace tundra::server
