// tundra: the command-line client over a local replica.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <filesystem>
#include <cstdlib>
#include <iostream>

#include "output.h"
#include "records.h"
#include "tundra/client/client.h"
#include "tundra/client/test_hooks.h"

using namespace tundra;
using namespace tundra::client;

namespace {
int fail(const Status& st) {
    std::cerr << "error: " << st.to_string() << "\n";
    return 1;
}

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == ',') {
            if (!cur.empty()) out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
}
}  // namespace

int main(int argc, char** argv) try {
    CLI::App app{"Tundra: offline-first course enrolment and attendance"};
    app.require_subcommand(1);
    app.fallthrough();
    std::string replica = "tundra-replica.db";
    bool as_json = false;
    auto* replica_opt = app.add_option("--replica", replica, "local replica file (SQLite)");
    app.add_flag("--json", as_json, "print one JSON document");

    std::string server, username;
    bool password_stdin = false;
    auto* login = app.add_subcommand("login", "log in and bind this replica to a device");
    login->add_option("--server", server, "https://HOST:PORT (http:// only to this machine)")->required();
    login->add_option("--username", username)->required();
    login->add_flag("--password-stdin", password_stdin, "read the password from standard input")->required();
    double login_timeout_s = 30;
    login->add_option("--timeout", login_timeout_s, "seconds to wait for the server's answer");
    LoginOptions link;
    login->add_option("--ca-file", link.ca_file,
                      "trust only the CA certificate(s) in this PEM file (e.g. the municipality's "
                      "own); default: the system's trust store, or the file given at the last login "
                      "to the same server. Kept in the replica for every later command");
    login->add_flag("--allow-insecure-http", link.allow_insecure_http,
                    "allow http:// to a host other than this machine (the password and token cross "
                    "the network unencrypted). Kept in the replica for every later command");

    double timeout_s = 60;
    int page_rows = 0;
    auto* sync = app.add_subcommand("sync", "push queued actions and pull changes");
    sync->add_option("--timeout", timeout_s, "seconds to keep retrying a failing link");
    sync->add_option("--page-rows", page_rows, "rows per pull page")->check(CLI::Range(1, 20000));

    auto* verify = app.add_subcommand("verify", "check the replica against the server's checksum; repair by a full pull");
    verify->add_option("--timeout", timeout_s, "seconds for the whole check");

    auto* status = app.add_subcommand("status", "queued actions, last sync, rejected actions");
    auto* courses = app.add_subcommand("courses", "the catalogue with occasions and seats");

    std::string occasion, person, enrolment, att_status;
    auto* enrol = app.add_subcommand("enrol", "enrol (yourself, or --person) on an occasion");
    enrol->add_option("occasion", occasion)->required();
    enrol->add_option("--person", person, "person id (coordinators, admins)");

    auto* cancel = app.add_subcommand("cancel", "cancel an enrolment");
    cancel->add_option("enrolment", enrolment)->required();

    auto* enrolments = app.add_subcommand("enrolments", "enrolments in this replica");

    auto* att = app.add_subcommand("attendance", "record or list attendance");
    att->require_subcommand(1);
    std::optional<int64_t> minutes;
    auto* mark = att->add_subcommand("mark", "mark a person at an occasion");
    mark->add_option("occasion", occasion)->required();
    mark->add_option("person", person)->required();
    mark->add_option("status", att_status, "unmarked|present|absent|late|left_early|excused")->required();
    mark->add_option("--minutes", minutes, "minutes attended")->check(CLI::Range(0, 1440));
    auto* att_list = att->add_subcommand("list", "current mark per person");
    att_list->add_option("occasion", occasion)->required();

    // A person who turned up without an enrolment: enrolled (confirmed, reason walk_in) and
    // marked in one action.
    std::string walk_status = "present";
    NewPersonInput walk_new;
    auto* walk_in = app.add_subcommand(
        "walk-in", "staff: record a person who turned up without an enrolment (--person ID, or "
                   "--name NAME --site SITE --gender G for someone not yet in the store)");
    walk_in->add_option("occasion", occasion)->required();
    auto* walk_person = walk_in->add_option("--person", person, "the person's id");
    auto* walk_name = walk_in->add_option("--name", walk_new.name, "a new (provisional) person's name");
    walk_in->add_option("--site", walk_new.site, "the new person's site")->needs(walk_name);
    walk_in->add_option("--gender", walk_new.gender, "woman|man|non_binary|undisclosed")->needs(walk_name);
    walk_in->add_option("--birth-year", walk_new.birth_year, "the new person's birth year")->needs(walk_name);
    walk_in->add_option("--personal-id", walk_new.personal_id, "identity number, if known")->needs(walk_name);
    walk_person->excludes(walk_name);
    walk_in->add_option("--minutes", minutes, "minutes attended")->check(CLI::Range(0, 1440));
    walk_in->add_option("--status", walk_status, "unmarked|present|absent|late|left_early|excused (default present)");

    uint64_t dismiss_seq = 0;
    auto* dismiss = app.add_subcommand("dismiss", "hide a rejected action after reading it");
    dismiss->add_option("seq", dismiss_seq, "number shown by `status`")->required();

    auto* course = app.add_subcommand("course", "admins: publish the catalogue");
    course->require_subcommand(1);
    CourseInput ci;
    std::string orgs;
    std::string published;
    auto* course_add = course->add_subcommand("add", "add or edit a course");
    course_add->add_option("--id", ci.id, "course id (new id if omitted)");
    course_add->add_option("--title", ci.title);
    course_add->add_option("--description", ci.description);
    course_add->add_option("--theme", ci.theme);
    course_add->add_option("--format", ci.format, "digital_self_paced|live_online|on_site|blended|workshop|network_meeting");
    course_add->add_option("--provider", ci.provider);
    course_add->add_option("--duration-minutes", ci.duration_minutes);
    course_add->add_option("--organisations", orgs, "comma-separated organisation codes");
    course_add->add_option("--published", published, "yes|no")->check(CLI::IsMember({"yes", "no"}));

    auto* occ = app.add_subcommand("occasion", "admins: schedule occasions");
    occ->require_subcommand(1);
    OccasionInput oi;
    auto* occ_add = occ->add_subcommand("add", "add or edit an occasion");
    occ_add->add_option("--id", oi.id, "occasion id (new id if omitted)");
    occ_add->add_option("--course", oi.course);
    occ_add->add_option("--starts-at", oi.starts_at, "ISO 8601");
    occ_add->add_option("--ends-at", oi.ends_at, "ISO 8601");
    occ_add->add_option("--site", oi.site);
    occ_add->add_option("--online-link", oi.online_link);
    occ_add->add_option("--capacity", oi.capacity);
    occ_add->add_option("--enrolment-opens", oi.enrolment_opens, "ISO 8601");
    occ_add->add_option("--enrolment-closes", oi.enrolment_closes, "ISO 8601");
    occ_add->add_option("--status", oi.status, "planned|cancelled|completed")
        ->check(CLI::IsMember({"planned", "cancelled", "completed"}));

    std::string delete_id;
    auto* occ_del = occ->add_subcommand("delete", "remove an occasion nobody enrolled in");
    occ_del->add_option("occasion", delete_id)->required();

    std::string export_file;
    auto* logout = app.add_subcommand(
        "logout", "leave this tablet: wipe the synced data and the token (refused while actions are queued)");
    logout->add_option("--export", export_file, "first write the queued actions to FILE (for `tundra replay`)");
    auto* replay = app.add_subcommand("replay", "queue the actions of a `logout --export` file again");
    replay->add_option("file", export_file, "the export file")->required();

    cli::RecordCommands records;
    cli::add_record_commands(app, records);

    CLI11_PARSE(app, argc, argv);

    // Only login creates a replica: any other command on a file that is not there is a
    // missing --replica (or a typo in it), not a user who is "not logged in".
    if (!*login && !std::filesystem::exists(replica)) {
        if (replica_opt->count() == 0)
            return fail(Status(Errc::invalid_argument,
                               "--replica is missing: say which replica file to use (the one `tundra "
                               "login --replica FILE` created); no " + replica + " here"));
        return fail(Status(Errc::not_found, "no replica file '" + replica +
                                                "': check --replica, or run `tundra login --replica " +
                                                replica + "` first"));
    }
    // Crash tests make the CLI die at an exact point of a sync (see tundra/client/test_hooks.h).
    if (const char* at = std::getenv("TUNDRA_TEST_KILL_AT")) {
        if (Status st = test_hooks::arm_crash_point(at); !st) return fail(st);
    }
    ClientOptions copts;
    copts.install_id_path = replica + ".install-id";  // beside the replica, never inside it
    copts.login_timeout = std::chrono::milliseconds(static_cast<int64_t>(login_timeout_s * 1000));
    auto c = Client::open(replica, copts);
    if (!c) return fail(c.status());
    Client& cl = *c.value();
    auto print = [&](const std::string& json, const std::string& text) {
        std::cout << (as_json ? json + "\n" : text);
    };
    // Every action command answers the same way: the id it recorded, pending until a sync.
    auto recorded = [&](const char* key, const Result<std::string>& id, const std::string& what) {
        if (!id) return fail(id.status());
        print(std::string("{\"") + key + "\":\"" + id.value() + "\",\"pending\":true}",
              what + " " + id.value() + " recorded (pending until `tundra sync`)\n");
        return 0;
    };

    if (*login) {
        std::string password;
        std::getline(std::cin, password);
        if (!password.empty() && password.back() == '\r') password.pop_back();
        if (password.empty()) return fail(Status(Errc::invalid_argument, "no password on standard input"));
        Status st = cl.login(server, username, password, link);
        if (!st) return fail(st);
        auto s = cl.status();
        if (!s) return fail(s.status());
        std::cout << "logged in as " << username << " (" << s->role << "), device " << s->device_id << "\n";
        return 0;
    }
    if (*sync) {
        SyncOptions so;
        so.deadline = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
        so.page_rows = page_rows;
        bool tty = isatty(STDERR_FILENO);
        so.progress = [&](const SyncProgress& p) {
            if (!p.note.empty()) {
                // Retries are news on a terminal; in scripts only the final outcome counts.
                if (tty) std::cerr << "\r\033[K" << p.note << "\n";
                return;
            }
            char line[200];
            if (p.rows_expected > 0) {
                double frac = std::min(1.0, static_cast<double>(p.pulled) / static_cast<double>(p.rows_expected));
                std::snprintf(line, sizeof line, "%lld/%lld rows, %.0f/%.0f kB, %.0f s left",
                              static_cast<long long>(p.pulled), static_cast<long long>(p.rows_expected),
                              p.bytes_received / 1000.0, p.bytes_expected / 1000.0, p.more ? p.eta_seconds : 0.0);
                if (tty) {
                    int filled = static_cast<int>(frac * 30);
                    std::cerr << "\r\033[K[" << std::string(filled, '#') << std::string(30 - filled, ' ') << "] "
                              << static_cast<int>(frac * 100) << "% " << line << std::flush;
                    if (!p.more) std::cerr << "\n";
                    return;
                }
            } else {
                std::snprintf(line, sizeof line, "pushed %lld, pulled %lld rows, %.0f kB",
                              static_cast<long long>(p.pushed), static_cast<long long>(p.pulled),
                              p.bytes_received / 1000.0);
            }
            // Not a terminal: plain lines, only when a sync takes more than one round.
            if (!tty && (p.more || p.round > 1)) std::cerr << "sync: round " << p.round << ": " << line << "\n";
        };
        auto r = cl.sync(so);
        if (!r) return fail(r.status());
        print(cli::sync_json(r.value()), cli::sync_text(r.value()));
        return 0;
    }
    if (*verify) {
        SyncOptions so;
        so.deadline = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
        auto v = cl.verify(so);
        if (!v) return fail(v.status());
        print(cli::verify_json(v.value()), cli::verify_text(v.value()));
        return v->ok || v->repaired ? 0 : 1;
    }
    if (*status) {
        auto s = cl.status();
        if (!s) return fail(s.status());
        print(cli::status_json(s.value()), cli::status_text(s.value()));
        return 0;
    }
    if (*courses) {
        auto v = cl.courses();
        if (!v) return fail(v.status());
        print(cli::courses_json(v.value()), cli::courses_text(v.value()));
        return 0;
    }
    if (*enrol) {
        return recorded("enrolment", cl.enrol(occasion, person), "enrolment");
    }
    if (*cancel) {
        return recorded("enrolment", cl.cancel(enrolment), "cancellation of");
    }
    if (*enrolments) {
        auto v = cl.enrolments();
        if (!v) return fail(v.status());
        print(cli::enrolments_json(v.value()), cli::enrolments_text(v.value()));
        return 0;
    }
    if (*mark) {
        auto id = cl.mark_attendance(occasion, person, att_status, minutes);
        if (!id) return fail(id.status());
        print("{\"mark\":\"" + id.value() + "\",\"pending\":true}",
              "marked " + person + " " + att_status + " at " + occasion + " (pending until `tundra sync`)\n");
        return 0;
    }
    if (*walk_in) {
        if (person.empty() && walk_new.name.empty())
            return fail(Status(Errc::invalid_argument,
                               "say who came: --person ID, or --name NAME --site SITE --gender G for "
                               "someone not yet in the store"));
        auto r = person.empty() ? cl.walk_in_new(occasion, walk_new, walk_status, minutes)
                                : cl.walk_in(occasion, person, walk_status, minutes);
        if (!r) return fail(r.status());
        std::string who = person.empty() ? walk_new.name + " (new provisional person " + r->person + ")" : person;
        print("{\"enrolment\":\"" + r->enrolment + "\",\"mark\":\"" + r->mark + "\",\"person\":\"" +
                  (person.empty() ? r->person : person) + "\",\"pending\":true}",
              "walk-in: " + who + " enrolled and marked " + walk_status + " at " + occasion +
                  " (pending until `tundra sync`)\n");
        return 0;
    }
    if (auto code = cli::run_record_commands(records, cl, as_json)) return *code;
    if (*att_list) {
        auto v = cl.attendance(occasion);
        if (!v) return fail(v.status());
        print(cli::attendance_json(v.value()), cli::attendance_text(v.value()));
        return 0;
    }
    if (*dismiss) {
        Status st = cl.dismiss(dismiss_seq);
        if (!st) return fail(st);
        std::cout << "dismissed #" << dismiss_seq << "\n";
        return 0;
    }
    if (*logout) {
        auto r = cl.logout(export_file);
        if (!r) return fail(r.status());
        if (!export_file.empty())
            std::cout << r->exported << " queued action(s) written to " << export_file
                      << " (export " << r->export_id << "); after the next login: tundra replay "
                      << export_file << "\n";
        std::cout << "logged out: synced data and token removed from " << replica << "\n";
        return 0;
    }
    if (*replay) {
        auto r = cl.replay(export_file);
        if (!r) return fail(r.status());
        print("{\"queued\":" + std::to_string(r->queued) + ",\"export_id\":\"" + r->export_id + "\"}",
              "queued " + std::to_string(r->queued) + " action(s) from " + export_file +
                  " (pending until `tundra sync`)\n");
        return 0;
    }
    if (*course_add) {
        if (!orgs.empty()) ci.organisations = split(orgs);
        if (!published.empty()) ci.published = published == "yes";
        return recorded("course", cl.upsert_course(ci), "course");
    }
    if (*occ_del) {
        return recorded("occasion", cl.delete_occasion(delete_id), "deletion of");
    }
    if (*occ_add) {
        return recorded("occasion", cl.upsert_occasion(oi), "occasion");
    }
    return 0;
} catch (const std::exception& e) {
    std::cerr << "error: internal: " << e.what() << "\n";
    return 1;
}
