// The two paths of a sync round (docs/architecture.md, "Read pool and group commit"):
// - a round without actions runs on one of a pool of read connections inside one snapshot
//   (sql::ReadTransaction), in parallel with the writer and other pulls, and writes nothing
//   but, at most hourly, the device's last-seen time (a small write of its own);
// - rounds with actions go through one writer: the first to find it free takes every push
//   round waiting (group commit), runs each in a savepoint of one write transaction, commits
//   once (one fsync for all) and hands each its own answer.
#include "open_db.h"
#include "store_internal.h"

namespace tundra::server {

struct SqlStore::PendingRound {
    const AuthContext& who;
    const SyncRequest& req;
    int limit = 0;
    std::optional<Result<SyncResponse>> result;
};

Status SqlStore::open_readers(const std::string& path) {
    // An in-memory database is one connection's own: its reads share the write connection.
    bool shared = opts_.read_connections <= 0 || path.empty() || path == ":memory:";
    int n = shared ? 1 : opts_.read_connections;
    for (int i = 0; i < n; ++i) {
        auto r = std::make_unique<Reader>();
        if (shared) {
            r->db = db_.get();
        } else {
            auto db = open_connection(path, {.create = false, .read_only = true});
            if (!db) return db.status();
            r->owned = std::move(db.value());
            r->db = r->owned.get();
        }
        r->impl = std::make_unique<Impl>(*this, *r->db);
        r->impl->cursor_key = impl_->cursor_key;
        r->impl->fills_row_cache = true;
        free_readers_.push_back(r.get());
        readers_.push_back(std::move(r));
    }
    return Status::ok();
}

Result<SyncResponse> SqlStore::read_round(const AuthContext& who, const SyncRequest& req, int limit) {
    ++read_rounds_;
    Result<SyncResponse> resp = Status(Errc::internal, "round not run");
    bool touch_due = false, purge_due = false;
    int64_t now_ms = 0;
    {
        ReaderLease lease(*this);
        Impl& I = *lease.get().impl;
        sql::ReadTransaction snapshot(*lease.get().db);
        TUNDRA_TRY(snapshot.begin());
        auto hlc = I.load_snapshot_meta();
        if (!hlc) return hlc.status();
        I.now_ms = now_ms = static_cast<int64_t>(opts_.wall());
        // This round's HLC: the store clock as of the snapshot, moved on by the wall clock.
        // The shared clock is the writer's; a pull neither reads nor moves it.
        HlcClock clock(opts_.wall, Hlc{hlc.value()});
        RoundContext ctx{.now_ms = now_ms,
                         .clock = clock,
                         .max_clock_ahead_ms = opts_.max_clock_ahead_ms,
                         .cursor_key = I.cursor_key,
                         .limit = limit,
                         .epoch = I.epoch,
                         .read_only = true};
        resp = sync_round(I, who, req, ctx);
        touch_due = ctx.touch_due;
        auto last = I.db.query("SELECT value FROM meta WHERE key = 'last_purge_ms'");
        auto found = last->step();
        if (!found) return found.status();
        purge_due = !found.value() || now_ms - std::stoll(last->text(0)) >= kTouchEveryMs;
    }
    if (resp && touch_due) touch_device(who.device_id, now_ms, resp->server_hlc);
    if (resp && purge_due) {
        // The hourly clean-up that rounds with actions run in their transaction
        // (Impl::purge_tombstones), when only pulls come: on the write path, after the pull
        // was answered. A failure is retried by the next round.
        std::lock_guard lock(mu_);
        sql::Transaction txn(*db_);
        if (txn.begin()) {
            impl_->now_ms = static_cast<int64_t>(opts_.wall());
            if (impl_->purge_tombstones()) (void)txn.commit();
        }
    }
    return resp;
}

// The hourly refresh of a device seen by pull-only rounds: last-seen, the sliding token
// expiry and the stamp floor (raised to this round's HLC). A failure is not the round's: the
// refresh is still due at the next round.
void SqlStore::touch_device(const std::string& device_id, int64_t now_ms, uint64_t hlc) {
    std::lock_guard lock(mu_);
    sql::Transaction txn(*db_);
    if (!txn.begin()) return;
    auto q = db_->query(
        // CASE, not the two-argument max() PostgreSQL lacks.
        "UPDATE devices SET last_seen_ms = ?1, "
        "token_expires_ms = CASE WHEN token_expires_ms > ?2 THEN token_expires_ms ELSE ?2 END, "
        "last_sync_hlc = CASE WHEN last_sync_hlc > ?3 THEN last_sync_hlc ELSE ?3 END "
        "WHERE id = ?4 AND token_expires_ms > 0");
    q->bind(1, now_ms).bind(2, now_ms + opts_.token_lifetime_days * 86400'000).bind(3, hlc).bind(4, device_id);
    if (!q->run()) return;
    if (txn.commit()) ++touches_;
}

Result<SyncResponse> SqlStore::write_round(const AuthContext& who, const SyncRequest& req, int limit) {
    ++write_rounds_;
    PendingRound me{who, req, limit, std::nullopt};
    std::unique_lock lock(queue_mu_);
    queue_.push_back(&me);
    while (!me.result) {
        if (writer_busy_) {
            queue_cv_.wait(lock);
            continue;
        }
        // Lead a group: every push round waiting now (ours among them), in arrival order.
        writer_busy_ = true;
        size_t n = std::min(queue_.size(), static_cast<size_t>(std::max(1, opts_.max_group_rounds)));
        std::vector<PendingRound*> group(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
        lock.unlock();
        std::vector<std::optional<Result<SyncResponse>>> out(group.size());
        run_group(group, out);
        lock.lock();
        for (size_t i = 0; i < group.size(); ++i) group[i]->result = std::move(out[i]);
        writer_busy_ = false;
        queue_cv_.notify_all();
    }
    return std::move(*me.result);
}

// One write transaction for the group. Each round runs in its own savepoint, after the rounds
// before it, so its answer is what it would be alone (its actions, then its pull); a round
// that fails is undone alone. A failed commit fails every round of the group with the
// (retryable) storage error: nothing is acknowledged that is not durable.
void SqlStore::run_group(const std::vector<PendingRound*>& group,
                         std::vector<std::optional<Result<SyncResponse>>>& out) {
    auto fail_all = [&](const Status& st) {
        for (auto& o : out)
            if (!o || static_cast<bool>(*o)) o = Result<SyncResponse>(st);
    };
    std::lock_guard lock(mu_);
    auto& I = *impl_;
    sql::Transaction txn(*db_);
    if (Status st = txn.begin(); !st) return fail_all(st);
    // A failed group must not leave half-advanced counters behind.
    Impl::RoundGuard restore(I, clock_, opts_.wall);
    // Another process (import, demo-data) may have written since: counters come from the file.
    if (Status st = I.load_meta(); !st) return fail_all(st);
    I.now_ms = static_cast<int64_t>(opts_.wall());
    if (Status st = I.purge_tombstones(); !st) return fail_all(st);
    for (size_t i = 0; i < group.size(); ++i) {
        Impl::RoundGuard undo(I, clock_, opts_.wall);
        sql::Savepoint sp(*db_);
        if (Status st = sp.status(); !st) {
            out[i] = Result<SyncResponse>(st);
            continue;
        }
        RoundContext ctx{.now_ms = I.now_ms,
                         .clock = clock_,
                         .max_clock_ahead_ms = opts_.max_clock_ahead_ms,
                         .cursor_key = I.cursor_key,
                         .limit = group[i]->limit,
                         .epoch = I.epoch};
        auto resp = sync_round(I, group[i]->who, group[i]->req, ctx);
        if (resp) {
            if (Status st = sp.release(); !st) resp = Result<SyncResponse>(st);
        }
        if (resp) undo.armed = false;
        out[i] = std::move(resp);
    }
    if (Status st = I.save_meta(); !st) return fail_all(st);
    if (Status st = txn.commit(); !st) return fail_all(st);
    restore.armed = false;
    ++commits_;
}

}  // namespace tundra::server
