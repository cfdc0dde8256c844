#include "tundra/server/demo_data.h"

#include <fstream>
#include <random>
#include <sstream>
#include <vector>

#include "tundra/core/hlc.h"
#include "tundra/core/json.h"
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

struct Out {
    rapidjson::StringBuffer buf;
    json::Writer w{buf};
    void str(std::string_view k, std::string_view v) {
        json::put(w, k);
        json::put(w, v);
    }
    void num(std::string_view k, int64_t v) {
        json::put(w, k);
        w.Int64(v);
    }
};
}  // namespace

Result<std::string> demo_document(const DemoOptions& opts) {
    auto munis = read_csv(opts.data_dir + "/municipalities.csv");
    if (!munis) return munis.status();
    auto themes = read_csv(opts.data_dir + "/course-themes.csv");
    if (!themes) return themes.status();
    std::mt19937 rng(opts.seed);
    auto pick = [&](auto& arr) -> const char* {
        return arr[std::uniform_int_distribution<size_t>(0, std::size(arr) - 1)(rng)];
    };
    int64_t now = opts.now_ms ? opts.now_ms : static_cast<int64_t>(wall_clock_ms());
    int64_t day = 86400'000;
    int64_t today = now - now % day;

    // The first N municipalities: Norrbotten first, as in the file.
    std::vector<std::vector<std::string>> orgs;
    for (auto& m : munis.value())
        if (m.size() >= 3 && static_cast<int>(orgs.size()) < opts.municipalities) orgs.push_back(m);

    Out o;
    auto& w = o.w;
    w.StartObject();
    json::put(w, "organisations");
    w.StartArray();
    for (auto& m : orgs) {
        w.StartObject();
        o.str("code", m[0]);
        o.str("name", m[1]);
        o.str("county", m[2]);
        w.EndObject();
    }
    w.EndArray();

    struct Site {
        std::string id, org;
    };
    std::vector<Site> sites;
    json::put(w, "sites");
    w.StartArray();
    for (auto& m : orgs) {
        int n = m[0] == "arjeplog" || m[0] == "pajala" ? 3 : 2;
        for (int k = 0; k < n; ++k) {
            std::string id = m[0] + "-" + kSiteKinds[k][0];
            sites.push_back({id, m[0]});
            w.StartObject();
            o.str("id", id);
            o.str("organisation", m[0]);
            o.str("name", std::string(kSiteKinds[k][1]) + " " + m[1]);
            w.EndObject();
        }
    }
    w.EndArray();

    struct Person {
        std::string id, org, site;
    };
    std::vector<Person> persons;
    json::put(w, "persons");
    w.StartArray();
    for (auto& s : sites) {
        for (int k = 0; k < opts.staff_per_site; ++k) {
            std::string id = "p-" + s.id + "-" + std::to_string(k + 1);
            int g = std::uniform_int_distribution<int>(0, 99)(rng);
            const char* gender = g < 80 ? "woman" : g < 97 ? "man" : g < 98 ? "non_binary" : "undisclosed";
            std::string first = (g < 80 || (g >= 97 && g % 2)) ? pick(kWomen) : pick(kMen);
            if (s.id == "arjeplog-hemtjanst" && k == 0) first = "Anna", gender = "woman";
            if (s.id == "pajala-hemtjanst" && k == 0) first = "Erik", gender = "man";
            if (s.id == "arjeplog-boende" && k == 0) first = "Maria", gender = "woman";
            persons.push_back({id, s.org, s.id});
            w.StartObject();
            o.str("id", id);
            o.str("organisation", s.org);
            o.str("site", s.id);
            o.str("name", first + " " + pick(kSurnames));
            o.str("gender", gender);
            o.num("birth_year", std::uniform_int_distribution<int>(1960, 2005)(rng));
            o.str("profession", pick(kProfessions));
            w.EndObject();
        }
    }
    w.EndArray();

    json::put(w, "users");
    w.StartArray();
    auto user = [&](const char* name, const char* pw, const char* role, std::string person,
                    std::vector<std::string> user_sites) {
        w.StartObject();
        o.str("username", name);
        o.str("password", pw);
        o.str("role", role);
        if (!person.empty()) o.str("person", person);
        if (!user_sites.empty()) {
            json::put(w, "sites");
            w.StartArray();
            for (auto& s : user_sites) json::put(w, s);
            w.EndArray();
        }
        w.EndObject();
    };
    user("admin", "tundra-admin", "admin", "", {});
    user("coord.arjeplog", "tundra-demo", "coordinator", "",
         {"arjeplog-hemtjanst", "arjeplog-boende", "arjeplog-lss"});
    user("coord.pajala", "tundra-demo", "coordinator", "", {"pajala-hemtjanst", "pajala-boende"});
    user("anna", "tundra-demo", "participant", "p-arjeplog-hemtjanst-1", {});
    user("erik", "tundra-demo", "participant", "p-pajala-hemtjanst-1", {});
    user("maria", "tundra-demo", "participant", "p-arjeplog-boende-1", {});
    w.EndArray();

    struct Occ {
        std::string id;
        int64_t capacity;
    };
    std::vector<Occ> occs;
    json::put(w, "courses");
    w.StartArray();
    auto& th = themes.value();
    for (size_t i = 0; i < th.size(); ++i) {
        w.StartObject();
        o.str("id", "c-" + th[i][0]);
        o.str("title", th[i][1]);
        o.str("description", th[i][2]);
        o.str("theme", th[i][0]);
        o.str("format", th[i].size() > 3 ? th[i][3] : "workshop");
        o.str("provider", i % 3 == 0 ? "Region Norrbotten" : i % 3 == 1 ? "Umeå universitet" : "Kommunförbundet");
        o.num("duration_minutes", 90 + 30 * static_cast<int64_t>(i % 4));
        json::put(w, "organisations");
        w.StartArray();
        for (auto& m : orgs) json::put(w, m[0]);
        w.EndArray();
        json::put(w, "published");
        w.Bool(i + 1 < th.size());  // the last course is still a draft
        w.EndObject();
    }
    w.EndArray();

    json::put(w, "occasions");
    w.StartArray();
    // One session that took place yesterday at Anna's unit, so that attendance can be marked.
    {
        int64_t starts = today - day + 13 * 3600'000;
        occs.push_back({"o-threats-0", 12});
        w.StartObject();
        o.str("id", "o-threats-0");
        o.str("course", "c-threats");
        o.str("starts_at", format_iso8601(starts));
        o.str("ends_at", format_iso8601(starts + 3 * 3600'000));
        o.str("site", "arjeplog-hemtjanst");
        o.num("capacity", 12);
        o.str("enrolment_closes", format_iso8601(starts - 3 * day));
        w.EndObject();
    }
    for (size_t i = 0; i < th.size(); ++i) {
        for (int k = 0; k < 3; ++k) {
            std::string id = "o-" + th[i][0] + "-" + std::to_string(k + 1);
            int64_t starts = today + (7 + 14 * k + static_cast<int64_t>(i)) * day + 9 * 3600'000;
            // The first occasion of the first course is small, to show fair seats.
            int64_t capacity = (i == 0 && k == 0) ? 1 : 12 + 4 * k;
            occs.push_back({id, capacity});
            const Site& site = sites[(i * 3 + k) % sites.size()];
            w.StartObject();
            o.str("id", id);
            o.str("course", "c-" + th[i][0]);
            o.str("starts_at", format_iso8601(starts));
            o.str("ends_at", format_iso8601(starts + 3 * 3600'000));
            if (th[i].size() > 3 && (th[i][3] == "live_online" || th[i][3] == "digital_self_paced"))
                o.str("online_link", "https://meet.example.org/" + id);
            else
                o.str("site", site.id);
            o.num("capacity", capacity);
            o.str("enrolment_closes", format_iso8601(starts - 2 * day));
            w.EndObject();
        }
    }
    w.EndArray();

    // Some enrolments already made (migrated from the spreadsheet the project used before).
    json::put(w, "enrolments");
    w.StartArray();
    int n = 0;
    for (int k = 1; k <= 6; ++k) {  // Anna's unit went to yesterday's session
        w.StartObject();
        o.str("id", "e-import-" + std::to_string(++n));
        o.str("occasion", "o-threats-0");
        o.str("person", "p-arjeplog-hemtjanst-" + std::to_string(k));
        o.str("status", "confirmed");
        w.EndObject();
    }
    for (size_t oi = 1; oi < occs.size(); ++oi) {
        int64_t want = oi == 1 ? 0 : occs[oi].capacity / 2;
        for (int64_t k = 0; k < want; ++k) {
            const Person& p = persons[(oi * 7 + static_cast<size_t>(k) * 13 + 5) % persons.size()];
            if (p.id == "p-arjeplog-hemtjanst-1" || p.id == "p-pajala-hemtjanst-1" ||
                p.id == "p-arjeplog-boende-1")
                continue;  // the demo users start with a clean slate
            w.StartObject();
            o.str("id", "e-import-" + std::to_string(++n));
            o.str("occasion", occs[oi].id);
            o.str("person", p.id);
            o.str("status", "confirmed");
            w.EndObject();
        }
    }
    w.EndArray();
    w.EndObject();
    return std::string(o.buf.GetString(), o.buf.GetSize());
}

}  // namespace tundra::server
