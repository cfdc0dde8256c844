// Replica: open and migrations, typed state, rows, full-pull marks, checksum, outbox.
#include "replica.h"

#include <algorithm>
#include <set>

#include "tundra/core/checksum.h"
#include "tundra/sqlite/db.h"

namespace tundra::client {
namespace {
std::string sql_type(ColType t) {
    switch (t) {
        case ColType::integer:
        case ColType::boolean: return "INTEGER";
        default: return "TEXT";
    }
}

uint64_t to_u64(const std::string& s) {
    if (s.empty()) return 0;
    try {
        return std::stoull(s);
    } catch (...) {
        return 0;
    }
}

std::string states_sql(std::initializer_list<OutboxState> states) {
    std::string out;
    for (auto s : states) out += std::string(out.empty() ? "'" : ", '") + std::string(to_string(s)) + "'";
    return out;
}
}  // namespace

std::string_view to_string(OutboxState s) {
    switch (s) {
        case OutboxState::queued: return "queued";
        case OutboxState::acked: return "acked";
        case OutboxState::rejected: return "rejected";
        case OutboxState::done: return "done";
        case OutboxState::dismissed: return "dismissed";
    }
    return "queued";
}

Result<std::unique_ptr<Replica>> Replica::open(const std::string& path) {
    auto db = sqlite::Db::open(path);
    if (!db) return db.status();
    // An action acknowledged to the user must survive power loss, not only a crash of the
    // process: in WAL mode NORMAL may lose the last commits, FULL syncs the log on commit.
    TUNDRA_TRY(db.value()->exec("PRAGMA synchronous=FULL"));
    std::unique_ptr<Replica> r(new Replica(std::move(db.value())));
    TUNDRA_TRY(r->migrate());
    // A first sync builds the indexes at its end; one that will not go on (the replica was
    // wiped or its cursor dropped meanwhile) must not leave them missing.
    if (!r->load_meta().full_pull) TUNDRA_TRY(r->ensure_row_indexes());
    return r;
}

// Versioned migrations in PRAGMA user_version, one transaction per step; a replica from a
// newer build is refused rather than guessed at. New columns get a new step (ALTER TABLE);
// step 1 is derived from the entity descriptors as they were at version 1.
Status Replica::migrate() {
    int v = db_->user_version();
    if (v > kReplicaSchemaVersion)
        return Status(Errc::unsupported_version,
                      "replica schema version " + std::to_string(v) +
                          " is newer than this build (" + std::to_string(kReplicaSchemaVersion) +
                          "); update the app");
    if (v < 1) {
        // A non-empty file without our schema is not a replica: do not write into it.
        auto q = db_->query("SELECT count(*) FROM sqlite_schema");
        auto r = q->step();
        if (!r) return r.status();
        if (q->int64(0) > 0)
            return Status(Errc::storage, "'" + db_->path() + "' is not a Tundra replica");
    }
    TUNDRA_TRY(sqlite::migrate_to(*db_, 1, [&]() -> Status {
        std::string ddl =
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
            "CREATE TABLE outbox (seq INTEGER PRIMARY KEY, type TEXT NOT NULL, target TEXT NOT "
            "NULL, hlc INTEGER NOT NULL, action TEXT NOT NULL, state TEXT NOT NULL, outcome "
            "TEXT, created_ms INTEGER NOT NULL);\n"
            "CREATE INDEX outbox_state ON outbox(state, seq);\n"
            "CREATE TABLE shadow (tbl TEXT NOT NULL, id TEXT NOT NULL, row TEXT, PRIMARY KEY "
            "(tbl, id)) WITHOUT ROWID;\n";
        for (auto& e : all_entities()) {
            ddl += "CREATE TABLE " + std::string(e.table) + " (";
            for (auto& c : e.columns)
                ddl += std::string(c.name) + " " + sql_type(c.type) +
                       (c.name == "id" ? " PRIMARY KEY" : "") + ", ";
            ddl += "pending INTEGER NOT NULL DEFAULT 0, local_only INTEGER NOT NULL DEFAULT 0);\n";
        }
        ddl += "CREATE INDEX enrolments_occasion ON enrolments(occasion);\n"
               "CREATE INDEX attendance_occasion ON attendance(occasion, person);\n"
               "CREATE INDEX occasions_course ON occasions(course);\n";
        return db_->exec(ddl);
    }));
    // Version 2: what a full pull after a reset has sent so far.
    TUNDRA_TRY(sqlite::migrate_to(*db_, 2, [&]() -> Status {
        TUNDRA_TRY(db_->exec("CREATE TABLE reset_seen (tbl TEXT NOT NULL, id TEXT NOT NULL, "
                             "PRIMARY KEY (tbl, id)) WITHOUT ROWID"));
        return Status::ok();
    }));
    // Version 3: the server version of each synced row, for the scope checksum. Rows
    // synced by older builds have 0 and count as unverified: the first `verify` finds
    // the mismatch and repairs it with a full pull.
    TUNDRA_TRY(sqlite::migrate_to(*db_, 3, [&]() -> Status {
        for (auto& e : all_entities())
            TUNDRA_TRY(db_->exec("ALTER TABLE " + std::string(e.table) +
                                 " ADD COLUMN version INTEGER NOT NULL DEFAULT 0"));
        return Status::ok();
    }));
    // Version 4: exports queued again by `tundra replay`. Not synced data: it survives a
    // logout and a change of user, so the same file is never queued twice here.
    TUNDRA_TRY(sqlite::migrate_to(*db_, 4, [&]() -> Status {
        TUNDRA_TRY(db_->exec("CREATE TABLE IF NOT EXISTS replayed_exports (export_id TEXT PRIMARY KEY, "
                             "replayed_ms INTEGER NOT NULL, actions INTEGER NOT NULL)"));
        return Status::ok();
    }));
    // Version 5 (issue 9): columns the model gained since (occasions.survey_closes,
    // persons.provisional), and the `notices` table. Rows synced before carry NULL until the
    // server sends them again; every reader treats NULL as the column's default.
    TUNDRA_TRY(sqlite::migrate_to(*db_, 5, [&]() -> Status {
        TUNDRA_TRY(add_missing_columns());
        // "Changed for you": what the server changed about this person's enrolments and
        // occasions (notices.cc), kept until the user has seen it. Derived from synced rows:
        // wiped with them.
        TUNDRA_TRY(db_->exec(
            "CREATE TABLE IF NOT EXISTS notices (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, "
            "occasion TEXT NOT NULL, enrolment TEXT, before TEXT, after TEXT, noticed_ms INTEGER "
            "NOT NULL, seen_ms INTEGER);\n"
            "CREATE INDEX IF NOT EXISTS notices_unseen ON notices(seen_ms, kind, occasion);\n"
            "CREATE INDEX IF NOT EXISTS attendance_person ON attendance(person, occasion);\n"));
        return Status::ok();
    }));
    // Version 6 (issue 10): the model's new columns (enrolments.waitlist_position), and the
    // device's own state for a shared tablet: the PIN and password verifiers with the count of
    // wrong PINs (`unlock`, one row), and local settings. Never synced.
    TUNDRA_TRY(sqlite::migrate_to(*db_, 6, [&]() -> Status {
        TUNDRA_TRY(add_missing_columns());
        return db_->exec(
            "CREATE TABLE IF NOT EXISTS unlock (id INTEGER PRIMARY KEY CHECK (id = 1), pin_verifier TEXT, "
            "password_verifier TEXT, pin_failures INTEGER NOT NULL DEFAULT 0, pin_failed_ms INTEGER NOT "
            "NULL DEFAULT 0);\n"
            "CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
            "CREATE INDEX IF NOT EXISTS enrolments_person ON enrolments(person, occasion);\n");
    }));
    return Status::ok();
}

// Step 1 creates tables from today's descriptors, so each column a later step brings is
// added only where it is missing.
Status Replica::add_missing_columns() {
    for (auto& e : all_entities()) {
        std::set<std::string> have;
        auto q = db_->query("SELECT name FROM pragma_table_info(?)");
        q->bind(1, std::string(e.table));
        for (;;) {
            auto r = q->step();
            if (!r) return r.status();
            if (!r.value()) break;
            have.insert(q->text(0));
        }
        for (auto& c : e.columns)
            if (!have.count(std::string(c.name)))
                TUNDRA_TRY(db_->exec("ALTER TABLE " + std::string(e.table) + " ADD COLUMN " +
                                     std::string(c.name) + " " + sql_type(c.type)));
    }
    return Status::ok();
}

// ---- typed state --------------------------------------------------------------------------
namespace {
// One table of (key, member): load and save cannot drift apart.
struct TextField {
    const char* key;
    std::string ReplicaMeta::*member;
};
constexpr TextField kTextFields[] = {
    {"server", &ReplicaMeta::server},       {"username", &ReplicaMeta::username},
    {"role", &ReplicaMeta::role},           {"person", &ReplicaMeta::person},
    {"sites", &ReplicaMeta::sites},         {"server_capabilities", &ReplicaMeta::server_capabilities},
    {"device_id", &ReplicaMeta::device_id}, {"token", &ReplicaMeta::token},
    {"install_id", &ReplicaMeta::install_id}, {"cursor", &ReplicaMeta::cursor},
    {"page_budget", &ReplicaMeta::page_budget}, {"last_sync", &ReplicaMeta::last_sync},
    {"last_push", &ReplicaMeta::last_push},   {"ca_file", &ReplicaMeta::ca_file},
};
struct NumberField {
    const char* key;
    uint64_t ReplicaMeta::*member;
};
constexpr NumberField kNumberFields[] = {{"hlc", &ReplicaMeta::hlc}, {"last_seq", &ReplicaMeta::last_seq}};
struct FlagField {
    const char* key;
    bool ReplicaMeta::*member;
};
// Stored as "1" or "" (the key "resetting" predates the typed struct).
constexpr FlagField kFlagFields[] = {{"resetting", &ReplicaMeta::full_pull},
                                     {"full_pull_unmarked", &ReplicaMeta::full_pull_unmarked},
                                     {"allow_insecure_http", &ReplicaMeta::allow_insecure_http}};
}  // namespace

ReplicaMeta Replica::load_meta() {
    std::map<std::string, std::string> kv;
    auto q = db_->query("SELECT key, value FROM meta");
    for (;;) {
        auto r = q->step();
        if (!r || !r.value()) break;
        kv[q->text(0)] = q->text(1);
    }
    ReplicaMeta m;
    for (auto& f : kTextFields) m.*f.member = kv[f.key];
    for (auto& f : kNumberFields) m.*f.member = to_u64(kv[f.key]);
    for (auto& f : kFlagFields) m.*f.member = kv[f.key] == "1";
    return m;
}

Status Replica::save_meta(const ReplicaMeta& m) {
    auto q = db_->query("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
    auto put = [&](const char* key, const std::string& value) {
        Status st = q->bind(1, key).bind(2, value).run();
        q->reset();
        return st;
    };
    for (auto& f : kTextFields) TUNDRA_TRY(put(f.key, m.*f.member));
    for (auto& f : kNumberFields) TUNDRA_TRY(put(f.key, std::to_string(m.*f.member)));
    for (auto& f : kFlagFields) TUNDRA_TRY(put(f.key, m.*f.member ? "1" : ""));
    return Status::ok();
}

Status Replica::forget_cursor() {
    auto txn = transaction();
    TUNDRA_TRY(txn.begin());
    ReplicaMeta m = load_meta();
    m.cursor.clear();
    m.full_pull = false;
    TUNDRA_TRY(save_meta(m));
    return txn.commit();
}

// ---- rows ---------------------------------------------------------------------------------
Result<std::optional<Row>> Replica::load_row(Kind kind, const std::string& id) {
    return sqlite::load_row(*db_, kind, id);
}

namespace {
// The upsert of each kind, built once. An upsert, not INSERT OR REPLACE: a row the overlay
// changes keeps its server version.
const std::string& upsert_sql(Kind kind) {
    static const std::vector<std::string> texts = [] {
        std::vector<std::string> t;
        for (auto& spec : all_entities()) {
            std::string params, updates;
            for (auto& c : spec.columns) {
                params += "?, ";
                if (c.name != "id") updates += std::string(c.name) + " = excluded." + std::string(c.name) + ", ";
            }
            size_t k = static_cast<size_t>(spec.kind);
            if (t.size() <= k) t.resize(k + 1);
            t[k] = "INSERT INTO " + std::string(spec.table) + " (" + sqlite::column_list(spec) +
                   ", pending, local_only, version) VALUES (" + params +
                   "?, ?, coalesce(?, 0)) ON CONFLICT(id) DO UPDATE SET " + updates +
                   "pending = excluded.pending, local_only = excluded.local_only, "
                   "version = coalesce(?, version)";
        }
        return t;
    }();
    return texts[static_cast<size_t>(kind)];
}
}  // namespace

Status Replica::put_row(Kind kind, const Row& row, bool pending, bool local_only,
                        std::optional<uint64_t> version) {
    auto& spec = entity(kind);
    int n = static_cast<int>(spec.columns.size());
    auto q = db_->query(upsert_sql(kind));
    int i = 0;
    for (auto& c : spec.columns) {
        auto it = row.find(c.name);
        ++i;
        if (it == row.end()) q->bind(i, nullptr);
        else q->bind_value(i, it->second);
    }
    q->bind(n + 1, pending).bind(n + 2, local_only);
    if (version) q->bind(n + 3, *version).bind(n + 4, *version);
    else q->bind(n + 3, nullptr).bind(n + 4, nullptr);
    return q->run();
}

Status Replica::delete_row(Kind kind, const std::string& id) {
    auto q = db_->query("DELETE FROM " + std::string(entity(kind).table) + " WHERE id = ?");
    return q->bind(1, id).run();
}

Status Replica::wipe_data() {
    for (auto& e : all_entities()) TUNDRA_TRY(db_->exec("DELETE FROM " + std::string(e.table)));
    TUNDRA_TRY(db_->exec("DELETE FROM outbox; DELETE FROM shadow; DELETE FROM meta; DELETE FROM reset_seen; "
                         "DELETE FROM notices"));
    // The previous user's PIN, password verifier and settings go with their data.
    return forget_local_state(true);
}

Status Replica::wipe_synced_rows() {
    for (auto& e : all_entities()) TUNDRA_TRY(db_->exec("DELETE FROM " + std::string(e.table)));
    TUNDRA_TRY(db_->exec("DELETE FROM shadow; DELETE FROM reset_seen; DELETE FROM notices; "
                         "DELETE FROM outbox WHERE state NOT IN ('queued', 'rejected')"));
    ReplicaMeta m = load_meta();
    m.cursor.clear();
    m.full_pull = false;
    m.last_sync.clear();
    return save_meta(m);
}

Status Replica::wipe_synced_data() {
    {
        auto txn = transaction();
        TUNDRA_TRY(txn.begin());
        TUNDRA_TRY(wipe_synced_rows());
        TUNDRA_TRY(txn.commit());
    }
    return checkpoint();
}

Result<int64_t> Replica::logout(bool drop_queued) {
    int64_t dropped = 0;
    {
        auto txn = transaction();
        TUNDRA_TRY(txn.begin());
        auto n = count_queued();
        if (!n) return n.status();
        if (n.value() > 0 && !drop_queued)
            return Status(Errc::conflict,
                          std::to_string(n.value()) + (n.value() == 1 ? " action is" : " actions are") +
                              " not yet synced; run `tundra sync`, or `tundra logout --export FILE` "
                              "to keep them");
        dropped = n.value();
        // Rejected entries are the user's to read, but the user is leaving: they go too.
        TUNDRA_TRY(db_->exec("DELETE FROM outbox"));
        TUNDRA_TRY(wipe_synced_rows());
        TUNDRA_TRY(forget_token());
        TUNDRA_TRY(forget_local_state(true));
        TUNDRA_TRY(txn.commit());
    }
    TUNDRA_TRY(checkpoint());
    return dropped;
}

Status Replica::forget_token() {
    ReplicaMeta m = load_meta();
    m.token.clear();
    m.role.clear();
    m.person.clear();
    m.sites.clear();
    m.server_capabilities.clear();
    m.last_push.clear();
    return save_meta(m);
}

Status Replica::checkpoint() { return db_->checkpoint_truncate(); }

Status Replica::prune_history() {
    return db_->exec(
        "DELETE FROM outbox WHERE state IN ('done', 'dismissed') AND json_extract(action, '$.person') IS NOT "
        "NULL AND json_extract(action, '$.person') NOT IN (SELECT id FROM persons)");
}

namespace {
// The secondary indexes of the synced tables (migrations 1, 5 and 6 made them). A first sync
// into an empty replica builds them once at its end: sorting every row once costs far less
// than placing each row in them page by page, where every page's commit rewrites index pages
// spread over the whole index.
constexpr std::pair<const char*, const char*> kRowIndexes[] = {
    {"enrolments_occasion", "enrolments(occasion)"},
    {"enrolments_person", "enrolments(person, occasion)"},
    {"attendance_occasion", "attendance(occasion, person)"},
    {"attendance_person", "attendance(person, occasion)"},
    {"occasions_course", "occasions(course)"},
};
}  // namespace

Status Replica::drop_row_indexes() {
    for (auto& [name, on] : kRowIndexes) TUNDRA_TRY(db_->exec("DROP INDEX IF EXISTS " + std::string(name)));
    return Status::ok();
}

Status Replica::ensure_row_indexes() {
    for (auto& [name, on] : kRowIndexes)
        TUNDRA_TRY(db_->exec("CREATE INDEX IF NOT EXISTS " + std::string(name) + " ON " + on));
    return Status::ok();
}

Result<bool> Replica::begin_full_pull() {
    TUNDRA_TRY(db_->exec("DELETE FROM reset_seen"));
    // Called with the overlay off (restore_shadows): every row the server sent earlier is in
    // its table as the server's (pending = 0), shadowed ones included.
    for (auto& e : all_entities()) {
        auto q = db_->query("SELECT 1 FROM " + std::string(e.table) + " WHERE local_only = 0 AND pending = 0 LIMIT 1");
        auto r = q->step();
        if (!r) return r.status();
        if (r.value()) return true;
    }
    return false;
}

Status Replica::mark_seen(Kind kind, const std::string& id) {
    auto q = db_->query("INSERT OR IGNORE INTO reset_seen (tbl, id) VALUES (?, ?)");
    return q->bind(1, entity(kind).table).bind(2, id).run();
}

Result<int64_t> Replica::sweep_unseen(std::set<std::string>* kinds) {
    int64_t removed = 0;
    for (auto& e : all_entities()) {
        // Rows of queued actions (pending) and rejected ones kept for the user (local_only)
        // are the device's, not the server's: a full pull never sends them.
        auto q = db_->query("DELETE FROM " + std::string(e.table) +
                            " WHERE local_only = 0 AND pending = 0 AND id NOT IN (SELECT id FROM "
                            "reset_seen WHERE tbl = ?)");
        TUNDRA_TRY(q->bind(1, e.table).run());
        removed += db_->changes();
        if (kinds && db_->changes() > 0) kinds->insert(std::string(e.name));
    }
    TUNDRA_TRY(db_->exec("DELETE FROM reset_seen"));
    return removed;
}

Result<ScopeChecksum> Replica::checksum() {
    ChecksumBuilder b;
    for (auto& e : all_entities()) {
        // Synced rows only: local-only rows and rows that exist only through a queued action
        // (no server version yet) are not the server's.
        auto q = db_->query("SELECT id, version FROM " + std::string(e.table) +
                            " WHERE local_only = 0 AND version > 0");
        for (;;) {
            auto r = q->step();
            if (!r) return r.status();
            if (!r.value()) break;
            b.add(e.name, q->text(0), static_cast<uint64_t>(q->int64(1)));
        }
    }
    return b.result();
}

// ---- outbox -------------------------------------------------------------------------------
Result<Action> Replica::record(const std::string& type, Row fields, const HlcClock::WallClock& wall) {
    sqlite::Transaction txn(*db_);
    TUNDRA_TRY(txn.begin());
    ReplicaMeta m = load_meta();
    if (m.token.empty())
        return Status(Errc::unauthorized, "not logged in: run `tundra login` first");
    // The clock lives in the replica, not in memory: another Client on this file may have
    // stamped since, and BEGIN IMMEDIATE makes this read-stamp-write one step.
    HlcClock clock(wall, Hlc{m.hlc});
    Action a;
    a.seq = m.last_seq + 1;
    a.hlc = clock.now();
    a.type = type;
    a.fields = std::move(fields);
    TUNDRA_TRY(validate_action(a, "action"));
    TUNDRA_TRY(check_action_limits(a, "action"));
    {
        auto q = db_->query(
            "INSERT INTO outbox (seq, type, target, hlc, action, state, created_ms) VALUES (?, ?, "
            "?, ?, ?, 'queued', ?)");
        TUNDRA_TRY(q->bind(1, a.seq)
                       .bind(2, a.type)
                       .bind(3, a.target_id())
                       .bind(4, a.hlc.value)
                       .bind(5, encode_action(a))
                       .bind(6, static_cast<int64_t>(wall()))
                       .run());
    }
    TUNDRA_TRY(apply_overlay(OutboxEntry{a, OutboxState::queued, {}}, m));
    m.last_seq = a.seq;
    m.hlc = clock.last().value;
    TUNDRA_TRY(save_meta(m));
    TUNDRA_TRY(txn.commit());
    return a;
}

Result<std::vector<OutboxEntry>> Replica::outbox(std::initializer_list<OutboxState> states, size_t limit) {
    std::vector<OutboxEntry> out;
    auto q = db_->query("SELECT action, state, outcome FROM outbox WHERE state IN (" +
                        states_sql(states) + ") ORDER BY seq LIMIT ?");
    q->bind(1, static_cast<int64_t>(limit));
    for (;;) {
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) break;
        auto a = decode_action(q->text(0));
        if (!a) return Status(Errc::storage, "corrupt outbox entry: " + a.status().message());
        OutboxEntry e;
        e.action = std::move(a.value());
        std::string st = q->text(1);
        for (auto s : {OutboxState::queued, OutboxState::acked, OutboxState::rejected,
                       OutboxState::done, OutboxState::dismissed})
            if (to_string(s) == st) e.state = s;
        if (auto o = q->opt_text(2)) {
            auto dec = decode_outcome(*o);
            if (dec) e.outcome = dec.value();
        }
        out.push_back(std::move(e));
    }
    return out;
}

Status Replica::set_outcome(const Outcome& o, OutboxState state) {
    auto q = db_->query("UPDATE outbox SET state = ?, outcome = ? WHERE seq = ? AND state = 'queued'");
    return q->bind(1, to_string(state)).bind(2, encode_outcome(o)).bind(3, o.seq).run();
}

Status Replica::finish_acked() {
    return db_->exec("UPDATE outbox SET state = 'done' WHERE state = 'acked'");
}

Result<int64_t> Replica::count_queued() {
    auto q = db_->query("SELECT count(*) FROM outbox WHERE state = 'queued'");
    auto r = q->step();
    if (!r) return r.status();
    return q->int64(0);
}

Result<uint64_t> Replica::renumber_queued(uint64_t from, uint64_t above) {
    struct Moving {
        int64_t seq;
        std::string action;
    };
    std::vector<Moving> moving;
    {
        auto q = db_->query("SELECT seq, action FROM outbox WHERE state = 'queued' AND seq >= ? ORDER BY seq");
        q->bind(1, from);
        for (;;) {
            auto r = q->step();
            if (!r) return r.status();
            if (!r.value()) break;
            moving.push_back({q->int64(0), q->text(1)});
        }
    }
    uint64_t base = above;
    {
        auto q = db_->query("SELECT coalesce(max(seq), 0) FROM outbox WHERE NOT (state = 'queued' AND seq >= ?)");
        q->bind(1, from);
        auto r = q->step();
        if (!r) return r.status();
        base = std::max(base, static_cast<uint64_t>(q->int64(0)));
    }
    // Two steps, so that a new number never meets an old one still in place.
    auto park = db_->query("UPDATE outbox SET seq = -seq WHERE seq = ?");
    for (auto& m : moving) {
        TUNDRA_TRY(park->bind(1, m.seq).run());
        park->reset();
    }
    auto put = db_->query("UPDATE outbox SET seq = ?, action = ? WHERE seq = ?");
    for (auto& m : moving) {
        auto a = decode_action(m.action);
        if (!a) return Status(Errc::storage, "corrupt outbox entry: " + a.status().message());
        a.value().seq = ++base;
        TUNDRA_TRY(put->bind(1, a.value().seq).bind(2, encode_action(a.value())).bind(3, -m.seq).run());
        put->reset();
    }
    return base;
}

Result<int64_t> Replica::requeue(const std::string& export_id, const std::vector<Action>& actions,
                                 const HlcClock::WallClock& wall) {
    sqlite::Transaction txn(*db_);
    TUNDRA_TRY(txn.begin());
    ReplicaMeta m = load_meta();
    if (m.token.empty()) return Status(Errc::unauthorized, "not logged in: run `tundra login` first");
    {
        auto q = db_->query("SELECT replayed_ms, actions FROM replayed_exports WHERE export_id = ?");
        q->bind(1, export_id);
        auto r = q->step();
        if (!r) return r.status();
        if (r.value())
            return Status(Errc::conflict, "export " + export_id + " was already replayed here (" +
                                              std::to_string(q->int64(1)) + " action(s) at " +
                                              format_iso8601(q->int64(0)) + "); not queued again");
    }
    HlcClock clock(wall, Hlc{m.hlc});
    auto ins = db_->query(
        "INSERT INTO outbox (seq, type, target, hlc, action, state, created_ms) VALUES (?, ?, ?, "
        "?, ?, 'queued', ?)");
    for (const Action& original : actions) {
        // A fresh seq (the numbers belong to this device's history now), the original stamp
        // and fields: the content hash the server dedupes by stays the same.
        Action a = original;
        a.seq = ++m.last_seq;
        TUNDRA_TRY(validate_action(a, "action " + std::to_string(original.seq)));
        clock.observe(a.hlc);
        TUNDRA_TRY(ins->bind(1, a.seq)
                       .bind(2, a.type)
                       .bind(3, a.target_id())
                       .bind(4, a.hlc.value)
                       .bind(5, encode_action(a))
                       .bind(6, static_cast<int64_t>(wall()))
                       .run());
        ins->reset();
        TUNDRA_TRY(apply_overlay(OutboxEntry{a, OutboxState::queued, {}}, m));
    }
    {
        auto q = db_->query("INSERT INTO replayed_exports (export_id, replayed_ms, actions) VALUES (?, ?, ?)");
        TUNDRA_TRY(q->bind(1, export_id).bind(2, static_cast<int64_t>(wall())).bind(3, static_cast<int64_t>(actions.size())).run());
    }
    m.hlc = clock.last().value;
    TUNDRA_TRY(save_meta(m));
    TUNDRA_TRY(txn.commit());
    return static_cast<int64_t>(actions.size());
}

Result<Action> Replica::dismiss(uint64_t seq) {
    sqlite::Transaction txn(*db_);
    TUNDRA_TRY(txn.begin());
    std::string action;
    {
        auto q = db_->query("SELECT action FROM outbox WHERE seq = ? AND state = 'rejected'");
        q->bind(1, seq);
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) return Status(Errc::not_found, "no rejected action with number " + std::to_string(seq));
        action = q->text(0);
    }
    auto a = decode_action(action);
    if (!a) return Status(Errc::storage, "corrupt outbox entry: " + a.status().message());
    auto q = db_->query("UPDATE outbox SET state = 'dismissed' WHERE seq = ? AND state = 'rejected'");
    TUNDRA_TRY(q->bind(1, seq).run());
    TUNDRA_TRY(restore_shadows());
    TUNDRA_TRY(apply_all_overlays(load_meta()));
    TUNDRA_TRY(txn.commit());
    return a;
}

}  // namespace tundra::client
