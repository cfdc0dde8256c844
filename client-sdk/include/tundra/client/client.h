// tundra::Client — the public SDK facade over a local replica (SQLite) and the sync engine.
//
// Contract:
// - Every user action (enrol, cancel, mark attendance, edits) is recorded in the replica
//   at once, in one transaction with its outbox entry, and is visible immediately (marked
//   pending). Nothing waits for the network.
// - sync() pushes queued actions and pulls changes in rounds; each response page is applied
//   in one transaction together with its cursor, so a crash or a drop costs at most the
//   round in flight. Retries are idempotent (device id + sequence number; the server also
//   checks the action's content, and a seq this replica reused is renumbered and resent).
// - Errors are values (Status/Result); nothing throws across this API.
// - Thread safety: one Client may be used from several threads (calls are serialised on
//   the replica; a sync holds it only while reading or applying, not during network waits,
//   and one sync or login runs at a time). Several Clients may also share one replica file:
//   the replica is the only holder of the clock and the sequence counter, taken inside
//   each write transaction, so stamps always increase with seq.
// No curl, SQLite or Beast types appear in this header.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tundra/client/transport.h"
#include "tundra/core/status.h"

namespace tundra::client {

struct OccasionView {
    std::string id, course, starts_at, ends_at, site, online_link, status, enrolment_closes;
    std::string site_name;         // the site's name when the replica holds it (issue 10)
    std::string enrolment_opens;   // ISO 8601 or empty
    int64_t capacity = 0;
    int64_t confirmed = 0;
    int64_t waitlisted = 0;
    int64_t seats_left = 0;
};

struct CourseView {
    std::string id, title, theme, format, provider;
    bool published = false;
    std::vector<OccasionView> occasions;
};

struct EnrolmentView {
    std::string id, occasion, person, person_name, status;
    bool pending = false;         // queued, not yet acknowledged by the server
    std::string reason;           // empty or a reason code (waitlisted, preempted, ...)
    std::string message;          // the server's words for a rejection
    // 1-based place on the occasion's waiting list, as the server last computed it (the
    // `waitlist_position` field of the enrolment row); empty unless waitlisted.
    std::optional<int64_t> waitlist_position;
};

// Filters for Client::enrolments: empty = any.
struct EnrolmentFilter {
    std::string occasion = {}, person = {};
};

struct AttendanceView {
    std::string id, occasion, person, person_name, status, recorded_by;
    std::optional<int64_t> minutes;
    bool pending = false;
    int history = 0;  // number of marks kept for this person at this occasion
};

// What Client::walk_in recorded: the enrolment it creates and the attendance mark (and, for
// a walk-in registered by name, the new provisional person).
struct WalkInReceipt {
    std::string enrolment, mark;
    std::string person = {};
};

struct RejectedAction {
    uint64_t seq = 0;
    std::string type, target, reason, message;
};

struct StatusView {
    std::string server, username, role, person, device_id;
    std::string name;  // the person's name when the replica holds their row (issue 10)
    // Holds a token: false after logout or a remote wipe (the user and server stay named, so
    // that a UI can offer to sign the same person in again).
    bool logged_in = false;
    std::vector<std::string> sites;
    int64_t pending = 0;
    std::string last_sync;  // ISO 8601, empty if never: the last complete pull
    std::string last_push;  // when the server last acknowledged queued actions
    std::vector<RejectedAction> rejected;
};


struct OutcomeView {
    uint64_t seq = 0;
    std::string type, target, result, reason, message, status;
};

struct SyncProgress {
    int round = 0;
    int64_t pushed = 0, pulled = 0;
    uint64_t bytes_sent = 0, bytes_received = 0;
    // Expected totals for this sync, from the server's count of rows still to come (exact
    // for rows; bytes extrapolated from the bytes per row so far). 0 = unknown yet.
    int64_t rows_expected = 0;
    uint64_t bytes_expected = 0;
    double seconds = 0;      // elapsed
    double eta_seconds = 0;  // at the measured throughput
    uint64_t page_budget = 0;  // bytes asked for in the next page
    bool more = false;
    std::string note;  // e.g. "retrying in 1.2 s: network: ..."
    // The same, structured: while the sync waits to retry, why (network, timeout, overloaded,
    // ...) and for how long; Errc::ok otherwise. A UI says "no connection" at once from it.
    Errc retrying = Errc::ok;
    int64_t retry_in_ms = 0;
    // Outcomes of the round just committed (also when a later round of the same sync fails).
    std::vector<OutcomeView> round_outcomes;
};

// A sync's cancel switch, shared between the caller and the sync (thread-safe). A cancelled
// sync stops within about a second, also in the middle of a transfer or a back-off wait: the
// round in flight is not applied (what earlier rounds committed stays), and sync() returns
// `cancelled`.
class SyncCancel {
public:
    SyncCancel() : flag_(std::make_shared<std::atomic<bool>>(false)) {}
    void cancel() const { flag_->store(true); }
    bool cancelled() const { return flag_->load(); }

private:
    std::shared_ptr<std::atomic<bool>> flag_;
};

struct SyncOptions {
    // The whole sync fits in this: every wait (connect, send, a stalled transfer, back-off)
    // is bounded by what is left of it, and the sync fails with `timeout`/`network` after.
    // 0: no deadline and no retry (the transport's own limits; the first failure ends it).
    std::chrono::milliseconds deadline{60000};
    int page_rows = 0;  // fixed rows per page; 0 = pages sized in bytes from the throughput
    // Pages are sized so that one takes about this long on the measured link: a drop
    // costs at most the page in flight.
    double target_page_seconds = 2.0;
    // Actions per request: the protocol's limit. After a failed push the next request
    // carries half as many (floor 1), doubling back on success.
    size_t max_actions_per_round = 1000;
    // Ask the server for the scope checksum with the page that completes the pull.
    bool verify = false;
    std::function<void(const SyncProgress&)> progress;
    // Cancels this sync when switched (see SyncCancel); default: never.
    SyncCancel cancel = {};
};

// Count and order-independent hash of (kind, id, server version) over synced rows.
struct Checksum {
    uint64_t count = 0;
    std::string hash;
    bool operator==(const Checksum&) const = default;
};

struct VerifyReport {
    bool ok = false;        // the replica matched the server at the first comparison
    bool repaired = false;  // it did not, a full pull was made, and now it matches
    Checksum local, server;  // as last compared
};

struct SyncReport {
    // The server could not continue from this replica's cursor (it was away longer than
    // deletions are remembered, or the user's scope changed): the replica was rebuilt by a
    // full pull, queued actions kept, and `removed` rows it should no longer hold deleted.
    bool reset = false;
    int64_t removed = 0;
    int rounds = 0;
    int requests = 0;  // including retries
    int64_t pushed = 0;
    int64_t pulled = 0;
    uint64_t bytes_sent = 0, bytes_received = 0;
    std::vector<OutcomeView> outcomes;
    std::optional<Checksum> checksum;  // the server's, when asked (SyncOptions::verify)
};

// Inputs name the fields to set; every other field defaults to "leave as is", so a caller writes
// CourseInput{.id = "c1", .title = "..."}.
struct CourseInput {
    std::string id = {};
    std::optional<std::string> title = {}, description = {}, theme = {}, format = {}, provider = {};
    std::optional<int64_t> duration_minutes = {};
    std::optional<std::vector<std::string>> organisations = {};
    std::optional<bool> published = {};
};

struct OccasionInput {
    std::string id = {};
    std::optional<std::string> course = {}, starts_at = {}, ends_at = {}, site = {},
                               online_link = {}, enrolment_opens = {}, enrolment_closes = {},
                               status = {};
    std::optional<int64_t> capacity = {};
};

struct PersonInput {
    std::string id = {};
    std::optional<std::string> name = {}, site = {}, profession = {}, education_level = {},
                               employment_status = {};
};

// ---- the programme's own records (issue 9) ---------------------------------------------------
// A participant's answer to an occasion's survey: ratings 1-5 and free text.
struct SurveyInput {
    std::string occasion = {};
    int64_t content = 0, usefulness = 0, overall = 0;
    std::optional<std::string> comment = {};
};

// The minutes a month's attendance marks suggest for `attest`: the current marks present,
// late or left_early of this person on occasions that start in the month (Europe/Stockholm),
// each with its minutes, else the occasion's length.
struct AttestSuggestion {
    std::string month;
    int64_t suggested_minutes = 0;
    int64_t occasions = 0;            // how many occasions count
    std::optional<int64_t> attested;  // what this person attested for the month, if anything
    bool pending = false;             // that attestation is not yet synced
};

struct DeviationInput {
    std::string organisation = {}, category = {}, description = {};
    std::optional<std::string> occasion = {};
};

// Filters for Client::deviations: empty = any.
struct DeviationFilter {
    std::string status = {}, organisation = {}, category = {};
};

struct DeviationView {
    std::string id, organisation, occasion, category, description, status, action_taken;
    bool pending = false;
};

// A walk-in who is not yet a person in the store: registered by the walk_in action itself as
// a provisional person (an admin later merges it into the real one).
struct NewPersonInput {
    std::string name = {}, site = {}, gender = {};
    std::optional<int64_t> birth_year = {};
    std::optional<std::string> personal_id = {};
};

// `todo`: what is still unanswered, offline.
struct SurveyTodo {
    std::string occasion, course_title, ends_at, closes_at;  // ISO 8601 UTC
    std::string closes_on;  // the last day answers are taken (Europe/Stockholm, YYYY-MM-DD)
};
struct AttestTodo {
    std::string month;
    int64_t suggested_minutes = 0;
    int64_t occasions = 0;
    bool in_participation = false;  // the month lies in one of the person's participations
};
// A change the server made that touches this person, kept until seen: `preempted` (the seat
// went to someone who acted first), `promoted` (a seat from the waiting list), `cancelled`
// (the occasion), `moved` (the occasion's times changed). `before`/`after`: the status or
// the times.
struct NoticeView {
    int64_t id = 0;
    std::string kind, occasion, course_title, enrolment, before, after;
    std::string noticed_at;  // ISO 8601, when this device learnt of it
    std::string message;     // in words, times in Europe/Stockholm
};
struct TodoView {
    std::string role, person;
    std::vector<SurveyTodo> surveys;     // participants
    std::vector<AttestTodo> months;      // participants
    std::vector<NoticeView> changed;     // anyone with a person
    std::vector<DeviationView> open_deviations;  // coordinators (their organisations), admins
};

// ---- what a UI needs (issue 10) ----------------------------------------------------------------
// A committed change to the replica. `kinds`: the model kinds whose rows changed ("course",
// "occasion", "enrolment", "attendance", "person", "site", "organisation", ...), plus
// "outbox" (pending or rejected actions), "notice" (changed for you) and "sync" (the sync
// state: last sync, progress ended), "session" (who is logged in, the token, the PIN) and
// "settings". `source`: "action", "sync", "dismiss" (a rejected action dismissed, notices
// seen), "wipe" (remote wipe), "logout", "login", "settings" (set_setting, set_pin).
// A sync page that changed nothing is not announced.
struct ChangeEvent {
    std::string source;
    std::vector<std::string> kinds;
    bool touches(std::string_view kind) const {
        for (auto& k : kinds)
            if (k == kind) return true;
        return false;
    }
};

// The people a coordinator may enrol or register (their sites' staff); admins: everyone.
struct PersonView {
    std::string id, name, site, site_name;
    bool provisional = false;
};
struct PersonFilter {
    std::string site = {};
    std::string search = {};  // case-insensitive part of the name; empty = all
};

// A site and its organisation, as the replica holds them.
struct SiteView {
    std::string id, name, organisation, organisation_name;
};

// Unlocking a shared tablet with a PIN (set_pin / check_pin). After 5 wrong PINs in a row each
// further try must wait (30 s, doubling: 30, 60, 120, 240, 480 s); after 10 the PIN no
// longer unlocks and the password is needed (check_password). Counted in the replica, so a
// restart of the app does not reset it.
struct PinCheck {
    enum class Outcome { ok, wrong, wait, password_needed, no_pin };
    Outcome outcome = Outcome::wrong;
    int failures = 0;        // wrong PINs in a row so far
    int retry_after_s = 0;   // for `wait` (and after a `wrong` that started a delay)
};

struct ClientOptions {
    // Builds the transport for a server URL; default: libcurl.
    std::function<std::unique_ptr<Transport>(const std::string& url)> transport_factory;
    // Wall clock in ms since the epoch (for tests with skewed clocks); default: system.
    std::function<uint64_t()> wall_clock;
    std::string device_name = "tundra-cli";
    // How the retry loop waits (tests pass a fake so that backoff costs no real time).
    std::function<void(std::chrono::milliseconds)> sleep;
    // Fault injection for tests: consulted before every write to the replica; a non-OK
    // status fails that write as a full disk would.
    std::function<Status()> storage_fault;
    // The install id file, kept outside the replica (a platform's backup must not restore
    // it with the replica). Created at the first login; a replica created under another
    // install id is a restored copy: it forgets its device identity and must log in again.
    // Default: the replica path + ".install-id".
    std::string install_id_path;
    // The whole login request (connect, send, answer) ends within this.
    std::chrono::milliseconds login_timeout{30000};
    // Sent at login (issue 10): shown beside the device in the console.
    std::string app_version = {};
};

// How to reach the server safely. Stored in the replica by login() and used by every later
// request (sync, verify) of any Client on that replica.
struct LoginOptions {
    // PEM file of the CA to trust instead of the system's (a municipality's own CA); stored
    // as an absolute path. Empty: the one an earlier login to the same server stored, if
    // any, else the system trust store.
    std::string ca_file = {};
    // Allow http:// to a host other than this machine (the password and token cross the
    // network in clear). Never implied: each login that needs it says so.
    bool allow_insecure_http = false;
};

struct LogoutReport {
    int64_t exported = 0;    // queued actions written to the export file
    std::string export_id;   // the export's id (empty without an export)
};

struct ReplayReport {
    int64_t queued = 0;
    std::string export_id;
};

class Client {
public:
    // Opens or creates a replica. Errors: storage (unreadable/corrupt file),
    // unsupported_version (replica from a newer build).
    static Result<std::unique_ptr<Client>> open(const std::string& replica_path,
                                                ClientOptions opts = {});
    ~Client();

    // Logs in and binds the replica to this user and a device identity. Refuses to switch
    // users while actions are queued. A server busy checking other passwords is asked again
    // within the login timeout; nothing else is retried. Errors: unauthorized, network (also
    // an untrusted certificate), invalid_argument (also http:// beyond loopback without
    // allow_insecure_http, an unreadable ca_file), rate_limited (too many failed logins: the
    // message and Status::retry_after_s say how long to wait; never retried automatically),
    // revoked (this device or user was revoked: the replica's synced data is wiped, as for
    // sync()).
    Status login(const std::string& server_url, const std::string& username,
                 const std::string& password, const LoginOptions& options = {});

    // Pushes queued actions and pulls until up to date. Retries transient failures with
    // backoff until opts.deadline; stops at once on errors retrying cannot cure.
    // Remote wipe: when the server answers `revoked`, every synced row, the token and the
    // answered outbox entries are deleted from the replica; queued actions are kept, and the
    // `revoked` error says how many (`tundra logout --export FILE` takes them out).
    Result<SyncReport> sync(const SyncOptions& opts = {});

    // Syncs until caught up asking for the server's scope checksum and compares it with the
    // replica's; on a mismatch clears the cursor (the next pull is a full pull that sweeps
    // what the server no longer sends), syncs again and compares again. Errors: as sync();
    // unsupported_version when the server sends no checksum.
    Result<VerifyReport> verify(const SyncOptions& opts = {});

    Result<StatusView> status();
    Result<std::vector<CourseView>> courses();
    Result<std::vector<EnrolmentView>> enrolments(const EnrolmentFilter& filter = {});
    // Current mark per person at an occasion: the newest by (source rank, HLC, device), where
    // a mark by staff or import outranks a self check-in (core `attendance_current_order_sql`,
    // the server's rule).
    Result<std::vector<AttendanceView>> attendance(const std::string& occasion);
    // Every current mark of one person (their attendance history), newest occasion first.
    Result<std::vector<AttendanceView>> attendance_of(const std::string& person);
    Result<std::vector<PersonView>> persons(const PersonFilter& filter = {});
    Result<std::vector<SiteView>> sites();

    // Actions: each returns the id of the row it creates or changes. Errors: not_found
    // (unknown id in the replica), invalid_argument, forbidden (role), unauthorized (not
    // logged in), storage.
    Result<std::string> enrol(const std::string& occasion, const std::string& person = {});
    Result<std::string> cancel(const std::string& enrolment);
    Result<std::string> mark_attendance(const std::string& occasion, const std::string& person,
                                        const std::string& status,
                                        std::optional<int64_t> minutes = {});
    // Staff: a person who turned up at an occasion without an enrolment. One action: a
    // confirmed enrolment (reason `walk_in`, even over capacity, taking nobody's seat) and the
    // mark, both shown at once. Errors as above; forbidden for participants.
    Result<WalkInReceipt> walk_in(const std::string& occasion, const std::string& person,
                                  const std::string& status = "present",
                                  std::optional<int64_t> minutes = {});
    // Staff: a walk-in who is not yet a person in the store: one walk_in action registers a
    // provisional person (new local id) at `person.site`, the confirmed enrolment and the mark.
    // Errors as walk_in; invalid_argument names a missing or bad field (name, site, gender
    // from kGenders, birth_year).
    Result<WalkInReceipt> walk_in_new(const std::string& occasion, const NewPersonInput& person,
                                      const std::string& status = "present",
                                      std::optional<int64_t> minutes = {});

    // ---- the programme's own records (client_records.cc) ----
    // Participants, for themselves only (forbidden otherwise). Refused locally
    // (invalid_argument) when a rating is outside 1-5, the occasion has not ended, its survey
    // has closed (survey_closes, or 30 days after the end), or the replica holds no attended
    // mark (present, late, left_early) of this person there. Answering again edits the
    // answer: the same id.
    Result<std::string> submit_survey(const SurveyInput& in);
    // Participants: the minutes the marks suggest for a month (YYYY-MM), and what is attested.
    Result<AttestSuggestion> attest_suggestion(const std::string& month);
    // Participants confirm their own minutes for a month (0-44640); a month not yet begun is
    // refused. One attestation per month: attesting again edits it (the same id).
    Result<std::string> attest(const std::string& month, int64_t minutes);
    // Coordinators and admins. The category is one of kDeviationCategories (the list is in
    // the error); the organisation (and the occasion, if given) must be in the replica.
    Result<std::string> log_deviation(const DeviationInput& in);
    // Marks a deviation handled with the action taken (a later call edits the text).
    Result<std::string> handle_deviation(const std::string& id, const std::string& action_taken);
    // The deviation log in this replica (coordinators hold their organisations'), open ones
    // first, then by organisation and id; filters are checked against their enumerations.
    Result<std::vector<DeviationView>> deviations(const DeviationFilter& filter = {});
    // Coordinators and admins: a person's project participation starts / ends in a month.
    // Start refuses (conflict) when the person already has an open participation; end finds
    // the open one (not_found when there is none) and refuses a month before its start.
    Result<std::string> start_participation(const std::string& person, const std::string& month);
    Result<std::string> end_participation(const std::string& person, const std::string& month);
    // What is still unanswered, from the replica alone (todo.cc).
    Result<TodoView> todo();
    // Marks every "changed for you" notice seen; returns how many.
    Result<int64_t> mark_notices_seen();

    Result<std::string> upsert_course(const CourseInput& in);
    Result<std::string> upsert_occasion(const OccasionInput& in);
    // Coordinators (their sites' staff), admins; participants may edit their own profession,
    // education level and employment status.
    Result<std::string> update_person(const PersonInput& in);
    // Admins: removes an occasion nobody enrolled in (the server refuses with `in_use`
    // otherwise: cancel it instead).
    Result<std::string> delete_occasion(const std::string& occasion);
    // Removes a rejected action (and its rejected row) from view.
    Status dismiss(uint64_t seq);

    // Leaves this tablet: deletes every synced row (personal data of everyone in scope), the
    // outbox and the token, and truncates the WAL (docs/security.md). The replica file, the
    // install id and the device identity stay: the same user logging in again keeps the
    // device and its seq memory. Never loses work: with actions still queued it refuses
    // (`conflict`, "3 actions are not yet synced; ...") unless `export_path` is given, where
    // they are first written (JSON, mode 0600, atomically) for `replay`.
    Result<LogoutReport> logout(const std::string& export_path = {});
    // Queues the actions of a logout export again (logged in; fresh seqs, original stamps and
    // content). Replaying one file twice on a replica is refused (`conflict`); an action the
    // server already applied from this device identity is answered with its stored outcome
    // and not applied again (by content), and one sent from another device meets its own
    // id on the server (`id_conflict`), so nothing is applied twice.
    Result<ReplayReport> replay(const std::string& export_path);

    // ---- what a UI needs (client_ui.cc; issue 10) ----
    // Calls `fn` after every committed change to this replica made through this Client (an
    // action, each applied sync page, a dismissal, a wipe, a login, a setting), on the thread
    // that made it, with no lock held: fn may call this Client (but a sync, login, logout or
    // change_password started from a notification of a sync on the same thread is refused
    // with `conflict`, as it would wait for itself). Changes made on several threads may
    // call fn at the same time. At the end of every sync (success, failure or cancel) fn gets
    // {"sync", {"sync"}}. Returns an id for unsubscribe(); after unsubscribe returns, fn is
    // not called again (a call already running on another thread finishes). Thread-safe.
    uint64_t subscribe(std::function<void(const ChangeEvent&)> fn);
    void unsubscribe(uint64_t id);

    // The PIN that unlocks this replica on a shared tablet: 4-6 digits (invalid_argument
    // otherwise); only a PBKDF2 verifier is kept, in the replica. Setting it resets the count
    // of wrong PINs. Errors: unauthorized (not logged in), storage.
    Status set_pin(const std::string& pin);
    bool has_pin();
    // Checks a PIN against the verifier, counting wrong ones (see PinCheck). A try during a
    // wait is refused without being checked or counted.
    Result<PinCheck> check_pin(const std::string& pin);
    // What check_pin would answer before checking anything, without counting: no_pin, wait
    // (retry_after_s), password_needed, else `ok` (a PIN may be tried) with the wrong PINs so
    // far. For a UI's list of people (who needs the password).
    Result<PinCheck> pin_status();
    // Checks the user's password offline against the verifier stored at the last successful
    // login (or change_password); on success the count of wrong PINs is reset. Errors:
    // unauthorized (wrong password), conflict (no verifier stored).
    Result<bool> check_password(const std::string& password);
    // Online: changes this user's password on the server (POST /v1/password) and the local
    // verifier. Errors: unauthorized (wrong current password), invalid_argument (the new one
    // breaks the server's rules, said in words), network, rate_limited.
    Status change_password(const std::string& current, const std::string& next);

    // Local settings kept in the replica (never synced), e.g. "language". Unknown key: empty.
    Status set_setting(const std::string& key, const std::string& value);
    Result<std::string> setting(const std::string& key);

    // Diagnostics: the synced rows of every table (local-only rows excluded), one JSON
    // object per row, sorted — what convergence tests compare with the server.
    Result<std::map<std::string, std::vector<std::string>>> snapshot();

private:
    struct Impl;
    explicit Client(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace tundra::client
