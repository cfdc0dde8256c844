// The demo import document: municipalities and course themes from data/*.csv, sites and staff,
// the demo logins, the catalogue with its coming occasions, and a project year of history
// (demo_year.cc) written as the import sections that hold it.
#include "tundra/server/demo_data.h"

#include <ctime>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <random>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "demo_year.h"
#include "tundra/core/hlc.h"
#include "tundra/core/model.h"

namespace tundra::server {
namespace {
using Csv = std::vector<std::vector<std::string>>;

Result<Csv> read_csv(const std::string& path) {
    std::ifstream in(path);
    if (!in) return Result<Csv>(Errc::not_found, "cannot read " + path);
    Csv rows;
    std::string line;
    bool header = true;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (header || line.empty()) {
            header = false;
            continue;
        }
        std::vector<std::string> cells;
        std::string cell;
        bool quoted = false;
        for (char c : line) {
            if (c == '"') quoted = !quoted;
            else if (c == ',' && !quoted) cells.push_back(std::move(cell)), cell.clear();
            else cell += c;
        }
        cells.push_back(cell);
        rows.push_back(std::move(cells));
    }
    return rows;
}

const char* kWomen[] = {"Anna",  "Maria", "Eva",   "Karin",  "Kristina", "Lena",  "Sara",
                        "Emma",  "Elin",  "Ida",   "Malin",  "Johanna",  "Linda", "Hanna",
                        "Sofia", "Aino",  "Ulla",  "Birgitta", "Marit", "Inga",  "Frida",
                        "Amina", "Leila", "Fatima", "Helena", "Camilla", "Therese", "Jenny"};
const char* kMen[] = {"Erik", "Lars", "Johan", "Anders", "Per", "Nils", "Mikael",
                      "Jonas", "Ahmed", "Ali", "Olof", "Henrik", "Mattias", "Niklas"};
const char* kSurnames[] = {"Lindqvist", "Nilsson", "Lundström", "Johansson", "Öberg",
                           "Pekkari",   "Isaksson", "Niemi",    "Marklund",  "Holmgren",
                           "Lundberg",  "Forsberg", "Wikström", "Sundqvist", "Kuoljok",
                           "Blind",     "Mäkitalo", "Hedlund",  "Eriksson",  "Persson",
                           "Ali",       "Hassan",   "Omar",     "Berg",      "Strand"};
const char* kProfessions[] = {"undersköterska", "undersköterska", "undersköterska",
                              "vårdbiträde",    "sjuksköterska",  "personlig assistent",
                              "stödassistent",  "enhetschef",     "arbetsterapeut"};
const char* kSiteKinds[][2] = {{"hemtjanst", "Hemtjänst"},
                               {"boende", "Särskilt boende"},
                               {"lss", "LSS-gruppbostad"}};
// The demo logins' persons (README): no upcoming enrolments, so the scenario starts clean.
const char* kDemoPersons[] = {"p-arjeplog-hemtjanst-1", "p-pajala-hemtjanst-1", "p-arjeplog-boende-1"};

// JSON written straight into the returned string. A 10x benchmark document is hundreds of
// megabytes: RapidJSON's writer over a std::string puts it a character at a time (several
// times slower), and a StringBuffer would be copied once more at the end. The names follow
// rapidjson::Writer.
class JsonOut {
public:
    explicit JsonOut(std::string& out) : s_(out) {}
    void StartObject() { open('{'); }
    void EndObject() { close('}'); }
    void StartArray() { open('['); }
    void EndArray() { close(']'); }
    void Key(std::string_view k) {
        String(k);
        s_ += ':';
        after_key_ = true;
    }
    void String(std::string_view v) {
        comma();
        s_ += '"';
        size_t from = 0;
        for (size_t i = 0; i < v.size(); ++i) {
            auto c = static_cast<unsigned char>(v[i]);
            if (c >= 0x20 && c != '"' && c != '\\') continue;
            s_.append(v.data() + from, i - from);
            char esc[8];
            std::snprintf(esc, sizeof esc, "\\u%04x", c);
            s_ += c == '"' ? "\\\"" : c == '\\' ? "\\\\" : esc;
            from = i + 1;
        }
        s_.append(v.data() + from, v.size() - from);
        s_ += '"';
    }
    void Int64(int64_t v) {
        comma();
        s_ += std::to_string(v);
    }
    void Bool(bool v) {
        comma();
        s_ += v ? "true" : "false";
    }

private:
    std::string& s_;
    std::vector<bool> first_;  // per open array or object: nothing written in it yet
    bool after_key_ = false;

    void comma() {
        if (after_key_) {
            after_key_ = false;
            return;
        }
        if (!first_.empty() && !first_.back()) s_ += ',';
        if (!first_.empty()) first_.back() = false;
    }
    void open(char c) {
        comma();
        s_ += c;
        first_.push_back(true);
    }
    void close(char c) {
        s_ += c;
        first_.pop_back();
    }
};

int64_t weighted(std::mt19937& g, std::initializer_list<int> w) {
    int total = 0;
    for (int x : w) total += x;
    int v = std::uniform_int_distribution<int>(0, total - 1)(g);
    int i = 0;
    for (int x : w) {
        if (v < x) return i;
        v -= x, ++i;
    }
    return i - 1;
}

class Document {
public:
    explicit Document(const DemoOptions& opts) : opts_(opts), rng_(opts.seed), rx_(opts.seed ^ 0x5eed'2026u) {}

    Result<std::string> build();

private:
    struct Site {
        std::string id;
        uint32_t org;
    };
    struct Person {
        std::string id;
        uint32_t site;
    };
    struct Course {
        std::string id, theme;
        bool online;
    };

    const DemoOptions& opts_;
    std::mt19937 rng_;  // the draws of earlier releases, in their order: names stay the same
    std::mt19937 rx_;   // everything the project year added
    std::string out_;
    JsonOut w_{out_};
    int64_t now_ = 0, today_ = 0;
    Csv orgs_, themes_;
    std::vector<Site> sites_;
    std::vector<Person> persons_;
    std::vector<Course> courses_;  // every course; the year uses the published ones
    std::vector<uint32_t> published_;
    std::unordered_set<std::string> personal_ids_;
    demo::ProjectYear year_;
    std::vector<std::string> year_occasion_ids_;

    void key(std::string_view k) { w_.Key(k); }
    void str(std::string_view k, std::string_view v) {
        key(k);
        w_.String(v);
    }
    void num(std::string_view k, int64_t v) {
        key(k);
        w_.Int64(v);
    }
    void begin(std::string_view section) {
        key(section);
        w_.StartArray();
    }
    template <size_t N>
    const char* pick(const char* (&arr)[N]) {
        return arr[std::uniform_int_distribution<size_t>(0, N - 1)(rng_)];
    }

    void organisations_and_sites();
    void persons();
    void person_details(const char* gender, const char* profession);
    void users();
    void courses();
    void plan_year();
    void occasions();
    void year_occasion(size_t k);
    void enrolments();
    void attendance_and_surveys();
    void participations_and_attestations();
    void deviations();
};

Result<std::string> Document::build() {
    auto munis = read_csv(opts_.data_dir + "/municipalities.csv");
    if (!munis) return munis.status();
    auto themes = read_csv(opts_.data_dir + "/course-themes.csv");
    if (!themes) return themes.status();
    themes_ = std::move(themes.value());
    now_ = opts_.now_ms ? opts_.now_ms : static_cast<int64_t>(wall_clock_ms());
    today_ = now_ - now_ % 86'400'000;
    // The first N municipalities: Norrbotten first, as in the file.
    for (auto& m : munis.value())
        if (m.size() >= 3 && static_cast<int>(orgs_.size()) < opts_.municipalities) orgs_.push_back(m);

    // About the size it will have (measured): growing a 10x document by doubling would copy
    // it several times over.
    int64_t staff = static_cast<int64_t>(orgs_.size()) * 2 * std::max(0, opts_.staff_per_site);
    int64_t marks = opts_.attendance_marks > 0 ? opts_.attendance_marks : 6 * staff;
    out_.reserve(static_cast<size_t>(340 * staff + 400 * marks + 100'000));
    w_.StartObject();
    organisations_and_sites();
    persons();
    users();
    courses();
    plan_year();
    occasions();
    enrolments();
    attendance_and_surveys();
    participations_and_attestations();
    deviations();
    w_.EndObject();
    return std::move(out_);
}

void Document::organisations_and_sites() {
    begin("organisations");
    for (auto& m : orgs_) {
        w_.StartObject();
        str("code", m[0]);
        str("name", m[1]);
        str("county", m[2]);
        w_.EndObject();
    }
    w_.EndArray();
    begin("sites");
    for (uint32_t o = 0; o < orgs_.size(); ++o) {
        auto& m = orgs_[o];
        int n = m[0] == "arjeplog" || m[0] == "pajala" ? 3 : 2;
        for (int k = 0; k < n; ++k) {
            std::string id = m[0] + "-" + kSiteKinds[k][0];
            sites_.push_back({id, o});
            w_.StartObject();
            str("id", id);
            str("organisation", m[0]);
            str("name", std::string(kSiteKinds[k][1]) + " " + m[1]);
            w_.EndObject();
        }
    }
    w_.EndArray();
}

void Document::persons() {
    persons_.reserve(sites_.size() * static_cast<size_t>(std::max(0, opts_.staff_per_site)));
    begin("persons");
    for (uint32_t si = 0; si < sites_.size(); ++si) {
        const Site& s = sites_[si];
        for (int k = 0; k < opts_.staff_per_site; ++k) {
            std::string id = "p-" + s.id + "-" + std::to_string(k + 1);
            int g = std::uniform_int_distribution<int>(0, 99)(rng_);
            // Welfare work: about 80% women, some men, a few non-binary or undisclosed.
            const char* gender = g < 80 ? "woman" : g < 97 ? "man" : g < 98 ? "non_binary" : "undisclosed";
            std::string first = (g < 80 || (g >= 97 && g % 2)) ? pick(kWomen) : pick(kMen);
            if (s.id == "arjeplog-hemtjanst" && k == 0) first = "Anna", gender = "woman";
            if (s.id == "pajala-hemtjanst" && k == 0) first = "Erik", gender = "man";
            if (s.id == "arjeplog-boende" && k == 0) first = "Maria", gender = "woman";
            persons_.push_back({id, si});
            w_.StartObject();
            str("id", id);
            str("organisation", orgs_[s.org][0]);
            str("site", s.id);
            str("name", first + " " + pick(kSurnames));
            str("gender", gender);
            (void)std::uniform_int_distribution<int>(1960, 2005)(rng_);  // the old birth year
            const char* profession = pick(kProfessions);
            str("profession", profession);
            person_details(gender, profession);
            w_.EndObject();
        }
    }
    w_.EndArray();
}

// Birth year (ages 19-66, a few unknown), education (following the profession), employment
// status, and for most a synthetic personnummer: YYYYMMDD-NNNN with a valid check digit, the
// ninth digit even for women and odd for men, as in the real register.
void Document::person_details(const char* gender, const char* profession) {
    int year = 1970;
    {
        std::time_t t = static_cast<std::time_t>(now_ / 1000);
        std::tm tm{};
        gmtime_r(&t, &tm);
        year = tm.tm_year + 1900;
    }
    std::optional<int> birth_year;
    if (weighted(rx_, {97, 3}) == 0) {
        static const int kBands[][2] = {{19, 24}, {25, 34}, {35, 44}, {45, 54}, {55, 66}};
        auto& b = kBands[weighted(rx_, {10, 22, 24, 24, 20})];
        birth_year = year - std::uniform_int_distribution<int>(b[0], b[1])(rx_);
        num("birth_year", *birth_year);
    }
    std::string p = profession;
    static const char* kEdu[] = {"isced_0_2", "isced_3_4", "isced_5_8"};
    int64_t edu = p == "sjuksköterska" || p == "arbetsterapeut" || p == "enhetschef"
                      ? weighted(rx_, {0, 12, 85, 3})
                  : p == "undersköterska" ? weighted(rx_, {10, 77, 10, 3})
                                          : weighted(rx_, {33, 54, 10, 3});
    if (edu < 3) str("education_level", kEdu[edu]);
    static const char* kEmp[] = {"employed", "unemployed", "inactive", "self_employed"};
    int64_t emp = weighted(rx_, {87, 6, 3, 2, 2});
    if (emp < 4) str("employment_status", kEmp[emp]);
    if (birth_year && weighted(rx_, {92, 8}) == 0) {
        std::string g = gender;
        for (;;) {
            int m = std::uniform_int_distribution<int>(1, 12)(rx_);
            int days = static_cast<int>(tundra::days_from_civil(m == 12 ? *birth_year + 1 : *birth_year, m == 12 ? 1 : m + 1, 1) -
                                        tundra::days_from_civil(*birth_year, m, 1));
            int d = std::uniform_int_distribution<int>(1, days)(rx_);
            int serial = std::uniform_int_distribution<int>(0, 999)(rx_);
            if (g == "woman") serial -= serial % 2;
            if (g == "man") serial |= 1;
            char nine[40];
            std::snprintf(nine, sizeof nine, "%02d%02d%02d%03d", *birth_year % 100, m, d, serial);
            char id[48];
            std::snprintf(id, sizeof id, "%04d%02d%02d-%03d%d", *birth_year, m, d, serial,
                          demo::personnummer_check_digit(nine));
            if (personal_ids_.insert(id).second) {
                str("personal_id", id);
                break;
            }
        }
    }
}

void Document::users() {
    begin("users");
    auto user = [&](const char* name, const char* pw, const char* role, std::string person,
                    std::vector<std::string> user_sites) {
        w_.StartObject();
        str("username", name);
        str("password", pw);
        str("role", role);
        if (!person.empty()) str("person", person);
        if (!user_sites.empty()) {
            key("sites");
            w_.StartArray();
            for (auto& s : user_sites) w_.String(s);
            w_.EndArray();
        }
        w_.EndObject();
    };
    user("admin", "tundra-admin", "admin", "", {});
    user("coord.arjeplog", "tundra-demo", "coordinator", "",
         {"arjeplog-hemtjanst", "arjeplog-boende", "arjeplog-lss"});
    user("coord.pajala", "tundra-demo", "coordinator", "", {"pajala-hemtjanst", "pajala-boende"});
    user("anna", "tundra-demo", "participant", kDemoPersons[0], {});
    user("erik", "tundra-demo", "participant", kDemoPersons[1], {});
    user("maria", "tundra-demo", "participant", kDemoPersons[2], {});
    w_.EndArray();
}

int duration_minutes(size_t course) { return 90 + 30 * static_cast<int>(course % 4); }

void Document::courses() {
    begin("courses");
    for (size_t i = 0; i < themes_.size(); ++i) {
        auto& th = themes_[i];
        std::string format = th.size() > 3 ? th[3] : "workshop";
        courses_.push_back({"c-" + th[0], th[0], format == "live_online" || format == "digital_self_paced"});
        bool published = i + 1 < themes_.size();  // the last course is still a draft
        if (published) published_.push_back(static_cast<uint32_t>(i));
        w_.StartObject();
        str("id", "c-" + th[0]);
        str("title", th[1]);
        str("description", th[2]);
        str("theme", th[0]);
        str("format", format);
        str("provider", i % 3 == 0 ? "Region Norrbotten" : i % 3 == 1 ? "Umeå universitet" : "Kommunförbundet");
        num("duration_minutes", duration_minutes(i));
        key("organisations");
        w_.StartArray();
        for (auto& m : orgs_) w_.String(m[0]);
        w_.EndArray();
        key("published");
        w_.Bool(published);
        w_.EndObject();
    }
    w_.EndArray();
}

void Document::plan_year() {
    demo::YearInput in;
    in.persons.reserve(persons_.size());
    for (auto& p : persons_) {
        bool demo_user = false;
        for (auto* d : kDemoPersons) demo_user |= p.id == d;
        in.persons.push_back({sites_[p.site].org, demo_user});
    }
    in.org_sites.resize(orgs_.size());
    for (uint32_t s = 0; s < sites_.size(); ++s) in.org_sites[sites_[s].org].push_back(s);
    for (uint32_t c : published_) in.courses.push_back({duration_minutes(c), courses_[c].online});
    in.now_ms = now_;
    in.history_months = opts_.history_months;
    in.target_marks = opts_.attendance_marks;
    in.seed = opts_.seed;
    year_ = demo::plan_year(in);
    // Occasion ids name their month and theme: o-2026-03-sam-2.
    std::unordered_map<std::string, int> count;
    year_occasion_ids_.reserve(year_.occasions.size());
    for (auto& o : year_.occasions) {
        std::string prefix = "o-" + tundra::stockholm_month(o.starts_ms) + "-" + courses_[published_[o.course]].theme;
        year_occasion_ids_.push_back(prefix + "-" + std::to_string(++count[prefix]));
    }
}

void Document::occasions() {
    const int64_t day = 86'400'000;
    begin("occasions");
    // One session that took place yesterday at Anna's unit, so that attendance can be marked.
    {
        int64_t starts = today_ - day + 13 * 3600'000;
        w_.StartObject();
        str("id", "o-threats-0");
        str("course", "c-threats");
        str("starts_at", format_iso8601(starts));
        str("ends_at", format_iso8601(starts + 3 * 3600'000));
        str("site", "arjeplog-hemtjanst");
        num("capacity", 12);
        str("enrolment_closes", format_iso8601(starts - 3 * day));
        w_.EndObject();
    }
    for (size_t i = 0; i < themes_.size(); ++i) {
        for (int k = 0; k < 3; ++k) {
            std::string id = "o-" + themes_[i][0] + "-" + std::to_string(k + 1);
            int64_t starts = today_ + (7 + 14 * k + static_cast<int64_t>(i)) * day + 9 * 3600'000;
            // The first occasion of the first course is small, to show fair seats.
            int64_t capacity = (i == 0 && k == 0) ? 1 : 12 + 4 * k;
            const Site& site = sites_[(i * 3 + k) % sites_.size()];
            w_.StartObject();
            str("id", id);
            str("course", "c-" + themes_[i][0]);
            str("starts_at", format_iso8601(starts));
            str("ends_at", format_iso8601(starts + 3 * 3600'000));
            if (courses_[i].online) str("online_link", "https://meet.example.org/" + id);
            else str("site", site.id);
            num("capacity", capacity);
            str("enrolment_closes", format_iso8601(starts - 2 * day));
            w_.EndObject();
        }
    }
    for (size_t k = 0; k < year_.occasions.size(); ++k) year_occasion(k);
    w_.EndArray();
}

void Document::year_occasion(size_t k) {
    const int64_t day = 86'400'000;
    const demo::YearOccasion& o = year_.occasions[k];
    const std::string& id = year_occasion_ids_[k];
    w_.StartObject();
    str("id", id);
    str("course", courses_[published_[o.course]].id);
    str("starts_at", format_iso8601(o.starts_ms));
    str("ends_at", format_iso8601(o.ends_ms));
    if (o.site < 0) str("online_link", "https://meet.example.org/" + id);
    else str("site", sites_[static_cast<size_t>(o.site)].id);
    num("capacity", o.capacity);
    str("enrolment_opens", format_iso8601(o.starts_ms - 42 * day));
    str("enrolment_closes", format_iso8601(o.starts_ms - 2 * day));
    if (o.cancelled) str("status", "cancelled");
    else if (o.ends_ms < now_) str("status", "completed");
    w_.EndObject();
}

void Document::enrolments() {
    // Some enrolments in the coming occasions (migrated from the spreadsheet the project used
    // before), then the year's.
    begin("enrolments");
    int n = 0;
    auto enrolment = [&](const std::string& occasion, const std::string& person, const char* status) {
        w_.StartObject();
        str("id", "e-import-" + std::to_string(++n));
        str("occasion", occasion);
        str("person", person);
        str("status", status);
        w_.EndObject();
    };
    for (int k = 1; k <= 6; ++k)  // Anna's unit went to yesterday's session
        enrolment("o-threats-0", "p-arjeplog-hemtjanst-" + std::to_string(k), "confirmed");
    size_t oi = 0;
    for (size_t i = 0; i < themes_.size(); ++i) {
        for (int k = 0; k < 3; ++k, ++oi) {
            int64_t capacity = (i == 0 && k == 0) ? 1 : 12 + 4 * k;
            int64_t want = oi == 0 ? 0 : capacity / 2;
            for (int64_t e = 0; e < want; ++e) {
                const Person& p = persons_[((oi + 1) * 7 + static_cast<size_t>(e) * 13 + 5) % persons_.size()];
                bool demo_user = false;
                for (auto* d : kDemoPersons) demo_user |= p.id == d;
                if (!demo_user) enrolment("o-" + themes_[i][0] + "-" + std::to_string(k + 1), p.id, "confirmed");
            }
        }
    }
    for (auto& e : year_.enrolments)
        enrolment(year_occasion_ids_[e.occasion], persons_[e.person].id, e.cancelled ? "cancelled" : "confirmed");
    w_.EndArray();
}

void Document::attendance_and_surveys() {
    begin("attendance");
    for (auto& e : year_.enrolments) {
        if (e.mark == demo::Mark::none) continue;
        w_.StartObject();
        str("occasion", year_occasion_ids_[e.occasion]);
        str("person", persons_[e.person].id);
        str("status", demo::mark_name(e.mark));
        if (e.minutes >= 0) num("minutes", e.minutes);
        w_.EndObject();
    }
    w_.EndArray();
    begin("survey_responses");
    for (auto& e : year_.enrolments) {
        if (!e.rating[2]) continue;
        w_.StartObject();
        str("occasion", year_occasion_ids_[e.occasion]);
        str("person", persons_[e.person].id);
        num("rating_content", e.rating[0]);
        num("rating_usefulness", e.rating[1]);
        num("rating_overall", e.rating[2]);
        if (e.comment >= 0) str("comment", demo::survey_comments()[static_cast<size_t>(e.comment)]);
        w_.EndObject();
    }
    w_.EndArray();
}

void Document::participations_and_attestations() {
    begin("participations");
    for (auto& p : year_.participations) {
        const std::string& person = persons_[p.person].id;
        w_.StartObject();
        str("id", "pa-" + person);
        str("person", person);
        str("start_month", year_.months[static_cast<size_t>(p.start)]);
        if (p.end >= 0) str("end_month", year_.months[static_cast<size_t>(p.end)]);
        w_.EndObject();
    }
    w_.EndArray();
    begin("time_attestations");
    for (auto& a : year_.attestations) {
        w_.StartObject();
        str("person", persons_[a.person].id);
        str("month", year_.months[static_cast<size_t>(a.month)]);
        num("minutes", a.minutes);
        w_.EndObject();
    }
    w_.EndArray();
}

void Document::deviations() {
    begin("deviations");
    int n = 0;
    for (auto& d : year_.deviations) {
        w_.StartObject();
        str("id", "d-" + std::to_string(++n));
        str("organisation", orgs_[d.org][0]);
        if (d.occasion >= 0) str("occasion", year_occasion_ids_[static_cast<size_t>(d.occasion)]);
        str("category", demo::category_name(d.category));
        str("description", demo::deviation_texts(d.category)[d.text]);
        if (d.action >= 0) {
            str("status", "handled");
            str("action_taken", demo::deviation_actions(d.category)[static_cast<size_t>(d.action)]);
        } else {
            str("status", "open");
        }
        w_.EndObject();
    }
    w_.EndArray();
}
}  // namespace

Result<std::string> demo_document(const DemoOptions& opts) { return Document(opts).build(); }

}  // namespace tundra::server
