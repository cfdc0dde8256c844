#include "tundra/server/sql_store.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "kdf_gate.h"
#include "open_db.h"
#include "row_cache.h"
#include "schema.h"
#include "store_internal.h"
#include "tundra/core/crypto.h"
#include "tundra/sql/rows.h"

namespace tundra::server {
using sql::column_list;
using sql::read_row;


Outcome make_outcome(const Action& a, OutcomeResult r, std::string_view reason,
                     std::string message, std::string status) {
    Outcome o;
    o.seq = a.seq;
    o.result = r;
    o.reason = std::string(reason);
    o.message = std::move(message);
    o.status = std::move(status);
    return o;
}

// ---- open ---------------------------------------------------------------------------------
SqlStore::SqlStore(std::unique_ptr<sql::Db> db, StoreOptions opts)
    : db_(std::move(db)), opts_(std::move(opts)), clock_(opts_.wall) {
    impl_ = std::make_unique<Impl>(*this);
    kdf_gate_ = std::make_unique<KdfGate>(opts_.max_concurrent_kdf, opts_.max_waiting_kdf);
    // What an unknown user's password is checked against (auth.cc): a real check's cost,
    // a hash nothing matches.
    dummy_hash_ = "pbkdf2-sha256$" + std::to_string(opts_.kdf_iterations) + "$" + random_hex(16) +
                  "$" + std::string(64, '0');
}

SqlStore::~SqlStore() = default;

Result<std::unique_ptr<SqlStore>> SqlStore::open(const std::string& path, StoreOptions opts,
                                                       bool create) {
    auto db = open_connection(path, {.create = create});
    if (!db) return db.status();
    if (!create && db.value()->user_version() == 0)
        return Status(Errc::storage, "'" + path + "' is not a Tundra store (run `init` first)");
    // Report facts are stamped with the store's clock (schema v5 triggers).
    db.value()->set_clock([wall = opts.wall] { return static_cast<int64_t>(wall()); });
    TUNDRA_TRY(migrate(*db.value()));
    TUNDRA_TRY(Impl::ensure_epoch(*db.value()));
    // An acknowledged round must survive power loss, not only a crash of this process: every
    // commit waits for its WAL frames to reach the disk (docs/failure-model.md).
    if (opts.durable && db.value()->backend() == sql::Backend::sqlite)
        TUNDRA_TRY(db.value()->exec("PRAGMA synchronous=FULL"));
    std::unique_ptr<SqlStore> s(new SqlStore(std::move(db.value()), std::move(opts)));
    TUNDRA_TRY(s->impl_->load_meta());
    if (s->opts_.row_cache_bytes > 0) s->row_cache_ = std::make_unique<RowCache>(s->opts_.row_cache_bytes);
    TUNDRA_TRY(s->open_readers(path));
    s->clock_ = HlcClock(s->opts_.wall, s->clock_.last());
    return s;
}

Result<uint64_t> SqlStore::Impl::load_snapshot_meta() {
    auto q = db.query(
        "SELECT key, value FROM meta WHERE key IN ('version', 'hlc', 'cursor_key', 'store_epoch', "
        "'restored_from_epoch', 'restored_at_version')");
    uint64_t hlc = 0;
    epoch = StoreEpoch{};
    for (;;) {
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) break;
        std::string key = q->text(0);
        if (key == "cursor_key") {
            cursor_key = q->text(1);
            continue;
        }
        if (key == "store_epoch" || key == "restored_from_epoch") {
            (key == "store_epoch" ? epoch.current : epoch.restored_from) = q->text(1);
            continue;
        }
        uint64_t v = std::stoull(q->text(1));
        if (key == "restored_at_version") epoch.restored_at = v;
        else (key == "version" ? version : hlc) = v;
    }
    return hlc;
}

Status SqlStore::Impl::load_meta() {
    auto hlc = load_snapshot_meta();
    if (!hlc) return hlc.status();
    if (hlc.value() > self.clock_.last().value) self.clock_ = HlcClock(self.opts_.wall, Hlc{hlc.value()});
    return Status::ok();
}

Status SqlStore::Impl::save_meta() {
    auto q = db.query("UPDATE meta SET value = ? WHERE key = ?");
    TUNDRA_TRY(q->bind(1, std::to_string(version)).bind(2, "version").run());
    q->reset();
    return q->bind(1, std::to_string(self.clock_.last().value)).bind(2, "hlc").run();
}

uint64_t SqlStore::current_version() {
    std::lock_guard lock(mu_);
    return impl_->version;
}

Status SqlStore::check_health() {
    std::lock_guard lock(mu_);
    auto q = db_->query("SELECT 1");
    auto r = q->step();
    return r ? Status::ok() : r.status();
}

Result<int64_t> SqlStore::count(const std::string& table) {
    std::lock_guard lock(mu_);
    static const std::set<std::string> kServerTables = {
        "devices", "applied_actions", "users", "login_throttle", "audit_log", "tombstones",
        "action_quota"};
    bool known = kServerTables.count(table) > 0;
    for (auto& e : all_entities()) known = known || e.table == table;
    if (known) {
        auto q = db_->query("SELECT count(*) FROM " + table);
        auto r = q->step();
        if (!r) return r.status();
        return q->int64(0);
    }
    return Result<int64_t>(Errc::invalid_argument, "unknown table " + table);
}

// ---- generic rows -------------------------------------------------------------------------
Result<std::optional<Row>> SqlStore::Impl::load_row(Kind kind, const std::string& id) {
    return sql::load_row(db, kind, id);
}

Status SqlStore::Impl::write_row(Kind kind, const Row& row) {
    auto& spec = entity(kind);
    std::string cols = column_list(spec), params, updates;
    for (auto& c : spec.columns) {
        params += "?, ";
        if (c.name != "id") updates += std::string(c.name) + " = excluded." + std::string(c.name) + ", ";
    }
    auto q = db.query("INSERT INTO " + std::string(spec.table) + " (" + cols +
                      ", version) VALUES (" + params + "?) ON CONFLICT(id) DO UPDATE SET " +
                      updates + "version = excluded.version");
    int i = 1;
    for (auto& c : spec.columns) {
        auto it = row.find(c.name);
        q->bind_value(i++, it == row.end() ? Value{} : it->second);
    }
    q->bind(i, next_version());
    return q->run();
}

// ---- sync ---------------------------------------------------------------------------------
// A round without actions reads one snapshot on a read connection and writes nothing; a
// round with actions goes through the group-commit writer (rounds.cc).
Result<SyncResponse> SqlStore::sync(const AuthContext& who, const SyncRequest& req) {
    // With a byte budget the rows cap only bounds memory; without one it sizes the page.
    int limit = req.limit > 0 ? req.limit : req.max_bytes > 0 ? kMaxPageRows : opts_.default_page_rows;
    ++rounds_;
    if (req.actions.empty()) return read_round(who, req, limit);
    return write_round(who, req, limit);
}

SqlStore::Stats SqlStore::stats() const {
    Stats s{rounds_.load(),  read_rounds_.load(), write_rounds_.load(),
            commits_.load(), noop_rounds_.load(), touches_.load()};
    if (row_cache_) {
        auto c = row_cache_->stats();
        s.row_cache_hits = c.hits;
        s.row_cache_misses = c.misses;
        s.row_cache_entries = c.entries;
        s.row_cache_bytes = c.bytes;
    }
    return s;
}

// ---- the round backend --------------------------------------------------------------------
Result<DeviceRoundState> SqlStore::Impl::device_state(const AuthContext& who) {
    auto q = db.query("SELECT last_seq, last_sync_hlc, coalesce(last_seen_ms, 0) FROM devices WHERE id = ?");
    q->bind(1, who.device_id);
    auto r = q->step();
    if (!r) return r.status();
    if (!r.value()) return Result<DeviceRoundState>(Errc::unauthorized, "unknown device");
    return DeviceRoundState{static_cast<uint64_t>(q->int64(0)),
                            Hlc{static_cast<uint64_t>(q->int64(1))}, q->int64(2)};
}

Status SqlStore::Impl::save_device_state(const AuthContext& who, const DeviceRoundState& st) {
    auto q = db.query(
        "UPDATE devices SET last_seq = ?1, last_sync_hlc = ?2, last_seen_ms = ?3, "
        "token_expires_ms = CASE WHEN token_expires_ms > ?4 THEN token_expires_ms ELSE ?4 END "  // max(): not in PG
        "WHERE id = ?5");
    return q->bind(1, st.last_seq)
        .bind(2, st.stamp_floor.value)
        .bind(3, now_ms)
        .bind(4, now_ms + self.opts_.token_lifetime_days * 86400'000)
        .bind(5, who.device_id)
        .run();
}

namespace {
// One applied_actions row (hash, outcome) from a query that selects them, if it found one.
Result<std::optional<AppliedRecord>> read_applied(sql::Query& q) {
    auto r = q->step();
    if (!r) return r.status();
    if (!r.value()) return std::optional<AppliedRecord>();
    auto o = decode_outcome(q->text(1));
    if (!o) return Status(Errc::storage, "applied_actions: unreadable outcome: " + o.status().message());
    return std::optional<AppliedRecord>(AppliedRecord{q->text(0), o.value()});
}
}  // namespace

Result<std::optional<AppliedRecord>> SqlStore::Impl::applied(const std::string& device,
                                                                 uint64_t seq) {
    auto q = db.query("SELECT hash, outcome FROM applied_actions WHERE device = ? AND seq = ?");
    q->bind(1, device).bind(2, seq);
    return read_applied(q);
}

Result<std::optional<AppliedRecord>> SqlStore::Impl::applied_by_hash(const std::string& device,
                                                                         const std::string& hash) {
    auto q = db.query(
        "SELECT hash, outcome FROM applied_actions WHERE device = ? AND hash = ? ORDER BY seq LIMIT 1");
    q->bind(1, device).bind(2, hash);
    return read_applied(q);
}

Result<Outcome> SqlStore::Impl::apply(const AuthContext& who, const Action& a, Hlc acted) {
    sql::Savepoint sp(db);
    if (!sp.status()) return sp.status();
    uint64_t v_before = version;
    auto r = dispatch(who, a, acted);
    Outcome o;
    if (r) {
        o = std::move(r.value());
    } else if (r.status().code() == Errc::conflict || r.status().code() == Errc::invalid_argument) {
        // A row the database refuses is this action's problem, not the round's: a refusal
        // here must never block the device's queue.
        o = make_outcome(a, OutcomeResult::rejected, reasons::kInvalid, r.status().message());
    } else {
        return r.status();  // storage failure: the whole round rolls back
    }
    if (o.result == OutcomeResult::rejected) {
        version = v_before;  // the savepoint's destructor undoes any partial write
    } else {
        TUNDRA_TRY(sp.release());
    }
    return o;
}

Status SqlStore::Impl::record_applied(const std::string& device, const Action& a,
                                         const std::string& hash, const Outcome& o) {
    auto q = db.query(
        "INSERT INTO applied_actions (device, seq, outcome, applied_ms, hash) VALUES (?, ?, ?, ?, ?)");
    return q->bind(1, device).bind(2, a.seq).bind(3, encode_outcome(o)).bind(4, now_ms).bind(5, hash).run();
}

Result<uint64_t> SqlStore::Impl::tombstone_floor() {
    auto q = db.query("SELECT value FROM meta WHERE key = 'tombstone_floor'");
    auto r = q->step();
    if (!r) return r.status();
    return r.value() ? std::stoull(q->text(0)) : 0;
}

}  // namespace tundra::server
