// tundra-bench console [--scale N] [--db PATH] [--keep] [--repeat R] [--build-only]: the project
// console's report pages over the demo project of `tundra-bench report` (demo_project.h),
// driven in this process through ConsoleHandler::handle exactly as the browser drives it: a
// real sign-in (GET and POST /console/login), then the API requests the reports page
// (console/assets/views/reports.js) makes, each timed; then the other pages' API calls once
// (docs/benchmarks.md, "The project console").
//
// The reports page, as app.js and reports.js make it:
//   GET /console/api/me                                        (app.js, before any view)
//   GET /console/api/organisations?limit=500  }
//   GET /console/api/sites?limit=500          } in parallel (places() and the seals)
//   GET /console/api/seals                    }
//   GET /console/api/reports/NAME?format=json&month=M[&organisation=O]
//       (participants: from=M-5&to=M, the six-month line)
//   GET /console/api/courses?limit=500        (attendance and surveys: the course titles)
#include <rapidjson/document.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "../sync-server/src/report_state.h"
#include "demo_project.h"
#include "tundra/console/console.h"
#include "tundra/core/hlc.h"
#include "tundra/core/stockholm_time.h"

using namespace tundra;
using namespace tundra::server;

namespace {
using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}
double cpu_ms() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return (static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
            static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3);
}

const std::string kHost = "127.0.0.1:8080";

// A browser: its cookies and the session's CSRF token.
struct Browser {
    std::map<std::string, std::string> jar;
    std::string csrf;
};

struct Timed {
    web::HttpResponse resp;
    double wall_ms = 0, cpu = 0;
};

struct Console {
    console::ConsoleHandler& handler;

    Timed send(Browser& b, const std::string& method, const std::string& target, const std::string& body = {},
               const std::string& type = {}) {
        web::HttpRequest r;
        r.method = method;
        r.target = target;
        r.body = body;
        r.remote_address = "127.0.0.1";
        r.local_port = 8080;
        r.headers["host"] = kHost;
        if (method != "GET") {
            r.headers["origin"] = "http://" + kHost;
            if (!type.empty()) r.headers["content-type"] = type;
            if (!b.csrf.empty()) r.headers["x-csrf-token"] = b.csrf;
        }
        std::string cookies;
        for (auto& [k, v] : b.jar) cookies += (cookies.empty() ? "" : "; ") + k + "=" + v;
        if (!cookies.empty()) r.headers["cookie"] = cookies;
        Timed t;
        auto start = Clock::now();
        double c0 = cpu_ms();
        t.resp = handler.handle(r);
        t.wall_ms = ms_since(start);
        t.cpu = cpu_ms() - c0;
        for (auto& [k, v] : t.resp.headers) {
            if (k != "Set-Cookie") continue;
            auto eq = v.find('='), semi = v.find(';');
            std::string name = v.substr(0, eq), value = v.substr(eq + 1, semi - eq - 1);
            if (v.find("Max-Age=0") != std::string::npos) b.jar.erase(name);
            else b.jar[name] = value;
        }
        return t;
    }
};

std::string form_value(const std::string& v) {
    std::string enc;
    for (unsigned char ch : v) {
        if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.') {
            enc += static_cast<char>(ch);
        } else {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", ch);
            enc += buf;
        }
    }
    return enc;
}

std::string json_string(const std::string& body, const char* member) {
    rapidjson::Document d;
    d.Parse(body.c_str(), body.size());
    if (!d.IsObject() || !d.HasMember(member) || !d[member].IsString()) return {};
    return d[member].GetString();
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

std::string add_months(const std::string& month, int n) {
    int y = std::stoi(month.substr(0, 4)), m = std::stoi(month.substr(5, 2));
    int k = y * 12 + (m - 1) + n;
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02d", k / 12, k % 12 + 1);
    return buf;
}
}  // namespace

int console_bench_main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows as it comes (a 10x store takes long)
    int scale = 1, repeat = 3;
    std::string db_path;
    bool keep = false, build_only = false, admin_only = false;
    std::vector<std::string> report_names = {"ledger", "participants", "attendance", "surveys", "deviations"};
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--scale") && i + 1 < argc) scale = std::max(1, std::atoi(argv[++i]));
        else if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = std::max(1, std::atoi(argv[++i]));
        else if (!std::strcmp(argv[i], "--db") && i + 1 < argc) db_path = argv[++i];
        else if (!std::strcmp(argv[i], "--keep")) keep = true;
        else if (!std::strcmp(argv[i], "--admin-only")) admin_only = true;
        else if (!std::strcmp(argv[i], "--reports") && i + 1 < argc) {
            report_names.clear();
            std::string list = argv[++i];
            for (size_t at = 0; at <= list.size();) {
                size_t comma = std::min(list.find(',', at), list.size());
                if (comma > at) report_names.push_back(list.substr(at, comma - at));
                at = comma + 1;
            }
        }
        else if (!std::strcmp(argv[i], "--build-only")) build_only = keep = true;
        else return std::fprintf(stderr, "usage: tundra-bench console [--scale N] [--db PATH] [--keep] [--repeat R] [--reports a,b]\n"
                                         "       [--admin-only] [--build-only]\n"), 2;
    }
    std::filesystem::path tmp;
    if (db_path.empty()) {
        tmp = std::filesystem::temp_directory_path() / ("tundra-console-bench-" + std::to_string(getpid()));
        std::filesystem::create_directories(tmp);
        db_path = (tmp / "server.db").string();
    }
    const int64_t now = static_cast<int64_t>(wall_clock_ms());
    auto project = bench::open_demo_project(db_path, scale, now, true);
    if (!project) return std::fprintf(stderr, "%s\n", project.status().to_string().c_str()), 1;
    SqlStore& store = *project->store;
    auto finish = [&](int rc) {
        project->store.reset();
        if (!keep) {
            std::filesystem::remove(db_path);
            std::filesystem::remove(db_path + "-wal");
            std::filesystem::remove(db_path + "-shm");
            if (!tmp.empty()) std::filesystem::remove_all(tmp);
        } else {
            std::printf("kept %s\n", db_path.c_str());
        }
        return rc;
    };
    if (build_only) return finish(0);

    console::ConsoleHandler handler(store, console::ConsoleOptions{});
    Console con{handler};

    // A real sign-in: the form, its CSRF token, the POST, the shell page, /api/me.
    auto sign_in = [&](const std::string& user, const std::string& password, bool print) -> Browser {
        Browser b;
        auto page = con.send(b, "GET", "/console/login");
        std::string csrf;
        auto at = page.resp.body.find("name=\"csrf\" value=\"");
        if (at != std::string::npos) {
            at += 19;
            csrf = page.resp.body.substr(at, page.resp.body.find('"', at) - at);
        }
        auto post = con.send(b, "POST", "/console/login",
                             "username=" + form_value(user) + "&password=" + form_value(password) +
                                 "&csrf=" + form_value(csrf) + "&lang=sv",
                             "application/x-www-form-urlencoded");
        auto shell = con.send(b, "GET", "/console/");
        auto me = con.send(b, "GET", "/console/api/me");
        b.csrf = json_string(me.resp.body, "csrf");
        if (print)
            std::printf("sign-in of %-16s GET login %d %.1f ms, POST login %d %.1f ms, GET /console/ %d %.1f ms, "
                        "GET /api/me %d %.1f ms\n",
                        user.c_str(), page.resp.status, page.wall_ms, post.resp.status, post.wall_ms,
                        shell.resp.status, shell.wall_ms, me.resp.status, me.wall_ms);
        if (post.resp.status != 303 || me.resp.status != 200 || b.csrf.empty()) {
            std::fprintf(stderr, "sign-in of %s failed: %d %s\n", user.c_str(), post.resp.status,
                         me.resp.body.c_str());
            std::exit(finish(1));
        }
        return b;
    };
    Browser admin = sign_in("admin", "tundra-admin", true);
    Browser coord = sign_in("coord.arjeplog", "tundra-demo", true);

    // The coordinator's organisation (also the one the admin's one-organisation pages show).
    std::string organisation;
    {
        auto me = con.send(coord, "GET", "/console/api/me");
        rapidjson::Document d;
        d.Parse(me.resp.body.c_str(), me.resp.body.size());
        if (d.IsObject() && d.HasMember("organisations") && d["organisations"].IsArray() &&
            !d["organisations"].Empty())
            organisation = d["organisations"][0].GetString();
    }
    int64_t org_staff = bench::scalar(store.db(), "SELECT count(*) FROM persons WHERE organisation = '" +
                                                      organisation + "'");
    const std::string month = previous_month(stockholm_month(now));
    std::printf("month %s; one organisation: %s (%lld staff); repeats: %d\n\n", month.c_str(), organisation.c_str(),
                static_cast<long long>(org_staff), repeat);

    // The facts replay alone (what every report request does first), for comparison.
    {
        auto start = Clock::now();
        double c0 = cpu_ms();
        auto state = load_report_state(store.db(), static_cast<int64_t>(wall_clock_ms()));
        std::printf("for comparison, the report facts replay alone (load_report_state): %.0f ms wall, %.0f ms CPU "
                    "(%zu persons, %zu marks)\n\n",
                    ms_since(start), cpu_ms() - c0, state ? state->persons.size() : 0,
                    state ? state->marks.size() : 0);
    }

    // One page: its requests in the order the page makes them; `group` of each request: those
    // with the same group go out together (Promise.all), groups one after the other.
    struct Req {
        std::string label, target;
        int group;
    };
    auto report_page = [&](const std::string& name, const std::string& org) {
        std::vector<Req> r = {{"me", "/console/api/me", 0},
                              {"organisations", "/console/api/organisations?limit=500", 1},
                              {"sites", "/console/api/sites?limit=500", 1},
                              {"seals", "/console/api/seals", 1}};
        std::string q = name == "participants" ? "format=json&from=" + add_months(month, -5) + "&to=" + month
                                               : "format=json&month=" + month;
        if (!org.empty()) q += "&organisation=" + org;
        r.push_back({"report", "/console/api/reports/" + name + "?" + q, 2});
        if (name == "attendance" || name == "surveys") r.push_back({"courses", "/console/api/courses?limit=500", 3});
        return r;
    };

    std::printf("%-34s %-13s %6s %10s %10s %9s %12s %12s\n", "reports page", "request", "status", "bytes",
                "wall ms", "cpu ms", "min-max ms", "");
    struct PageFigures {
        std::string label;
        double sum, path, sum_min, sum_max, report, report_cpu;
        size_t bytes;
    };
    std::vector<PageFigures> pages;
    for (const std::string& name : report_names) {
        for (bool one_org : {true, false}) {
            for (bool as_coord : {false, true}) {
                if (as_coord && admin_only) continue;
                Browser& b = as_coord ? coord : admin;
                auto reqs = report_page(name, one_org ? organisation : "");
                std::vector<std::vector<double>> wall(reqs.size()), cpu(reqs.size());
                std::vector<int> status(reqs.size());
                std::vector<size_t> bytes(reqs.size());
                std::vector<double> sums, paths;
                for (int k = 0; k < repeat; ++k) {
                    std::map<int, double> group_max;
                    double sum = 0;
                    for (size_t i = 0; i < reqs.size(); ++i) {
                        auto t = con.send(b, "GET", reqs[i].target);
                        wall[i].push_back(t.wall_ms);
                        cpu[i].push_back(t.cpu);
                        status[i] = t.resp.status;
                        bytes[i] = t.resp.body.size();
                        sum += t.wall_ms;
                        group_max[reqs[i].group] = std::max(group_max[reqs[i].group], t.wall_ms);
                    }
                    double path = 0;
                    for (auto& [g, m] : group_max) path += m;
                    sums.push_back(sum);
                    paths.push_back(path);
                }
                std::string label = name + (one_org ? ", one org" : ", all orgs") +
                                    (as_coord ? ", coordinator" : ", admin");
                size_t total_bytes = 0;
                for (size_t i = 0; i < reqs.size(); ++i) {
                    auto [mn, mx] = std::minmax_element(wall[i].begin(), wall[i].end());
                    char range[48];
                    std::snprintf(range, sizeof range, "%.1f-%.1f", *mn, *mx);
                    std::printf("%-34s %-13s %6d %10zu %10.1f %9.1f %12s\n", i ? "" : label.c_str(),
                                reqs[i].label.c_str(), status[i], bytes[i], median(wall[i]), median(cpu[i]), range);
                    total_bytes += bytes[i];
                }
                auto [smn, smx] = std::minmax_element(sums.begin(), sums.end());
                size_t ri = 4;
                std::printf("%-34s %-13s %6s %10zu %10.1f %9s %5.0f-%-6.0f critical path (parallel) %.1f ms\n", "",
                            "page total", "", total_bytes, median(sums), "", *smn, *smx, median(paths));
                pages.push_back({label, median(sums), median(paths), *smn, *smx, median(wall[ri]), median(cpu[ri]),
                                 total_bytes});
            }
        }
    }

    std::printf("\n%-40s %10s %12s %12s %12s %16s %10s\n", "summary: reports page (medians)", "total ms",
                "min-max", "critical ms", "report ms", "report CPU ms", "bytes");
    for (auto& p : pages) {
        char range[48];
        std::snprintf(range, sizeof range, "%.0f-%.0f", p.sum_min, p.sum_max);
        std::printf("%-40s %10.0f %12s %12.0f %12.0f %16.0f %10zu\n", p.label.c_str(), p.sum, range, p.path,
                    p.report, p.report_cpu, p.bytes);
    }

    // The other pages' API calls, once each, as the admin.
    auto first_id = [&](const std::string& sql) {
        auto q = store.db().query(sql);
        auto r = q->step();
        return r && r.value() ? q->text(0) : std::string();
    };
    std::string course = first_id("SELECT course FROM occasions WHERE course IN (SELECT id FROM courses) "
                                  "GROUP BY course ORDER BY count(*) DESC LIMIT 1");
    std::string occasion = first_id("SELECT occasion FROM enrolments GROUP BY occasion ORDER BY count(*) DESC LIMIT 1");
    std::string person = first_id("SELECT person FROM enrolments GROUP BY person ORDER BY count(*) DESC LIMIT 1");
    std::string site = first_id("SELECT id FROM sites WHERE organisation = '" + organisation + "' LIMIT 1");
    struct Other {
        std::string page, target;
        bool coordinator;
    };
    std::vector<Other> others = {
        {"catalogue", "/console/api/courses?limit=500", false},
        {"catalogue, search", "/console/api/courses?q=stress&limit=500", false},
        {"course (most occasions)", "/console/api/courses/" + course, false},
        {"occasions of a site", "/console/api/occasions?site=" + site, false},
        {"people, search 'an'", "/console/api/persons?q=an&limit=200", false},
        {"people, a site", "/console/api/persons?site=" + site + "&limit=200", false},
        {"people, search 'an' (coordinator)", "/console/api/persons?q=an&limit=200", true},
        {"person (most enrolments)", "/console/api/persons/" + person, false},
        {"users", "/console/api/users", false},
        {"users page: persons", "/console/api/persons?limit=500", false},
        {"devices", "/console/api/tablets", false},
        {"roster (largest occasion)", "/console/api/occasions/" + occasion + "/roster", false},
        {"roster (coordinator)", "/console/api/occasions/" + occasion + "/roster", true},
        {"deviations", "/console/api/deviations", false},
        {"deviations (coordinator)", "/console/api/deviations", true},
        {"audit", "/console/api/audit", false},
    };
    std::printf("\n%-36s %6s %10s %10s %9s  %s\n", "other pages (once)", "status", "bytes", "wall ms", "cpu ms",
                "request");
    for (auto& o : others) {
        auto t = con.send(o.coordinator ? coord : admin, "GET", o.target);
        std::printf("%-36s %6d %10zu %10.1f %9.1f  %s\n", o.page.c_str(), t.resp.status, t.resp.body.size(),
                    t.wall_ms, t.cpu, o.target.c_str());
    }
    return finish(0);
}
