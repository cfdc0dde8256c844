// One sync round without SQL; see sync_round.h.
#include "sync_round.h"

#include <algorithm>

#include "tundra/core/crypto.h"

namespace tundra::server {
namespace {
Outcome refusal(const Action& a, std::string_view reason, std::string message) {
    Outcome o;
    o.seq = a.seq;
    o.result = OutcomeResult::rejected;
    o.reason = std::string(reason);
    o.message = std::move(message);
    return o;
}

// Whether what a cursor's device holds is part of this store's history (docs/protocol.md,
// "Cursor"): a cursor of this store; of the store this one was restored from, at or below the
// backup's version (rows up to it are the same in both); or of the previous release (no
// epoch) while the store was never restored. Anything else — a cursor past the backup, whose
// versions the restored store hands out again to other rows — rebuilds the replica.
bool same_history(const SyncCursor& c, const StoreEpoch& e) {
    if (c.epoch == e.current) return true;
    if (c.epoch.empty()) return e.restored_from.empty();
    return !e.restored_from.empty() && c.epoch == e.restored_from && c.after <= e.restored_at &&
           c.v0 <= e.restored_at;
}

// Where this round's page starts, decided again, identically, for a retried request: a
// device whose cursor belongs to another scope, or that has missed forgotten deletions, or
// that has no (or a v1) cursor, starts a full pull that ends with a sweep.
Result<SyncCursor> start_position(RoundBackend& store, const AuthContext& who,
                                  const SyncRequest& req, const RoundContext& ctx, bool& reset) {
    auto decoded = decode_cursor(req.cursor, ctx.cursor_key);
    if (!decoded) return decoded.status();
    auto scope = store.scope_hash(who);
    if (!scope) return scope.status();
    auto floor = store.tombstone_floor();
    if (!floor) return floor.status();
    SyncCursor c = decoded->cursor;
    reset = decoded->empty || decoded->legacy || c.scope != scope.value() ||
            c.tombstones_after() < floor.value() || !same_history(c, ctx.epoch);
    if (reset)
        c = SyncCursor{.phase = SyncCursor::Phase::priority,
                       .after = 0,
                       .v0 = store.current_version(),
                       .t0 = ctx.now_ms,
                       .scope = scope.value()};
    c.epoch = ctx.epoch.current;
    return c;
}

// What the store already holds of an action. Its record at this seq when it is the same action
// (records written before schema v3 have no hash and are trusted), else the record of the same
// content under any other seq: an action renumbered after a `seq_reused` on one timeline and
// brought back under its old number by a restored backup is still one action.
struct Known {
    std::optional<AppliedRecord> record;
    bool seq_taken = false;  // another action holds this seq
};

Result<Known> known(RoundBackend& store, const std::string& device, const Action& a,
                    const std::string& hash, uint64_t last_seq) {
    Known k;
    if (a.seq <= last_seq) {
        auto rec = store.applied(device, a.seq);
        if (!rec) return rec.status();
        if (rec.value() && (rec.value()->hash.empty() || rec.value()->hash == hash)) {
            k.record = std::move(rec.value());
            return k;
        }
        k.seq_taken = rec.value().has_value();
    }
    auto same = store.applied_by_hash(device, hash);
    if (!same) return same.status();
    k.record = std::move(same.value());
    return k;
}
}  // namespace

std::string action_hash(const Action& a) {
    Action content = a;
    content.seq = 0;
    return sha256_hex(encode_action(content)).substr(0, 32);
}

Result<Outcome> apply_new_action(RoundBackend& store, const AuthContext& who, const Action& a,
                                 const std::string& hash, Hlc& floor, RoundContext& ctx) {
    // A stamp from a clock far ahead is limited, so a tablet set to next year cannot win
    // every edit (docs/failure-model.md).
    const Hlc ahead_bound =
        Hlc::from_parts(static_cast<uint64_t>(ctx.now_ms) + ctx.max_clock_ahead_ms, 0);
    Action act = a;
    bool ahead = a.hlc > ahead_bound;
    if (ahead) act.hlc = ahead_bound;
    ctx.clock.observe(act.hlc);
    Hlc acted = std::max(act.hlc, floor);
    floor = acted;
    auto r = store.apply(who, act, acted);
    if (!r) return r.status();
    Outcome o = std::move(r.value());
    if (ahead && o.result != OutcomeResult::rejected) {
        if (o.result == OutcomeResult::applied) {
            o.result = OutcomeResult::adjusted;
            o.reason = std::string(reasons::kClockAhead);
        }
        o.message = "your device clock is " +
                    std::to_string((a.hlc.physical_ms() - static_cast<uint64_t>(ctx.now_ms)) / 60000) +
                    " min ahead of the server; the action counts as made at " +
                    format_iso8601(static_cast<int64_t>(ahead_bound.physical_ms())) +
                    (o.message.empty() ? "" : "; " + o.message);
    }
    TUNDRA_TRY(store.record_applied(who.device_id, a, hash, o));
    return o;
}

Result<SyncResponse> sync_round(RoundBackend& store, const AuthContext& who,
                                const SyncRequest& req, RoundContext& ctx) {
    SyncResponse resp;
    auto from = start_position(store, who, req, ctx, resp.reset);
    if (!from) return from.status();
    auto st = store.device_state(who);
    if (!st) return st.status();

    // Stamps never go below the device's last round, nor below the seq before them.
    Hlc floor = st->stamp_floor;
    for (auto& a : req.actions) {
        std::string hash = action_hash(a);
        auto k = known(store, who.device_id, a, hash, st->last_seq);
        if (!k) return k.status();
        if (k->record) {
            // A retry, under this seq or another: the outcome of the first time. Not recorded
            // again: one record per action, under the seq it took effect with.
            Outcome o = k->record->outcome;
            o.seq = a.seq;
            st->last_seq = std::max(st->last_seq, a.seq);
            resp.outcomes.push_back(std::move(o));
            continue;
        }
        if (a.seq <= st->last_seq) {
            if (!k->seq_taken) {  // forgotten by a release that purged outcomes
                resp.outcomes.push_back(refusal(a, reasons::kDuplicate,
                                                "this action number was received long ago and its "
                                                "outcome is no longer known; nothing was applied now"));
                continue;
            }
            resp.outcomes.push_back(refusal(a, reasons::kSeqReused,
                                            "action number " + std::to_string(a.seq) +
                                                " was already used by another action of this "
                                                "device; renumber it"));
            // The device's history diverged from ours here (a restored or rolled-back
            // replica): what it sent after this was recorded after it too. Apply none of it
            // now; the device renumbers them all, in order, and sends them again, so seat
            // order still follows when people acted.
            break;
        }
        auto o = apply_new_action(store, who, a, hash, floor, ctx);
        if (!o) return o.status();
        st->last_seq = a.seq;
        resp.outcomes.push_back(std::move(o.value()));
    }

    auto next = store.pull(who, from.value(), ctx.limit, req.max_bytes, resp);
    if (!next) return next.status();
    next->epoch = ctx.epoch.current;
    resp.cursor = encode_cursor(next.value(), ctx.cursor_key);
    if (req.verify && !resp.more) {
        auto sum = store.checksum(who);
        if (!sum) return sum.status();
        resp.checksum = sum.value();
    }
    resp.server_hlc = ctx.clock.now().value;
    resp.last_seq = st->last_seq;
    st->stamp_floor = Hlc{resp.server_hlc};
    TUNDRA_TRY(store.save_device_state(who, st.value()));
    return resp;
}

}  // namespace tundra::server
