#include "replica.h"

#include "tundra/sqlite/rows.h"

#include <filesystem>

namespace tundra::client {
namespace {
std::string sql_type(ColType t) {
    switch (t) {
        case ColType::integer:
        case ColType::boolean: return "INTEGER";
        default: return "TEXT";
    }
}

std::string str(const Row& r, std::string_view k) {
    auto* s = get_str(r, k);
    return s ? *s : std::string();
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
    std::unique_ptr<Replica> r(new Replica(std::move(db.value())));
    TUNDRA_TRY(r->migrate());
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
        {
            auto q = db_->query("SELECT count(*) FROM sqlite_schema");
            auto r = q->step();
            if (!r) return r.status();
            if (q->int64(0) > 0)
                return Status(Errc::storage, "'" + db_->path() + "' is not a Tundra replica");
        }
        sqlite::Transaction txn(*db_);
        TUNDRA_TRY(txn.begin());
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
        TUNDRA_TRY(db_->exec(ddl));
        TUNDRA_TRY(db_->set_user_version(1));
        TUNDRA_TRY(txn.commit());
    }
    if (v < 2) {
        // Version 2: what a full pull after a reset has sent so far.
        sqlite::Transaction txn(*db_);
        TUNDRA_TRY(txn.begin());
        TUNDRA_TRY(db_->exec("CREATE TABLE reset_seen (tbl TEXT NOT NULL, id TEXT NOT NULL, "
                             "PRIMARY KEY (tbl, id)) WITHOUT ROWID"));
        TUNDRA_TRY(db_->set_user_version(2));
        TUNDRA_TRY(txn.commit());
    }
    return Status::ok();
}

std::string Replica::meta(const std::string& key) {
    auto q = db_->query("SELECT value FROM meta WHERE key = ?");
    q->bind(1, key);
    auto r = q->step();
    return r && r.value() ? q->text(0) : std::string();
}

Status Replica::set_meta(const std::string& key, const std::string& value) {
    auto q = db_->query("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
    return q->bind(1, key).bind(2, value).run();
}

Result<std::optional<Row>> Replica::load_row(Kind kind, const std::string& id) {
    return sqlite::load_row(*db_, kind, id);
}

Status Replica::put_row(Kind kind, const Row& row, bool pending, bool local_only) {
    auto& spec = entity(kind);
    std::string params;
    for (size_t i = 0; i < spec.columns.size(); ++i) params += "?, ";
    auto q = db_->query("INSERT OR REPLACE INTO " + std::string(spec.table) + " (" +
                        sqlite::column_list(spec) + ", pending, local_only) VALUES (" + params + "?, ?)");
    int i = 1;
    for (auto& c : spec.columns) {
        auto it = row.find(c.name);
        q->bind_value(i++, it == row.end() ? Value{} : it->second);
    }
    q->bind(i, pending).bind(i + 1, local_only);
    return q->run();
}

Status Replica::delete_row(Kind kind, const std::string& id) {
    auto q = db_->query("DELETE FROM " + std::string(entity(kind).table) + " WHERE id = ?");
    return q->bind(1, id).run();
}

Status Replica::wipe_data() {
    for (auto& e : all_entities()) TUNDRA_TRY(db_->exec("DELETE FROM " + std::string(e.table)));
    TUNDRA_TRY(db_->exec("DELETE FROM outbox; DELETE FROM shadow; DELETE FROM meta; DELETE FROM reset_seen"));
    return Status::ok();
}

Status Replica::mark_seen(Kind kind, const std::string& id) {
    auto q = db_->query("INSERT OR IGNORE INTO reset_seen (tbl, id) VALUES (?, ?)");
    return q->bind(1, entity(kind).table).bind(2, id).run();
}

Result<int64_t> Replica::sweep_unseen() {
    int64_t removed = 0;
    for (auto& e : all_entities()) {
        auto q = db_->query("DELETE FROM " + std::string(e.table) +
                            " WHERE local_only = 0 AND id NOT IN (SELECT id FROM reset_seen WHERE tbl = ?)");
        TUNDRA_TRY(q->bind(1, e.table).run());
        removed += db_->changes();
    }
    TUNDRA_TRY(db_->exec("DELETE FROM reset_seen"));
    return removed;
}

Status Replica::add_to_outbox(const Action& a) {
    auto q = db_->query(
        "INSERT INTO outbox (seq, type, target, hlc, action, state, created_ms) VALUES (?, ?, "
        "?, ?, ?, 'queued', ?)");
    return q->bind(1, a.seq)
        .bind(2, a.type)
        .bind(3, a.target_id())
        .bind(4, a.hlc.value)
        .bind(5, encode_action(a))
        .bind(6, static_cast<int64_t>(wall_clock_ms()))
        .run();
}

Result<std::vector<OutboxEntry>> Replica::outbox(const std::string& states_sql, size_t limit) {
    std::vector<OutboxEntry> out;
    auto q = db_->query("SELECT action, state, outcome FROM outbox WHERE state IN (" + states_sql +
                        ") ORDER BY seq LIMIT ?");
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

// ---- overlay ------------------------------------------------------------------------------
Status Replica::shadow(Kind kind, const std::string& id) {
    auto& spec = entity(kind);
    {
        auto q = db_->query("SELECT 1 FROM shadow WHERE tbl = ? AND id = ?");
        q->bind(1, spec.table).bind(2, id);
        auto r = q->step();
        if (!r) return r.status();
        if (r.value()) return Status::ok();  // the server's version is already saved
    }
    auto row = load_row(kind, id);
    if (!row) return row.status();
    auto q = db_->query("INSERT INTO shadow (tbl, id, row) VALUES (?, ?, ?)");
    q->bind(1, spec.table).bind(2, id);
    if (row.value()) q->bind(3, encode_row(*row.value()));
    else q->bind(3, nullptr);
    return q->run();
}

Status Replica::restore_shadows() {
    struct Saved {
        std::string tbl, id;
        std::optional<std::string> row;
    };
    std::vector<Saved> saved;
    {
        auto q = db_->query("SELECT tbl, id, row FROM shadow");
        for (;;) {
            auto r = q->step();
            if (!r) return r.status();
            if (!r.value()) break;
            saved.push_back({q->text(0), q->text(1), q->opt_text(2)});
        }
    }
    for (auto& s : saved) {
        const EntitySpec* spec = nullptr;
        for (auto& e : all_entities())
            if (e.table == s.tbl) spec = &e;
        if (!spec) continue;
        if (!s.row) {
            TUNDRA_TRY(delete_row(spec->kind, s.id));
        } else {
            auto row = decode_row(*s.row);
            if (!row) return Status(Errc::storage, "corrupt shadow row: " + row.status().message());
            TUNDRA_TRY(put_row(spec->kind, row.value(), false, false));
        }
    }
    return db_->exec("DELETE FROM shadow");
}

Status Replica::apply_overlay(const OutboxEntry& e, const std::string& username,
                              const std::string& device_id) {
    const Action& a = e.action;
    const Row& f = a.fields;
    const std::string& id = a.target_id();
    auto* spec = action_spec(a.type);
    if (!spec) return Status::ok();
    bool queued = e.state == OutboxState::queued;
    auto existing = load_row(spec->target, id);
    if (!existing) return existing.status();
    bool has_server_row = existing.value().has_value();

    if (a.type == "enrol") {
        if (e.state == OutboxState::acked && has_server_row) return Status::ok();
        if (e.state == OutboxState::rejected && has_server_row) return Status::ok();
        Row row{{"id", id},
                {"occasion", str(f, "occasion")},
                {"person", str(f, "person")},
                {"status", std::string("requested")},
                {"reason", Value{}},
                {"acted_hlc", static_cast<int64_t>(a.hlc.value)},
                {"acted_by", username},
                {"updated_hlc", static_cast<int64_t>(a.hlc.value)}};
        bool local_only = false;
        if (e.state == OutboxState::acked) {
            row["status"] = e.outcome.status.empty() ? std::string("requested") : e.outcome.status;
            if (!e.outcome.reason.empty()) row["reason"] = e.outcome.reason;
        } else if (e.state == OutboxState::rejected) {
            row["status"] = std::string("rejected");
            row["reason"] = e.outcome.reason;
            local_only = true;  // the server holds no such row; kept visible until dismissed
        }
        TUNDRA_TRY(shadow(spec->target, id));
        return put_row(spec->target, row, queued, local_only);
    }
    if (a.type == "delete_occasion") {
        if (!has_server_row || e.state == OutboxState::rejected) return Status::ok();
        TUNDRA_TRY(shadow(spec->target, id));
        return delete_row(spec->target, id);
    }
    if (a.type == "cancel_enrolment") {
        if (!has_server_row || e.state == OutboxState::rejected) return Status::ok();
        Row row = *existing.value();
        if (str(row, "status") == "cancelled") return Status::ok();
        row["status"] = std::string("cancelled");
        row["reason"] = Value{};
        TUNDRA_TRY(shadow(spec->target, id));
        return put_row(spec->target, row, queued, false);
    }
    if (e.state != OutboxState::queued) {
        // Marks acknowledged but not yet pulled stay visible; edits wait for the pull.
        if (a.type != "mark_attendance" || e.state != OutboxState::acked || has_server_row)
            return Status::ok();
    }
    Row row;
    if (a.type == "mark_attendance") {
        row = Row{{"id", id},
                  {"occasion", str(f, "occasion")},
                  {"person", str(f, "person")},
                  {"status", str(f, "status")},
                  {"minutes", f.count("minutes") ? f.at("minutes") : Value{}},
                  {"recorded_by", username},
                  {"source", std::string(str(f, "person") == meta("person") ? "self_check_in" : "coordinator")},
                  {"hlc", static_cast<int64_t>(a.hlc.value)},
                  {"device", device_id}};
    } else {
        // Edits and records: the action's fields over the current row.
        row = has_server_row ? *existing.value() : Row{{"id", id}};
        for (auto& [k, v] : f)
            if (k != spec->id_field) row[k] = v;
        if (a.type == "attest_time" || a.type == "submit_survey" || a.type == "log_deviation")
            row["hlc"] = static_cast<int64_t>(a.hlc.value);
        if (a.type == "log_deviation" && !row.count("status")) row["status"] = std::string("open");
        if (a.type == "upsert_occasion" && !has_server_row) {
            row["status"] = f.count("status") ? f.at("status") : Value(std::string("planned"));
            row["confirmed"] = int64_t{0};
            row["waitlisted"] = int64_t{0};
        }
    }
    TUNDRA_TRY(shadow(spec->target, id));
    return put_row(spec->target, row, queued, false);
}

Status Replica::apply_all_overlays(const std::string& username, const std::string& device_id) {
    auto entries = outbox("'queued', 'acked', 'rejected'");
    if (!entries) return entries.status();
    for (auto& e : entries.value()) TUNDRA_TRY(apply_overlay(e, username, device_id));
    return Status::ok();
}

}  // namespace tundra::client
