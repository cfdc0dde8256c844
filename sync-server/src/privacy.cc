// GDPR rights on the server: erasure (the person leaves every replica; their ESF data stays,
// pseudonymised and server-only) and access (everything held about a person, as JSON); the
// refusal of later actions about an erased person. See docs/security.md.
#include "store_internal.h"
#include "tundra/core/crypto.h"
#include "tundra/core/cursor.h"
#include "tundra/core/json.h"
#include "tundra/sql/rows.h"

namespace tundra::server {
namespace {
// The kinds whose rows are about one person (`person` column): they follow the person.
constexpr Kind kPersonRows[] = {Kind::participation, Kind::enrolment, Kind::attendance,
                                Kind::time_attestation, Kind::survey_response};

std::string str(const Row& r, std::string_view k) {
    auto* s = get_str(r, k);
    return s ? *s : std::string();
}
}  // namespace

// ---- pseudonyms and the refusal -----------------------------------------------------------
Result<std::string> SqlStore::Impl::pseudonym(const std::string& person_id) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        {
            auto q = db.query("SELECT value FROM meta WHERE key = 'pseudonym_key'");
            auto r = q->step();
            if (!r) return r.status();
            if (r.value()) return "x-" + hmac_sha256_hex(q->text(0), person_id).substr(0, 32);
        }
        // Made by schema v4; a store migrated to v4 before the key existed gets it here.
        // The secret comes from here, not SQL (randomblob is SQLite's); ON CONFLICT DO NOTHING
        // rather than INSERT OR IGNORE: both backends accept it.
        auto ins = db.query("INSERT INTO meta VALUES ('pseudonym_key', ?) ON CONFLICT DO NOTHING");
        TUNDRA_TRY(ins->bind(1, random_hex(32)).run());
    }
    return Status(Errc::storage, "no pseudonym key in meta");
}

Result<bool> SqlStore::Impl::is_erased_id(const std::string& id) {
    auto q = db.query("SELECT 1 FROM persons WHERE id = ? AND erased = 1");
    q->bind(1, id);
    auto r = q->step();
    if (!r) return r.status();
    return r.value();
}

Result<bool> SqlStore::Impl::is_erased_person(const std::string& id) {
    if (id.empty()) return false;
    auto direct = is_erased_id(id);
    if (!direct || direct.value()) return direct;
    // The old id: erased when its pseudonym is. Cheap when nobody was ever erased.
    {
        auto any = db.query("SELECT 1 FROM persons WHERE erased = 1 LIMIT 1");
        auto r = any->step();
        if (!r) return r.status();
        if (!r.value()) return false;
    }
    auto p = pseudonym(id);
    if (!p) return p.status();
    return is_erased_id(p.value());
}

Result<std::optional<Outcome>> SqlStore::Impl::refuse_if_erased(const Action& a) {
    // The person an action writes about: its `person` field, or the person of the
    // enrolment it changes.
    std::string person = str(a.fields, "person");
    if (person.empty()) {
        if (auto* e = get_str(a.fields, "enrolment")) {
            auto q = db.query("SELECT person FROM enrolments WHERE id = ?");
            q->bind(1, *e);
            auto r = q->step();
            if (!r) return r.status();
            if (r.value()) person = q->text(0);
        }
    }
    auto erased = is_erased_person(person);
    if (!erased) return erased.status();
    if (!erased.value()) return std::optional<Outcome>();
    return std::optional<Outcome>(make_outcome(
        a, OutcomeResult::rejected, reasons::kErased,
        "this person's data was erased at their request (GDPR); nothing more is recorded about them"));
}

// ---- erasure ------------------------------------------------------------------------------
namespace {
// Runs one statement with positional arguments; returns the rows it changed.
template <class... A>
Result<int64_t> change(sql::Db& db, const std::string& sql, const A&... args) {
    auto q = db.query(sql);
    int i = 0;
    (q->bind(++i, args), ...);
    TUNDRA_TRY(q->run());
    return db.changes();
}

Result<std::vector<std::string>> column_of(sql::Db& db, const std::string& sql, const std::string& arg) {
    std::vector<std::string> out;
    auto q = db.query(sql);
    q->bind(1, arg);
    for (;;) {
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) break;
        out.push_back(q->text(0));
    }
    return out;
}
}  // namespace

#define TUNDRA_COUNT(var, expr)            \
    do {                                   \
        auto n_ = (expr);                  \
        if (!n_) return n_.status();       \
        var += n_.value();                 \
    } while (0)

Result<ErasureReport> SqlStore::erase_person(const std::string& person_id, const std::string& actor) {
    std::lock_guard lock(mu_);
    auto& I = *impl_;
    ErasureReport rep;
    {
        sql::Transaction txn(*db_);
        TUNDRA_TRY(txn.begin());
        TUNDRA_TRY(I.load_meta());
        I.now_ms = static_cast<int64_t>(opts_.wall());
        uint64_t version_before = I.version;
        Impl::VersionGuard restore{I, version_before};

        auto p = I.pseudonym(person_id);
        if (!p) return p.status();
        rep.pseudonym = p.value();
        auto row = I.load_row(Kind::person, person_id);
        if (!row) return row.status();
        if (!row.value()) {
            auto erased = I.is_erased_person(person_id);
            if (!erased) return erased.status();
            if (!erased.value()) return Status(Errc::not_found, "no person '" + person_id + "'");
            rep.already_erased = true;
            auto direct = I.is_erased_id(person_id);
            if (direct && direct.value()) rep.pseudonym = person_id;
        } else if (row.value()->count("erased") && row.value()->at("erased") == Value(true)) {
            rep.already_erased = true;
            rep.pseudonym = person_id;
        }
        if (!rep.already_erased) {
            const std::string& id = person_id;
            const std::string& x = rep.pseudonym;
            const std::string name = str(*row.value(), "name");
            // 1. Off every replica: the person and every row about them.
            TUNDRA_TRY(I.tombstone(Kind::person, "id = ?", id));
            for (Kind k : kPersonRows) TUNDRA_TRY(I.tombstone(k, "person = ?", id));
            // 2. Seats held on occasions still to come are freed.
            std::string now_iso = format_iso8601(I.now_ms);
            std::vector<std::string> occasions;
            {
                auto q = db_->query(
                    "SELECT DISTINCT occasion FROM enrolments WHERE person = ? AND status IN ('requested', "
                    "'confirmed', 'waitlisted') AND occasion IN (SELECT id FROM occasions WHERE ends_at > ?)");
                q->bind(1, id).bind(2, now_iso);
                for (;;) {
                    auto r = q->step();
                    if (!r) return r.status();
                    if (!r.value()) break;
                    occasions.push_back(q->text(0));
                }
            }
            for (auto& o : occasions)
                TUNDRA_COUNT(rep.enrolments_cancelled,
                             change(*db_,
                                    "UPDATE enrolments SET status = 'cancelled', reason = 'erased', "
                                    "waitlist_position = NULL, version = ? "
                                    "WHERE person = ? AND occasion = ? AND status IN ('requested', 'confirmed', "
                                    "'waitlisted')",
                                    static_cast<int64_t>(I.next_version()), id, o));
            // 3. The ESF row under the pseudonym: no name, identity number, site or profession.
            TUNDRA_TRY(change(*db_,
                              "INSERT INTO persons (id, organisation, site, name, gender, birth_year, profession, "
                              "education_level, employment_status, erased, personal_id, version) SELECT ?, "
                              "organisation, NULL, '', gender, birth_year, NULL, education_level, "
                              "employment_status, 1, NULL, ? FROM persons WHERE id = ?",
                              x, static_cast<int64_t>(I.next_version()), id)
                           .status());
            for (Kind k : kPersonRows)
                TUNDRA_COUNT(rep.rows_moved, change(*db_, "UPDATE " + std::string(entity(k).table) +
                                                              " SET person = ? WHERE person = ?",
                                                    x, id));
            TUNDRA_COUNT(rep.comments_cleared,
                         change(*db_, "UPDATE survey_responses SET comment = NULL WHERE person = ? AND comment IS NOT NULL", x));
            // 4. Their logins: credentials and tokens gone, devices revoked (their exactly-once
            //    memory stays), the username replaced wherever it was written.
            auto users = column_of(*db_, "SELECT username FROM users WHERE person = ?", id);
            if (!users) return users.status();
            for (auto& u : users.value()) {
                auto pu = I.pseudonym("user:" + u);
                if (!pu) return pu.status();
                const std::string& xu = pu.value();
                TUNDRA_TRY(change(*db_,
                                  "INSERT INTO users (username, password_hash, role, person, created_at, revoked) "
                                  "SELECT ?, '', role, ?, created_at, 1 FROM users WHERE username = ?",
                                  xu, x, u)
                               .status());
                // The token hash becomes one no token hashes to (a SHA-256 is hex only).
                TUNDRA_COUNT(rep.devices_revoked,
                             change(*db_,
                                    "UPDATE devices SET username = ?, revoked = 1, name = NULL, token_expires_ms = 0, "
                                    "token_hash = 'erased-' || id WHERE username = ?",
                                    xu, u));
                TUNDRA_TRY(change(*db_, "DELETE FROM user_sites WHERE username = ?", u).status());
                TUNDRA_TRY(change(*db_, "DELETE FROM console_sessions WHERE username = ?", u).status());
                TUNDRA_TRY(change(*db_, "DELETE FROM login_throttle WHERE key = ?", "user:" + u).status());
                TUNDRA_TRY(change(*db_, "DELETE FROM users WHERE username = ?", u).status());
                ++rep.users_removed;
                // Rows that name them as the one who acted stay on devices: new versions.
                auto v = static_cast<int64_t>(I.next_version());
                TUNDRA_TRY(change(*db_, "UPDATE enrolments SET acted_by = ?, version = ? WHERE acted_by = ?", xu, v, u)
                               .status());
                TUNDRA_TRY(change(*db_, "UPDATE attendance SET recorded_by = ?, version = ? WHERE recorded_by = ?",
                                  xu, v, u)
                               .status());
                TUNDRA_TRY(change(*db_, "UPDATE audit_log SET actor = ? WHERE actor = ?", xu, u).status());
                TUNDRA_TRY(change(*db_, "UPDATE audit_log SET target = ? WHERE target = ?", xu, u).status());
                TUNDRA_TRY(change(*db_,
                                  "UPDATE applied_actions SET outcome = " + db_->json_set("outcome", "message", "CAST('' AS TEXT)") +
                                      " WHERE " + db_->contains("outcome", "?"),
                                  u)
                               .status());
            }
            // 5. Their name in others' free text (deviations), replaced where it is written out.
            if (name.size() >= 3)
                TUNDRA_COUNT(rep.texts_redacted,
                             change(*db_,
                                    "UPDATE deviations SET description = replace(description, CAST(?1 AS TEXT), "
                                    "'[erased]'), action_taken = replace(action_taken, CAST(?1 AS TEXT), '[erased]'), "
                                    "version = ?2 WHERE " +
                                        db_->contains("description", "CAST(?1 AS TEXT)") + " OR " +
                                        db_->contains("coalesce(action_taken, '')", "CAST(?1 AS TEXT)"),
                                    name, static_cast<int64_t>(I.next_version())));
            TUNDRA_TRY(change(*db_, "UPDATE audit_log SET target = ? WHERE target = ?", x, id).status());
            TUNDRA_TRY(change(*db_,
                              "UPDATE applied_actions SET outcome = " + db_->json_set("outcome", "message", "CAST('' AS TEXT)") +
                                  " WHERE " + db_->contains("outcome", "?"),
                              "'" + id + "'")
                           .status());
            TUNDRA_TRY(change(*db_, "DELETE FROM field_stamps WHERE kind = 'person' AND id = ?", id).status());
            // 6. The row itself (secure_delete: its bytes are overwritten).
            TUNDRA_TRY(change(*db_, "DELETE FROM persons WHERE id = ?", id).status());
            // 7. The report facts (reports.md): every fact about them, as of any moment, now
            //    under the pseudonym without personal fields, so every past report still
            //    counts them in the same cells. The deletion of the old row is no fact: the
            //    person goes on under the pseudonym.
            TUNDRA_TRY(change(*db_, "DELETE FROM report_facts WHERE kind = 'person' AND id = ? AND data IS NULL", id)
                           .status());
            TUNDRA_TRY(change(*db_,
                              "UPDATE report_facts SET id = ?1, person = ?1, data = " +
                                  db_->json_set(
                                      db_->json_set(
                                          db_->json_set(db_->json_remove(db_->json_remove("data", "personal_id"), "site"),
                                                        "id", "CAST(?1 AS TEXT)"),
                                          "erased", "1"),
                                      "provisional", "0") +
                                  " WHERE kind = 'person' AND id = ?2 AND data IS NOT NULL",
                              x, id)
                           .status());
            TUNDRA_TRY(change(*db_,
                              "UPDATE report_facts SET person = ?1, data = CASE WHEN data IS NULL THEN NULL "
                              "ELSE " + db_->json_set("data", "person", "CAST(?1 AS TEXT)") +
                                  " END WHERE person = ?2 AND kind <> 'person'",
                              x, id)
                           .status());
            if (name.size() >= 3)
                TUNDRA_TRY(change(*db_,
                                  "UPDATE report_facts SET data = " +
                                      db_->json_set(db_->json_set("data", "description",
                                                                  "replace(" + db_->json_text("data", "description") +
                                                                      ", CAST(?1 AS TEXT), '[erased]')"),
                                                    "action_taken",
                                                    "replace(" + db_->json_text("data", "action_taken") +
                                                        ", CAST(?1 AS TEXT), '[erased]')") +
                                      " WHERE kind = 'deviation' AND data IS NOT NULL AND (" +
                                      db_->contains(db_->json_text("data", "description"), "CAST(?1 AS TEXT)") + " OR " +
                                      db_->contains("coalesce(" + db_->json_text("data", "action_taken") + ", '')",
                                                    "CAST(?1 AS TEXT)") +
                                      ")",
                                  name)
                               .status());
            for (auto& o : occasions) TUNDRA_TRY(I.reallocate(o));
        }
        // The audit entry, in the same transaction: the pseudonym and counts, never the name.
        rapidjson::StringBuffer buf;
        json::Writer w(buf);
        w.StartObject();
        w.Key("already_erased");
        w.Bool(rep.already_erased);
        for (auto [k, v] : {std::pair{"rows_moved", rep.rows_moved}, {"enrolments_cancelled", rep.enrolments_cancelled},
                            {"comments_cleared", rep.comments_cleared}, {"users_removed", rep.users_removed},
                            {"devices_revoked", rep.devices_revoked}, {"texts_redacted", rep.texts_redacted}}) {
            w.Key(k);
            w.Int64(v);
        }
        w.EndObject();
        TUNDRA_TRY(change(*db_,
                          "INSERT INTO audit_log (at_ms, actor, operation, target, detail) VALUES (?, ?, "
                          "'erase_person', ?, ?)",
                          I.now_ms, actor, rep.pseudonym, std::string(buf.GetString(), buf.GetSize()))
                       .status());
        TUNDRA_TRY(I.save_meta());
        TUNDRA_TRY(txn.commit());
        restore.armed = false;
    }
    // The WAL still holds the old pages until it is copied back and truncated.
    rep.wal_truncated = db_->checkpoint_truncate().is_ok();
    return rep;
}

// ---- access -------------------------------------------------------------------------------
namespace {
// Writes every row a query selects as a JSON array of objects (columns by name).
Status put_rows(json::Writer& w, sql::Db& db, const std::string& sql, const std::vector<std::string>& args) {
    auto q = db.query(sql);
    for (size_t i = 0; i < args.size(); ++i) q->bind(static_cast<int>(i + 1), args[i]);
    w.StartArray();
    for (;;) {
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) break;
        w.StartObject();
        for (int c = 0; c < q->column_count(); ++c) {
            w.Key(q->column_name(c).c_str());
            if (q->is_null(c)) w.Null();
            else if (q->is_integer(c)) w.Int64(q->int64(c));
            else json::put(w, q->text(c));
        }
        w.EndObject();
    }
    w.EndArray();
    return Status::ok();
}
}  // namespace

Result<std::string> SqlStore::export_person(const std::string& person_id, const std::string& actor) {
    std::lock_guard lock(mu_);
    auto& I = *impl_;
    sql::Transaction txn(*db_);
    TUNDRA_TRY(txn.begin());
    {
        auto q = db_->query("SELECT erased FROM persons WHERE id = ?");
        q->bind(1, person_id);
        auto r = q->step();
        if (!r) return r.status();
        bool erased = r.value() && q->int64(0) != 0;
        if (!r.value()) {
            auto e = I.is_erased_person(person_id);
            if (!e) return e.status();
            erased = e.value();
        }
        if (erased)
            return Status(Errc::not_found, "person '" + person_id +
                                               "' was erased: only pseudonymised ESF data remains, "
                                               "which is no longer linked to them");
        if (!r.value()) return Status(Errc::not_found, "no person '" + person_id + "'");
    }
    std::vector<std::string> users;
    {
        auto u = column_of(*db_, "SELECT username FROM users WHERE person = ? ORDER BY username", person_id);
        if (!u) return u.status();
        users = u.value();
    }
    rapidjson::StringBuffer buf;
    json::Writer w(buf);
    w.StartObject();
    w.Key("person_id");
    json::put(w, person_id);
    w.Key("exported_at");
    json::put(w, format_iso8601(static_cast<int64_t>(opts_.wall())));
    w.Key("person");
    TUNDRA_TRY(put_rows(w, *db_,
                        "SELECT id, organisation, site, name, gender, birth_year, profession, education_level, "
                        "employment_status, personal_id FROM persons WHERE id = ?",
                        {person_id}));
    struct Section {
        const char* key;
        std::string sql;
    };
    const Section per_person[] = {
        {"enrolments", "SELECT id, occasion, status, reason, acted_by, acted_hlc FROM enrolments WHERE person = ? ORDER BY id"},
        {"attendance", "SELECT id, occasion, status, minutes, recorded_by, source, hlc FROM attendance WHERE person = ? ORDER BY id"},
        {"time_attestations", "SELECT id, month, minutes, hlc FROM time_attestations WHERE person = ? ORDER BY id"},
        {"survey_responses", "SELECT id, occasion, rating_content, rating_usefulness, rating_overall, comment, hlc FROM survey_responses WHERE person = ? ORDER BY id"},
        {"participations", "SELECT id, start_month, end_month FROM participations WHERE person = ? ORDER BY id"},
    };
    for (auto& s : per_person) {
        w.Key(s.key);
        TUNDRA_TRY(put_rows(w, *db_, s.sql, {person_id}));
    }
    auto per_user = [&](const char* key, const std::string& sql) -> Status {
        w.Key(key);
        w.StartArray();
        for (auto& u : users) {
            rapidjson::StringBuffer inner;
            json::Writer iw(inner);
            TUNDRA_TRY(put_rows(iw, *db_, sql, {u}));
            // Splice the inner array's elements into this one.
            std::string arr(inner.GetString(), inner.GetSize());
            rapidjson::Document d;
            TUNDRA_TRY(json::parse(arr, d));
            for (auto& e : d.GetArray()) e.Accept(w);
        }
        w.EndArray();
        return Status::ok();
    };
    // Never the password hash or a token hash: whether they exist is enough.
    TUNDRA_TRY(per_user("users", "SELECT username, role, created_at, revoked, "
                                 "CASE WHEN password_hash <> '' THEN 1 ELSE 0 END AS has_password, "
                                 "(SELECT " + db_->group_concat("site") +
                                     " FROM user_sites s WHERE s.username = u.username) AS sites "
                                     "FROM users u WHERE username = ?"));
    TUNDRA_TRY(per_user("devices", "SELECT id, name, created_at, revoked, last_seen_ms, last_seq FROM devices "
                                   "WHERE username = ? ORDER BY id"));
    // Audit entries naming them (by person id or username, as actor, target or in detail).
    {
        std::string sql = "SELECT at_ms, actor, operation, target, detail FROM audit_log WHERE target = ?1 OR " +
                          db_->contains("detail", "CAST(?1 AS TEXT)");
        for (size_t i = 0; i < users.size(); ++i) {
            std::string n = "?" + std::to_string(i + 2);
            sql += " OR actor = " + n + " OR target = " + n + " OR " + db_->contains("detail", "CAST(" + n + " AS TEXT)");
        }
        sql += " ORDER BY id";
        std::vector<std::string> args{person_id};
        args.insert(args.end(), users.begin(), users.end());
        w.Key("audit");
        TUNDRA_TRY(put_rows(w, *db_, sql, args));
    }
    w.EndObject();
    std::string out(buf.GetString(), buf.GetSize());
    // Reading personal data is itself audited (who asked, whose data).
    TUNDRA_TRY(change(*db_,
                      "INSERT INTO audit_log (at_ms, actor, operation, target, detail) VALUES (?, ?, 'export_person', ?, '{}')",
                      static_cast<int64_t>(opts_.wall()), actor, person_id)
                   .status());
    TUNDRA_TRY(txn.commit());
    return out;
}

}  // namespace tundra::server
