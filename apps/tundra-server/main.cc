// tundra-server: init, serve (the sync protocol and the console; /metrics on its own listener),
// backup, import and demo-data over a
// SQLite store; user administration (add-user, set-password, revoke-user, revoke-device), GDPR
// (erase-person, export-person) and walk-ins (merge-person), each written to the audit trail;
// ESF reports and sealing months (report).
#include <CLI/CLI.hpp>
#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "tundra/console/import_file.h"
#include "tundra/web/access_log.h"
#include "tundra/server/demo_data.h"
#include "tundra/server/http_server.h"
#include "tundra/server/sql_store.h"

using namespace tundra;
using namespace tundra::server;
using tundra::web::event_log_line;
using tundra::web::now_ms;

namespace {
int fail(const Status& st) {
    std::cerr << "error: " << st.to_string() << "\n";
    return 1;
}

// The demo data lives in the repository's data/ folder. Looked up in order: --data, $TUNDRA_DATA,
// data/ beside the build tree this binary came from (build/apps/tundra-server), share/tundra/data
// of an installed tree (bin/tundra-server), the source tree it was configured from, and ./data.
std::string find_data_dir(const std::string& given, const char* argv0) {
    if (!given.empty()) return given;
    if (const char* env = std::getenv("TUNDRA_DATA")) return env;
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path exe = fs::weakly_canonical(fs::path(argv0), ec);
    for (fs::path p : {exe.parent_path() / "../../data", exe.parent_path() / "../share/tundra/data",
                       fs::path(TUNDRA_SOURCE_DATA_DIR),
                       fs::path("data")})
        if (fs::exists(p / "municipalities.csv", ec)) return p.lexically_normal().string();
    return TUNDRA_SOURCE_DATA_DIR;
}

// Who runs an admin subcommand, for the audit trail: $USER, else the account of the
// effective user id (cron and service shells often have no $USER).
std::string cli_actor() {
    if (const char* user = std::getenv("USER"); user && *user) return std::string("cli:") + user;
    if (const passwd* pw = ::getpwuid(::geteuid()); pw && pw->pw_name) return std::string("cli:") + pw->pw_name;
    return "cli:uid-" + std::to_string(::geteuid());
}

// The password, from the first line of standard input (never an argument: argv is visible
// to every user of the machine).
Result<std::string> password_from_stdin() {
    std::string password;
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (password.empty()) return Status(Errc::invalid_argument, "no password on standard input");
    return password;
}

// The port of an ADDRESS:PORT option (0: the OS picks one).
Result<uint16_t> parse_port(const std::string& listen, const std::string& option) {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) return Status(Errc::invalid_argument, option + " needs ADDRESS:PORT");
    int port = -1;
    try {
        size_t used = 0;
        port = std::stoi(listen.substr(colon + 1), &used);
        if (used != listen.size() - colon - 1) port = -1;
    } catch (...) {
        port = -1;
    }
    if (port < 0 || port > 65535) return Status(Errc::invalid_argument, "bad port in " + option);
    return static_cast<uint16_t>(port);
}

Result<std::unique_ptr<SqlStore>> open_store(const std::string& path, bool create) {
    // A postgresql:// URI names a database that SqlStore::open checks itself.
    bool uri = path.rfind("postgresql://", 0) == 0 || path.rfind("postgres://", 0) == 0;
    if (!create && !uri && !std::filesystem::exists(path))
        return Result<std::unique_ptr<SqlStore>>(
            Errc::not_found, "no store at '" + path + "' (create one with `tundra-server init`)");
    return SqlStore::open(path, {}, create);
}
}  // namespace

int main(int argc, char** argv) try {
    CLI::App app{"Tundra sync server: offline-first sync for competence development"};
    app.require_subcommand(1);
    std::string db, listen = "127.0.0.1:8080", file, data_dir;
    uint32_t seed = 2026;
    int page_rows = 2000;

    auto* init = app.add_subcommand("init", "create a store");
    init->add_option("--db", db, "SQLite file or postgresql:// URI")->required();

    auto* serve = app.add_subcommand("serve", "serve the sync protocol and the console (/console/) over HTTP or HTTPS");
    serve->add_option("--db", db, "SQLite file or postgresql:// URI")->required();
    serve->add_option("--listen", listen, "ADDRESS:PORT (port 0 picks a free port)");
    serve->add_option("--page-rows", page_rows, "default rows per pull page")->check(CLI::Range(1, 20000));
    bool quiet = false;
    serve->add_flag("--quiet", quiet, "no access log on stderr");
    size_t row_cache_mb = 64;
    serve->add_option("--row-cache-mb", row_cache_mb,
                      "memory for rows kept encoded for pulls (a row sent to many devices is read "
                      "once per version; 0: none)")
        ->check(CLI::Range(0, 1 << 20));
    ServerOptions sopts;
    serve->add_option("--max-connections", sopts.max_connections,
                      "open connections at most; past it new ones wait until one closes (the "
                      "open-file limit is raised to fit, up to the hard limit)")
        ->check(CLI::Range(1, 1000000));
    int turn_period_s = static_cast<int>(sopts.turns.period.count());
    serve->add_option("--turn-period", turn_period_s,
                      "seconds in which every device gets its turn while the server is saturated "
                      "(docs/protocol.md, \"Overload\"); 0: no turns, the queue alone refuses")
        ->check(CLI::Range(0, 3600));
    serve->add_option("--tls-cert", sopts.tls_cert_file,
                      "PEM certificate chain (leaf first): serve HTTPS only")
        ->check(CLI::ExistingFile);
    serve->add_option("--tls-key", sopts.tls_key_file, "PEM private key of --tls-cert")
        ->check(CLI::ExistingFile);
    serve->add_option("--trusted-proxy", sopts.trusted_proxies,
                      "CIDR of a reverse proxy whose X-Forwarded-For names the client (repeatable)")
        ->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    std::string public_url;
    serve->add_option("--public-url", public_url,
                      "the URL people open behind a reverse proxy (https://... makes the console's "
                      "cookies Secure; its origin is the console's own)");
    std::string metrics_listen;
    serve->add_option("--metrics-listen", metrics_listen,
                      "ADDRESS:PORT of a second listener serving only GET /metrics (Prometheus text "
                      "format; port 0 picks a free port); none by default");
    size_t max_upload_mb = 64;
    serve->add_option("--max-upload-mb", max_upload_mb, "the console's import upload limit, in MiB (default 64)")
        ->check(CLI::Range(1, 4096));

    std::string backup_to;
    auto* backup = app.add_subcommand(
        "backup", "a consistent copy of the store in a new file (0600), taken while the server keeps serving "
                  "(restoring it: docs/operations.md)");
    backup->add_option("--db", db, "SQLite file (a postgresql:// store is backed up with pg_dump)")->required();
    backup->add_option("--to", backup_to, "the new file; an existing file is never overwritten")->required();

    auto* imp = app.add_subcommand("import", "load a JSON document or a staff CSV (all or nothing)");
    imp->add_option("--db", db, "SQLite file or postgresql:// URI")->required();
    imp->add_option("file", file, "JSON document, or a staff CSV (*.csv; docs/import.md)")->required();

    auto* demo = app.add_subcommand("demo-data", "fill a store with realistic demo data");
    demo->add_option("--db", db, "SQLite file or postgresql:// URI")->required();
    demo->add_option("--data", data_dir,
                     "folder with municipalities.csv and course-themes.csv (default: data/ in the "
                     "repository)");
    demo->add_option("--seed", seed, "random seed");
    DemoOptions demo_opts;  // the sizes; benchmarks scale them (bench/, docs/benchmarks.md)
    demo->add_option("--municipalities", demo_opts.municipalities, "how many, from the top of the file")
        ->check(CLI::Range(1, 1000));
    demo->add_option("--staff-per-site", demo_opts.staff_per_site)->check(CLI::Range(1, 100000));
    demo->add_option("--history-months", demo_opts.history_months, "months of project history")
        ->check(CLI::Range(1, 60));
    demo->add_option("--marks", demo_opts.attendance_marks, "about this many attendance marks (0: 6 per person)")
        ->check(CLI::Range(int64_t{0}, int64_t{100'000'000}));

    std::string device;
    auto* revoke = app.add_subcommand("revoke-device",
                                      "revoke a device: it is answered `revoked` and wipes its synced data");
    revoke->add_option("--db", db, "SQLite file or postgresql:// URI")->required();
    revoke->add_option("device", device, "device id")->required();

    std::string username, role, person;
    std::vector<std::string> sites;
    bool password_stdin = false;
    auto* add_user = app.add_subcommand("add-user", "create a login (the first admin of a fresh store too)");
    add_user->add_option("--db", db, "SQLite file or postgresql:// URI")->required();
    add_user->add_option("username", username, "login name")->required();
    add_user->add_option("--role", role, "participant, coordinator or admin")->required();
    auto* person_opt = add_user->add_option("--person", person, "participants: their person id");
    add_user->add_option("--site", sites, "coordinators: a site id (repeat for several)")->excludes(person_opt);
    add_user->add_flag("--password-stdin", password_stdin, "read the password from standard input")->required();

    auto* set_password = app.add_subcommand(
        "set-password", "set a user's password and end their tokens (devices keep their identity)");
    set_password->add_option("--db", db, "SQLite file or postgresql:// URI")->required();
    set_password->add_option("username", username, "login name")->required();
    set_password->add_flag("--password-stdin", password_stdin, "read the password from standard input")
        ->required();

    auto* revoke_user = app.add_subcommand(
        "revoke-user", "the user can no longer log in; every device of theirs is revoked");
    revoke_user->add_option("--db", db, "SQLite file or postgresql:// URI")->required();
    revoke_user->add_option("username", username, "login name")->required();
    std::string person_id;
    auto* erase = app.add_subcommand("erase-person",
                                     "GDPR erasure: remove a person from every replica; keep only their ESF data, "
                                     "pseudonymised, on the server");
    erase->add_option("--db", db, "SQLite file or postgresql:// URI")->required();
    erase->add_option("person", person_id, "person id")->required();
    auto* export_person = app.add_subcommand("export-person",
                                             "GDPR access: print everything held about a person as JSON");
    export_person->add_option("--db", db, "SQLite file or postgresql:// URI")->required();
    export_person->add_option("person", person_id, "person id")->required();
    std::string real_id;
    auto* merge = app.add_subcommand("merge-person",
                                     "move everything about a provisional person (registered at a walk-in) to the "
                                     "real person from the staff register, and delete the provisional one");
    merge->add_option("--db", db, "SQLite file or postgresql:// URI")->required();
    merge->add_option("provisional", person_id, "the provisional person's id")->required();
    merge->add_option("real", real_id, "the real person's id")->required();

    std::string report_name, month, from_month, to_month, organisation, as_of, format = "csv",
        csv_dialect = "excel";
    int min_cell = 5;
    auto* report = app.add_subcommand(
        "report", "ESF reports to standard output (docs/reports.md), or `report seal` to seal a month");
    report->add_option("name", report_name, "ledger|participants|attendance|surveys|deviations|seal")
        ->required();
    report->add_option("--db", db, "SQLite file or postgresql:// URI")->required();
    auto* month_opt = report->add_option("--month", month, "one month, YYYY-MM (Europe/Stockholm)");
    auto* from_opt = report->add_option("--from", from_month, "first month of a range, YYYY-MM");
    auto* to_opt = report->add_option("--to", to_month, "last month of a range, YYYY-MM");
    month_opt->excludes(from_opt)->excludes(to_opt);
    from_opt->needs(to_opt);
    to_opt->needs(from_opt);
    auto* org_opt = report->add_option("--organisation", organisation, "one organisation's code (default: all)");
    auto* as_of_opt = report->add_option("--as-of", as_of, "ISO 8601: what the server held then (default: now, or a sealed month's seal)");
    auto* min_cell_opt = report->add_option("--min-cell", min_cell, "suppress cells of fewer people (default 5)");
    auto* format_opt = report->add_option("--format", format, "csv (default) or json");
    auto* dialect_opt = report->add_option("--csv-dialect", csv_dialect, "excel (default: ';', decimal comma, BOM) or rfc");

    CLI11_PARSE(app, argc, argv);

    if (*init) {
        auto s = open_store(db, true);
        if (!s) return fail(s.status());
        std::cout << "initialised store " << display_name(db) << "\n";
        return 0;
    }
    if (*backup && (db.rfind("postgresql://", 0) == 0 || db.rfind("postgres://", 0) == 0)) {
        std::cerr << "error: a PostgreSQL store is backed up with PostgreSQL's own tool, e.g.\n"
                     "  pg_dump --format=custom --file=tundra.dump '"
                  << db << "'\nand restored with pg_restore (docs/operations.md)\n";
        return 2;
    }
    auto s = open_store(db, false);
    if (!s) return fail(s.status());
    SqlStore& store = *s.value();

    if (*backup) {
        std::cout << "backing up " << display_name(db) << " to " << backup_to << " (the server may keep serving)" << std::endl;
        auto rep = store.backup(backup_to);
        if (!rep) return fail(rep.status());
        std::cout << "backed up " << display_name(db) << " to " << backup_to << ": " << rep->bytes << " bytes, store version "
                  << rep->version << "; the copy is epoch " << rep->epoch << " (restored from " << rep->from_epoch
                  << " at version " << rep->version << " once it is put in place)\n";
        return 0;
    }

    if (*serve) {
        auto colon = listen.rfind(':');
        auto port = parse_port(listen, "--listen");
        if (!port) return fail(port.status());
        auto metrics_port = metrics_listen.empty() ? Result<uint16_t>(uint16_t{0}) : parse_port(metrics_listen, "--metrics-listen");
        if (!metrics_port) return fail(metrics_port.status());
        // The store was opened with default options; reopen with the page size asked for.
        s.value().reset();
        StoreOptions so;
        so.default_page_rows = page_rows;
        so.row_cache_bytes = row_cache_mb << 20;
        auto s2 = SqlStore::open(db, so, false);
        if (!s2) return fail(s2.status());
        ServerOptions opts = sopts;
        opts.turns.period = std::chrono::seconds(turn_period_s);
        if (!quiet) opts.log = [](const std::string& line) { std::cerr << line << "\n"; };
        FdBudget fds = fit_fd_limit(opts.max_connections);
        if (fds.lowered() && opts.log)
            opts.log(event_log_line(
                now_ms(), "connection_limit",
                "--max-connections lowered from " + std::to_string(fds.max_connections_asked) +
                    " to " + std::to_string(fds.max_connections) + ": the open-file limit is " +
                    std::to_string(fds.soft_limit) + " (hard limit " + std::to_string(fds.hard_limit) +
                    "; raise it with `ulimit -Hn` or systemd's LimitNOFILE=)"));
        opts.max_connections = fds.max_connections;
        // The console: Secure cookies on TLS or behind an https proxy; the proxy's origin.
        if (!public_url.empty()) {
            if (public_url.rfind("https://", 0) != 0 && public_url.rfind("http://", 0) != 0)
                return fail(Status(Errc::invalid_argument, "--public-url must start with https:// or http://"));
            auto end = public_url.find('/', public_url.find("://") + 3);
            opts.console.public_origin = public_url.substr(0, end);
        }
        opts.console.secure_cookies = !opts.tls_cert_file.empty() || public_url.rfind("https://", 0) == 0;
        opts.console.max_upload_bytes = max_upload_mb << 20;
        if (!metrics_listen.empty()) opts.metrics = std::make_shared<web::MetricsRegistry>();
        HttpServer server(*s2.value(), opts);
        if (!metrics_listen.empty()) {
            // Announced before the sync port: once that line is out, both are up.
            std::string address = metrics_listen.substr(0, metrics_listen.rfind(':'));
            auto mbound = server.listen_metrics(address, metrics_port.value());
            if (!mbound) return fail(mbound.status());
            std::cout << "metrics listening on http://" << address << ":" << mbound.value() << "/metrics" << std::endl;
        }
        auto bound = server.listen(listen.substr(0, colon), port.value());
        if (!bound) return fail(bound.status());
        std::cout << "listening on " << (server.tls() ? "https://" : "http://")
                  << listen.substr(0, colon) << ":" << bound.value() << std::endl;
        server.run();
        std::cerr << "stopped\n";
        return 0;
    }
    if (*imp) {
        std::ifstream in(file, std::ios::binary);
        if (!in) return fail(Status(Errc::not_found, "cannot read " + file));
        std::stringstream ss;
        ss << in.rdbuf();
        // The console's import takes the same path (an import document, or a staff CSV).
        std::string bytes = ss.str();
        bool csv = file.size() > 4 && (file.substr(file.size() - 4) == ".csv" || file.substr(file.size() - 4) == ".CSV");
        auto doc = console::read_import_file(store, bytes, csv ? "text/csv" : "application/json");
        if (!doc) return fail(doc.status());
        auto rep = console::import_audited(store, doc.value(), cli_actor(), file);
        if (!rep) return fail(rep.status());
        auto& r = rep.value();
        std::cout << "imported " << r.total() << " records: " << r.organisations
                  << " organisations, " << r.sites << " sites, " << r.persons << " persons, "
                  << r.users << " users, " << r.courses << " courses, " << r.occasions
                  << " occasions, " << r.enrolments << " enrolments, " << r.attendance
                  << " attendance marks, " << r.participations << " participations, "
                  << r.time_attestations << " time attestations, " << r.survey_responses
                  << " survey answers, " << r.deviations << " deviations\n";
        if (r.merged)
            std::cout << "merged " << r.merged
                      << " provisional (walk-in) person(s) into imported persons with the same personal_id\n";
        return 0;
    }
    if (*demo) {
        DemoOptions o = demo_opts;
        o.data_dir = find_data_dir(data_dir, argv[0]);
        o.seed = seed;
        auto docu = demo_document(o);
        if (!docu) return fail(docu.status());
        auto rep = store.import_json(docu.value());
        if (!rep) return fail(rep.status());
        auto& r = rep.value();
        Status au = store.audit(cli_actor(), "demo-data", "",
                                R"({"records":)" + std::to_string(r.total()) +
                                    R"(,"seed":)" + std::to_string(seed) + "}");
        if (!au) return fail(au);
        std::cout << "demo data from " << o.data_dir << ": " << r.organisations
                  << " municipalities, " << r.sites << " sites, " << r.persons << " staff, "
                  << r.courses << " courses, " << r.occasions << " occasions, " << r.enrolments
                  << " enrolments, " << r.attendance << " attendance marks, " << r.participations
                  << " participations, " << r.time_attestations << " attested months, "
                  << r.survey_responses << " survey answers, " << r.deviations << " deviations, "
                  << r.users << " logins\n";
        return 0;
    }
    if (*erase || *export_person) {
        std::string actor = cli_actor();
        if (*export_person) {
            auto doc = store.export_person(person_id, actor);
            if (!doc) return fail(doc.status());
            std::cout << doc.value() << "\n";
            return 0;
        }
        auto rep = store.erase_person(person_id, actor);
        if (!rep) return fail(rep.status());
        auto& r = rep.value();
        if (r.already_erased)
            std::cout << "person was already erased (pseudonym " << r.pseudonym << ")\n";
        else
            std::cout << "erased " << person_id << ": ESF data kept as " << r.pseudonym << " (" << r.rows_moved
                      << " rows, server only); " << r.enrolments_cancelled << " upcoming enrolment(s) cancelled, "
                      << r.comments_cleared << " comment(s) cleared, " << r.users_removed << " login(s) and "
                      << r.devices_revoked << " device(s) revoked, " << r.texts_redacted
                      << " deviation text(s) redacted\n";
        if (!r.wal_truncated)
            std::cout << "note: another process was reading the store, so its log (-wal) still holds old "
                         "pages; run erase-person again when it is idle\n";
        return 0;
    }
    if (*report) {
        if (report_name == "seal") {
            for (auto* o : {from_opt, to_opt, org_opt, as_of_opt, min_cell_opt, format_opt, dialect_opt})
                if (o->count())
                    return fail(Status(Errc::invalid_argument,
                                       "report seal takes only --db and --month (not " + o->get_name() + ")"));
            if (month.empty()) return fail(Status(Errc::invalid_argument, "report seal: --month YYYY-MM is required"));
            Status st = store.seal_month(month, cli_actor());
            if (!st) return fail(st);
            std::cout << "sealed " << month << "\n";
            return 0;
        }
        ReportRequest req;
        req.name = report_name;
        if (!month.empty()) req.from_month = req.to_month = month;
        else if (!from_month.empty()) req.from_month = from_month, req.to_month = to_month;
        else return fail(Status(Errc::invalid_argument, "report: give --month YYYY-MM or --from and --to"));
        req.organisation = organisation;
        if (!as_of.empty()) {
            auto t = parse_iso8601(as_of);
            if (!t) return fail(Status(Errc::invalid_argument, "--as-of: " + t.status().message()));
            req.as_of_ms = t.value();
        }
        req.min_cell = min_cell;
        req.format = format;
        req.csv_dialect = csv_dialect;
        // The command line runs on the server with the store's file: as an admin.
        auto out = store.report(req, ReportViewer{"admin", {}});
        if (!out) return fail(out.status());
        std::cout << out->body;
        std::cout.flush();
        return std::cout ? 0 : 1;
    }
    if (*merge) {
        auto rep = store.merge_person(person_id, real_id, cli_actor());
        if (!rep) return fail(rep.status());
        auto& r = rep.value();
        auto counts = [](const MergeReport::Count& c) {
            return std::to_string(c.moved) + (c.dropped ? " (" + std::to_string(c.dropped) + " dropped: " +
                                                                "the real person's kept)"
                                                        : "");
        };
        std::cout << "merged " << r.from << " into " << r.into << ": enrolments " << counts(r.enrolments)
                  << ", attendance marks " << counts(r.attendance) << ", participations "
                  << counts(r.participations) << ", time attestations " << counts(r.time_attestations)
                  << ", survey answers " << counts(r.survey_responses) << "; " << r.from << " deleted\n";
        return 0;
    }
    if (*revoke) {
        Status st = store.revoke_device(device, cli_actor());
        if (!st) return fail(st);
        std::cout << "revoked " << device << "\n";
        return 0;
    }
    if (*add_user) {
        auto pw = password_from_stdin();
        if (!pw) return fail(pw.status());
        Status st = store.add_user(
            {.username = username, .role = role, .person = person, .sites = sites, .password = pw.value()},
            cli_actor());
        if (!st) return fail(st);
        std::cout << "added user " << username << " (" << role << ")\n";
        return 0;
    }
    if (*set_password) {
        auto pw = password_from_stdin();
        if (!pw) return fail(pw.status());
        auto ended = store.set_password(username, pw.value(), cli_actor());
        if (!ended) return fail(ended.status());
        std::cout << "set the password of " << username << "; ended " << ended.value()
                  << " token(s): their devices log in again and keep their identity\n";
        return 0;
    }
    if (*revoke_user) {
        auto devices = store.revoke_user(username, cli_actor());
        if (!devices) return fail(devices.status());
        std::cout << "revoked user " << username << " and " << devices.value()
                  << " device(s): each wipes its synced data at its next contact\n";
        return 0;
    }
    return 0;
} catch (const std::exception& e) {
    std::cerr << "error: internal: " << e.what() << "\n";
    return 1;
}
