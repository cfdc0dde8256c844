// The domain model of the brief as data: enumerations, values, and one descriptor per
// synced entity kind. Descriptors drive the generic code paths (JSON codec, replica
// upserts, server pulls), so adding a column is a one-line change here plus a migration.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tundra/core/status.h"

namespace tundra {

// ---- enumerations (wire values are the strings) -------------------------------------
struct EnumSpec {
    std::string_view name;
    std::span<const std::string_view> values;
    bool contains(std::string_view v) const;
    std::string list() const;  // "a|b|c" for error messages
};

extern const EnumSpec kRoles;               // participant|coordinator|admin
extern const EnumSpec kGenders;             // woman|man|non_binary|undisclosed
extern const EnumSpec kCourseFormats;       // digital_self_paced|live_online|...
extern const EnumSpec kOccasionStatuses;    // planned|cancelled|completed
extern const EnumSpec kEnrolmentStatuses;   // requested|confirmed|waitlisted|cancelled|rejected
extern const EnumSpec kAttendanceStatuses;  // unmarked|present|absent|late|left_early|excused
extern const EnumSpec kAttendanceSources;   // coordinator|self_check_in|import
extern const EnumSpec kDeviationStatuses;   // open|handled
// cancelled_session|technical|attendance|content|accessibility|other
extern const EnumSpec kDeviationCategories;
extern const EnumSpec kEducationLevels;     // isced_0_2|isced_3_4|isced_5_8
extern const EnumSpec kEmploymentStatuses;  // employed|self_employed|unemployed|inactive

// ---- values and rows -------------------------------------------------------------------
using StrList = std::vector<std::string>;
// monostate is SQL NULL / JSON null.
using Value = std::variant<std::monostate, int64_t, bool, std::string, StrList>;
using Row = std::map<std::string, Value, std::less<>>;

const std::string* get_str(const Row& row, std::string_view key);
std::optional<int64_t> get_int(const Row& row, std::string_view key);

enum class ColType { text, integer, boolean, str_list, iso_time };

struct Column {
    std::string_view name;
    ColType type;
    bool nullable = false;
    const EnumSpec* values = nullptr;  // for enumerated text columns
};

enum class Kind {
    organisation,
    site,
    person,
    participation,
    course,
    occasion,
    enrolment,
    attendance,
    time_attestation,
    survey_response,
    deviation,
};

struct EntitySpec {
    Kind kind;
    std::string_view name;   // wire name, e.g. "enrolment"
    std::string_view table;  // table name on both sides, e.g. "enrolments"
    std::span<const Column> columns;  // synced columns; the first is always "id"
};

std::span<const EntitySpec> all_entities();
const EntitySpec& entity(Kind kind);
const EntitySpec* entity_by_name(std::string_view name);

// Validates one value against its column (type, nullability, enumeration, ISO time).
// `path` names the field in error messages, e.g. "persons[3].gender".
Status check_value(const Column& col, const Value& v, std::string_view path);

// ---- limits on what a device or an import may store -------------------------------------
// Ids (a row's id, the ids it refers to, usernames) are at most kMaxIdBytes bytes; every other
// text at most kMaxTextChars characters (UTF-8 code points); a list at most kMaxListItems
// entries. Documented in docs/protocol.md (Limits).
inline constexpr size_t kMaxIdBytes = 100;
inline constexpr size_t kMaxTextChars = 4000;
inline constexpr size_t kMaxListItems = 1000;
// Whether a field holds an id: "id", "code", "username", "mark", or the wire name of a kind
// (a reference such as "occasion", or an action's id field such as "deviation").
bool is_id_field(std::string_view name);
// Checks one value against the limits above; invalid_argument names `path`.
Status check_limits(std::string_view name, const Value& v, std::string_view path);

// ---- attendance: which mark is current ---------------------------------------------------
// The current mark of a person at an occasion is the newest by (source rank, HLC, device):
// a mark by staff or import outranks a self check-in, whatever their stamps.
int attendance_source_rank(std::string_view source);
// Whether a mark says the person was there (present, late, left_early): what surveys, the
// attestation suggestion and the ESF reports count.
bool attendance_attended(std::string_view status);
// The same order as SQL, for `ORDER BY`: newest first, over the attendance table alias `a`.
std::string attendance_current_order_sql(std::string_view a);

// ---- surveys -----------------------------------------------------------------------------
// An occasion's survey takes answers from its end until `survey_closes`; an occasion without
// one closes kSurveyOpenDays days after it ends. The same rule on server and device.
inline constexpr int64_t kSurveyOpenDays = 30;
// `survey_closes` is the occasion's column (ISO time) or empty.
int64_t survey_closes_ms(int64_t ends_ms, std::string_view survey_closes);

// ---- months ------------------------------------------------------------------------------
// "YYYY-MM" with a month 01-12 (participations, attestations, reports).
bool valid_month(std::string_view month);

// ---- time --------------------------------------------------------------------------------
// Accepts "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fff]]" with "Z" or "+hh:mm"/"-hh:mm" (no offset
// means UTC). Returns milliseconds since the epoch.
Result<int64_t> parse_iso8601(std::string_view text);
// Canonical form "YYYY-MM-DDTHH:MM:SSZ".
std::string format_iso8601(int64_t epoch_ms);

}  // namespace tundra
