// tundra-server: init, serve, import and demo-data over a SQLite store.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "tundra/server/demo_data.h"
#include "tundra/server/http_server.h"
#include "tundra/server/sqlite_store.h"

using namespace tundra;
using namespace tundra::server;

namespace {
int fail(const Status& st) {
    std::cerr << "error: " << st.to_string() << "\n";
    return 1;
}

// The demo data lives in the repository's data/ folder. Looked up in order: --data, $TUNDRA_DATA,
// data/ beside the build tree this binary came from (build/apps/tundra-server), the source tree
// it was configured from, and ./data.
std::string find_data_dir(const std::string& given, const char* argv0) {
    if (!given.empty()) return given;
    if (const char* env = std::getenv("TUNDRA_DATA")) return env;
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path exe = fs::weakly_canonical(fs::path(argv0), ec);
    for (fs::path p : {exe.parent_path() / "../../data", fs::path(TUNDRA_SOURCE_DATA_DIR),
                       fs::path("data")})
        if (fs::exists(p / "municipalities.csv", ec)) return p.lexically_normal().string();
    return TUNDRA_SOURCE_DATA_DIR;
}

Result<std::unique_ptr<SqliteStore>> open_store(const std::string& path, bool create) {
    if (!create && !std::filesystem::exists(path))
        return Result<std::unique_ptr<SqliteStore>>(
            Errc::not_found, "no store at '" + path + "' (create one with `tundra-server init`)");
    return SqliteStore::open(path, {}, create);
}
}  // namespace

int main(int argc, char** argv) try {
    CLI::App app{"Tundra sync server: offline-first sync for competence development"};
    app.require_subcommand(1);
    std::string db, listen = "127.0.0.1:8080", file, data_dir;
    uint32_t seed = 2026;
    int page_rows = 2000;

    auto* init = app.add_subcommand("init", "create a store");
    init->add_option("--db", db, "SQLite file")->required();

    auto* serve = app.add_subcommand("serve", "serve the sync protocol over HTTP");
    serve->add_option("--db", db, "SQLite file")->required();
    serve->add_option("--listen", listen, "ADDRESS:PORT (port 0 picks a free port)");
    serve->add_option("--page-rows", page_rows, "default rows per pull page")->check(CLI::Range(1, 20000));
    bool quiet = false;
    serve->add_flag("--quiet", quiet, "no access log on stderr");

    auto* imp = app.add_subcommand("import", "load a JSON document (all or nothing)");
    imp->add_option("--db", db, "SQLite file")->required();
    imp->add_option("file", file, "JSON document")->required();

    auto* demo = app.add_subcommand("demo-data", "fill a store with realistic demo data");
    demo->add_option("--db", db, "SQLite file")->required();
    demo->add_option("--data", data_dir,
                     "folder with municipalities.csv and course-themes.csv (default: data/ in the "
                     "repository)");
    demo->add_option("--seed", seed, "random seed");

    std::string device;
    auto* revoke = app.add_subcommand("revoke-device", "revoke a device's token");
    revoke->add_option("--db", db, "SQLite file")->required();
    revoke->add_option("device", device, "device id")->required();

    std::string person_id;
    auto* erase = app.add_subcommand("erase-person",
                                     "GDPR erasure: remove a person from every replica; keep only their ESF data, "
                                     "pseudonymised, on the server");
    erase->add_option("--db", db, "SQLite file")->required();
    erase->add_option("person", person_id, "person id")->required();
    auto* export_person = app.add_subcommand("export-person",
                                             "GDPR access: print everything held about a person as JSON");
    export_person->add_option("--db", db, "SQLite file")->required();
    export_person->add_option("person", person_id, "person id")->required();

    CLI11_PARSE(app, argc, argv);

    if (*init) {
        auto s = open_store(db, true);
        if (!s) return fail(s.status());
        std::cout << "initialised store " << db << "\n";
        return 0;
    }
    auto s = open_store(db, false);
    if (!s) return fail(s.status());
    SqliteStore& store = *s.value();

    if (*serve) {
        auto colon = listen.rfind(':');
        if (colon == std::string::npos) return fail(Status(Errc::invalid_argument, "--listen needs ADDRESS:PORT"));
        int port = 0;
        try {
            port = std::stoi(listen.substr(colon + 1));
        } catch (...) {
            port = -1;
        }
        if (port < 0 || port > 65535) return fail(Status(Errc::invalid_argument, "bad port in --listen"));
        // The store was opened with default options; reopen with the page size asked for.
        s.value().reset();
        StoreOptions so;
        so.default_page_rows = page_rows;
        auto s2 = SqliteStore::open(db, so, false);
        if (!s2) return fail(s2.status());
        ServerOptions opts;
        if (!quiet) opts.log = [](const std::string& line) { std::cerr << line << "\n"; };
        HttpServer server(*s2.value(), opts);
        auto bound = server.listen(listen.substr(0, colon), static_cast<uint16_t>(port));
        if (!bound) return fail(bound.status());
        std::cout << "listening on http://" << listen.substr(0, colon) << ":" << bound.value()
                  << std::endl;
        server.run();
        std::cerr << "stopped\n";
        return 0;
    }
    if (*imp) {
        std::ifstream in(file, std::ios::binary);
        if (!in) return fail(Status(Errc::not_found, "cannot read " + file));
        std::stringstream ss;
        ss << in.rdbuf();
        auto rep = store.import_json(ss.str());
        if (!rep) return fail(rep.status());
        auto& r = rep.value();
        std::cout << "imported " << r.total() << " records: " << r.organisations
                  << " organisations, " << r.sites << " sites, " << r.persons << " persons, "
                  << r.users << " users, " << r.courses << " courses, " << r.occasions
                  << " occasions, " << r.enrolments << " enrolments, " << r.attendance
                  << " attendance marks\n";
        return 0;
    }
    if (*demo) {
        DemoOptions o;
        o.data_dir = find_data_dir(data_dir, argv[0]);
        o.seed = seed;
        auto docu = demo_document(o);
        if (!docu) return fail(docu.status());
        auto rep = store.import_json(docu.value());
        if (!rep) return fail(rep.status());
        auto& r = rep.value();
        std::cout << "demo data from " << o.data_dir << ": " << r.organisations
                  << " municipalities, " << r.sites << " sites, " << r.persons << " staff, "
                  << r.courses << " courses, " << r.occasions << " occasions, " << r.enrolments
                  << " enrolments, " << r.users << " logins\n";
        return 0;
    }
    if (*erase || *export_person) {
        // Who ran it, for the audit trail: the operating-system user of this shell.
        const char* who = std::getenv("USER");
        std::string actor = std::string("cli:") + (who && *who ? who : "unknown");
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
    if (*revoke) {
        Status st = store.revoke_device(device);
        if (!st) return fail(st);
        std::cout << "revoked " << device << "\n";
        return 0;
    }
    return 0;
} catch (const std::exception& e) {
    std::cerr << "error: internal: " << e.what() << "\n";
    return 1;
}
