// Internals shared by the SqliteStore sources (sqlite_store.cc, actions.cc, import.cc).
#pragma once

#include <optional>
#include <string>

#include "tundra/core/action.h"
#include "tundra/core/model.h"
#include "tundra/server/sqlite_store.h"
#include "tundra/sqlite/db.h"

namespace tundra::server {

struct PersonInfo {
    std::string id, organisation, site;
};

struct OccasionInfo {
    std::string id, course, status;
    int64_t capacity = 0;
    int64_t opens_ms = 0;  // 0 = open from publication
    int64_t closes_ms = 0;
    int64_t ends_ms = 0;
    int64_t confirmed = 0, waitlisted = 0;
};

// Where a device's pull stands. Incremental pulls carry only `after` (a store version). A
// full pull (first sync, or a reset) goes in two phases fixed at its start (v0, t0): 'p' sends
// what the user needs next (priority_sql) among rows at or below v0; 'n' sends everything else
// above `after`. Every row is sent once: in 'p' if it matched then, else in 'n'. Changes
// that could move a row into the priority set give it a new version (> v0).
struct PullCursor {
    char phase = 0;  // 0, 'p' or 'n'
    uint64_t after = 0;
    uint64_t v0 = 0;
    int64_t t0 = 0;
    std::string str() const;
};

struct LwwResult {
    bool created = false;
    int superseded = 0;  // fields not applied because a newer edit set them
    Row before;          // the row before the edit (empty when created)
    Row after;
};

// State of one write transaction. Versions are handed out from `version` and written
// back to meta at commit.
struct SqliteStore::Impl {
    SqliteStore& self;
    sqlite::Db& db;
    uint64_t version = 0;
    int64_t now_ms = 0;

    explicit Impl(SqliteStore& s) : self(s), db(*s.db_) {}

    uint64_t next_version() { return ++version; }
    Status load_meta();
    Status save_meta();

    // Generic row access driven by the entity descriptors.
    Result<std::optional<Row>> load_row(Kind kind, const std::string& id);
    Status write_row(Kind kind, const Row& row);  // upsert, with a fresh version
    Result<std::vector<std::string>> select_ids(Kind kind, const std::string& where_sql,
                                                const std::string& arg);
    Status touch(Kind kind, const std::string& where_sql, const std::string& arg);
    // Records the deletion of a row (sent to every device; those still entitled to the row
    // get it again from a later touch). Does not delete the row itself.
    Status tombstone(Kind kind, const std::string& where_sql, const std::string& arg);
    Status purge_tombstones();
    Status person_moved(const std::string& id);
    Status course_visibility_changed(const std::string& id);

    Result<std::optional<PersonInfo>> person(const std::string& id);
    Result<std::optional<OccasionInfo>> occasion(const std::string& id);
    Result<bool> course_visible(const AuthContext& who, const std::string& course);
    bool can_act_for(const AuthContext& who, const PersonInfo& p) const;
    struct Target {
        OccasionInfo occasion;
        PersonInfo person;
        std::optional<Outcome> refusal;
    };
    Result<Target> target(const AuthContext& who, const Action& a, const std::string& doing);

    // Per-field last-writer-wins over an editable row.
    Result<LwwResult> lww_apply(Kind kind, const std::string& id, const Row& fields, Hlc hlc,
                                const std::string& device, const Row& defaults);

    Status reallocate(const std::string& occasion_id);

    // One action; storage failures come back as errors, business refusals as outcomes.
    Result<Outcome> apply(const AuthContext& who, const Action& a, Hlc acted);
    Result<Outcome> enrol(const AuthContext& who, const Action& a, Hlc acted);
    Result<Outcome> cancel_enrolment(const AuthContext& who, const Action& a);
    Result<Outcome> mark_attendance(const AuthContext& who, const Action& a);
    Result<Outcome> upsert_course(const AuthContext& who, const Action& a);
    Result<Outcome> upsert_occasion(const AuthContext& who, const Action& a);
    Result<Outcome> delete_occasion(const AuthContext& who, const Action& a);
    Result<Outcome> update_person(const AuthContext& who, const Action& a);
    Result<struct OnePerKey> one_per_key(const Action& a, Kind kind, const std::string& id,
                                         const std::string& person, const char* key_column,
                                         const std::string& key, const std::string& what);
    Result<Outcome> attest_time(const AuthContext& who, const Action& a);
    Result<Outcome> submit_survey(const AuthContext& who, const Action& a);
    Result<Outcome> log_deviation(const AuthContext& who, const Action& a);

    Status pull(const AuthContext& who, const PullCursor& cursor, int limit, uint64_t max_bytes,
                SyncResponse& out);
    Status fetch(const AuthContext& who, const PullCursor& cursor, int limit,
                 std::vector<Change>& changes);
    Result<uint64_t> count_remaining(const AuthContext& who, const PullCursor& next);
};

Outcome make_outcome(const Action& a, OutcomeResult r, std::string_view reason,
                     std::string message, std::string status = {});

}  // namespace tundra::server
