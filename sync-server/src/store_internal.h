// Internals shared by the SqlStore sources (sql_store.cc, actions.cc, import.cc).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "sync_round.h"
#include "tundra/core/action.h"
#include "tundra/core/model.h"
#include "tundra/core/seats.h"
#include "tundra/server/sql_store.h"
#include "tundra/sqlite/db.h"

namespace tundra::server {

enum class Role { participant, coordinator, admin };
Role role_of(const std::string& role);
// The rows of `kind` a user with `role` may see, as an SQL condition over alias `t` with
// :user and :person (visibility.cc, from the same table as Impl::may_see).
std::string scope_sql(Kind kind, const std::string& role);
// Whether that scope is the user's own rows (their person row, rows whose `person` is theirs):
// few at any store size, found by seeking (person, version) rather than by walking the version
// index (schema step 8).
bool scope_is_own(Kind kind, const std::string& role);
// The organisations of the user :user (what the view user_orgs gives, possibly repeated),
// in a form that searches by username rather than reading the whole view: it runs in every
// round.
inline constexpr const char* kUserOrgsSql =
    "SELECT p.organisation FROM users u JOIN persons p ON p.id = u.person WHERE u.username = :user "
    "UNION ALL SELECT s.organisation FROM user_sites us JOIN sites s ON s.id = us.site "
    "WHERE us.username = :user";
// pull.cc: the queries a pull runs for the rows of one kind after a cursor (its page, and
// the count of what remains), with :cursor, :v0, :t0, :t1, :user, :person (and :limit)
// bound. Exposed for the query-plan test (tests/server/scale_test.cc).
std::string fetch_sql(sql::Backend backend, Kind kind, const std::string& role, const SyncCursor& c);
std::string count_sql(sql::Backend backend, Kind kind, const std::string& role, const SyncCursor& c);
// pull.cc: the organisations scope_hash reads in every round (:user bound; sorted and
// deduplicated by the caller, so the query neither sorts nor reads more than the user's rows).
inline constexpr const char* kScopeOrgsSql = kUserOrgsSql;

// The console's device of a user ("console:<username>", console.cc): the way its actions go
// through the pipeline. It holds no usable token and is no tablet.
inline constexpr std::string_view kConsoleDevicePrefix = "console:";
inline bool is_console_device(std::string_view device_id) {
    return device_id.substr(0, kConsoleDevicePrefix.size()) == kConsoleDevicePrefix;
}

// The most minutes a month can hold (31 days): the bound of an attested month.
inline constexpr int64_t kMaxAttestedMinutes = 31 * 24 * 60;

struct PersonInfo {
    std::string id, organisation, site;
};

struct OccasionInfo {
    std::string id, course, status;
    int64_t capacity = 0;
    int64_t opens_ms = 0;  // 0 = open from publication
    int64_t closes_ms = 0;
    int64_t starts_ms = 0;
    int64_t ends_ms = 0;
    int64_t survey_closes_ms = 0;  // survey_closes, or kSurveyOpenDays after the end
    int64_t confirmed = 0, waitlisted = 0;
};

struct LwwResult {
    bool created = false;
    int superseded = 0;  // fields not applied because a newer edit set them
    Row before;          // the row before the edit (empty when created)
    Row after;
};

// State of one write transaction. Versions are handed out from `version` and written
// back to meta at commit. Methods live in: sql_store.cc (meta, rows, the round backend),
// auth.cc (SqlStore::login, issue_token, authenticate, revoke_device), users.cc (add_user,
// set_password, revoke_user), login_throttle.cc and kdf_gate.h (what login uses),
// audit.cc (the audit trail),
// pull.cc (pages, scope SQL, checksum), visibility.cc (tombstones, touches, who sees what),
// actions.cc (dispatch, scope checks, quota, enrolments, LWW edits of the catalogue and
// persons), attendance.cc (marks and walk-ins), records.cc (participations, attestations,
// survey answers, deviations), import.cc, merge.cc (provisional persons merged into real
// ones), privacy.cc (GDPR erasure and access).
struct SqlStore::Impl final : RoundBackend {
    SqlStore& self;
    sql::Db& db;
    uint64_t version = 0;
    int64_t now_ms = 0;
    std::string cursor_key;  // signs cursors (meta 'cursor_key', made by schema v3)
    StoreEpoch epoch;        // meta 'store_epoch' (made at open, operations.cc), restore marks
    // A reader of the pool: what it reads is committed, so the rows it encodes may go into
    // the row cache (the writer's may belong to a transaction that rolls back).
    bool fills_row_cache = false;

    explicit Impl(SqlStore& s) : self(s), db(*s.db_) {}
    // Over a read connection (rounds.cc): only the pull side of the round backend is used.
    Impl(SqlStore& s, sql::Db& read_db) : self(s), db(read_db) {}
    // The version, cursor key and epoch as of this connection's snapshot; returns the store
    // clock's HLC (a read round takes it as it is; load_meta moves the shared clock on).
    Result<uint64_t> load_snapshot_meta();

    uint64_t next_version() { return ++version; }
    // Puts the version counter back unless disarmed: a write transaction that fails must not
    // leave half-advanced counters behind (import, erasure; a round also restores its clock).
    struct VersionGuard {
        Impl& impl;
        uint64_t version;
        bool armed = true;
        ~VersionGuard() {
            if (armed) impl.version = version;
        }
    };
    // The same for a sync round and a console batch, which also put the store's clock back.
    struct RoundGuard {
        Impl& impl;
        HlcClock& clock;
        HlcClock::WallClock wall;
        uint64_t version;
        Hlc hlc;
        bool armed = true;
        RoundGuard(Impl& i, HlcClock& c, HlcClock::WallClock w)
            : impl(i), clock(c), wall(std::move(w)), version(i.version), hlc(c.last()) {}
        RoundGuard(const RoundGuard&) = delete;
        RoundGuard& operator=(const RoundGuard&) = delete;
        ~RoundGuard() {
            if (!armed) return;
            impl.version = version;
            clock = HlcClock(wall, hlc);
        }
    };
    Status load_meta();  // load_snapshot_meta, then the store's clock at least at its HLC
    Status save_meta();
    // operations.cc: gives a store that has none its epoch (idempotent; no schema version).
    static Status ensure_epoch(sql::Db& db);

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
    // visibility.cc: a written row whose deciding columns changed leaves every device and
    // comes back to whoever may see it now, with the rows seen through it.
    Status visibility_changed(Kind kind, const std::string& id, const Row& before,
                              const Row& after);

    Result<std::optional<PersonInfo>> person(const std::string& id);
    Result<std::optional<OccasionInfo>> occasion(const std::string& id);
    // visibility.cc: the scope rules in C++ (the SQL form is scope_sql).
    Result<bool> may_see(const AuthContext& who, Kind kind, const Row& row);
    Result<StrList> organisations_of(const AuthContext& who);
    // actions.cc: the scope check of every action (see `dispatch`). A row that is unknown or
    // that the actor may not see is `not_found`, in the same words (`unknown_id`).
    Result<std::optional<Outcome>> scope_before(const AuthContext& who, const Action& a);
    Result<std::optional<Outcome>> scope_after(const AuthContext& who, const Action& a);
    Result<std::optional<Outcome>> visible_ref(const AuthContext& who, const Action& a, Kind kind,
                                               const std::string& id);
    // actions.cc: the device's daily allowance (table action_quota).
    Result<std::optional<Outcome>> quota_refusal(const AuthContext& who, const Action& a);
    Status count_quota(const AuthContext& who, const Action& a);
    // The occasion and person an action names (fields "occasion", "person"), or the
    // refusal when either is unknown or out of the actor's sight.
    struct Target {
        OccasionInfo occasion;
        PersonInfo person;
        std::optional<Outcome> refusal;
    };
    Result<Target> target(const AuthContext& who, const Action& a);

    // Per-field last-writer-wins over an editable row.
    Result<LwwResult> lww_apply(Kind kind, const std::string& id, const Row& fields, Hlc hlc,
                                const std::string& device, const Row& defaults);

    // Seats (actions.cc): every change of an occasion's enrolments ends here. `reallocate`
    // decides statuses and waitlist positions again (core allocate_seats) and the occasion's
    // counts; `renumber_waitlist` keeps the statuses as they stand (an import's). Either
    // gives a new version only to the rows whose status, reason or position changed.
    Status reallocate(const std::string& occasion_id);
    Status renumber_waitlist(const std::string& occasion_id);
    Result<std::vector<SeatEntry>> seat_entries(const std::string& occasion_id);
    Status write_seats(const std::vector<SeatChange>& changes);
    // A new enrolment row by `who`'s action `a`, stamped `acted` (actions.cc).
    Status insert_enrolment(const AuthContext& who, const Action& a, Hlc acted, const std::string& id,
                            const std::string& occasion, const std::string& person,
                            const std::string& status, const std::optional<std::string>& reason);

    // The round backend (sync_round.h).
    Result<DeviceRoundState> device_state(const AuthContext& who) override;
    Status save_device_state(const AuthContext& who, const DeviceRoundState& st) override;
    Result<std::optional<AppliedRecord>> applied(const std::string& device, uint64_t seq) override;
    Result<std::optional<AppliedRecord>> applied_by_hash(const std::string& device,
                                                         const std::string& hash) override;
    Result<Outcome> apply(const AuthContext& who, const Action& a, Hlc acted) override;
    Status record_applied(const std::string& device, const Action& a, const std::string& hash,
                          const Outcome& o) override;
    Result<std::string> scope_hash(const AuthContext& who) override;
    Result<uint64_t> tombstone_floor() override;
    uint64_t current_version() override { return version; }
    Result<SyncCursor> pull(const AuthContext& who, const SyncCursor& from, int limit,
                            uint64_t max_bytes, SyncResponse& out) override;
    Result<ScopeChecksum> checksum(const AuthContext& who) override;

    // privacy.cc: GDPR. The store's pseudonym of a person id ("x-" + HMAC(meta
    // pseudonym_key, id)); whether an id is an erased person's (the pseudonym itself); and
    // the refusal (`erased`) of an action that would write about an erased person, by old
    // id or pseudonym.
    Result<std::string> pseudonym(const std::string& person_id);
    Result<bool> is_erased_id(const std::string& id);
    Result<bool> is_erased_person(const std::string& id);  // the old id or the pseudonym
    Result<std::optional<Outcome>> refuse_if_erased(const Action& a);

    // merge.cc: the merge inside the caller's transaction (merge_person, import), with its
    // audit entry; errors as for SqlStore::merge_person.
    Result<MergeReport> merge_person(const std::string& from, const std::string& into,
                                     const std::string& actor);

    // One action; storage failures come back as errors, business refusals as outcomes.
    Result<Outcome> dispatch(const AuthContext& who, const Action& a, Hlc acted);
    Result<Outcome> enrol(const AuthContext& who, const Action& a, Hlc acted);
    Result<Outcome> cancel_enrolment(const AuthContext& who, const Action& a);
    // attendance.cc: marks and walk-ins.
    Result<Outcome> mark_attendance(const AuthContext& who, const Action& a, Hlc acted);
    Result<Outcome> walk_in(const AuthContext& who, const Action& a, Hlc acted);
    // A walk-in who is no person in the store yet (`name` given): the provisional person
    // the action registers, or the refusal.
    Result<std::optional<Outcome>> register_walk_in(const AuthContext& who, const Action& a);
    Result<std::string> active_enrolment_status(const std::string& occasion,
                                                const std::string& person);
    Result<Outcome> write_mark(const AuthContext& who, const Action& a, const std::string& source);
    Result<Outcome> upsert_course(const AuthContext& who, const Action& a);
    Result<Outcome> upsert_occasion(const AuthContext& who, const Action& a);
    Result<Outcome> delete_occasion(const AuthContext& who, const Action& a);
    Result<Outcome> update_person(const AuthContext& who, const Action& a);
    // actions.cc: the register (issue 11).
    Result<Outcome> upsert_organisation(const AuthContext& who, const Action& a);
    Result<Outcome> upsert_site(const AuthContext& who, const Action& a);
    Result<Outcome> add_person(const AuthContext& who, const Action& a);
    Result<struct OnePerKey> one_per_key(const Action& a, Kind kind, const std::string& id,
                                         const std::string& person, const char* key_column,
                                         const std::string& key, const std::string& what);
    // records.cc: participations, attestations, survey answers, deviations.
    Result<Outcome> upsert_participation(const AuthContext& who, const Action& a);
    Result<Outcome> attest_time(const AuthContext& who, const Action& a);
    Result<Outcome> submit_survey(const AuthContext& who, const Action& a, Hlc acted);
    Result<Outcome> log_deviation(const AuthContext& who, const Action& a);

    // `complete`: no kind had more than `limit` rows after the cursor, so `changes` is every
    // row (and deletion) still to send in the cursor's phase.
    Status fetch(const AuthContext& who, const SyncCursor& cursor, int limit,
                 std::vector<Change>& changes, bool& complete);
    Result<uint64_t> count_remaining(const AuthContext& who, const SyncCursor& next);
    // The SQL text of a kind's page (or count) in a cursor's phase, built once per connection
    // (pull.cc); empty when the phase can send nothing of the kind.
    const std::string& round_sql(bool count, Kind kind, const std::string& role, const SyncCursor& c);
    // The count of every row of `kind` the role may see after :cursor, both parts of a full
    // pull in one pass (the first page's count); memoised beside round_sql's.
    const std::string& whole_count_sql(Kind kind, const std::string& role);
    std::map<std::tuple<bool, int, std::string, int, bool>, std::string> round_sql_memo;
};

// rounds.cc: a read connection of the pool, with the round backend over it.
struct SqlStore::Reader {
    std::unique_ptr<sql::Db> owned;  // null when the reader shares the write connection
    sql::Db* db = nullptr;
    std::unique_ptr<Impl> impl;
};

// A reader for the length of a round; one that shares the write connection also holds the
// store lock.
class SqlStore::ReaderLease {
public:
    explicit ReaderLease(SqlStore& s) : s_(s) {
        std::unique_lock lock(s_.readers_mu_);
        s_.readers_cv_.wait(lock, [&] { return !s_.free_readers_.empty(); });
        r_ = s_.free_readers_.back();
        s_.free_readers_.pop_back();
        lock.unlock();
        if (!r_->owned) write_lock_ = std::unique_lock(s_.mu_);
    }
    ~ReaderLease() {
        if (write_lock_.owns_lock()) write_lock_.unlock();
        std::lock_guard lock(s_.readers_mu_);
        s_.free_readers_.push_back(r_);
        s_.readers_cv_.notify_one();
    }
    ReaderLease(const ReaderLease&) = delete;
    ReaderLease& operator=(const ReaderLease&) = delete;
    Reader& get() { return *r_; }

private:
    SqlStore& s_;
    Reader* r_ = nullptr;
    std::unique_lock<std::mutex> write_lock_;
};

// audit.cc: one audit entry, written by the caller's transaction (the change it records and
// its entry commit together). `detail_json` never holds a password, token or erased data.
Status append_audit(sql::Db& db, int64_t at_ms, const std::string& actor,
                    const std::string& operation, const std::string& target,
                    const std::string& detail_json);
// auth.cc: revokes one device in the caller's transaction, audited ("revoke-device");
// revoke_device and revoke_tablet. Errors: not_found, storage.
Status revoke_one_device(sql::Db& db, const std::string& device_id, const std::string& actor,
                         int64_t now_ms);
// A flat JSON object for an audit entry's detail.
std::string audit_detail(const Row& fields);

// Whether a change from `before` to `after` can change who may see the row (visibility.cc).
bool visibility_columns_changed(Kind kind, const Row& before, const Row& after);

Outcome make_outcome(const Action& a, OutcomeResult r, std::string_view reason,
                     std::string message, std::string status = {});
// actions.cc: `not_found` for an id that is unknown or out of the actor's sight, alike.
Outcome unknown_id(const Action& a, Kind kind, const std::string& id);
// actions.cc: an action's fields as column names (its id field dropped), and the outcome of
// a last-writer-wins edit (`superseded` when a newer edit kept some field).
Row columns_of(const Action& a);
Outcome lww_outcome(const Action& a, const LwwResult& res, std::string_view what);

// An LWW edit that fails validation (e.g. a new row missing a required field) is refused
// with reason `invalid`; other errors are storage errors. Declares `res` in a handler whose
// action is `a`.
#define TUNDRA_LWW(res, call)                                                                \
    auto res = (call);                                                                       \
    if (!res) {                                                                              \
        if (res.status().code() == Errc::invalid_argument)                                   \
            return make_outcome(a, OutcomeResult::rejected, reasons::kInvalid,               \
                                res.status().message());                                     \
        return res.status();                                                                 \
    }

}  // namespace tundra::server
