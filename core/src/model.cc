#include "tundra/core/model.h"

#include "tundra/core/json.h"

#include <array>
#include <cstdio>
#include <ctime>

namespace tundra {
namespace {
constexpr std::string_view kRoleV[] = {"participant", "coordinator", "admin"};
constexpr std::string_view kGenderV[] = {"woman", "man", "non_binary", "undisclosed"};
constexpr std::string_view kFormatV[] = {"digital_self_paced", "live_online", "on_site",
                                         "blended",            "workshop",    "network_meeting"};
constexpr std::string_view kOccStatusV[] = {"planned", "cancelled", "completed"};
constexpr std::string_view kEnrStatusV[] = {"requested", "confirmed", "waitlisted", "cancelled",
                                            "rejected"};
constexpr std::string_view kAttStatusV[] = {"unmarked", "present",    "absent",
                                            "late",     "left_early", "excused"};
constexpr std::string_view kAttSourceV[] = {"coordinator", "self_check_in", "import"};
constexpr std::string_view kDevStatusV[] = {"open", "handled"};
constexpr std::string_view kDevCategoryV[] = {"cancelled_session", "technical",     "attendance",
                                              "content",           "accessibility", "other"};
constexpr std::string_view kEduV[] = {"isced_0_2", "isced_3_4", "isced_5_8"};
constexpr std::string_view kEmpV[] = {"employed", "self_employed", "unemployed", "inactive"};
}  // namespace

const EnumSpec kRoles{"role", kRoleV};
const EnumSpec kGenders{"gender", kGenderV};
const EnumSpec kCourseFormats{"format", kFormatV};
const EnumSpec kOccasionStatuses{"occasion status", kOccStatusV};
const EnumSpec kEnrolmentStatuses{"enrolment status", kEnrStatusV};
const EnumSpec kAttendanceStatuses{"attendance status", kAttStatusV};
const EnumSpec kAttendanceSources{"attendance source", kAttSourceV};
const EnumSpec kDeviationStatuses{"deviation status", kDevStatusV};
const EnumSpec kDeviationCategories{"deviation category", kDevCategoryV};
const EnumSpec kEducationLevels{"education level", kEduV};
const EnumSpec kEmploymentStatuses{"employment status", kEmpV};

bool EnumSpec::contains(std::string_view v) const {
    for (auto s : values)
        if (s == v) return true;
    return false;
}

std::string EnumSpec::list() const {
    std::string out;
    for (auto s : values) {
        if (!out.empty()) out += '|';
        out += s;
    }
    return out;
}

const std::string* get_str(const Row& row, std::string_view key) {
    auto it = row.find(key);
    if (it == row.end()) return nullptr;
    return std::get_if<std::string>(&it->second);
}

std::optional<int64_t> get_int(const Row& row, std::string_view key) {
    auto it = row.find(key);
    if (it == row.end()) return std::nullopt;
    if (auto* i = std::get_if<int64_t>(&it->second)) return *i;
    return std::nullopt;
}

namespace {
using C = Column;
using T = ColType;
// The first column of every kind is its id.
constexpr Column kOrganisation[] = {{"id", T::text}, {"name", T::text}, {"county", T::text}};
constexpr Column kSite[] = {{"id", T::text}, {"organisation", T::text}, {"name", T::text}};
const Column kPerson[] = {{"id", T::text},
                          {"organisation", T::text},
                          {"site", T::text, true},
                          {"name", T::text},
                          {"gender", T::text, false, &kGenders},
                          {"birth_year", T::integer, true},
                          {"profession", T::text, true},
                          {"education_level", T::text, true, &kEducationLevels},
                          {"employment_status", T::text, true, &kEmploymentStatuses},
                          {"erased", T::boolean},
                          // Registered at a walk-in, not yet matched to the staff register.
                          // Nullable: servers before schema v5 do not send it (= false).
                          {"provisional", T::boolean, true}};
constexpr Column kParticipation[] = {{"id", T::text},
                                     {"person", T::text},
                                     {"start_month", T::text},
                                     {"end_month", T::text, true}};
const Column kCourse[] = {{"id", T::text},
                          {"title", T::text},
                          {"description", T::text, true},
                          {"theme", T::text, true},
                          {"format", T::text, false, &kCourseFormats},
                          {"provider", T::text, true},
                          {"duration_minutes", T::integer, true},
                          {"organisations", T::str_list},
                          {"published", T::boolean}};
const Column kOccasion[] = {{"id", T::text},
                            {"course", T::text},
                            {"starts_at", T::iso_time},
                            {"ends_at", T::iso_time},
                            {"site", T::text, true},
                            {"online_link", T::text, true},
                            {"capacity", T::integer},
                            {"enrolment_opens", T::iso_time, true},
                            {"enrolment_closes", T::iso_time},
                            {"status", T::text, false, &kOccasionStatuses},
                            {"confirmed", T::integer},
                            {"waitlisted", T::integer},
                            {"survey_closes", T::iso_time, true}};
const Column kEnrolment[] = {{"id", T::text},
                             {"occasion", T::text},
                             {"person", T::text},
                             {"status", T::text, false, &kEnrolmentStatuses},
                             {"reason", T::text, true},
                             {"acted_hlc", T::integer},
                             {"acted_by", T::text, true},
                             {"updated_hlc", T::integer},
                             // 1-based place on the occasion's waiting list (server-computed;
                             // null unless waitlisted). Issue 10.
                             {"waitlist_position", T::integer, true}};
const Column kAttendance[] = {{"id", T::text},
                              {"occasion", T::text},
                              {"person", T::text},
                              {"status", T::text, false, &kAttendanceStatuses},
                              {"minutes", T::integer, true},
                              {"recorded_by", T::text, true},
                              {"source", T::text, false, &kAttendanceSources},
                              {"hlc", T::integer},
                              {"device", T::text, true}};
constexpr Column kTimeAttestation[] = {{"id", T::text},
                                       {"person", T::text},
                                       {"month", T::text},
                                       {"minutes", T::integer},
                                       {"hlc", T::integer}};
constexpr Column kSurveyResponse[] = {{"id", T::text},
                                      {"occasion", T::text},
                                      {"person", T::text},
                                      {"rating_content", T::integer},
                                      {"rating_usefulness", T::integer},
                                      {"rating_overall", T::integer},
                                      {"comment", T::text, true},
                                      {"hlc", T::integer}};
const Column kDeviation[] = {{"id", T::text},
                             {"organisation", T::text},
                             {"occasion", T::text, true},
                             {"category", T::text, false, &kDeviationCategories},
                             {"description", T::text},
                             {"status", T::text, false, &kDeviationStatuses},
                             {"action_taken", T::text, true},
                             {"hlc", T::integer}};

const EntitySpec kEntities[] = {
    {Kind::organisation, "organisation", "organisations", kOrganisation},
    {Kind::site, "site", "sites", kSite},
    {Kind::person, "person", "persons", kPerson},
    {Kind::participation, "participation", "participations", kParticipation},
    {Kind::course, "course", "courses", kCourse},
    {Kind::occasion, "occasion", "occasions", kOccasion},
    {Kind::enrolment, "enrolment", "enrolments", kEnrolment},
    {Kind::attendance, "attendance", "attendance", kAttendance},
    {Kind::time_attestation, "time_attestation", "time_attestations", kTimeAttestation},
    {Kind::survey_response, "survey_response", "survey_responses", kSurveyResponse},
    {Kind::deviation, "deviation", "deviations", kDeviation},
};
}  // namespace

std::span<const EntitySpec> all_entities() { return kEntities; }

const EntitySpec& entity(Kind kind) { return kEntities[static_cast<size_t>(kind)]; }

const EntitySpec* entity_by_name(std::string_view name) {
    for (auto& e : kEntities)
        if (e.name == name) return &e;
    return nullptr;
}

Status check_value(const Column& col, const Value& v, std::string_view path) {
    auto bad = [&](std::string what) {
        return Status(Errc::invalid_argument, std::string(path) + ": " + what);
    };
    if (std::holds_alternative<std::monostate>(v)) {
        if (col.nullable) return Status::ok();
        return bad("is required");
    }
    switch (col.type) {
        case ColType::text:
        case ColType::iso_time: {
            auto* s = std::get_if<std::string>(&v);
            if (!s) return bad("must be a string");
            if (!col.nullable && s->empty()) return bad("must not be empty");
            if (s->size() > 10000) return bad("is longer than 10000 bytes");
            if (!json::valid_utf8(*s)) return bad("is not valid UTF-8");
            if (col.values && !col.values->contains(*s))
                return bad("must be one of " + col.values->list());
            if (col.type == ColType::iso_time) {
                auto t = parse_iso8601(*s);
                if (!t) return bad("is not an ISO 8601 time (" + t.status().message() + ")");
            }
            return Status::ok();
        }
        case ColType::integer:
            if (!std::holds_alternative<int64_t>(v)) return bad("must be an integer");
            return Status::ok();
        case ColType::boolean:
            if (!std::holds_alternative<bool>(v)) return bad("must be true or false");
            return Status::ok();
        case ColType::str_list:
            if (!std::holds_alternative<StrList>(v)) return bad("must be an array of strings");
            for (auto& item : std::get<StrList>(v))
                if (!json::valid_utf8(item)) return bad("is not valid UTF-8");
            return Status::ok();
    }
    return bad("has an unknown type");
}

// ---- limits ------------------------------------------------------------------------------
bool is_id_field(std::string_view name) {
    return name == "id" || name == "code" || name == "username" || name == "mark" ||
           name == "attestation" || name == "response" || name == "sites" ||
           name == "organisations" || entity_by_name(name) != nullptr;
}

namespace {
size_t utf8_chars(std::string_view s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;  // count lead bytes only
    return n;
}
}  // namespace

Status check_limits(std::string_view name, const Value& v, std::string_view path) {
    auto bad = [&](std::string what) {
        return Status(Errc::invalid_argument, std::string(path) + ": " + what);
    };
    const bool id = is_id_field(name);
    auto one = [&](const std::string& s, const std::string& where) -> Status {
        if (id && s.size() > kMaxIdBytes)
            return Status(Errc::invalid_argument,
                          where + ": an id is at most " + std::to_string(kMaxIdBytes) + " bytes");
        if (!id && utf8_chars(s) > kMaxTextChars)
            return Status(Errc::invalid_argument, where + ": is longer than " +
                                                      std::to_string(kMaxTextChars) + " characters");
        return Status::ok();
    };
    if (auto* s = std::get_if<std::string>(&v)) return one(*s, std::string(path));
    if (auto* l = std::get_if<StrList>(&v)) {
        if (l->size() > kMaxListItems)
            return bad("has more than " + std::to_string(kMaxListItems) + " entries");
        for (size_t i = 0; i < l->size(); ++i)
            TUNDRA_TRY(one((*l)[i], std::string(path) + "[" + std::to_string(i) + "]"));
    }
    return Status::ok();
}

int attendance_source_rank(std::string_view source) { return source == "self_check_in" ? 0 : 1; }

std::string attendance_current_order_sql(std::string_view a) {
    const std::string t(a);
    return "(CASE " + t + ".source WHEN 'self_check_in' THEN 0 ELSE 1 END) DESC, " + t +
           ".hlc DESC, coalesce(" + t + ".device, '') DESC";
}

// ---- ISO 8601 ---------------------------------------------------------------------------
namespace {
bool digits(std::string_view s, size_t pos, size_t n, int& out) {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    out = v;
    return true;
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}
}  // namespace

Result<int64_t> parse_iso8601(std::string_view s) {
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) ||
        s[7] != '-' || !digits(s, 8, 2, d))
        return Result<int64_t>(Errc::invalid_argument, "expected YYYY-MM-DD");
    static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1])
        return Result<int64_t>(Errc::invalid_argument, "date out of range");
    size_t p = 10;
    int64_t offset_min = 0;
    int ms = 0;
    if (p < s.size()) {
        if (s[p] != 'T' && s[p] != ' ')
            return Result<int64_t>(Errc::invalid_argument, "expected 'T' after the date");
        if (!digits(s, p + 1, 2, h) || p + 3 >= s.size() || s[p + 3] != ':' ||
            !digits(s, p + 4, 2, mi))
            return Result<int64_t>(Errc::invalid_argument, "expected HH:MM");
        p += 6;
        if (p < s.size() && s[p] == ':') {
            if (!digits(s, p + 1, 2, sec))
                return Result<int64_t>(Errc::invalid_argument, "expected seconds");
            p += 3;
            if (p < s.size() && s[p] == '.') {
                ++p;
                int frac = 0, n = 0;
                while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
                    if (n < 3) frac = frac * 10 + (s[p] - '0'), ++n;
                    ++p;
                }
                while (n < 3 && n > 0) frac *= 10, ++n;
                ms = frac;
            }
        }
        if (h > 23 || mi > 59 || sec > 60)
            return Result<int64_t>(Errc::invalid_argument, "time out of range");
        if (p < s.size()) {
            if (s[p] == 'Z' && p + 1 == s.size()) {
                p += 1;
            } else if ((s[p] == '+' || s[p] == '-') && p + 6 == s.size() && s[p + 3] == ':') {
                int oh, om;
                if (!digits(s, p + 1, 2, oh) || !digits(s, p + 4, 2, om))
                    return Result<int64_t>(Errc::invalid_argument, "bad UTC offset");
                offset_min = (oh * 60 + om) * (s[p] == '+' ? 1 : -1);
                p = s.size();
            } else {
                return Result<int64_t>(Errc::invalid_argument, "unexpected text after the time");
            }
        }
    }
    int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_min * 60;
    return secs * 1000 + ms;
}

std::string format_iso8601(int64_t epoch_ms) {
    time_t secs = static_cast<time_t>(epoch_ms / 1000);
    if (epoch_ms < 0 && epoch_ms % 1000) --secs;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace tundra

namespace tundra {
int64_t survey_closes_ms(int64_t ends_ms, std::string_view survey_closes) {
    if (!survey_closes.empty())
        if (auto t = parse_iso8601(survey_closes)) return t.value();
    return ends_ms + kSurveyOpenDays * 86'400'000;
}

bool attendance_attended(std::string_view status) {
    return status == "present" || status == "late" || status == "left_early";
}

bool valid_month(std::string_view m) {
    if (m.size() != 7 || m[4] != '-') return false;
    for (size_t i : {0, 1, 2, 3, 5, 6})
        if (m[i] < '0' || m[i] > '9') return false;
    int month = (m[5] - '0') * 10 + (m[6] - '0');
    return month >= 1 && month <= 12 && m.substr(0, 4) >= "1900";
}
}  // namespace tundra
