// Actions are the typed mutations a device queues offline and pushes to the server.
// Each carries the device's sequence number (exactly-once key together with the device
// id taken from the token) and the HLC stamp of the moment the user acted.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tundra/core/hlc.h"
#include "tundra/core/model.h"
#include "tundra/core/status.h"

namespace tundra {

struct ActionField {
    std::string_view name;
    ColType type;
    bool required;
    const EnumSpec* values = nullptr;
    bool nullable = false;  // may be sent as null to clear the field
};

// What an action does to the row its id names; decides the server's scope check on that row
// (sync-server/src/actions.cc, `dispatch`).
enum class ActionWrite {
    creates,  // a new row: an id in use, whoever's it is, is `id_conflict`
    changes,  // an existing row: an unknown id, or one the actor may not see, is `not_found`
    upserts,  // creates or changes: an id the actor may not see is `not_found`
};

struct ActionSpec {
    std::string_view type;  // wire name
    Kind target;            // the entity kind it creates or changes
    std::string_view id_field;
    std::span<const ActionField> fields;  // includes the id field
    ActionWrite write;
};

// Known action types: enrol, cancel_enrolment, mark_attendance, walk_in, upsert_course,
// upsert_occasion, delete_occasion, update_person, attest_time, submit_survey, log_deviation,
// upsert_participation, and (issue 11, sent by the console) upsert_organisation, upsert_site,
// add_person.
std::span<const ActionSpec> all_actions();
const ActionSpec* action_spec(std::string_view type);

struct Action {
    uint64_t seq = 0;  // per-device, strictly increasing from 1
    Hlc hlc;           // when the user acted, on the device's clock
    std::string type;
    Row fields;  // only fields of the spec; unknown fields are refused

    const std::string& target_id() const;
};

// How much of an action validate_action checks. A device records only fully valid actions;
// a server decoding a request checks its shape (`wire`: types and required fields) and
// answers a value outside an enumeration per action, `rejected`/`invalid`, so that an older
// client's value (e.g. a free-text deviation category before protocol 2's enumeration) never
// blocks its queue.
enum class ActionCheck { full, wire };
// Checks type, field presence, field types and (unless `wire`) enumerations. `path` prefixes
// messages.
Status validate_action(const Action& action, std::string_view path, ActionCheck check = ActionCheck::full);
// Checks every field against the storage limits (ids, text length, list length; model.h):
// invalid_argument naming the field. The client refuses to record such an action; the
// server answers it `rejected`/`invalid` (an older client's queue is never blocked by it).
Status check_action_limits(const Action& action, std::string_view path);

enum class OutcomeResult { applied, adjusted, rejected };
std::string_view to_string(OutcomeResult r);
bool parse_outcome_result(std::string_view s, OutcomeResult& out);

struct Outcome {
    uint64_t seq = 0;
    OutcomeResult result = OutcomeResult::applied;
    std::string reason;   // empty when applied as asked; a code from `reasons` otherwise
    std::string message;  // for humans
    std::string status;   // resulting status of the target (e.g. enrolment "waitlisted")
};

// Reason codes carried by outcomes and by enrolment rows. Stable wire values.
namespace reasons {
inline constexpr std::string_view kForbidden = "forbidden";
inline constexpr std::string_view kNotFound = "not_found";
inline constexpr std::string_view kInvalid = "invalid";
inline constexpr std::string_view kWaitlisted = "waitlisted";
inline constexpr std::string_view kPreempted = "preempted";
inline constexpr std::string_view kPromoted = "promoted";
inline constexpr std::string_view kEnrolmentClosed = "enrolment_closed";
inline constexpr std::string_view kEnrolmentNotOpen = "enrolment_not_open";
inline constexpr std::string_view kOccasionCancelled = "occasion_cancelled";
inline constexpr std::string_view kNotPublished = "not_published";
inline constexpr std::string_view kAlreadyEnrolled = "already_enrolled";
inline constexpr std::string_view kAlreadyCancelled = "already_cancelled";
inline constexpr std::string_view kSuperseded = "superseded";  // an older edit lost to a newer
inline constexpr std::string_view kIdConflict = "id_conflict";
inline constexpr std::string_view kDuplicate = "duplicate";  // seq already applied, outcome gone
inline constexpr std::string_view kInUse = "in_use";  // delete refused: rows depend on it
// A different action arrived under a seq the server already applied (a replica restored
// from a backup, or one that lost its last transactions): not applied; the device renumbers
// it above the reply's `last_seq` and sends it again.
inline constexpr std::string_view kSeqReused = "seq_reused";
inline constexpr std::string_view kClockAhead = "clock_ahead";  // stamp limited to server time
// A person who turned up without an enrolment: confirmed even over capacity (walk_in action).
inline constexpr std::string_view kWalkIn = "walk_in";
// The action would write personal fields of a person erased under GDPR.
inline constexpr std::string_view kErased = "erased";
// Self check-in refused: not one's own confirmed enrolment, outside the occasion's window, or
// more minutes than the occasion lasts.
inline constexpr std::string_view kNotEnrolled = "not_enrolled";
inline constexpr std::string_view kOutsideWindow = "outside_window";
// The device has stored its daily allowance of actions (count or bytes); see protocol.md.
inline constexpr std::string_view kQuotaExceeded = "quota_exceeded";
}  // namespace reasons

}  // namespace tundra
