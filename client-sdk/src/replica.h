// The local replica: schema and migrations, typed replica state, generic row access, the
// outbox and the optimistic overlay, read views. Internal to the SDK.
//
// One class over several files:
//   replica.cc   open, migrations, meta, rows, full-pull marks, checksum, outbox
//   overlay.cc   shadows and the optimistic overlay of not-yet-reflected actions
//   views.cc     read queries behind Client::courses/enrolments/attendance/snapshot
//   remote_wipe.cc  wipe_synced_data (the device was revoked)
//   records.cc   reads behind surveys, attestations, participations, deviations and todo
//   notices.cc   "changed for you": server changes to this person's enrolments and occasions
//   replica_local.cc  the device's own state: PIN and password verifiers, settings
// No SQL crosses this boundary: callers pass enums and values.
//
// Thread safety: a Replica belongs to one thread at a time (the Client serialises). Several
// Replicas (Clients) may share one file: every write is one BEGIN IMMEDIATE transaction,
// and the clock and seq counter are read and written inside it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "replica_meta.h"
#include "tundra/client/client.h"
#include "tundra/core/action.h"
#include "tundra/core/hlc.h"
#include "tundra/core/model.h"
#include "tundra/core/protocol.h"
#include "tundra/sqlite/db.h"

namespace tundra::client {

// 1: tables from the entity descriptors; 2: reset_seen (full-pull marks); 3: the server
// version of each synced row (`version`, for the scope checksum); 4: replayed_exports (the
// exports `tundra replay` has queued, so that one file is never queued twice); 5: model
// columns of issue 9 and `notices` ("changed for you", kept until seen); 6: model columns of
// issue 10 (enrolments.waitlist_position), `unlock` (PIN and password verifiers, wrong PINs)
// and `settings`.
inline constexpr int kReplicaSchemaVersion = 6;

enum class OutboxState { queued, acked, rejected, done, dismissed };
std::string_view to_string(OutboxState s);

// A row of a kind kept once per person and key (a survey answer, a month's attestation).
struct KeyedRow {
    Row row;
    bool pending = false;
};

// An occasion this person attended: the current mark is present, late or left_early.
struct AttendedOccasion {
    std::string occasion, course_title, starts_at, ends_at, survey_closes;
    int64_t minutes = 0;  // the mark's minutes, else the occasion's length
};

// Unlocking a shared tablet (replica_local.cc): PBKDF2 verifiers only, and the count of wrong
// PINs in a row with the time of the last one.
struct UnlockState {
    std::string pin_verifier, password_verifier;
    int pin_failures = 0;
    int64_t pin_failed_ms = 0;
};

struct OutboxEntry {
    Action action;
    OutboxState state = OutboxState::queued;
    Outcome outcome;  // valid unless queued
};

class Replica {
public:
    static Result<std::unique_ptr<Replica>> open(const std::string& path);

    // Transactions (BEGIN IMMEDIATE): the caller groups replica writes.
    sqlite::Transaction transaction() { return sqlite::Transaction(*db_); }
    void set_fault_hook(sqlite::Db::FaultHook hook) { db_->set_fault_hook(std::move(hook)); }

    // ---- typed state (replica.cc)
    ReplicaMeta load_meta();
    Status save_meta(const ReplicaMeta& m);
    // Forgets the cursor (in its own transaction): the next pull is a full pull whose sweep
    // removes what the server no longer sends. Queued actions are kept.
    Status forget_cursor();

    // ---- rows (replica.cc)
    Result<std::optional<Row>> load_row(Kind kind, const std::string& id);
    // `version` is the server's version of a synced row; nullopt keeps the stored one (the
    // overlay changes a row's fields, not which server version it derives from).
    Status put_row(Kind kind, const Row& row, bool pending, bool local_only,
                   std::optional<uint64_t> version = std::nullopt);
    Status delete_row(Kind kind, const std::string& id);
    Status wipe_data();
    // Removes every synced row, the overlay, the shadows, the full-pull marks, the cursor and
    // the outbox's history (acked, done, dismissed entries), in one transaction; then
    // truncates the WAL so no deleted content is left in the -wal file. Keeps the outbox's
    // queued actions (work not yet sent) and rejected ones (not yet read), the login and
    // the device identity. The next sync is a full pull. Used by `logout` and by the remote
    // wipe of a revoked device.
    Status wipe_synced_data();
    // `tundra logout`: wipe_synced_data, and the token (and role, sites, person) go too. The
    // server, username, device id, install id, clock and seq counter stay, so the same user
    // logging in again on this tablet keeps its device identity (exactly-once across the
    // logout). Refuses with `conflict` while actions are queued, unless `drop_queued` (the
    // caller has exported them first). Returns how many queued actions were dropped.
    Result<int64_t> logout(bool drop_queued);
    // Drops finished outbox entries (done, dismissed) about a person this replica no longer
    // holds (erased, moved out of scope): their content may carry personal data (a name in
    // update_person, a survey comment) that must leave with the person's row.
    Status prune_history();
    // The WAL checkpoint after deletions (Db::checkpoint_truncate); best effort while another
    // connection reads.
    Status checkpoint();
    // Remote wipe (remote_wipe.cc): wipe_synced_data, and the token goes too (forget_token);
    // the user, server and device identity stay (a login from here names the revoked device
    // again). Returns how many queued actions were kept.
    Result<int64_t> wipe_after_revocation();
    // Forgets the token and what it let the user see (role, sites, person); keeps who and
    // which device this was. Call inside a transaction or alone.
    Status forget_token();
    // Full pulls: begin (forget earlier marks), mark each row sent, sweep the synced rows
    // not sent. The sweep never removes local-only or pending rows. begin_full_pull says
    // whether the replica holds any row of the server's (call it with the overlay off): when
    // it holds none, every synced row at the end came from this pull and nothing needs marks.
    Result<bool> begin_full_pull();
    // The synced tables' secondary indexes: dropped while a first sync fills an empty replica,
    // made again (if missing) when a full pull ends and at open when none is under way.
    Status drop_row_indexes();
    Status ensure_row_indexes();
    Status mark_seen(Kind kind, const std::string& id);
    // `kinds` (optional) gains the kinds of the rows swept.
    Result<int64_t> sweep_unseen(std::set<std::string>* kinds = nullptr);
    // Count and hash of (kind, id, version) over synced rows (docs/protocol.md, "Verify").
    Result<ScopeChecksum> checksum();

    // ---- outbox (replica.cc)
    // Records a user action: seq and HLC stamp are taken from the replica state inside one
    // transaction with the outbox entry and its overlay. Errors: unauthorized (not logged
    // in), invalid_argument, storage.
    Result<Action> record(const std::string& type, Row fields, const HlcClock::WallClock& wall);
    Result<std::vector<OutboxEntry>> outbox(std::initializer_list<OutboxState> states,
                                            size_t limit = 1u << 30);
    Status set_outcome(const Outcome& o, OutboxState state);
    Status finish_acked();  // acked -> done, once a pull has caught up with the server
    Result<int64_t> count_queued();
    // Moves every queued action with seq >= `from` above max(`above`, every other seq in the
    // outbox), keeping their order; returns the highest seq now in the outbox.
    Result<uint64_t> renumber_queued(uint64_t from, uint64_t above);
    // rejected -> dismissed; returns the action. not_found when `seq` is not a rejected action.
    Result<Action> dismiss(uint64_t seq);
    // `tundra replay`: queues actions exported by a logout again, with fresh seqs and their
    // original stamps and content (so the server's by-content check recognises one already
    // applied from this device identity), in one transaction with the export id in
    // `replayed_exports`. Errors: unauthorized (not logged in), conflict (this export was
    // already replayed on this replica), invalid_argument.
    Result<int64_t> requeue(const std::string& export_id, const std::vector<Action>& actions,
                            const HlcClock::WallClock& wall);

    // ---- overlay (overlay.cc)
    // The overlay: local effects of actions not yet reflected by the server's rows. Rows
    // are saved to `shadow` before the overlay first touches them, so the overlay can be
    // taken off (restore_shadows) before server changes are applied, and put back after.
    Status restore_shadows();
    Status apply_overlay(const OutboxEntry& e, const ReplicaMeta& m);
    Status apply_all_overlays(const ReplicaMeta& m);

    // ---- views (views.cc)
    Result<std::vector<CourseView>> courses(const std::string& role);
    Result<std::vector<EnrolmentView>> enrolments(const EnrolmentFilter& filter);
    Result<std::vector<AttendanceView>> attendance(const std::string& occasion);
    // The current mark of one person at each occasion, newest occasion first.
    Result<std::vector<AttendanceView>> attendance_of(const std::string& person);
    Result<std::vector<PersonView>> persons(const PersonFilter& filter);
    Result<std::vector<SiteView>> sites();
    // The name of a person the replica holds; empty otherwise.
    Result<std::string> person_name(const std::string& person);
    Result<std::map<std::string, std::vector<std::string>>> snapshot();

    // ---- the programme's records (records.cc)
    Result<std::vector<AttendedOccasion>> attended(const std::string& person);
    // The row of `kind` this person holds for `key_column` = key, if any.
    Result<std::optional<KeyedRow>> keyed_row(Kind kind, const std::string& person,
                                              std::string_view key_column, const std::string& key);
    // Every row of `kind` (participations, survey answers, attestations) of one person.
    Result<std::vector<Row>> rows_of_person(Kind kind, const std::string& person);
    Result<std::vector<DeviationView>> deviations(const DeviationFilter& filter);

    // ---- notices (notices.cc)
    // Targets of this device's actions the server's rows may not reflect yet (queued and
    // acknowledged ones): a change to them is an echo of the user's own action, not news.
    Result<std::set<std::string>> outstanding_targets();
    // Compares a row the server sent with the row held before it (call before put_row, with
    // the overlay off) and records a notice when the change touches `m.person`.
    Status note_server_change(Kind kind, const Row& after, const std::set<std::string>& echoes,
                              const ReplicaMeta& m, int64_t now_ms);
    // Unseen notices, oldest first; mark_notices_seen returns how many it marked.
    Result<std::vector<NoticeView>> notices();
    Result<int64_t> mark_notices_seen(int64_t now_ms);
    // How many times this Replica has added, changed or withdrawn a notice since it was
    // opened (a page compares it before and after, for change notifications).
    int64_t notices_changed() const { return notices_changed_; }

    // ---- the device's own state (replica_local.cc), never synced
    Result<UnlockState> load_unlock();
    // Call inside a transaction or alone.
    Status save_unlock(const UnlockState& u);
    // Forgets the verifiers and the count of wrong PINs, and with `settings` the settings
    // too. Call inside a transaction or alone.
    Status forget_local_state(bool settings);
    Result<std::string> setting(const std::string& key);
    Status set_setting(const std::string& key, const std::string& value);

private:
    explicit Replica(std::unique_ptr<sqlite::Db> db) : db_(std::move(db)) {}
    Status migrate();
    Status add_missing_columns();
    Status wipe_synced_rows();  // wipe_synced_data without its transaction
    Status shadow(Kind kind, const std::string& id);
    // overlay.cc: an enrolment's local effect (requested, then the server's answer).
    Status overlay_enrol(const OutboxEntry& e, const ReplicaMeta& m, bool has_server_row,
                         bool queued);
    // overlay.cc: the mark of a mark_attendance or walk_in, ranked like the server's.
    Status overlay_mark(const OutboxEntry& e, const ReplicaMeta& m, bool queued);
    // overlay.cc: the provisional person of a walk_in that registers one by name.
    Status overlay_walk_in_person(const OutboxEntry& e, bool queued);
    std::unique_ptr<sqlite::Db> db_;
    int64_t notices_changed_ = 0;
};

}  // namespace tundra::client
