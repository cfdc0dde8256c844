// The store's schema on PostgreSQL (docs/schema.md, "PostgreSQL"): the SQLite store's current
// schema (schema.cc, version 7) as PostgreSQL DDL, created in one step at the same
// user_version. Integers are BIGINT; text compares byte-wise (COLLATE "C", as SQLite's
// BINARY), whatever the database's locale, so that orderings match the C++ code's; report
// facts come from plpgsql triggers generated from the same fact_sources() as SQLite's.
#include <regex>
#include <string>

#include "schema.h"
#include "tundra/core/crypto.h"

namespace tundra::server {
namespace {
constexpr const char* kSchemaPg = R"SQL(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE organisations (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, county TEXT NOT NULL,
  version BIGINT NOT NULL);
CREATE TABLE sites (
  id TEXT PRIMARY KEY, organisation TEXT NOT NULL REFERENCES organisations(id),
  name TEXT NOT NULL, version BIGINT NOT NULL);
CREATE TABLE persons (
  id TEXT PRIMARY KEY, organisation TEXT NOT NULL REFERENCES organisations(id),
  site TEXT REFERENCES sites(id), name TEXT NOT NULL, gender TEXT NOT NULL,
  birth_year BIGINT, profession TEXT, education_level TEXT, employment_status TEXT,
  erased BIGINT NOT NULL DEFAULT 0,
  personal_id TEXT,
  version BIGINT NOT NULL,
  provisional BIGINT NOT NULL DEFAULT 0);
CREATE INDEX persons_site ON persons(site);
CREATE TABLE participations (
  id TEXT PRIMARY KEY, person TEXT NOT NULL REFERENCES persons(id),
  start_month TEXT NOT NULL, end_month TEXT, version BIGINT NOT NULL);
CREATE TABLE courses (
  id TEXT PRIMARY KEY, title TEXT NOT NULL, description TEXT, theme TEXT,
  format TEXT NOT NULL, provider TEXT, duration_minutes BIGINT,
  organisations TEXT NOT NULL DEFAULT '[]',
  published BIGINT NOT NULL DEFAULT 0, version BIGINT NOT NULL);
CREATE TABLE course_organisations (
  course TEXT NOT NULL REFERENCES courses(id), organisation TEXT NOT NULL,
  PRIMARY KEY (course, organisation));
CREATE TABLE occasions (
  id TEXT PRIMARY KEY, course TEXT NOT NULL REFERENCES courses(id),
  starts_at TEXT NOT NULL, ends_at TEXT NOT NULL, site TEXT, online_link TEXT,
  capacity BIGINT NOT NULL, enrolment_opens TEXT, enrolment_closes TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'planned',
  confirmed BIGINT NOT NULL DEFAULT 0, waitlisted BIGINT NOT NULL DEFAULT 0,
  version BIGINT NOT NULL,
  survey_closes TEXT);
CREATE INDEX occasions_course ON occasions(course);
CREATE TABLE enrolments (
  id TEXT PRIMARY KEY, occasion TEXT NOT NULL REFERENCES occasions(id),
  person TEXT NOT NULL REFERENCES persons(id), status TEXT NOT NULL, reason TEXT,
  acted_hlc BIGINT NOT NULL, acted_by TEXT, updated_hlc BIGINT NOT NULL, device TEXT,
  version BIGINT NOT NULL,
  waitlist_position BIGINT);
CREATE INDEX enrolments_occasion ON enrolments(occasion, status);
CREATE INDEX enrolments_person ON enrolments(person);
CREATE TABLE attendance (
  id TEXT PRIMARY KEY, occasion TEXT NOT NULL REFERENCES occasions(id),
  person TEXT NOT NULL REFERENCES persons(id), status TEXT NOT NULL, minutes BIGINT,
  recorded_by TEXT, source TEXT NOT NULL, hlc BIGINT NOT NULL, device TEXT,
  version BIGINT NOT NULL);
CREATE INDEX attendance_occasion_person ON attendance(occasion, person, hlc);
CREATE INDEX attendance_person ON attendance(person);
CREATE TABLE time_attestations (
  id TEXT PRIMARY KEY, person TEXT NOT NULL REFERENCES persons(id), month TEXT NOT NULL,
  minutes BIGINT NOT NULL, hlc BIGINT NOT NULL, version BIGINT NOT NULL,
  UNIQUE (person, month));
CREATE TABLE survey_responses (
  id TEXT PRIMARY KEY, occasion TEXT NOT NULL REFERENCES occasions(id),
  person TEXT NOT NULL REFERENCES persons(id), rating_content BIGINT NOT NULL,
  rating_usefulness BIGINT NOT NULL, rating_overall BIGINT NOT NULL, comment TEXT,
  hlc BIGINT NOT NULL, version BIGINT NOT NULL, UNIQUE (occasion, person));
CREATE TABLE deviations (
  id TEXT PRIMARY KEY, organisation TEXT NOT NULL REFERENCES organisations(id),
  occasion TEXT, category TEXT NOT NULL, description TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open', action_taken TEXT, hlc BIGINT NOT NULL,
  version BIGINT NOT NULL);

CREATE TABLE field_stamps (
  kind TEXT NOT NULL, id TEXT NOT NULL, field TEXT NOT NULL, hlc BIGINT NOT NULL,
  device TEXT NOT NULL, PRIMARY KEY (kind, id, field));

CREATE TABLE users (
  username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL,
  person TEXT REFERENCES persons(id), created_at TEXT NOT NULL,
  revoked BIGINT NOT NULL DEFAULT 0);
CREATE TABLE user_sites (
  username TEXT NOT NULL REFERENCES users(username), site TEXT NOT NULL REFERENCES sites(id),
  PRIMARY KEY (username, site));
CREATE VIEW user_orgs AS
  SELECT u.username AS username, p.organisation AS organisation
    FROM users u JOIN persons p ON p.id = u.person
  UNION
  SELECT us.username, s.organisation FROM user_sites us JOIN sites s ON s.id = us.site;

CREATE TABLE devices (
  id TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES users(username),
  name TEXT, token_hash TEXT NOT NULL UNIQUE, token_expires_ms BIGINT NOT NULL,
  created_at TEXT NOT NULL, revoked BIGINT NOT NULL DEFAULT 0,
  last_seq BIGINT NOT NULL DEFAULT 0,
  last_sync_hlc BIGINT NOT NULL DEFAULT 0,
  last_seen_ms BIGINT,
  scope_hash TEXT NOT NULL DEFAULT '',
  full_pull_until BIGINT NOT NULL DEFAULT 0,
  install_id TEXT, app_version TEXT);
CREATE INDEX devices_install_id ON devices(install_id);
CREATE TABLE applied_actions (
  device TEXT NOT NULL, seq BIGINT NOT NULL, outcome TEXT NOT NULL, applied_ms BIGINT NOT NULL,
  hash TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (device, seq));
CREATE INDEX applied_actions_applied ON applied_actions(applied_ms);
CREATE INDEX applied_actions_hash ON applied_actions(device, hash);

CREATE TABLE tombstones (
  version BIGINT PRIMARY KEY,
  kind TEXT NOT NULL, id TEXT NOT NULL, deleted_ms BIGINT NOT NULL);
CREATE INDEX tombstones_deleted ON tombstones(deleted_ms);

CREATE TABLE login_throttle (
  key TEXT PRIMARY KEY, failures BIGINT NOT NULL, last_failure_ms BIGINT NOT NULL,
  blocked_until_ms BIGINT NOT NULL);
CREATE INDEX login_throttle_last ON login_throttle(last_failure_ms);
CREATE TABLE audit_log (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, at_ms BIGINT NOT NULL,
  actor TEXT NOT NULL, operation TEXT NOT NULL, target TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '{}');
CREATE INDEX audit_log_at ON audit_log(at_ms);
CREATE TABLE action_quota (
  device TEXT NOT NULL, day BIGINT NOT NULL, actions BIGINT NOT NULL, bytes BIGINT NOT NULL,
  PRIMARY KEY (device, day));
CREATE INDEX persons_erased ON persons(id) WHERE erased = 1;
CREATE INDEX persons_personal_id ON persons(personal_id) WHERE personal_id IS NOT NULL;
CREATE INDEX participations_person ON participations(person);

CREATE TABLE report_facts (
  seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, at_ms BIGINT NOT NULL,
  kind TEXT NOT NULL, id TEXT NOT NULL, person TEXT, data TEXT);
CREATE INDEX report_facts_at ON report_facts(at_ms);
CREATE INDEX report_facts_kind_id ON report_facts(kind, id);
CREATE INDEX report_facts_person ON report_facts(person) WHERE person IS NOT NULL;
CREATE TABLE report_seals (
  month TEXT PRIMARY KEY, sealed_ms BIGINT NOT NULL, actor TEXT NOT NULL);

CREATE TABLE console_sessions (
  token_hash TEXT PRIMARY KEY, username TEXT NOT NULL, csrf TEXT NOT NULL,
  lang TEXT NOT NULL DEFAULT 'sv', created_ms BIGINT NOT NULL, seen_ms BIGINT NOT NULL);
CREATE INDEX console_sessions_username ON console_sessions(username);
CREATE INDEX console_sessions_seen ON console_sessions(seen_ms);

-- The connection's clock (UTC ms): pg::Db sets tundra.now_ms for every write (the store's
-- injected clock in tests); otherwise the real clock.
CREATE FUNCTION tundra_now_ms() RETURNS BIGINT LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('tundra.now_ms', true), '')::BIGINT,
                  (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT)
$$;
)SQL";

// json_build_object('id', R.id, ...)::text over row alias R.
std::string fact_json_pg(const FactSource& f, const std::string& r) {
    std::string out = "json_build_object(";
    for (size_t i = 0; i < f.columns.size(); ++i) {
        if (i) out += ", ";
        out += std::string("'") + f.columns[i] + "', " + r + "." + f.columns[i];
    }
    return out + ")::text";
}

// One trigger function per table; three triggers as SQLite has them (insert; update of a
// report column that changed; delete).
std::string fact_triggers_pg(const FactSource& f) {
    std::string t = f.table;
    std::string person_new = f.person ? std::string("NEW.") + f.person : "NULL";
    std::string person_old = f.person ? std::string("OLD.") + f.person : "NULL";
    std::string ins = std::string("INSERT INTO report_facts (at_ms, kind, id, person, data) VALUES "
                                  "(tundra_now_ms(), '") + f.kind + "', ";
    std::string cols, changed;
    for (size_t i = 0; i < f.columns.size(); ++i) {
        if (i) cols += ", ", changed += " OR ";
        cols += f.columns[i];
        changed += std::string("OLD.") + f.columns[i] + " IS DISTINCT FROM NEW." + f.columns[i];
    }
    std::string fn = "report_facts_" + t + "_fn";
    return "CREATE FUNCTION " + fn + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN\n"
           "  IF TG_OP = 'DELETE' THEN\n    " + ins + "OLD.id, " + person_old + ", NULL);\n"
           "  ELSE\n    " + ins + "NEW.id, " + person_new + ", " + fact_json_pg(f, "NEW") + ");\n"
           "  END IF;\n  RETURN NULL;\nEND $$;\n"
           "CREATE TRIGGER report_facts_" + t + "_ins AFTER INSERT ON " + t +
           " FOR EACH ROW EXECUTE FUNCTION " + fn + "();\n"
           "CREATE TRIGGER report_facts_" + t + "_upd AFTER UPDATE OF " + cols + " ON " + t +
           " FOR EACH ROW WHEN (" + changed + ") EXECUTE FUNCTION " + fn + "();\n"
           "CREATE TRIGGER report_facts_" + t + "_del AFTER DELETE ON " + t +
           " FOR EACH ROW EXECUTE FUNCTION " + fn + "();\n";
}
}  // namespace

Status migrate_pg(sql::Db& db) {
    int v = db.user_version();
    if (v > kSchemaVersion)
        return Status(Errc::unsupported_version,
                      "store schema version " + std::to_string(v) +
                          " is newer than this build supports (" +
                          std::to_string(kSchemaVersion) + ")");
    // Versions 1..7 were SQLite's steps; PostgreSQL starts at 7 in one step.
    TUNDRA_TRY(sql::migrate_to(db, 7, [&]() -> Status {
        // Text compares byte-wise, as SQLite's BINARY collation does.
        static const std::regex kText(R"(\bTEXT\b)");
        TUNDRA_TRY(db.exec(std::regex_replace(kSchemaPg, kText, "TEXT COLLATE \"C\"")));
        for (auto* t : version_indexed_tables())
            TUNDRA_TRY(db.exec(std::string("CREATE INDEX ") + t + "_version ON " + t + "(version)"));
        TUNDRA_TRY(db.exec("INSERT INTO meta VALUES ('version', '0'), ('hlc', '0'), "
                           "('tombstone_floor', '0'), ('last_purge_ms', '0'), ('cursor_key', '" +
                           random_hex(32) + "'), ('pseudonym_key', '" + random_hex(32) + "')"));
        for (auto& f : fact_sources()) TUNDRA_TRY(db.exec(fact_triggers_pg(f)));
        return Status::ok();
    }));
    return run_shared_steps(db);
}

}  // namespace tundra::server
