// The demo data is a realistic ESF project year (issue 9): checked on the document itself,
// with its own calendar arithmetic (std::chrono), and by importing it.
#include <rapidjson/document.h>

#include <chrono>
#include <cmath>
#include <map>
#include <set>

#include "fixture.h"
#include "tundra/core/model.h"
#include "tundra/server/demo_data.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

namespace {
namespace ch = std::chrono;

// Europe/Stockholm by the EU rule, written independently of the generator's calendar.
int64_t stockholm_offset_ms(int64_t utc_ms) {
    ch::sys_days day{ch::floor<ch::days>(ch::sys_time<ch::milliseconds>(ch::milliseconds(utc_ms)))};
    ch::year y = ch::year_month_day(day).year();
    auto summer = ch::sys_days(y / ch::March / ch::Sunday[ch::last]) + ch::hours(1);
    auto winter = ch::sys_days(y / ch::October / ch::Sunday[ch::last]) + ch::hours(1);
    auto t = ch::sys_time<ch::milliseconds>(ch::milliseconds(utc_ms));
    return t >= summer && t < winter ? 7'200'000 : 3'600'000;
}
struct Local {
    std::string month;
    int minute_of_day;
    unsigned weekday;  // 0 = Sunday
};
Local local(int64_t utc_ms) {
    int64_t l = utc_ms + stockholm_offset_ms(utc_ms);
    auto t = ch::sys_time<ch::milliseconds>(ch::milliseconds(l));
    auto day = ch::floor<ch::days>(t);
    ch::year_month_day ymd(day);
    char m[16];
    std::snprintf(m, sizeof m, "%04d-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()));
    return {m, static_cast<int>((l - day.time_since_epoch().count() * 86'400'000LL) / 60'000),
            ch::weekday(day).c_encoding()};
}

int64_t ms(const rapidjson::Value& v, const char* k) { return parse_iso8601(v[k].GetString()).value(); }
std::string s(const rapidjson::Value& v, const char* k) { return v.HasMember(k) && v[k].IsString() ? v[k].GetString() : ""; }

bool luhn_ok(const std::string& id) {  // YYYYMMDD-NNNC: the check over YYMMDDNNN
    std::string digits = id.substr(2, 6) + id.substr(9, 4);
    int sum = 0;
    for (size_t i = 0; i < digits.size(); ++i) {
        int d = digits[i] - '0';
        if (i % 2 == 0) d *= 2;
        sum += d > 9 ? d - 9 : d;
    }
    return sum % 10 == 0;
}

struct Demo {
    rapidjson::Document doc;
    std::string text;
    int64_t now;
    std::map<std::string, const rapidjson::Value*> occasions, persons;
    std::string current_month;

    explicit Demo(DemoOptions o) {
        o.data_dir = TUNDRA_DATA_DIR;
        if (!o.now_ms) o.now_ms = static_cast<int64_t>(kNow);
        now = o.now_ms;
        auto d = demo_document(o);
        EXPECT_TRUE(d) << d.status().to_string();
        if (!d) return;
        text = std::move(d.value());
        doc.Parse(text.c_str(), text.size());
        EXPECT_FALSE(doc.HasParseError());
        for (auto& x : doc["occasions"].GetArray()) occasions[x["id"].GetString()] = &x;
        for (auto& x : doc["persons"].GetArray()) persons[x["id"].GetString()] = &x;
        current_month = local(now).month;
    }
    rapidjson::Value::ConstArray operator[](const char* section) const { return doc[section].GetArray(); }
    bool ended(const std::string& occ) const { return ms(*occasions.at(occ), "ends_at") < now; }
    int64_t length_min(const std::string& occ) const {
        return (ms(*occasions.at(occ), "ends_at") - ms(*occasions.at(occ), "starts_at")) / 60'000;
    }
};

bool attended(const std::string& status) { return status == "present" || status == "late" || status == "left_early"; }
}  // namespace

TEST(DemoData, IsTheSameForTheSameSeedAndDiffersForAnother) {
    DemoOptions o{.seed = 7};
    Demo a(o), b(o);
    o.seed = 8;
    Demo c(o);
    EXPECT_EQ(a.text, b.text);
    EXPECT_NE(a.text, c.text);
}

TEST(DemoData, StaffAreAboutEightyPercentWomenWithVariedAgesEducationAndEmployment) {
    for (uint32_t seed : {1u, 2u, 2026u}) {
        Demo d({.seed = seed, .staff_per_site = 30});
        std::map<std::string, int> gender, edu, emp;
        int none_born = 0, youngest = 200, oldest = 0;
        for (auto& p : d["persons"]) {
            ++gender[s(p, "gender")];
            ++edu[s(p, "education_level")];
            ++emp[s(p, "employment_status")];
            if (!p.HasMember("birth_year")) {
                ++none_born;
                continue;
            }
            int age = 2026 - p["birth_year"].GetInt();
            youngest = std::min(youngest, age), oldest = std::max(oldest, age);
        }
        double n = d["persons"].Size();
        EXPECT_GE(gender["woman"] / n, 0.75) << "seed " << seed;
        EXPECT_LE(gender["woman"] / n, 0.85) << "seed " << seed;
        EXPECT_GT(gender["man"], 0);
        EXPECT_GT(gender["non_binary"] + gender["undisclosed"], 0);
        EXPECT_GT(none_born, 0);
        EXPECT_LT(none_born / n, 0.1);
        EXPECT_GE(youngest, 19);
        EXPECT_LE(youngest, 21);
        EXPECT_LE(oldest, 66);
        EXPECT_GE(oldest, 64);
        for (auto* e : {"isced_0_2", "isced_3_4", "isced_5_8"}) EXPECT_GT(edu[e], 0) << e;
        for (auto* e : {"employed", "self_employed", "unemployed", "inactive"}) EXPECT_GT(emp[e], 0) << e;
        EXPECT_GT(emp["employed"] / n, 0.7);
    }
}

TEST(DemoData, IdentityNumbersAreWellFormedUniqueAndPassTheLuhnCheck) {
    Demo d({.staff_per_site = 30});
    std::set<std::string> seen;
    for (auto& p : d["persons"]) {
        std::string id = s(p, "personal_id");
        if (id.empty()) continue;
        ASSERT_EQ(id.size(), 13u) << id;
        ASSERT_EQ(id[8], '-') << id;
        EXPECT_TRUE(luhn_ok(id)) << id;
        EXPECT_TRUE(seen.insert(id).second) << "duplicate " << id;
        ASSERT_TRUE(p.HasMember("birth_year")) << id;
        EXPECT_EQ(std::stoi(id.substr(0, 4)), p["birth_year"].GetInt());
        int month = std::stoi(id.substr(4, 2)), day = std::stoi(id.substr(6, 2));
        EXPECT_TRUE(ch::year_month_day(ch::year(p["birth_year"].GetInt()), ch::month(month), ch::day(day)).ok()) << id;
        int ninth = id[11] - '0';
        if (s(p, "gender") == "woman") {
            EXPECT_EQ(ninth % 2, 0) << id;
        }
        if (s(p, "gender") == "man") {
            EXPECT_EQ(ninth % 2, 1) << id;
        }
    }
    EXPECT_GT(seen.size(), d["persons"].Size() * 8 / 10);
    EXPECT_LT(seen.size(), d["persons"].Size());
}

TEST(DemoData, OccasionsSpanTheYearAndTheComingWeeksInStockholmWorkingHours) {
    Demo d({});
    std::set<std::string> months;
    int cancelled = 0, completed = 0, upcoming = 0;
    for (auto& o : d["occasions"]) {
        int64_t start = ms(o, "starts_at"), end = ms(o, "ends_at");
        if (s(o, "id") == "o-threats-0") continue;  // the scenario's session, in UTC hours
        Local l = local(start), e = local(end);
        EXPECT_GE(l.minute_of_day, 8 * 60) << s(o, "id");
        EXPECT_LE(e.minute_of_day, 17 * 60) << s(o, "id");
        bool year = s(o, "id").rfind("o-20", 0) == 0;  // the year's, not the scenario's
        if (year) {
            EXPECT_TRUE(l.weekday >= 1 && l.weekday <= 5) << s(o, "id");
        }
        if (end < d.now) {
            months.insert(l.month);
            EXPECT_TRUE(s(o, "status") == "completed" || s(o, "status") == "cancelled") << s(o, "id");
            cancelled += s(o, "status") == "cancelled";
            completed += s(o, "status") == "completed";
        } else {
            if (year) {
                EXPECT_LT(start, d.now + 43 * 86'400'000LL) << s(o, "id");
            }
            EXPECT_EQ(s(o, "status"), "") << "upcoming occasions are planned";
            ++upcoming;
        }
    }
    EXPECT_GE(months.size(), 11u) << "the past 12 months, the current one included";
    EXPECT_TRUE(months.count(d.current_month));
    EXPECT_GT(cancelled, 0);
    EXPECT_LT(cancelled * 10, completed);
    EXPECT_GT(upcoming, 36);
}

TEST(DemoData, MarksAreForEveryConfirmedEnrolmentOnHeldOccasionsAndMostlyPresent) {
    Demo d({});
    std::set<std::pair<std::string, std::string>> marked;
    std::map<std::string, int> by_status;
    for (auto& a : d["attendance"]) {
        std::string occ = s(a, "occasion"), st = s(a, "status");
        ASSERT_TRUE(d.occasions.count(occ));
        EXPECT_TRUE(d.ended(occ)) << occ;
        EXPECT_EQ(s(*d.occasions[occ], "status"), "completed") << occ;
        EXPECT_TRUE(marked.insert({occ, s(a, "person")}).second);
        ++by_status[st];
        if (st == "late" || st == "left_early") {
            ASSERT_TRUE(a.HasMember("minutes")) << st;
            EXPECT_LT(a["minutes"].GetInt(), d.length_min(occ));
            EXPECT_GT(a["minutes"].GetInt(), 0);
        }
        if (st == "absent" || st == "excused") {
            EXPECT_FALSE(a.HasMember("minutes"));
        }
    }
    for (auto& e : d["enrolments"]) {
        std::string occ = s(e, "occasion");
        bool held = d.ended(occ) && s(*d.occasions[occ], "status") == "completed";
        if (held && s(e, "status") == "confirmed") {
            EXPECT_TRUE(marked.count({occ, s(e, "person")})) << occ << " " << s(e, "person");
        }
    }
    double n = d["attendance"].Size();
    EXPECT_GT(n, 1000);
    EXPECT_GT(by_status["present"] / n, 0.7);
    EXPECT_LT(by_status["present"] / n, 0.9);
    for (auto* st : {"late", "left_early", "absent", "excused"}) EXPECT_GT(by_status[st], 0) << st;
}

TEST(DemoData, SurveyAnswersComeOnlyFromAttendeesOfEndedOccasionsAndLeanPositive) {
    Demo d({});
    std::set<std::pair<std::string, std::string>> came;
    for (auto& a : d["attendance"])
        if (attended(s(a, "status"))) came.insert({s(a, "occasion"), s(a, "person")});
    int sum = 0, comments = 0, swedish = 0;
    std::set<std::pair<std::string, std::string>> answered;
    for (auto& r : d["survey_responses"]) {
        std::string occ = s(r, "occasion");
        EXPECT_TRUE(d.ended(occ)) << occ;
        EXPECT_TRUE(came.count({occ, s(r, "person")})) << occ << " " << s(r, "person");
        EXPECT_TRUE(answered.insert({occ, s(r, "person")}).second) << "one answer per person and occasion";
        for (auto* k : {"rating_content", "rating_usefulness", "rating_overall"}) {
            EXPECT_GE(r[k].GetInt(), 1);
            EXPECT_LE(r[k].GetInt(), 5);
        }
        sum += r["rating_overall"].GetInt();
        if (r.HasMember("comment")) {
            ++comments;
            std::string c = s(r, "comment");
            swedish += c.find("å") != std::string::npos || c.find("ä") != std::string::npos ||
                       c.find("ö") != std::string::npos;
        }
    }
    double n = answered.size();
    EXPECT_GT(n / static_cast<double>(came.size()), 0.4);
    EXPECT_LT(n / static_cast<double>(came.size()), 0.6);
    EXPECT_GT(sum / n, 3.8);
    EXPECT_GT(comments, 0);
    EXPECT_LT(comments, n / 3);
    EXPECT_GT(swedish, 0);
}

TEST(DemoData, ParticipationsMostlyStartEarlyAndAttendanceFallsWithinThem) {
    Demo d({});
    std::map<std::string, std::pair<std::string, std::string>> part;  // person -> start, end
    std::string first = "9999-99";
    for (auto& p : d["participations"]) {
        EXPECT_TRUE(valid_month(s(p, "start_month")));
        part[s(p, "person")] = {s(p, "start_month"), s(p, "end_month")};
        first = std::min(first, s(p, "start_month"));
    }
    auto index = [](const std::string& m) { return std::stoi(m.substr(0, 4)) * 12 + std::stoi(m.substr(5, 2)); };
    EXPECT_EQ(index(d.current_month) - index(first), 11) << "twelve months, the current one the last";
    int early = 0, later = 0, ended = 0;
    for (auto& [person, se] : part) {
        (index(se.first) - index(first) < 3 ? early : later) += 1;
        if (!se.second.empty()) {
            ++ended;
            EXPECT_LT(se.second, d.current_month);
            EXPECT_GT(se.second, se.first);
        }
    }
    double n = part.size();
    EXPECT_GT(n / d["persons"].Size(), 0.85);
    EXPECT_LT(n, d["persons"].Size()) << "some staff do not take part";
    EXPECT_GT(early / n, 0.7);
    EXPECT_GT(later, 0);
    EXPECT_GT(ended, 0);
    EXPECT_LT(ended / n, 0.2);
    for (auto& a : d["attendance"]) {
        auto it = part.find(s(a, "person"));
        ASSERT_NE(it, part.end()) << s(a, "person") << " attended without a participation";
        std::string m = local(ms(*d.occasions[s(a, "occasion")], "starts_at")).month;
        EXPECT_GE(m, it->second.first);
        if (!it->second.second.empty()) {
            EXPECT_LE(m, it->second.second);
        }
    }
}

TEST(DemoData, AttestationsAreForPastMonthsAndMostlyCloseToTheAttendedMinutes) {
    Demo d({});
    std::map<std::pair<std::string, std::string>, int64_t> minutes;  // (person, month) -> attended
    for (auto& a : d["attendance"]) {
        if (!attended(s(a, "status"))) continue;
        std::string occ = s(a, "occasion");
        int64_t m = a.HasMember("minutes") ? a["minutes"].GetInt() : d.length_min(occ);
        minutes[{s(a, "person"), local(ms(*d.occasions[occ], "starts_at")).month}] += m;
    }
    int close = 0, n = 0;
    std::set<std::pair<std::string, std::string>> attested;
    for (auto& t : d["time_attestations"]) {
        std::string month = s(t, "month");
        EXPECT_TRUE(valid_month(month));
        EXPECT_LT(month, d.current_month) << "only months that are over";
        EXPECT_TRUE(attested.insert({s(t, "person"), month}).second);
        int64_t want = minutes[{s(t, "person"), month}];
        EXPECT_GT(want, 0);
        ++n;
        close += std::abs(t["minutes"].GetInt() - want) * 5 <= want;  // within 20%
    }
    EXPECT_GT(n, 200);
    EXPECT_GT(close, n * 8 / 10);
    EXPECT_LT(close, n) << "some add self-study";
    int missing = 0;
    for (auto& [key, m] : minutes) missing += key.second < d.current_month && !attested.count(key);
    EXPECT_GT(missing, 0);
    EXPECT_LT(missing, n / 2);
}

TEST(DemoData, DeviationsCoverEveryCategoryAndSomeAreHandled) {
    Demo d({});
    std::set<std::string> categories;
    int handled = 0, open = 0, cancelled_logged = 0;
    for (auto& x : d["deviations"]) {
        categories.insert(s(x, "category"));
        EXPECT_FALSE(s(x, "description").empty());
        if (s(x, "status") == "handled") {
            ++handled;
            EXPECT_FALSE(s(x, "action_taken").empty());
        } else {
            EXPECT_EQ(s(x, "status"), "open");
            EXPECT_FALSE(x.HasMember("action_taken"));
            ++open;
        }
        if (x.HasMember("occasion")) {
            auto& o = *d.occasions.at(s(x, "occasion"));
            EXPECT_TRUE(d.ended(s(x, "occasion")));
            std::string org = s(x, "organisation");
            if (o.HasMember("site")) {
                EXPECT_EQ(s(o, "site").rfind(org + "-", 0), 0u) << s(o, "site");
            }
            cancelled_logged += s(x, "category") == "cancelled_session" && s(o, "status") == "cancelled";
        }
    }
    EXPECT_EQ(categories, (std::set<std::string>{"cancelled_session", "technical", "attendance", "content",
                                                  "accessibility", "other"}));
    EXPECT_GT(handled, 0);
    EXPECT_GT(open, 0);
    EXPECT_GT(cancelled_logged, 0);
}

TEST(DemoData, TheScaleOptionGivesAboutTheRequestedMarks) {
    Demo d({.staff_per_site = 100, .attendance_marks = 20'000});
    double n = d["attendance"].Size();
    EXPECT_GT(n, 18'000);
    EXPECT_LT(n, 22'000);
    Demo few({.history_months = 3, .attendance_marks = 500});
    EXPECT_GT(few["attendance"].Size(), 400u);
    EXPECT_LT(few["attendance"].Size(), 600u);
}

using DemoImport = StoreFixture;

TEST_P(DemoImport, TheProjectYearImportsWhole) {
    Demo d({});
    auto r = store->import_json(d.text);
    ASSERT_TRUE(r) << r.status().to_string();
    for (auto* section : {"persons", "occasions", "enrolments", "attendance", "participations", "time_attestations",
                          "survey_responses", "deviations"}) {
        std::string table = section;
        int64_t extra = section == std::string("persons") ? 2 : section == std::string("occasions") ? 1 : 0;
        EXPECT_EQ(scalar("SELECT count(*) FROM " + table), d[section].Size() + extra) << section;
    }
    EXPECT_EQ(scalar("SELECT count(*) FROM occasions WHERE confirmed > capacity"), 0);
    EXPECT_EQ(scalar("SELECT count(*) FROM persons WHERE personal_id IS NOT NULL"),
              scalar("SELECT count(DISTINCT personal_id) FROM persons"));
}

TUNDRA_STORE_BACKENDS(DemoImport);
