// `tundra-server import`: one JSON document, validated whole before anything is written,
// then loaded in one transaction. Re-importing a document updates rows in place.
#include <algorithm>
#include <map>
#include <thread>
#include <unordered_set>
#include <utility>

#include "import_internal.h"
#include "store_internal.h"
#include "tundra/core/crypto.h"
#include "tundra/core/json.h"

namespace tundra::server {
namespace {
struct Field {
    const char* name;
    ColType type;
    bool required;
    const EnumSpec* values = nullptr;
};
using T = ColType;
const Field kOrgF[] = {{"code", T::text, true}, {"name", T::text, true}, {"county", T::text, true}};
const Field kSiteF[] = {{"id", T::text, true}, {"organisation", T::text, true}, {"name", T::text, true}};
const Field kPersonF[] = {{"id", T::text, true},
                          {"organisation", T::text, false},  // default: the site's
                          {"site", T::text, false},
                          {"name", T::text, true},
                          {"gender", T::text, true, &kGenders},
                          {"birth_year", T::integer, false},
                          {"profession", T::text, false},
                          {"education_level", T::text, false, &kEducationLevels},
                          {"employment_status", T::text, false, &kEmploymentStatuses},
                          {"personal_id", T::text, false}};
const Field kUserF[] = {{"username", T::text, true},   {"password", T::text, false},
                        {"password_hash", T::text, false}, {"role", T::text, true, &kRoles},
                        {"person", T::text, false},    {"sites", T::str_list, false}};
const Field kCourseF[] = {{"id", T::text, true},
                          {"title", T::text, true},
                          {"description", T::text, false},
                          {"theme", T::text, false},
                          {"format", T::text, true, &kCourseFormats},
                          {"provider", T::text, false},
                          {"duration_minutes", T::integer, false},
                          {"organisations", T::str_list, true},
                          {"published", T::boolean, true}};
const Field kOccasionF[] = {{"id", T::text, true},
                            {"course", T::text, true},
                            {"starts_at", T::iso_time, true},
                            {"ends_at", T::iso_time, true},
                            {"site", T::text, false},
                            {"online_link", T::text, false},
                            {"capacity", T::integer, true},
                            {"enrolment_opens", T::iso_time, false},
                            {"enrolment_closes", T::iso_time, true},
                            {"status", T::text, false, &kOccasionStatuses},
                            {"survey_closes", T::iso_time, false}};
const Field kEnrolmentF[] = {{"id", T::text, true},
                             {"occasion", T::text, true},
                             {"person", T::text, true},
                             {"status", T::text, true, &kEnrolmentStatuses}};
const Field kAttendanceF[] = {{"id", T::text, false},
                              {"occasion", T::text, true},
                              {"person", T::text, true},
                              {"status", T::text, true, &kAttendanceStatuses},
                              {"minutes", T::integer, false}};
// What a project recorded before Tundra (issue 9). Rows without an id are found by their key
// (person + start_month; person + month; occasion + person), so a re-import updates them.
const Field kParticipationF[] = {{"id", T::text, false},
                                 {"person", T::text, true},
                                 {"start_month", T::text, true},
                                 {"end_month", T::text, false}};
const Field kAttestationF[] = {
    {"person", T::text, true}, {"month", T::text, true}, {"minutes", T::integer, true}};
const Field kSurveyF[] = {{"id", T::text, false},
                          {"occasion", T::text, true},
                          {"person", T::text, true},
                          {"rating_content", T::integer, true},
                          {"rating_usefulness", T::integer, true},
                          {"rating_overall", T::integer, true},
                          {"comment", T::text, false}};
const Field kDeviationF[] = {{"id", T::text, true},
                             {"organisation", T::text, true},
                             {"occasion", T::text, false},
                             {"category", T::text, true, &kDeviationCategories},
                             {"description", T::text, true},
                             {"status", T::text, false, &kDeviationStatuses},
                             {"action_taken", T::text, false}};

struct Section {
    const char* name;
    std::span<const Field> fields;
};
const Section kSections[] = {{"organisations", kOrgF}, {"sites", kSiteF},
                             {"persons", kPersonF},     {"users", kUserF},
                             {"courses", kCourseF},     {"occasions", kOccasionF},
                             {"enrolments", kEnrolmentF}, {"attendance", kAttendanceF},
                             {"participations", kParticipationF},
                             {"time_attestations", kAttestationF},
                             {"survey_responses", kSurveyF},
                             {"deviations", kDeviationF}};

Status bad(const std::string& path, const std::string& what) {
    return Status(Errc::invalid_argument, path + ": " + what);
}

using Rows = std::vector<Row>;

std::string expected(ColType t) {
    switch (t) {
        case T::text: return "a string";
        case T::iso_time: return "an ISO 8601 time (a string)";
        case T::integer: return "an integer";
        case T::boolean: return "true or false";
        case T::str_list: return "an array of strings";
    }
    return "a value";
}

// Every value is checked against its field's type before it is stored in a Row, so a value of
// the wrong JSON type (null, a number, an object, an array where another is expected) is an
// invalid_argument naming its path, never an exception further on.
Status read_section(const rapidjson::Value& arr, const Section& sec, Rows& out) {
    if (!arr.IsArray()) return bad(sec.name, "must be an array");
    out.reserve(arr.Size());
    for (rapidjson::SizeType i = 0; i < arr.Size(); ++i) {
        std::string path = json::index(sec.name, i);
        auto& obj = arr[i];
        if (!obj.IsObject()) return bad(path, "must be an object");
        Row row;
        for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
            std::string key(it->name.GetString(), it->name.GetStringLength());
            const Field* f = nullptr;
            for (auto& ff : sec.fields)
                if (key == ff.name) f = &ff;
            if (!f) return bad(path + "." + key, "is not a known field");
            // null in an optional field means "not given"; in a required one it is refused.
            // Either way no null reaches the code below, which reads each field as its type.
            if (it->value.IsNull() && !f->required) continue;
            if (it->value.IsObject() || (it->value.IsNumber() && !it->value.IsInt64()))
                return bad(path + "." + key, "must be " + expected(f->type));
            Value v;
            Status st = json::to_value(it->value, v, path + "." + key);
            if (!st) return Status(Errc::invalid_argument, st.message());
            Column col{f->name, f->type, !f->required, f->values};
            TUNDRA_TRY(check_value(col, v, path + "." + key));
            TUNDRA_TRY(check_limits(key, v, path + "." + key));
            if (f->type == T::iso_time && std::holds_alternative<std::string>(v))
                v = format_iso8601(parse_iso8601(std::get<std::string>(v)).value());
            row.emplace(std::move(key), std::move(v));
        }
        for (auto& f : sec.fields)
            if (f.required && !row.count(f.name)) return bad(path + "." + f.name, "is required");
        out.push_back(std::move(row));
    }
    return Status::ok();
}

std::string s(const Row& r, const char* k) {
    auto* v = get_str(r, k);
    return v ? *v : std::string();
}

Value opt(const Row& r, const char* k) {
    auto it = r.find(k);
    return it == r.end() ? Value{} : it->second;
}

// INSERT ... ON CONFLICT DO UPDATE, touching the row (and its version) only when a value
// differs, so a re-import of an unchanged document sends nothing to devices.
std::string upsert_sql(const std::string& table, const std::vector<std::string>& cols,
                       const std::vector<std::string>& insert_only = {},
                       const std::string& key = "id") {
    std::string names, params, sets, diff;
    for (auto& c : cols) {
        names += c + ", ";
        params += "?, ";
        if (c == key) continue;
        // Stamps of the first import are kept: a re-import must not reorder seats.
        if (std::find(insert_only.begin(), insert_only.end(), c) != insert_only.end()) continue;
        sets += c + " = excluded." + c + ", ";
        if (!diff.empty()) diff += " OR ";
        // IS DISTINCT FROM (not SQLite's IS NOT) and the table named: SQL both backends accept.
        diff += table + "." + c + " IS DISTINCT FROM excluded." + c;
    }
    return "INSERT INTO " + table + " (" + names + "version) VALUES (" + params +
           "?) ON CONFLICT(" + key + ") DO UPDATE SET " + sets +
           "version = excluded.version WHERE " + diff;
}

std::string joined(const Row& r, std::initializer_list<const char*> cols, const char* sep) {
    std::string out;
    for (auto c : cols) out += (out.empty() ? "" : sep) + s(r, c);
    return out;
}

// Gives each row of a keyed section its id. A row without one takes the id the store holds
// for its key, or "import:<key>" for a new row, so a re-import updates rather than adds. A
// given id must agree with the store: the key's stored row must be this id, and the id's
// stored row must have the same `fixed` columns (an answer's id cannot move to another
// person or occasion). Two rows of the document with the same key or id are refused.
Status resolve_ids(sql::Db& db, const char* sec, Rows& rows, const std::string& table,
                   std::initializer_list<const char*> key, std::initializer_list<const char*> fixed) {
    std::string by_key = "SELECT id FROM " + table + " WHERE ";
    for (auto k : key) by_key += std::string(k == *key.begin() ? "" : " AND ") + k + " = ?";
    std::string by_id = "SELECT ";
    for (auto f : fixed) by_id += std::string(f == *fixed.begin() ? "" : ", ") + f;
    by_id += " FROM " + table + " WHERE id = ?";
    auto qk = db.query(by_key);
    auto qi = db.query(by_id);
    std::string key_names;
    for (auto k : key) key_names += (key_names.empty() ? "" : " and ") + std::string(k);
    std::unordered_set<std::string> keys, ids;
    for (size_t i = 0; i < rows.size(); ++i) {
        auto& r = rows[i];
        std::string path = json::index(sec, i);
        std::string k = joined(r, key, ":");
        if (!keys.insert(k).second) return bad(path, "another row has the same " + key_names);
        int n = 0;
        for (auto c : key) qk->bind(++n, s(r, c));
        auto found = qk->step();
        if (!found) return found.status();
        std::string stored = found.value() ? qk->text(0) : std::string();
        qk->reset();
        if (!get_str(r, "id")) {
            r["id"] = stored.empty() ? "import:" + k : stored;
        } else {
            if (!stored.empty() && stored != s(r, "id"))
                return bad(path + ".id", "the store holds the row for this " + key_names +
                                             " under id '" + stored + "'");
            qi->bind(1, s(r, "id"));
            auto same = qi->step();
            if (!same) return same.status();
            if (same.value()) {
                int c = 0;
                for (auto f : fixed) {
                    if (qi->text(c++) != s(r, f)) {
                        qi->reset();
                        return bad(path + ".id", "'" + s(r, "id") + "' is stored with another " + f);
                    }
                }
            }
            qi->reset();
        }
        if (Status st = check_limits("id", r["id"], path + ".id"); !st) return st;
        if (!ids.insert(s(r, "id")).second) return bad(path + ".id", "duplicate '" + s(r, "id") + "'");
    }
    return Status::ok();
}

// At most one open participation (no end_month) per person, counting the rows the store
// keeps for the persons in the document as this document leaves them.
Status one_open_participation(sql::Db& db, const Rows& rows) {
    std::map<std::string, std::map<std::string, bool>> open;  // person -> id -> open
    // An integer, not a boolean: the backends read booleans differently.
    auto q = db.query("SELECT id, CASE WHEN end_month IS NULL THEN 1 ELSE 0 END FROM participations WHERE person = ?");
    for (auto& r : rows) {
        if (open.count(s(r, "person"))) continue;
        auto& mine = open[s(r, "person")];
        q->bind(1, s(r, "person"));
        for (;;) {
            auto step = q->step();
            if (!step) return step.status();
            if (!step.value()) break;
            mine[q->text(0)] = q->int64(1) != 0;
        }
        q->reset();
    }
    std::map<std::string, size_t> last_open;  // the row named in the error
    for (size_t i = 0; i < rows.size(); ++i) {
        bool is_open = !get_str(rows[i], "end_month");
        open[s(rows[i], "person")][s(rows[i], "id")] = is_open;
        if (is_open) last_open[s(rows[i], "person")] = i;
    }
    for (size_t i = 0; i < rows.size(); ++i) {
        if (last_open.count(s(rows[i], "person")) == 0 || last_open[s(rows[i], "person")] != i) continue;
        std::vector<std::string> ids;
        for (auto& [id, is_open] : open[s(rows[i], "person")])
            if (is_open) ids.push_back(id);
        if (ids.size() > 1)
            return bad(json::index("participations", i),
                       "person '" + s(rows[i], "person") + "' would have more than one open participation ('" +
                           ids[0] + "' and '" + ids[1] + "'): give all but one an end_month");
    }
    return Status::ok();
}
}  // namespace

Result<ImportReport> SqlStore::import_json(std::string_view document) {
    return import_document(document, nullptr);
}

Result<ImportReport> SqlStore::import_document(std::string_view document, const ImportDryRun* dry_run) {
    rapidjson::Document doc;
    if (Status st = json::parse(document, doc); !st) return st;
    if (!doc.IsObject()) return Result<ImportReport>(Errc::invalid_argument, "the document must be a JSON object");
    std::map<std::string, Rows> data;
    for (auto& member : std::as_const(doc).GetObject()) {
        std::string name(member.name.GetString(), member.name.GetStringLength());
        const Section* sec = nullptr;
        for (auto& ss : kSections)
            if (name == ss.name) sec = &ss;
        if (!sec) return Result<ImportReport>(Errc::invalid_argument, name + ": unknown section");
        if (Status st = read_section(member.value, *sec, data[name]); !st) return st;
    }

    std::lock_guard lock(mu_);
    // ---- referential checks: an id must be in the document or already in the store ------
    std::unordered_map<std::string, std::unordered_set<std::string>> ids;
    auto collect = [&](const char* sec, const char* key) {
        for (auto& r : data[sec]) ids[sec].insert(s(r, key));
    };
    collect("organisations", "code");
    collect("sites", "id");
    collect("persons", "id");
    collect("courses", "id");
    collect("occasions", "id");
    auto exists = [&](const char* sec, const char* table, const std::string& id) -> Result<bool> {
        if (ids[sec].count(id)) return true;
        auto q = db_->query(std::string("SELECT 1 FROM ") + table + " WHERE id = ?");
        q->bind(1, id);
        auto r = q->step();
        if (!r) return r.status();
        if (r.value()) ids[sec].insert(id);
        return r.value();
    };
    auto ref = [&](const char* sec, size_t i, const char* field, const std::string& id,
                   const char* target, const char* table) -> Status {
        auto e = exists(target, table, id);
        if (!e) return e.status();
        if (!e.value())
            return bad(json::index(sec, i) + "." + field,
                       "refers to unknown " + std::string(target).substr(0, strlen(target) - 1) +
                           " '" + id + "'");
        return Status::ok();
    };
    auto dupes = [&](const char* sec, const char* key) -> Status {
        std::unordered_set<std::string> seen;
        auto& rows = data[sec];
        for (size_t i = 0; i < rows.size(); ++i)
            if (!seen.insert(s(rows[i], key)).second)
                return bad(json::index(sec, i) + "." + key, "duplicate '" + s(rows[i], key) + "'");
        return Status::ok();
    };
    for (auto [sec, key] : {std::pair{"organisations", "code"}, {"sites", "id"}, {"persons", "id"},
                            {"users", "username"}, {"courses", "id"}, {"occasions", "id"},
                            {"enrolments", "id"}})
        if (Status st = dupes(sec, key); !st) return st;
    {
        auto& rows = data["sites"];
        for (size_t i = 0; i < rows.size(); ++i)
            TUNDRA_TRY(ref("sites", i, "organisation", s(rows[i], "organisation"), "organisations", "organisations"));
    }
    {
        auto& rows = data["persons"];
        // Without an organisation a person takes her site's (a staff CSV names only the site).
        std::unordered_map<std::string, std::string> site_org;
        for (auto& r : data["sites"]) site_org[s(r, "id")] = s(r, "organisation");
        auto org_q = db_->query("SELECT organisation FROM sites WHERE id = ?");
        for (size_t i = 0; i < rows.size(); ++i) {
            if (get_str(rows[i], "site"))
                TUNDRA_TRY(ref("persons", i, "site", s(rows[i], "site"), "sites", "sites"));
            if (!get_str(rows[i], "organisation")) {
                if (!get_str(rows[i], "site"))
                    return bad(json::index("persons", i) + ".organisation", "is required (or a site)");
                if (!site_org.count(s(rows[i], "site"))) {
                    org_q->bind(1, s(rows[i], "site"));
                    auto found = org_q->step();
                    if (!found) return found.status();
                    site_org[s(rows[i], "site")] = org_q->text(0);
                    org_q->reset();
                }
                rows[i]["organisation"] = site_org[s(rows[i], "site")];
            }
            TUNDRA_TRY(ref("persons", i, "organisation", s(rows[i], "organisation"), "organisations", "organisations"));
        }
    }
    {
        auto& rows = data["users"];
        for (size_t i = 0; i < rows.size(); ++i) {
            auto& r = rows[i];
            std::string path = json::index("users", i);
            std::string role = s(r, "role");
            if (!get_str(r, "password") && !get_str(r, "password_hash"))
                return bad(path + ".password", "is required");
            if (auto* pw = get_str(r, "password"); pw && pw->size() < 8)
                return bad(path + ".password", "must have at least 8 characters");
            if (role == "participant") {
                if (!get_str(r, "person")) return bad(path + ".person", "is required for a participant");
                TUNDRA_TRY(ref("users", i, "person", s(r, "person"), "persons", "persons"));
            } else if (get_str(r, "person")) {
                TUNDRA_TRY(ref("users", i, "person", s(r, "person"), "persons", "persons"));
            }
            auto it = r.find("sites");
            if (role == "coordinator" && (it == r.end() || std::get<StrList>(it->second).empty()))
                return bad(path + ".sites", "a coordinator needs at least one site");
            if (it != r.end())
                for (auto& site : std::get<StrList>(it->second))
                    TUNDRA_TRY(ref("users", i, "sites", site, "sites", "sites"));
        }
    }
    {
        auto& rows = data["courses"];
        for (size_t i = 0; i < rows.size(); ++i)
            for (auto& org : std::get<StrList>(rows[i].at("organisations")))
                TUNDRA_TRY(ref("courses", i, "organisations", org, "organisations", "organisations"));
    }
    {
        auto& rows = data["occasions"];
        for (size_t i = 0; i < rows.size(); ++i) {
            auto& r = rows[i];
            TUNDRA_TRY(ref("occasions", i, "course", s(r, "course"), "courses", "courses"));
            if (get_str(r, "site")) TUNDRA_TRY(ref("occasions", i, "site", s(r, "site"), "sites", "sites"));
            if (parse_iso8601(s(r, "ends_at")).value() < parse_iso8601(s(r, "starts_at")).value())
                return bad(json::index("occasions", i) + ".ends_at", "is before starts_at");
            if (get_str(r, "survey_closes") &&
                parse_iso8601(s(r, "survey_closes")).value() <= parse_iso8601(s(r, "ends_at")).value())
                return bad(json::index("occasions", i) + ".survey_closes", "must be after ends_at");
            if (*get_int(r, "capacity") < 0 || *get_int(r, "capacity") > 100000)
                return bad(json::index("occasions", i) + ".capacity", "must be between 0 and 100000");
        }
    }
    for (const char* sec : {"enrolments", "attendance"}) {
        auto& rows = data[sec];
        for (size_t i = 0; i < rows.size(); ++i) {
            TUNDRA_TRY(ref(sec, i, "occasion", s(rows[i], "occasion"), "occasions", "occasions"));
            TUNDRA_TRY(ref(sec, i, "person", s(rows[i], "person"), "persons", "persons"));
            auto m = get_int(rows[i], "minutes");
            if (m && (*m < 0 || *m > 1440))
                return bad(json::index(sec, i) + ".minutes", "must be between 0 and 1440");
        }
    }

    // ---- what a project recorded before Tundra ---------------------------------------
    // Rows about a person name a known person who was not erased (GDPR: nothing more is
    // recorded about them, by old id or pseudonym).
    auto person_ref = [&](const char* sec, size_t i, const std::string& id) -> Status {
        auto erased = impl_->is_erased_person(id);
        if (!erased) return erased.status();
        if (erased.value())
            return bad(json::index(sec, i) + ".person",
                       "person '" + id + "' was erased at their request (GDPR); remove the row");
        return ref(sec, i, "person", id, "persons", "persons");
    };
    auto month = [&](const char* sec, size_t i, const Row& r, const char* field) -> Status {
        if (get_str(r, field) && !valid_month(s(r, field)))
            return bad(json::index(sec, i) + "." + field, "must be a month YYYY-MM");
        return Status::ok();
    };
    {
        auto& rows = data["participations"];
        for (size_t i = 0; i < rows.size(); ++i) {
            auto& r = rows[i];
            TUNDRA_TRY(person_ref("participations", i, s(r, "person")));
            TUNDRA_TRY(month("participations", i, r, "start_month"));
            TUNDRA_TRY(month("participations", i, r, "end_month"));
            if (get_str(r, "end_month") && s(r, "end_month") < s(r, "start_month"))
                return bad(json::index("participations", i) + ".end_month", "is before start_month");
        }
        TUNDRA_TRY(resolve_ids(*db_, "participations", rows, "participations", {"person", "start_month"},
                               {"person"}));
        TUNDRA_TRY(one_open_participation(*db_, rows));
    }
    {
        auto& rows = data["time_attestations"];
        for (size_t i = 0; i < rows.size(); ++i) {
            auto& r = rows[i];
            TUNDRA_TRY(person_ref("time_attestations", i, s(r, "person")));
            TUNDRA_TRY(month("time_attestations", i, r, "month"));
            if (*get_int(r, "minutes") < 0 || *get_int(r, "minutes") > kMaxAttestedMinutes)
                return bad(json::index("time_attestations", i) + ".minutes",
                           "must be between 0 and " + std::to_string(kMaxAttestedMinutes));
        }
        TUNDRA_TRY(resolve_ids(*db_, "time_attestations", rows, "time_attestations",
                               {"person", "month"}, {"person", "month"}));
    }
    {
        auto& rows = data["survey_responses"];
        for (size_t i = 0; i < rows.size(); ++i) {
            auto& r = rows[i];
            TUNDRA_TRY(ref("survey_responses", i, "occasion", s(r, "occasion"), "occasions", "occasions"));
            TUNDRA_TRY(person_ref("survey_responses", i, s(r, "person")));
            for (auto k : {"rating_content", "rating_usefulness", "rating_overall"})
                if (*get_int(r, k) < 1 || *get_int(r, k) > 5)
                    return bad(json::index("survey_responses", i) + "." + k, "must be 1-5");
        }
        TUNDRA_TRY(resolve_ids(*db_, "survey_responses", rows, "survey_responses",
                               {"occasion", "person"}, {"occasion", "person"}));
    }
    TUNDRA_TRY(dupes("deviations", "id"));
    {
        auto& rows = data["deviations"];
        for (size_t i = 0; i < rows.size(); ++i) {
            auto& r = rows[i];
            TUNDRA_TRY(ref("deviations", i, "organisation", s(r, "organisation"), "organisations", "organisations"));
            if (get_str(r, "occasion"))
                TUNDRA_TRY(ref("deviations", i, "occasion", s(r, "occasion"), "occasions", "occasions"));
            if (s(r, "status") == "handled" && s(r, "action_taken").empty())
                return bad(json::index("deviations", i) + ".action_taken",
                           "is required when status is handled");
        }
    }

    // ---- hash passwords (the slow part) on all cores -----------------------------------
    auto& users = data["users"];
    std::vector<std::string> hashes(users.size());
    {
        unsigned n = std::max(1u, std::thread::hardware_concurrency());
        std::vector<std::thread> pool;
        for (unsigned t = 0; t < n; ++t)
            pool.emplace_back([&, t] {
                for (size_t i = t; i < users.size() && !dry_run; i += n)
                    hashes[i] = get_str(users[i], "password")
                                    ? hash_password(*get_str(users[i], "password"), opts_.kdf_iterations)
                                    : s(users[i], "password_hash");
            });
        for (auto& th : pool) th.join();
    }

    // ---- write ---------------------------------------------------------------------------
    // Attendance marks without an id: the mark of that occasion and person.
    for (auto& r : data["attendance"])
        if (!get_str(r, "id")) r["id"] = "import:" + s(r, "occasion") + ":" + s(r, "person");
    auto& I = *impl_;
    // A dry run leaves no trace: the transaction is rolled back, counter and clock put back.
    struct ClockGuard {
        HlcClock& clock;
        HlcClock saved;
        bool armed;
        ~ClockGuard() {
            if (armed) clock = saved;
        }
    } clock_guard{clock_, clock_, dry_run != nullptr};
    sql::Transaction txn(*db_);
    TUNDRA_TRY(txn.begin());
    // Counters come from the file inside the transaction: a server may share this store.
    TUNDRA_TRY(I.load_meta());
    uint64_t v_before = I.version;
    Impl::VersionGuard restore{I, v_before};
    I.now_ms = static_cast<int64_t>(opts_.wall());
    if (dry_run && dry_run->before) TUNDRA_TRY(dry_run->before(data));
    ImportReport rep;
    auto run = [&](sql::Query& q) -> Status {
        Status st = q->run();
        q->reset();
        return st;
    };
    {
        auto q = db_->query(upsert_sql("organisations", {"id", "name", "county"}));
        for (auto& r : data["organisations"]) {
            q->bind(1, s(r, "code")).bind(2, s(r, "name")).bind(3, s(r, "county")).bind(4, I.next_version());
            TUNDRA_TRY(run(q));
            ++rep.organisations;
        }
    }
    {
        auto q = db_->query(upsert_sql("sites", {"id", "organisation", "name"}));
        for (auto& r : data["sites"]) {
            q->bind(1, s(r, "id")).bind(2, s(r, "organisation")).bind(3, s(r, "name")).bind(4, I.next_version());
            TUNDRA_TRY(run(q));
            ++rep.sites;
        }
    }
    // Each upsert keeps the row as it was: when a column that decides who may see it changed
    // (a person moved, a course retargeted, an occasion moved to another course), the same
    // rule as for actions takes it off the devices that may no longer see it (visibility.cc).
    auto upsert_tracked = [&](Kind kind, const std::string& id, auto&& write) -> Status {
        auto before = I.load_row(kind, id);
        if (!before) return before.status();
        TUNDRA_TRY(write());
        auto after = I.load_row(kind, id);
        if (!after) return after.status();
        if (!before.value() || !after.value()) return Status::ok();
        return I.visibility_changed(kind, id, *before.value(), *after.value());
    };
    {
        auto q = db_->query(upsert_sql(
            "persons", {"id", "organisation", "site", "name", "gender", "birth_year", "profession",
                        "education_level", "employment_status", "personal_id", "provisional"}));
        size_t row = 0;
        for (auto& r : data["persons"]) {
            // An erased person stays erased: an HR export that still lists her is refused
            // rather than bringing her back (GDPR; docs/security.md).
            auto erased = I.is_erased_person(s(r, "id"));
            if (!erased) return erased.status();
            if (erased.value())
                return Status(Errc::invalid_argument,
                              "persons[" + std::to_string(row) + "].id: person '" + s(r, "id") +
                                  "' was erased at their request (GDPR); remove them from the document");
            ++row;
            TUNDRA_TRY(upsert_tracked(Kind::person, s(r, "id"), [&] {
                q->bind(1, s(r, "id")).bind(2, s(r, "organisation"));
                int i = 3;
                for (auto k : {"site", "name", "gender", "birth_year", "profession",
                               "education_level", "employment_status", "personal_id"})
                    q->bind_value(i++, opt(r, k));
                // A person in the register is nobody's walk-in registration any more.
                q->bind(i, int64_t{0}).bind(i + 1, I.next_version());
                return run(q);
            }));
            ++rep.persons;
        }
    }
    {
        auto q = db_->query(
            "INSERT INTO users (username, password_hash, role, person, created_at) VALUES (?, ?, "
            "?, ?, ?) ON CONFLICT(username) DO UPDATE SET password_hash = excluded.password_hash, "
            "role = excluded.role, person = excluded.person");
        auto del = db_->query("DELETE FROM user_sites WHERE username = ?");
        auto ins = db_->query("INSERT INTO user_sites (username, site) VALUES (?, ?)");
        std::string now = format_iso8601(static_cast<int64_t>(opts_.wall()));
        for (size_t i = 0; i < users.size(); ++i) {
            auto& r = users[i];
            q->bind(1, s(r, "username")).bind(2, hashes[i]).bind(3, s(r, "role"));
            q->bind_value(4, opt(r, "person")).bind(5, now);
            TUNDRA_TRY(run(q));
            del->bind(1, s(r, "username"));
            TUNDRA_TRY(run(del));
            if (auto it = r.find("sites"); it != r.end()) {
                for (auto& site : std::get<StrList>(it->second)) {
                    ins->bind(1, s(r, "username")).bind(2, site);
                    TUNDRA_TRY(run(ins));
                }
            }
            ++rep.users;
        }
    }
    {
        auto q = db_->query(upsert_sql("courses", {"id", "title", "description", "theme", "format",
                                                   "provider", "duration_minutes", "organisations",
                                                   "published"}));
        auto del = db_->query("DELETE FROM course_organisations WHERE course = ?");
        // ON CONFLICT DO NOTHING, not INSERT OR IGNORE: SQL both backends accept.
        auto ins = db_->query("INSERT INTO course_organisations VALUES (?, ?) ON CONFLICT DO NOTHING");
        for (auto& r : data["courses"]) {
            TUNDRA_TRY(upsert_tracked(Kind::course, s(r, "id"), [&] {
                q->bind(1, s(r, "id"));
                int i = 2;
                for (auto k : {"title", "description", "theme", "format", "provider",
                               "duration_minutes", "organisations", "published"})
                    q->bind_value(i++, opt(r, k));
                q->bind(i, I.next_version());
                return run(q);
            }));
            del->bind(1, s(r, "id"));
            TUNDRA_TRY(run(del));
            for (auto& org : std::get<StrList>(r.at("organisations"))) {
                ins->bind(1, s(r, "id")).bind(2, org);
                TUNDRA_TRY(run(ins));
            }
            ++rep.courses;
        }
    }
    std::vector<std::pair<std::string, std::string>> changed_occasions;
    {
        auto q = db_->query(upsert_sql("occasions", {"id", "course", "starts_at", "ends_at", "site",
                                                     "online_link", "capacity", "enrolment_opens",
                                                     "enrolment_closes", "status", "survey_closes"}));
        for (auto& r : data["occasions"]) {
            bool changed = false;
            TUNDRA_TRY(upsert_tracked(Kind::occasion, s(r, "id"), [&] {
                q->bind(1, s(r, "id"));
                int i = 2;
                for (auto k : {"course", "starts_at", "ends_at", "site", "online_link", "capacity",
                               "enrolment_opens", "enrolment_closes"})
                    q->bind_value(i++, opt(r, k));
                q->bind(i, get_str(r, "status") ? s(r, "status") : std::string("planned"));
                q->bind_value(i + 1, opt(r, "survey_closes"));
                q->bind(i + 2, I.next_version());
                Status st = run(q);
                changed = st && db_->changes() > 0;
                return st;
            }));
            if (changed) changed_occasions.push_back({s(r, "id"), s(r, "course")});
            ++rep.occasions;
        }
        // As in upsert_occasion: what counts as upcoming may have changed for these.
        for (auto& [occ, course] : changed_occasions) {
            TUNDRA_TRY(I.touch(Kind::course, "id = ?", course));
            TUNDRA_TRY(I.touch(Kind::enrolment, "occasion = ?", occ));
            TUNDRA_TRY(I.touch(Kind::attendance, "occasion = ?", occ));
        }
    }
    uint64_t stamp = clock_.now().value;
    std::unordered_set<std::string> touched_occasions;
    {
        auto q = db_->query(upsert_sql("enrolments", {"id", "occasion", "person", "status",
                                                      "acted_hlc", "acted_by", "updated_hlc"},
                                       {"acted_hlc", "acted_by", "updated_hlc"}));
        for (auto& r : data["enrolments"]) {
            TUNDRA_TRY(upsert_tracked(Kind::enrolment, s(r, "id"), [&] {
                q->bind(1, s(r, "id")).bind(2, s(r, "occasion")).bind(3, s(r, "person"));
                q->bind(4, s(r, "status")).bind(5, stamp).bind(6, "import").bind(7, stamp);
                q->bind(8, I.next_version());
                return run(q);
            }));
            touched_occasions.insert(s(r, "occasion"));
            ++rep.enrolments;
        }
    }
    {
        auto q = db_->query(upsert_sql("attendance", {"id", "occasion", "person", "status", "minutes",
                                                      "recorded_by", "source", "hlc"},
                                       {"recorded_by", "source", "hlc"}));
        for (auto& r : data["attendance"]) {
            std::string id = s(r, "id");
            TUNDRA_TRY(upsert_tracked(Kind::attendance, id, [&] {
                q->bind(1, id).bind(2, s(r, "occasion")).bind(3, s(r, "person")).bind(4, s(r, "status"));
                q->bind_value(5, opt(r, "minutes")).bind(6, "import").bind(7, "import").bind(8, stamp);
                q->bind(9, I.next_version());
                return run(q);
            }));
            ++rep.attendance;
        }
    }
    {
        auto q = db_->query(upsert_sql("participations", {"id", "person", "start_month", "end_month"}));
        for (auto& r : data["participations"]) {
            TUNDRA_TRY(upsert_tracked(Kind::participation, s(r, "id"), [&] {
                q->bind(1, s(r, "id")).bind(2, s(r, "person")).bind(3, s(r, "start_month"));
                q->bind_value(4, opt(r, "end_month")).bind(5, I.next_version());
                return run(q);
            }));
            ++rep.participations;
        }
    }
    {
        // The stamp is the first import's: a participant's later attestation (a newer stamp)
        // replaces it, as it would replace her own earlier one.
        auto q = db_->query(upsert_sql("time_attestations", {"id", "person", "month", "minutes", "hlc"}, {"hlc"}));
        for (auto& r : data["time_attestations"]) {
            q->bind(1, s(r, "id")).bind(2, s(r, "person")).bind(3, s(r, "month"));
            q->bind_value(4, opt(r, "minutes")).bind(5, stamp).bind(6, I.next_version());
            TUNDRA_TRY(run(q));
            ++rep.time_attestations;
        }
    }
    {
        auto q = db_->query(upsert_sql("survey_responses", {"id", "occasion", "person", "rating_content",
                                                            "rating_usefulness", "rating_overall", "comment", "hlc"},
                                       {"hlc"}));
        for (auto& r : data["survey_responses"]) {
            q->bind(1, s(r, "id"));
            int i = 2;
            for (auto k : {"occasion", "person", "rating_content", "rating_usefulness", "rating_overall", "comment"})
                q->bind_value(i++, opt(r, k));
            q->bind(i, stamp).bind(i + 1, I.next_version());
            TUNDRA_TRY(run(q));
            ++rep.survey_responses;
        }
    }
    {
        auto q = db_->query(upsert_sql("deviations", {"id", "organisation", "occasion", "category", "description",
                                                      "status", "action_taken", "hlc"},
                                       {"hlc"}));
        for (auto& r : data["deviations"]) {
            TUNDRA_TRY(upsert_tracked(Kind::deviation, s(r, "id"), [&] {
                q->bind(1, s(r, "id"));
                int i = 2;
                for (auto k : {"organisation", "occasion", "category", "description"}) q->bind_value(i++, opt(r, k));
                q->bind(i, get_str(r, "status") ? s(r, "status") : std::string("open"));
                q->bind_value(i + 1, opt(r, "action_taken")).bind(i + 2, stamp).bind(i + 3, I.next_version());
                return run(q);
            }));
            ++rep.deviations;
        }
    }
    // A walk-in registered provisionally (attendance.cc) whose personal_id an imported person
    // has is that person: merged into them in this transaction (merge.cc), audited.
    {
        auto q = db_->query(
            "SELECT id FROM persons WHERE provisional = 1 AND erased = 0 AND personal_id = ? AND id <> ? ORDER BY id");
        for (auto& r : data["persons"]) {
            if (s(r, "personal_id").empty()) continue;
            std::vector<std::string> walk_ins;
            q->bind(1, s(r, "personal_id")).bind(2, s(r, "id"));
            for (;;) {
                auto step = q->step();
                if (!step) return step.status();
                if (!step.value()) break;
                walk_ins.push_back(q->text(0));
            }
            q->reset();
            for (auto& w : walk_ins) {
                auto merged = I.merge_person(w, s(r, "id"), "import");
                if (!merged) return merged.status();
                ++rep.merged;
            }
        }
    }
    // Imported statuses are facts; only the waitlists' numbering and the occasions' seat
    // counts follow from them.
    for (auto& o : touched_occasions) TUNDRA_TRY(I.renumber_waitlist(o));
    {
        auto q = db_->query(
            "UPDATE occasions SET confirmed = (SELECT count(*) FROM enrolments e WHERE e.occasion "
            "= occasions.id AND e.status = 'confirmed'), waitlisted = (SELECT count(*) FROM "
            "enrolments e WHERE e.occasion = occasions.id AND e.status = 'waitlisted'), version = "
            "? WHERE id = ? AND (confirmed, waitlisted) IS DISTINCT FROM ((SELECT count(*) FROM enrolments e "
            "WHERE e.occasion = occasions.id AND e.status = 'confirmed'), (SELECT count(*) FROM "
            "enrolments e WHERE e.occasion = occasions.id AND e.status = 'waitlisted'))");
        for (auto& o : touched_occasions) {
            q->bind(1, I.next_version()).bind(2, o);
            TUNDRA_TRY(run(q));
        }
    }
    if (dry_run) {
        if (dry_run->after) TUNDRA_TRY(dry_run->after(data));
        return rep;  // rolled back by txn, counter by restore, clock by clock_guard
    }
    TUNDRA_TRY(I.save_meta());
    TUNDRA_TRY(txn.commit());
    restore.armed = false;
    return rep;
}

}  // namespace tundra::server
