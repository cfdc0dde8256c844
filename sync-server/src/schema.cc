// Server schema and its migrations (PRAGMA user_version). See docs/schema.md.
#include "schema.h"

#include <string>
#include <vector>

namespace tundra::server {
namespace {
// Version 1. Every synced table has `version`: a store-wide counter bumped whenever the row
// changes; pulls read rows with version > cursor. Server-only columns are marked.
constexpr const char* kSchemaV1 = R"SQL(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('version', '0'), ('hlc', '0');

CREATE TABLE organisations (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, county TEXT NOT NULL,
  version INTEGER NOT NULL);
CREATE TABLE sites (
  id TEXT PRIMARY KEY, organisation TEXT NOT NULL REFERENCES organisations(id),
  name TEXT NOT NULL, version INTEGER NOT NULL);
CREATE TABLE persons (
  id TEXT PRIMARY KEY, organisation TEXT NOT NULL REFERENCES organisations(id),
  site TEXT REFERENCES sites(id), name TEXT NOT NULL, gender TEXT NOT NULL,
  birth_year INTEGER, profession TEXT, education_level TEXT, employment_status TEXT,
  erased INTEGER NOT NULL DEFAULT 0,
  personal_id TEXT,            -- server only: never synced, admins only
  version INTEGER NOT NULL);
CREATE INDEX persons_site ON persons(site);
CREATE TABLE participations (
  id TEXT PRIMARY KEY, person TEXT NOT NULL REFERENCES persons(id),
  start_month TEXT NOT NULL, end_month TEXT, version INTEGER NOT NULL);
CREATE TABLE courses (
  id TEXT PRIMARY KEY, title TEXT NOT NULL, description TEXT, theme TEXT,
  format TEXT NOT NULL, provider TEXT, duration_minutes INTEGER,
  organisations TEXT NOT NULL DEFAULT '[]',  -- JSON array, mirrored in course_organisations
  published INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL);
CREATE TABLE course_organisations (
  course TEXT NOT NULL REFERENCES courses(id), organisation TEXT NOT NULL,
  PRIMARY KEY (course, organisation)) WITHOUT ROWID;
CREATE TABLE occasions (
  id TEXT PRIMARY KEY, course TEXT NOT NULL REFERENCES courses(id),
  starts_at TEXT NOT NULL, ends_at TEXT NOT NULL, site TEXT, online_link TEXT,
  capacity INTEGER NOT NULL, enrolment_opens TEXT, enrolment_closes TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'planned',
  confirmed INTEGER NOT NULL DEFAULT 0, waitlisted INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL);
CREATE INDEX occasions_course ON occasions(course);
CREATE TABLE enrolments (
  id TEXT PRIMARY KEY, occasion TEXT NOT NULL REFERENCES occasions(id),
  person TEXT NOT NULL REFERENCES persons(id), status TEXT NOT NULL, reason TEXT,
  acted_hlc INTEGER NOT NULL,  -- fair-order stamp (device HLC raised to its stamp floor)
  acted_by TEXT, updated_hlc INTEGER NOT NULL,
  device TEXT,                 -- server only: tie-break for equal stamps
  version INTEGER NOT NULL);
CREATE INDEX enrolments_occasion ON enrolments(occasion, status);
CREATE INDEX enrolments_person ON enrolments(person);
CREATE TABLE attendance (
  id TEXT PRIMARY KEY, occasion TEXT NOT NULL REFERENCES occasions(id),
  person TEXT NOT NULL REFERENCES persons(id), status TEXT NOT NULL, minutes INTEGER,
  recorded_by TEXT, source TEXT NOT NULL, hlc INTEGER NOT NULL, device TEXT,
  version INTEGER NOT NULL);
CREATE INDEX attendance_occasion_person ON attendance(occasion, person, hlc);
CREATE INDEX attendance_person ON attendance(person);
CREATE TABLE time_attestations (
  id TEXT PRIMARY KEY, person TEXT NOT NULL REFERENCES persons(id), month TEXT NOT NULL,
  minutes INTEGER NOT NULL, hlc INTEGER NOT NULL, version INTEGER NOT NULL,
  UNIQUE (person, month));
CREATE TABLE survey_responses (
  id TEXT PRIMARY KEY, occasion TEXT NOT NULL REFERENCES occasions(id),
  person TEXT NOT NULL REFERENCES persons(id), rating_content INTEGER NOT NULL,
  rating_usefulness INTEGER NOT NULL, rating_overall INTEGER NOT NULL, comment TEXT,
  hlc INTEGER NOT NULL, version INTEGER NOT NULL, UNIQUE (occasion, person));
CREATE TABLE deviations (
  id TEXT PRIMARY KEY, organisation TEXT NOT NULL REFERENCES organisations(id),
  occasion TEXT, category TEXT NOT NULL, description TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open', action_taken TEXT, hlc INTEGER NOT NULL,
  version INTEGER NOT NULL);

-- Per-field last-writer-wins stamps for editable rows (courses, occasions, persons,
-- deviations): the (hlc, device) of the edit that set the field's current value.
CREATE TABLE field_stamps (
  kind TEXT NOT NULL, id TEXT NOT NULL, field TEXT NOT NULL, hlc INTEGER NOT NULL,
  device TEXT NOT NULL, PRIMARY KEY (kind, id, field)) WITHOUT ROWID;

CREATE TABLE users (
  username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL,
  person TEXT REFERENCES persons(id), created_at TEXT NOT NULL);
CREATE TABLE user_sites (
  username TEXT NOT NULL REFERENCES users(username), site TEXT NOT NULL REFERENCES sites(id),
  PRIMARY KEY (username, site)) WITHOUT ROWID;
-- The organisations a user belongs to: a participant's person's, a coordinator's sites'.
CREATE VIEW user_orgs AS
  SELECT u.username AS username, p.organisation AS organisation
    FROM users u JOIN persons p ON p.id = u.person
  UNION
  SELECT us.username, s.organisation FROM user_sites us JOIN sites s ON s.id = us.site;

CREATE TABLE devices (
  id TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES users(username),
  name TEXT, token_hash TEXT NOT NULL UNIQUE, token_expires_ms INTEGER NOT NULL,
  created_at TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0,
  last_seq INTEGER NOT NULL DEFAULT 0,       -- highest action seq applied
  last_sync_hlc INTEGER NOT NULL DEFAULT 0,  -- server HLC at the last completed round
  last_seen_ms INTEGER);
-- Idempotency memory: the outcome of every applied action, returned again on a retry.
CREATE TABLE applied_actions (
  device TEXT NOT NULL, seq INTEGER NOT NULL, outcome TEXT NOT NULL, applied_ms INTEGER NOT NULL,
  PRIMARY KEY (device, seq)) WITHOUT ROWID;
)SQL";

// Version 2: deletions travel as tombstones; a device's scope is remembered so that a change
// of scope (sites, person, role) rebuilds its replica.
constexpr const char* kSchemaV2 = R"SQL(
CREATE TABLE tombstones (
  version INTEGER PRIMARY KEY,  -- from the same counter as row versions
  kind TEXT NOT NULL, id TEXT NOT NULL, deleted_ms INTEGER NOT NULL);
CREATE INDEX tombstones_deleted ON tombstones(deleted_ms);
INSERT INTO meta VALUES ('tombstone_floor', '0'), ('last_purge_ms', '0');
ALTER TABLE devices ADD COLUMN scope_hash TEXT NOT NULL DEFAULT '';
-- While a device's cursor is below this, it is in a full pull that a reset started.
ALTER TABLE devices ADD COLUMN full_pull_until INTEGER NOT NULL DEFAULT 0;
)SQL";

// Version 3 (protocol v2): exactly-once by content — each (device, seq) remembers a hash of
// the action, kept for good with its outcome (only the message text is dropped after the
// retention); cursors are signed with a secret of this store; a device's stamp floor starts
// at its login.
constexpr const char* kSchemaV3 = R"SQL(
ALTER TABLE applied_actions ADD COLUMN hash TEXT NOT NULL DEFAULT '';
CREATE INDEX applied_actions_applied ON applied_actions(applied_ms);
CREATE INDEX applied_actions_hash ON applied_actions(device, hash);
INSERT INTO meta VALUES ('cursor_key', lower(hex(randomblob(32))));
)SQL";

// Version 4 (issue 8, safe on the internet): failed-login throttling shared by every server
// process, an audit trail of admin operations, revocable users.
constexpr const char* kSchemaV4 = R"SQL(
-- One row per throttled key ('user:<name>' or 'addr:<ip>'); only failures are counted.
CREATE TABLE login_throttle (
  key TEXT PRIMARY KEY, failures INTEGER NOT NULL, last_failure_ms INTEGER NOT NULL,
  blocked_until_ms INTEGER NOT NULL) WITHOUT ROWID;
-- Rows with no recent failure are purged (login_throttle.cc): the table holds only keys that
-- failed recently, however many usernames an attacker sprays.
CREATE INDEX login_throttle_last ON login_throttle(last_failure_ms);
-- Admin operations (imports, user changes, revocations, erasures): who, what, when (UTC ms).
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, actor TEXT NOT NULL,
  operation TEXT NOT NULL, target TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '{}');
CREATE INDEX audit_log_at ON audit_log(at_ms);
ALTER TABLE users ADD COLUMN revoked INTEGER NOT NULL DEFAULT 0;
-- What each device stored per UTC day (day = ms / 86400000): its daily quota.
CREATE TABLE action_quota (
  device TEXT NOT NULL, day INTEGER NOT NULL, actions INTEGER NOT NULL, bytes INTEGER NOT NULL,
  PRIMARY KEY (device, day)) WITHOUT ROWID;
-- GDPR erasure (privacy.cc): erased persons are looked up on every pull and action; the
-- pseudonym of an erased person is "x-" + HMAC-SHA256(pseudonym_key, old id).
CREATE INDEX IF NOT EXISTS persons_erased ON persons(id) WHERE erased = 1;
INSERT OR IGNORE INTO meta VALUES ('pseudonym_key', lower(hex(randomblob(32))));
)SQL";

// Version 5 (issue 9, the programme's outputs): occasions carry when their survey closes;
// walk-ins register provisional persons; deviation categories are an enumeration; months are
// sealed; and an append-only record of report facts makes every report reproducible as of
// any past moment (reports.md).
constexpr const char* kSchemaV5 = R"SQL(
CREATE INDEX IF NOT EXISTS persons_personal_id ON persons(personal_id) WHERE personal_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS participations_person ON participations(person);
-- Free-text categories of earlier releases: kept in the description, category 'other'.
UPDATE deviations SET description = description || ' [' || category || ']', category = 'other'
 WHERE category NOT IN ('cancelled_session', 'technical', 'attendance', 'content',
                        'accessibility', 'other');
-- Report facts: one row per change of a report-relevant row, written by the triggers below
-- (so no code path can forget one), stamped with the server's clock when it was written.
-- `data` is the row's report columns as JSON; NULL records a deletion. Append-only, except
-- that erasing a person (GDPR) rewrites their facts under the pseudonym.
CREATE TABLE IF NOT EXISTS report_facts (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, kind TEXT NOT NULL,
  id TEXT NOT NULL, person TEXT, data TEXT);
CREATE INDEX IF NOT EXISTS report_facts_at ON report_facts(at_ms);
CREATE INDEX IF NOT EXISTS report_facts_kind_id ON report_facts(kind, id);
CREATE INDEX IF NOT EXISTS report_facts_person ON report_facts(person) WHERE person IS NOT NULL;
-- Sealed months: reported, and reported again as of this moment unless asked otherwise.
CREATE TABLE IF NOT EXISTS report_seals (
  month TEXT PRIMARY KEY, sealed_ms INTEGER NOT NULL, actor TEXT NOT NULL) WITHOUT ROWID;
)SQL";

// Version 6 (issue 10, the tablet app): a device identity remembers the tablet it runs on
// (the install id every person's identity on one tablet shares, so the console can show and
// revoke a whole tablet) and the app's version; an enrolment carries its place on the
// waitlist (columns added in migrate()). Enrolment report facts keep their columns: a
// position is no report fact, so renumbering a waitlist writes none.
constexpr const char* kSchemaV6 = R"SQL(
CREATE INDEX IF NOT EXISTS devices_install_id ON devices(install_id);
-- The waitlists as they stand, numbered in seat order (acted_hlc, device, id: core seats.cc),
-- each renumbered row under a new version of its own so that devices pull it.
WITH numbered AS (
  SELECT id, row_number() OVER (PARTITION BY occasion
                                ORDER BY acted_hlc, coalesce(device, ''), id) AS place
    FROM enrolments WHERE status = 'waitlisted'),
moved AS (
  SELECT n.id, n.place, row_number() OVER (ORDER BY n.id) AS k
    FROM numbered n JOIN enrolments e ON e.id = n.id WHERE e.waitlist_position IS NOT n.place)
UPDATE enrolments SET waitlist_position = moved.place,
  version = (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'version') + moved.k
  FROM moved WHERE enrolments.id = moved.id;
UPDATE meta SET value = CAST(max(CAST(value AS INTEGER),
                                 (SELECT coalesce(max(version), 0) FROM enrolments)) AS TEXT)
 WHERE key = 'version';
)SQL";

// Version 7 (issue 11, the project console): console sessions live in the store, so any
// server process answers any request of a signed-in user. Only the token's hash is kept.
constexpr const char* kSchemaV7 = R"SQL(
CREATE TABLE IF NOT EXISTS console_sessions (
  token_hash TEXT PRIMARY KEY, username TEXT NOT NULL, csrf TEXT NOT NULL,
  lang TEXT NOT NULL DEFAULT 'sv', created_ms INTEGER NOT NULL, seen_ms INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS console_sessions_username ON console_sessions(username);
CREATE INDEX IF NOT EXISTS console_sessions_seen ON console_sessions(seen_ms);
)SQL";

// json_object('id', R.id, ...) over row alias R ("NEW" or "OLD", or a table for the backfill).
std::string fact_json(const FactSource& f, const std::string& r) {
    std::string out = "json_object(";
    for (size_t i = 0; i < f.columns.size(); ++i) {
        if (i) out += ", ";
        out += std::string("'") + f.columns[i] + "', " + r + "." + f.columns[i];
    }
    return out + ")";
}

std::string fact_triggers(const FactSource& f) {
    std::string person_new = f.person ? std::string("NEW.") + f.person : "NULL";
    std::string person_old = f.person ? std::string("OLD.") + f.person : "NULL";
    std::string ins = std::string("INSERT INTO report_facts (at_ms, kind, id, person, data) VALUES "
                                  "(tundra_now_ms(), '") + f.kind + "', ";
    std::string cols, changed;
    for (size_t i = 0; i < f.columns.size(); ++i) {
        if (i) cols += ", ", changed += " OR ";
        cols += f.columns[i];
        changed += std::string("OLD.") + f.columns[i] + " IS NOT NEW." + f.columns[i];
    }
    std::string t = f.table;
    return "CREATE TRIGGER IF NOT EXISTS report_facts_" + t + "_ins AFTER INSERT ON " + t + " BEGIN " + ins +
           "NEW.id, " + person_new + ", " + fact_json(f, "NEW") + "); END;\n" +
           "CREATE TRIGGER IF NOT EXISTS report_facts_" + t + "_upd AFTER UPDATE OF " + cols + " ON " + t +
           " WHEN " + changed + " BEGIN " + ins + "NEW.id, " + person_new + ", " +
           fact_json(f, "NEW") + "); END;\n" + "CREATE TRIGGER IF NOT EXISTS report_facts_" + t +
           "_del AFTER DELETE ON " + t + " BEGIN " + ins + "OLD.id, " + person_old +
           ", NULL); END;\n";
}

// ALTER TABLE ... ADD COLUMN unless the column is there (every step may run again on a file
// whose user_version was put back, as the migration tests do).
Status add_column(sql::Db& db, const std::string& table, const std::string& column,
                  const std::string& decl) {
    auto q = db.query("SELECT 1 FROM pragma_table_info(?) WHERE name = ?");
    q->bind(1, table).bind(2, column);
    auto r = q->step();
    if (!r) return r.status();
    if (r.value()) return Status::ok();
    return db.exec("ALTER TABLE " + table + " ADD COLUMN " + column + " " + decl);
}

}  // namespace

const std::vector<FactSource>& fact_sources() {
    static const std::vector<FactSource> k = {
        {"organisation", "organisations", nullptr, {"id", "name"}},
        {"site", "sites", nullptr, {"id", "organisation", "name"}},
        {"person", "persons", "id",
         {"id", "organisation", "site", "gender", "birth_year", "education_level",
          "employment_status", "erased", "provisional", "personal_id"}},
        {"participation", "participations", "person", {"id", "person", "start_month", "end_month"}},
        {"course", "courses", nullptr, {"id", "title", "theme", "format"}},
        {"occasion", "occasions", nullptr,
         {"id", "course", "starts_at", "ends_at", "site", "capacity", "status", "survey_closes"}},
        {"enrolment", "enrolments", "person", {"id", "occasion", "person", "status"}},
        {"attendance", "attendance", "person",
         {"id", "occasion", "person", "status", "minutes", "source", "hlc", "device"}},
        {"time_attestation", "time_attestations", "person", {"id", "person", "month", "minutes"}},
        {"survey_response", "survey_responses", "person",
         {"id", "occasion", "person", "rating_content", "rating_usefulness", "rating_overall"}},
        {"deviation", "deviations", nullptr,
         {"id", "organisation", "occasion", "category", "description", "status", "action_taken"}},
    };
    return k;
}

const std::vector<const char*>& version_indexed_tables() {
    static const std::vector<const char*> k = {
        "organisations", "sites",      "persons",           "participations",
        "courses",       "occasions",  "enrolments",        "attendance",
        "time_attestations", "survey_responses", "deviations"};
    return k;
}

const std::vector<SharedStep>& shared_steps() {
    static const std::vector<SharedStep> k = {
        // 8 (issue 12): a participant's own rows of each kind, in version order: an incremental
        // round finds what is new for them by seeking, instead of passing every row of the kind
        // written since (everybody's enrolments and marks) to keep theirs.
        {8,
         {"CREATE INDEX IF NOT EXISTS participations_person_version ON participations(person, version)",
          "CREATE INDEX IF NOT EXISTS enrolments_person_version ON enrolments(person, version)",
          "CREATE INDEX IF NOT EXISTS attendance_person_version ON attendance(person, version)",
          "CREATE INDEX IF NOT EXISTS time_attestations_person_version ON time_attestations(person, version)",
          "CREATE INDEX IF NOT EXISTS survey_responses_person_version ON survey_responses(person, version)"}},
    };
    return k;
}

Status run_shared_steps(sql::Db& db) {
    for (auto& step : shared_steps())
        TUNDRA_TRY(sql::migrate_to(db, step.version, [&]() -> Status {
            for (auto* s : step.statements) TUNDRA_TRY(db.exec(s));
            return Status::ok();
        }));
    return Status::ok();
}

Status migrate(sql::Db& db) {
    if (db.backend() == sql::Backend::postgres) return migrate_pg(db);
    int v = db.user_version();
    if (v > kSchemaVersion)
        return Status(Errc::unsupported_version,
                      "store schema version " + std::to_string(v) +
                          " is newer than this build supports (" +
                          std::to_string(kSchemaVersion) + ")");
    TUNDRA_TRY(sql::migrate_to(db, 1, [&]() -> Status {
        TUNDRA_TRY(db.exec(kSchemaV1));
        for (auto* t : version_indexed_tables())
            TUNDRA_TRY(db.exec(std::string("CREATE INDEX ") + t + "_version ON " + t +
                               "(version)"));
        return Status::ok();
    }));
    TUNDRA_TRY(sql::migrate_to(db, 2, [&]() -> Status {
        TUNDRA_TRY(db.exec(kSchemaV2));
        return Status::ok();
    }));
    TUNDRA_TRY(sql::migrate_to(db, 3, [&]() -> Status {
        TUNDRA_TRY(db.exec(kSchemaV3));
        return Status::ok();
    }));
    TUNDRA_TRY(sql::migrate_to(db, 4, [&]() -> Status {
        TUNDRA_TRY(db.exec(kSchemaV4));
        return Status::ok();
    }));
    TUNDRA_TRY(sql::migrate_to(db, 5, [&]() -> Status {
        TUNDRA_TRY(add_column(db, "occasions", "survey_closes", "TEXT"));
        TUNDRA_TRY(add_column(db, "persons", "provisional", "INTEGER NOT NULL DEFAULT 0"));
        TUNDRA_TRY(db.exec(kSchemaV5));
        auto any = db.query("SELECT 1 FROM report_facts LIMIT 1");
        auto seeded = any->step();
        if (!seeded) return seeded.status();
        for (auto& f : fact_sources()) {
            // What the store held before facts were kept counts as known from the start
            // (at_ms 0): a report as of an earlier moment shows it.
            std::string person = f.person ? std::string("t.") + f.person : "NULL";
            if (!seeded.value())
                TUNDRA_TRY(db.exec(std::string("INSERT INTO report_facts (at_ms, kind, id, person, data) "
                                           "SELECT 0, '") + f.kind + "', t.id, " + person + ", " +
                               fact_json(f, "t") + " FROM " + f.table + " t ORDER BY t.rowid"));
            TUNDRA_TRY(db.exec(fact_triggers(f)));
        }
        return Status::ok();
    }));
    TUNDRA_TRY(sql::migrate_to(db, 6, [&]() -> Status {
        TUNDRA_TRY(add_column(db, "devices", "install_id", "TEXT"));
        TUNDRA_TRY(add_column(db, "devices", "app_version", "TEXT"));
        TUNDRA_TRY(add_column(db, "enrolments", "waitlist_position", "INTEGER"));
        return db.exec(kSchemaV6);
    }));
    TUNDRA_TRY(sql::migrate_to(db, 7, [&]() -> Status { return db.exec(kSchemaV7); }));
    return run_shared_steps(db);
}

}  // namespace tundra::server
