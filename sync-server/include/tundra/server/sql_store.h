// The SQL store: every rule of the service written once over the connection seam
// (tundra/sql/db.h), with SQLite (a file path, the embedded default) as its backend. One
// write connection guarded by a mutex; writers are serialised (Db::begin_write), which keeps
// versions strictly increasing in commit order, as the pull cursor relies on
// (docs/architecture.md, "Versions and cursors").
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tundra/core/hlc.h"
#include "tundra/server/staff_csv.h"
#include "tundra/server/store.h"
#include "tundra/sql/db.h"

namespace tundra::server {

class KdfGate;   // kdf_gate.h
class RowCache;  // row_cache.h

// A store's `--db` as it may be printed or logged: a postgresql:// URI's password
// (user:PASSWORD@ or password=...) replaced by "***"; a file path as it is (open_db.cc).
std::string display_name(const std::string& where);

// Failed-login throttling (login_throttle.cc): a key ('user:NAME' or 'addr:ADDRESS') is
// allowed `free_failures` failed logins; each further failure blocks it for
// base_ms * 2^(n-1), at most cap_ms. A key with no failure for forget_after_ms starts again
// from zero. Only failures count: successes never block anyone.
struct ThrottlePolicy {
    int free_failures = 5;
    int64_t base_ms = 1000;
    int64_t cap_ms = 15 * 60'000;
    int64_t forget_after_ms = 60 * 60'000;  // keep above cap_ms
};

struct LoginThrottleOptions {
    ThrottlePolicy user{.free_failures = 5};
    // Care units share one 4G address: more room before an address is blocked.
    ThrottlePolicy address{.free_failures = 30};
};

struct StoreOptions {
    int kdf_iterations = 100000;         // for passwords set through this store
    int default_page_rows = 2000;        // pull page size when the client sends no limit
    int64_t token_lifetime_days = 180;   // sliding: every sync extends it
    uint64_t max_clock_ahead_ms = 10 * 60'000;  // stamps further ahead are limited (clock_ahead)
    // Deletions are remembered this long; a device whose cursor is older gets a full pull
    // that removes what it should no longer hold (docs/failure-model.md).
    int64_t tombstone_retention_days = 90;
    // The message text of an action's outcome is kept this long; which action each (device,
    // seq) was and its result, reason and status are kept for good, so a retry at any age
    // gets its real outcome and a different action under a used seq is `seq_reused`.
    int64_t outcome_retention_days = 180;
    // What one device may store per UTC day: actions applied, and their bytes (the action as
    // JSON). Beyond either, an action is `rejected`/`quota_exceeded` (docs/protocol.md).
    int64_t device_daily_actions = 20'000;
    int64_t device_daily_bytes = 16 << 20;
    HlcClock::WallClock wall = wall_clock_ms;  // injectable for tests
    // synchronous=FULL: an acknowledged round survives power loss, not only a crash of the
    // process. In-process tests that cannot lose power turn it off for speed.
    bool durable = true;
    LoginThrottleOptions login_throttle = {};
    // Console sessions (issue 11): ended after this long without a request, and this long
    // after sign-in whatever happens.
    int64_t console_idle_ms = 30 * 60'000;
    int64_t console_max_ms = 12 * 3600'000;
    // Admission control for password checks (the deliberately slow KDF): at most
    // max_concurrent_kdf run at once in this process and at most max_waiting_kdf wait for a
    // turn (each up to kdf_wait); any other login is answered `overloaded` at once. So a
    // flood of logins never holds the request workers that sync rounds need.
    // Rounds without actions (pulls) and token checks run on this many read connections,
    // each on its own snapshot, in parallel with the writer (docs/architecture.md, "Read
    // pool and group commit"). 0: they share the write connection (an in-memory store).
    int read_connections = 4;
    // Bytes of encoded rows kept for pulls (row_cache.h; docs/architecture.md, "Row cache"):
    // a row sent to many devices is read and written out once per version. 0: none (rounds
    // then return every change's `row` as values).
    size_t row_cache_bytes = 0;
    // The most push rounds one group commit takes from the queue.
    int max_group_rounds = 64;
    int max_concurrent_kdf = 1;
    int max_waiting_kdf = 0;
    std::chrono::milliseconds kdf_wait{500};
};

struct ImportReport {
    size_t organisations = 0, sites = 0, persons = 0, users = 0, courses = 0, occasions = 0,
           enrolments = 0, attendance = 0, participations = 0, time_attestations = 0,
           survey_responses = 0, deviations = 0;
    // Provisional (walk-in) persons absorbed by an imported person with the same
    // personal_id (merge_person); not counted in total().
    size_t merged = 0;
    size_t total() const {
        return organisations + sites + persons + users + courses + occasions + enrolments +
               attendance + participations + time_attestations + survey_responses + deviations;
    }
};

// What `erase_person` did (counts only: never the erased data).
struct ErasureReport {
    std::string pseudonym;        // the id the person's ESF data is kept under
    bool already_erased = false;  // nothing left to erase; the checkpoint was run again
    int64_t rows_moved = 0;       // enrolments, attendance, ... now under the pseudonym
    int64_t enrolments_cancelled = 0;  // active enrolments on occasions not yet ended
    int64_t comments_cleared = 0;
    int64_t users_removed = 0, devices_revoked = 0;
    int64_t texts_redacted = 0;   // deviations whose free text named the person
    bool wal_truncated = false;   // false: another process held a read; run it again
};

// What `merge_person` did. Rows about the provisional person move to the real one; where
// both have a row for the same thing (both enrolled on an occasion, both marked there, both
// answered its survey, both attested a month, both with an open participation or one
// starting the same month), the real person's row is kept and the provisional's dropped.
struct MergeReport {
    struct Count {
        int64_t moved = 0, dropped = 0;
    };
    std::string from, into;  // provisional and real person ids
    Count enrolments, attendance, participations, time_attestations, survey_responses;
    int64_t moved() const;
    int64_t dropped() const;
};

// ---- the project console (issue 11) ------------------------------------------------------

// A signed-in console user (console.cc in sync-server/src). Sessions live in the store
// (table console_sessions, token hashed), so any server process answers any request.
struct ConsoleSession {
    AuthContext who;       // device_id: the user's console device ("console:<username>")
    std::string csrf;      // the session's CSRF token: every change must carry it
    std::string lang;      // "sv" (default) | "en"
    int64_t created_ms = 0, seen_ms = 0;
    int64_t expires_ms = 0;  // min(seen + idle, created + max)
};
struct OpenedConsoleSession {
    std::string token;  // the cookie value; only its hash is stored
    ConsoleSession session;
};

// What a console list asks for: rows of one kind that the user may see (the pull's scope
// rule), filtered. Columns are the kind's synced columns (model.cc); anything else is
// invalid_argument naming it.
struct RowQuery {
    std::vector<std::pair<std::string, std::string>> equals = {};  // text column = value
    std::string any_of_column = {};                                // column IN any_of
    StrList any_of = {};
    std::string search = {};          // case-insensitive substring of search_columns
    StrList search_columns = {};      // default: name, or title for courses
    std::string order_by = {};        // a column (default id)
    bool descending = false;
    size_t limit = 200;               // at most 5000
    size_t offset = 0;
    // A half-open range over one column: at_least <= column < below (text order: ISO times
    // in their canonical UTC form, months, ids); either bound empty = open.
    std::string range_column = {};
    std::string at_least = {}, below = {};
};
struct RowPage {
    std::vector<Row> rows;
    size_t total = 0;  // matching rows without limit/offset
};

// A login as the console shows it.
struct UserInfo {
    std::string username, role, person, created_at;
    StrList sites;
    bool revoked = false;
    int64_t devices = 0;       // not revoked, console devices excluded
    int64_t last_seen_ms = 0;  // newest of their devices (0: never)
};
// A device identity, grouped by tablet (install_id) on the devices page.
struct DeviceInfo {
    std::string id, username, role, name, install_id, app_version, created_at;
    int64_t last_seen_ms = 0;  // 0: never synced
    bool revoked = false;
    bool stale = false;        // not seen for 14 days (or never, created 14 days ago)
    int64_t rejections = 0;    // actions refused (result rejected) in the last 14 days
};
struct TabletInfo {
    std::string install_id;  // empty: devices that named no install id (CLI, older apps)
    std::vector<DeviceInfo> devices;  // newest seen first
    int64_t last_seen_ms = 0;
    bool stale = false;  // every device stale
};

// One row of an import preview: what applying the document would do to it.
struct ImportChange {
    std::string kind;    // wire name: person, site, ...
    std::string id;
    std::string change;  // added | changed
    struct Field {
        std::string name, before, after;  // values as JSON text ("" before a new row)
    };
    std::vector<Field> fields;  // changed fields only (all of them for an added row)
};
struct ImportDryRun;  // import_internal.h
struct ImportPreview {
    ImportReport counts;                // as import_json would report
    std::vector<ImportChange> changes;  // added and changed rows, in document order
    size_t unchanged = 0;               // rows the document names that would not change
    std::string digest;                 // sha256 of the document: apply checks the same file
};

class SqlStore final : public Store {
public:
    // Opens (and with create=true initialises) a store. Refuses a file whose schema is
    // newer than this build.
    static Result<std::unique_ptr<SqlStore>> open(const std::string& path,
                                                     StoreOptions opts = {}, bool create = true);
    ~SqlStore() override;

    Result<LoginResponse> login(const LoginRequest& req, const std::string& remote_address) override;
    Result<AuthContext> authenticate(std::string_view token) override;
    // users.cc
    Status change_password(const AuthContext& who, const std::string& current, const std::string& next,
                           const std::string& remote_address) override;
    Result<SyncResponse> sync(const AuthContext& who, const SyncRequest& req) override;
    Status check_health() override;
    Result<ReportOutput> report_for(const AuthContext& who, const ReportRequest& req) override;

    // ESF reports (reports.cc; docs/reports.md). A report as of `req.as_of_ms` (else, for one
    // sealed month, as of its seal; else now), computed from the report facts on a second
    // connection's snapshot, so sync rounds go on meanwhile. Errors: invalid_argument,
    // forbidden (the viewer may not see it), not_found (unknown organisation), storage.
    Result<ReportOutput> report(const ReportRequest& req, const ReportViewer& viewer);
    // Seals a month that has ended in Europe/Stockholm time: without --as-of it is reported
    // as of this moment from now on, and later facts about it are listed as corrections in
    // the next month's ledger. Audited in the same transaction. Errors: invalid_argument (bad
    // month, or not ended yet), conflict (already sealed), storage.
    Status seal_month(const std::string& month, const std::string& actor);
    // The sealed months, newest first (table report_seals). Errors: storage.
    struct Seal {
        std::string month, actor;
        int64_t sealed_ms = 0;
    };
    Result<std::vector<Seal>> seals();

    // Operations (operations.cc; docs/operations.md).
    // A consistent copy of the store in a new file `to` (0600), taken while the store goes on
    // serving (SQLite's online backup). The copy is a store of its own: a new `store_epoch`,
    // with `restored_from_epoch` (this store's epoch) and `restored_at_version` (the version
    // the copy holds), so that devices that synced after the backup rebuild their replicas
    // once it is restored (docs/protocol.md, "Cursor"). Errors: conflict (`to` exists),
    // invalid_argument (`to` is the store itself; a PostgreSQL store: use pg_dump), storage.
    struct BackupReport {
        uint64_t bytes = 0;     // size of the copy
        uint64_t version = 0;   // the store version the copy holds
        std::string epoch;      // the copy's new epoch
        std::string from_epoch; // this store's epoch
    };
    Result<BackupReport> backup(const std::string& to);
    // What /metrics reads from the store at each scrape (cheap queries). Tablets only (not
    // the console's devices), revoked ones left out.
    struct HealthStats {
        int64_t active_devices = 0;  // seen in the last 24 hours
        int64_t stale_devices = 0;   // not seen for 14 days (never seen: since created)
        int64_t store_bytes = 0;     // the database's size
    };
    Result<HealthStats> health_stats();

    // Loads one JSON document (see docs/import.md). All or nothing: a bad document is
    // refused whole with the path of the first bad field. Re-importing updates rows.
    Result<ImportReport> import_json(std::string_view document);

    // Test and admin helpers.
    // The ids of `kind` that `who` may see by the SQL rule (as pulls select rows) and by the
    // C++ rule (as writes check scope), each sorted; one table declares both.
    struct VisibleIds {
        std::vector<std::string> by_sql, by_cpp;
    };
    Result<VisibleIds> visible_ids(const AuthContext& who, Kind kind);

    // Admin operations (users.cc; revoke_device in auth.cc). Each writes its audit entry in
    // the same transaction as the change; `actor` as for audit(). Passwords are hashed
    // outside the store lock and never logged or audited.
    struct NewUser {
        std::string username, role;  // role: participant | coordinator | admin
        std::string person = {};     // participants: their person
        StrList sites = {};          // coordinators: their sites
        std::string password = {};   // at least 8 characters
    };
    // Errors: conflict (the username exists), not_found (person or site), invalid_argument.
    Status add_user(const NewUser& u, const std::string& actor);
    // Sets the password and ends every token of the user (their devices answer `unauthorized`
    // and log in again with the same device_id, keeping their seq memory, so nothing is
    // applied twice). Returns the number of tokens ended. Errors: not_found, invalid_argument.
    Result<int64_t> set_password(const std::string& username, const std::string& password,
                                 const std::string& actor);
    // The user can no longer log in, and every device of theirs is revoked (answered
    // `revoked`: remote wipe). Returns the number of devices revoked. Errors: not_found.
    Result<int64_t> revoke_user(const std::string& username, const std::string& actor);
    // The device is answered `revoked` from now on, on sync and on a login naming it. A
    // console device ("console:<username>") is not revoked alone (invalid_argument): revoke
    // its user.
    Status revoke_device(const std::string& device_id, const std::string& actor = "cli");
    // Counters of this process's login path (for benches, metrics and tests).
    struct LoginStats {
        uint64_t password_checks = 0;  // KDF runs, the dummy ones for unknown users included
        uint64_t throttled = 0;        // answered rate_limited without a check
        uint64_t overloaded = 0;       // answered overloaded: the KDF gate was full
    };
    LoginStats login_stats() const;
    // Counters of this process's sync rounds (for benches, metrics and tests).
    struct Stats {
        uint64_t rounds = 0;        // sync() calls
        uint64_t read_rounds = 0;   // rounds without actions, served on a read snapshot
        uint64_t write_rounds = 0;  // rounds with actions, through the group-commit writer
        uint64_t commits = 0;       // write transactions the writer committed (one per group)
        uint64_t noop_rounds = 0;   // incremental rounds answered without a query: nothing new
        uint64_t touches = 0;       // hourly refreshes of a device's last-seen written
        uint64_t row_cache_hits = 0, row_cache_misses = 0, row_cache_entries = 0,
                 row_cache_bytes = 0;  // the row cache (StoreOptions::row_cache_bytes)
    };
    Stats stats() const;
    // Appends one entry to the audit trail of admin operations (audit.cc). `actor` is who
    // did it ("cli:<os user>" for tundra-server subcommands, the username in the console),
    // `detail` a JSON object that never holds a password, token or erased personal data.
    Status audit(const std::string& actor, const std::string& operation,
                 const std::string& target, const std::string& detail_json = "{}");
    struct AuditEntry {
        int64_t at_ms = 0;
        std::string actor, operation, target, detail;
    };
    Result<std::vector<AuditEntry>> audit_trail(size_t limit = 1000);

    // GDPR (privacy.cc). Erasure: in one transaction the person leaves every replica (a
    // tombstone for the person and each row about them), their name, identity number, site,
    // profession, login (user row, credentials, devices' tokens) and free text (survey
    // comments; their name in deviations) are removed, active enrolments on occasions not
    // yet ended are cancelled, and what ESF reporting requires (gender, birth year,
    // education, employment, organisation, minutes, enrolments) stays under a stable
    // pseudonym that no device ever pulls. Audited (counts and pseudonym only); then the WAL
    // is truncated. Errors: not_found (no such person), storage.
    Result<ErasureReport> erase_person(const std::string& person_id, const std::string& actor);
    // Right of access: everything the store holds about a person as one JSON document
    // (person row with identity number, users, devices, enrolments, attendance, time
    // attestations, survey answers, participations, audit entries naming them). Audited.
    // Errors: not_found (unknown or erased), storage.
    Result<std::string> export_person(const std::string& person_id, const std::string& actor);
    // Walk-ins (merge.cc): moves everything about a provisional person (registered at a
    // walk-in) to the real person from the staff register, in one transaction with its audit
    // entry; the provisional person is deleted and leaves every device, moved rows reach the
    // devices that may see them now. Import does the same for an imported person whose
    // personal_id is a provisional person's. Errors: not_found (either person unknown),
    // invalid_argument (`provisional_id` is not provisional, either is erased, the same id
    // twice), storage.
    Result<MergeReport> merge_person(const std::string& provisional_id, const std::string& real_id,
                                     const std::string& actor);
    // ---- the console (issue 11; console.cc, console_reads.cc) ----
    // Checks the password exactly as login() does (throttled per username and address, the
    // KDF gate, one answer for unknown user and wrong password) and opens a console session.
    // Errors: unauthorized, rate_limited, overloaded, forbidden (participants: the console is
    // for coordinators and admins), revoked, storage. Audited ("console-login").
    Result<OpenedConsoleSession> console_login(const std::string& username,
                                               const std::string& password,
                                               const std::string& remote_address);
    // The session of a cookie token, its idle time renewed (written at most once a minute).
    // Idle: now >= seen + console_idle_ms; too old: now >= created + console_max_ms (times from
    // StoreOptions.wall). An ended session's row is deleted. Errors: unauthorized (unknown,
    // ended, idle or too old, or its user revoked, deleted or no longer staff), storage.
    Result<ConsoleSession> console_session(std::string_view token);
    // Ends the session (an unknown token is no error: nothing to end).
    Status console_logout(std::string_view token);
    // Errors: invalid_argument (lang is not sv or en), unauthorized (as console_session).
    Status set_console_language(std::string_view token, const std::string& lang);
    // `who` must be a console session's user (device_id "console:<username>", else
    // invalid_argument); a revoked user or console device is `revoked`, an unknown user
    // `unauthorized`.
    // Changes made in the console go through the same pipeline as a device's actions: each
    // action gets the next seq of `who.device_id` (the user's console device, created on first
    // use) and a fresh stamp of the store's clock (seq and hlc given are ignored), then passes
    // the same checks (limits, scope before and after, erased persons, quota) and rules (fair
    // seats, per-field LWW, history, report facts) and is recorded with its outcome; one
    // transaction for the batch. Outcomes in order. Errors: storage only (refusals are
    // outcomes).
    Result<std::vector<Outcome>> apply_actions(const AuthContext& who, std::vector<Action> actions);
    // Rows of `kind` that `who` may see (the pull's scope rule, scope_sql: erased persons and
    // the rows under them are never listed), filtered and paged, in `order_by` then id order.
    // equals: "" on a nullable column matches NULL; integer columns take a decimal, boolean
    // ones true|false|1|0, list columns
    // (courses.organisations) match when the list holds the value; any_of and search take text
    // columns only; search folds ASCII and Swedish letters (Å Ä Ö É Ü) and treats % _ \ as
    // plain text. Errors: invalid_argument naming the field (equals, any_of_column,
    // search_columns, order_by, range_column, limit) and the bad column; storage.
    Result<RowPage> rows(const AuthContext& who, Kind kind, const RowQuery& q);
    // Logins, by username (the console shows them to admins only: its route checks the role).
    // `devices` and `last_seen_ms` leave the user's console device out.
    Result<std::vector<UserInfo>> users();
    // Every device identity but console devices, grouped by tablet (install id; "" for devices
    // that named none), tablets newest seen first. Stale: last seen (or, never seen, created)
    // more than 14 days before now (StoreOptions.wall); rejections: outcomes `rejected` in
    // applied_actions of the last 14 days.
    Result<std::vector<TabletInfo>> tablets();
    // Revokes every device of a tablet not yet revoked (remote wipe on next contact), each as
    // revoke_device does (audited "revoke-device"), plus one "revoke-tablet" entry, in one
    // transaction; the number revoked now (0 when all already were). Console devices are no
    // tablet's. Errors: invalid_argument (empty install id), not_found (no device has that
    // install id), storage.
    Result<int64_t> revoke_tablet(const std::string& install_id, const std::string& actor);
    // The person whose identity number (personnummer) this is, if any (either form, not a
    // walk-in; the staff CSV uses person_for_import). Errors: storage.
    Result<std::optional<std::string>> person_by_personal_id(const std::string& personal_id);
    // The staff CSV's PersonLookup (staff_csv.h): the person with this id, or holding this
    // identity number (either form, not a provisional walk-in), with the columns of the
    // import's persons section, so that what a file does not say keeps the stored value.
    // Errors: storage.
    Result<std::optional<Row>> person_for_import(PersonKey by, const std::string& key);
    // What import_json(document) would do, computed in a transaction that is rolled back.
    // Errors: as import_json (invalid_argument with the path of the first bad field).
    Result<ImportPreview> preview_import(std::string_view document);
    Result<int64_t> count(const std::string& table);
    sql::Db& db() { return *db_; }
    uint64_t current_version();

private:
    struct Impl;
    explicit SqlStore(std::unique_ptr<sql::Db> db, StoreOptions opts);
    // auth.cc: the password check of login() and console_login(): throttled per username and
    // address, the KDF behind the gate, the same work and answer (unauthorized) for an
    // unknown user and a wrong password; a failure is counted. What the user is, on success.
    struct Credentials {
        std::string role, person;
        bool revoked = false;
    };
    Result<Credentials> check_credentials(const std::string& username, const std::string& password,
                                          const std::string& remote_address);
    // auth.cc: login()'s last step, for a correct password: the token for the device named
    // (unless it was revoked: `revoked`) or for a new device.
    Result<LoginResponse> issue_token(const LoginRequest& req, const std::string& role,
                                      const std::string& person);
    // import.cc: import_json's one path; a dry run (preview_import) is rolled back.
    Result<ImportReport> import_document(std::string_view document, const ImportDryRun* dry_run);
    // rounds.cc: the read path (a pool of read connections) and the group-commit writer.
    struct Reader;
    class ReaderLease;
    struct PendingRound;
    Status open_readers(const std::string& path);
    Result<SyncResponse> read_round(const AuthContext& who, const SyncRequest& req, int limit);
    Result<SyncResponse> write_round(const AuthContext& who, const SyncRequest& req, int limit);
    void run_group(const std::vector<PendingRound*>& group,
                   std::vector<std::optional<Result<SyncResponse>>>& out);
    void touch_device(const std::string& device_id, int64_t now_ms, uint64_t hlc);
    std::unique_ptr<sql::Db> db_;
    StoreOptions opts_;
    std::mutex mu_;
    std::vector<std::unique_ptr<Reader>> readers_;
    std::vector<Reader*> free_readers_;
    std::mutex readers_mu_;
    std::condition_variable readers_cv_;
    std::deque<PendingRound*> queue_;  // push rounds waiting for the writer
    bool writer_busy_ = false;
    std::mutex queue_mu_;
    std::condition_variable queue_cv_;
    std::atomic<uint64_t> rounds_{0}, read_rounds_{0}, write_rounds_{0}, commits_{0},
        noop_rounds_{0}, touches_{0};
    HlcClock clock_;
    std::unique_ptr<RowCache> row_cache_;
    std::unique_ptr<Impl> impl_;
    std::unique_ptr<KdfGate> kdf_gate_;
    std::string dummy_hash_;  // checked for unknown users: the same cost as a real check
    std::atomic<uint64_t> password_checks_{0}, throttled_{0}, overloaded_{0};
    friend struct Impl;
};

}  // namespace tundra::server
