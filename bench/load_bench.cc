// tundra-bench load: many devices at once against the real `tundra-server serve` (child
// processes on 127.0.0.1), speaking the sync protocol on keep-alive connections
// (docs/benchmarks.md, "Load: many devices at once").
//
//   tundra-bench load --store PATH|URI [--devices N | --sweep 100,200,... | --phases 1000,2000,...]
//       [--seconds D] [--warmup W] [--servers K] [--server-bin PATH] [--timeout-ms T]
//       [--devices-file F] [--push-share 0.1] [--page-bytes 131072] [--seed S] [--serve-arg ARG]...
//
// The store is the console bench's demo project (demo_project.h: 25,000 staff, 100,000 marks)
// built at --store PATH when missing, reused otherwise. Devices are created in-process before
// serving (users `load.p<i>` / `load.c<i>`, a cheap KDF, one login each, a full pull each),
// and remembered in PATH.devices (--devices-file for a postgresql:// store) with their cursors,
// so that neither logins nor first syncs are part of the measurement; before each run every
// device catches up in-process (the rows earlier runs wrote are not part of it either).
//
// Each device: one sync a second at its own phase, asking for pages of --page-bytes (128 KB,
// the reference client's first budget before it has measured the link);
// a page that says more is to come is followed at once by the next (every request answered
// counts as a round); 10% of syncs push 1-5 actions in their first request that
// apply (participants enrol on and cancel from published occasions, coordinators mark
// attendance), numbered with the device's next seq; a 503 is retried after
// max(Retry-After, jittered back-off) like the reference client (client-sdk/src/backoff.cc),
// with the same actions. Reported for the D seconds after the warm-up: answered rounds/s,
// p50/p95/p99 of answered rounds, 503s, errors, CPU of the generator and of the servers,
// rows and bytes per answered round, the share of answers cut short (more) and the share of
// devices answered at least once (served: under turns, docs/protocol.md "Overload", a
// saturated server serves some devices on their cadence and tells the rest when to return).
// Then the store is opened and every acknowledged action is checked to be in it exactly once.
//
// --phases runs one server through several loads in turn (the first N devices of the largest
// count take part in each phase; each phase has its own warm-up and measured window, one row
// each), so that a ratio of two loads is measured in one run on one server: this machine's
// speed drifts by ±20% between runs minutes apart. After the rows, each phase at the largest
// count is compared with the mean of its neighbours at lower counts (goodput past saturation).
//
// The generator is one thread on epoll (no Beast, no curl: it shares the machine's cores
// with the servers; pin it with taskset, docs/benchmarks.md).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <queue>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "demo_project.h"
#include "tundra/core/action.h"
#include "tundra/core/protocol.h"
#include "tundra/server/sql_store.h"
#include "tundra/web/listener.h"

using namespace tundra;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
    std::string store, server_bin, devices_file;  // the servers serve `store`, the check reads it
    std::vector<std::string> serve_args;
    std::vector<int> counts{300};
    bool phased = false;  // --phases: the counts are loads of one run, in turn
    int servers = 1;
    double seconds = 20, warmup = 5, push_share = 0.1;
    uint64_t page_bytes = 128 * 1024;  // the reference client's first page budget (client-sdk/src/page_budget.h)
    int timeout_ms = 60000;
    uint32_t seed = 1;
};

int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// ---- what the generator reads of an answer --------------------------------------------------

// The cursor, `more`, the outcomes and how many changes came. The rows themselves are not
// turned into values: a device would apply them to its replica; the generator measures the
// server, and decoding every row (decode_sync_response) cost it as much CPU as the server
// spent answering (rounds carry tens of occasion rows each: every enrolment anywhere changes
// an occasion's seat counts).
struct Answer {
    std::string cursor;
    bool more = false;
    std::vector<Outcome> outcomes;
    size_t changes = 0;
};

Result<Answer> read_answer(std::string_view body) {
    rapidjson::Document doc;
    doc.Parse(body.data(), body.size());
    if (doc.HasParseError() || !doc.IsObject()) return Result<Answer>(Errc::malformed, "not a JSON object");
    Answer a;
    auto cursor = doc.FindMember("cursor");
    if (cursor == doc.MemberEnd() || !cursor->value.IsString()) return Result<Answer>(Errc::malformed, "no cursor");
    a.cursor.assign(cursor->value.GetString(), cursor->value.GetStringLength());
    if (auto more = doc.FindMember("more"); more != doc.MemberEnd() && more->value.IsBool()) a.more = more->value.GetBool();
    if (auto ch = doc.FindMember("changes"); ch != doc.MemberEnd() && ch->value.IsArray()) a.changes = ch->value.Size();
    if (auto outs = doc.FindMember("outcomes"); outs != doc.MemberEnd() && outs->value.IsArray())
        for (auto& j : outs->value.GetArray()) {
            Outcome o;
            if (!j.IsObject() || !j.HasMember("seq") || !j["seq"].IsUint64() || !j.HasMember("result") ||
                !j["result"].IsString() || !parse_outcome_result(j["result"].GetString(), o.result))
                return Result<Answer>(Errc::malformed, "an outcome without seq or result");
            o.seq = j["seq"].GetUint64();
            if (j.HasMember("reason") && j["reason"].IsString()) o.reason = j["reason"].GetString();
            a.outcomes.push_back(std::move(o));
        }
    return a;
}

// ---- the devices, made in-process before serving -----------------------------------------

struct DevicePlan {
    std::string role, username, device_id, token, cursor, person_or_site;
    // Per run, from the store:
    uint64_t last_seq = 0;
    std::vector<std::string> occasions;                         // participants: open for enrolment
    std::vector<std::string> active;                            // participants: own active enrolments
    std::vector<std::pair<std::string, std::string>> markable;  // coordinators: (occasion, person)
};

bool is_uri(const std::string& where) { return where.rfind("postgresql://", 0) == 0 || where.rfind("postgres://", 0) == 0; }

std::string devices_file(const Options& o) {
    if (!o.devices_file.empty()) return o.devices_file;
    return is_uri(o.store) ? "tundra-load.devices" : o.store + ".devices";
}

std::vector<DevicePlan> load_plans(const Options& o) {
    std::vector<DevicePlan> out;
    std::ifstream in(devices_file(o));
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        DevicePlan p;
        if (std::getline(f, p.role, '\t') && std::getline(f, p.username, '\t') &&
            std::getline(f, p.device_id, '\t') && std::getline(f, p.token, '\t') &&
            std::getline(f, p.cursor, '\t') && std::getline(f, p.person_or_site, '\t'))
            out.push_back(std::move(p));
    }
    return out;
}

void save_plans(const Options& o, const std::vector<DevicePlan>& plans) {
    std::string tmp = devices_file(o) + ".tmp";
    {
        std::ofstream out(tmp);
        for (auto& p : plans)
            out << p.role << '\t' << p.username << '\t' << p.device_id << '\t' << p.token << '\t' << p.cursor
                << '\t' << p.person_or_site << '\t' << '\n';
    }
    std::filesystem::rename(tmp, devices_file(o));
}

// Device i is a coordinator when i % 10 == 9: every prefix of the list has the mix.
bool is_coordinator(size_t i) { return i % 10 == 9; }

Status pull_to_end(server::SqlStore& s, DevicePlan& p) {
    auto who = s.authenticate(p.token);
    if (!who) return who.status();
    for (int page = 0; page < 1000; ++page) {
        SyncRequest req;
        req.cursor = p.cursor;
        req.limit = 20000;
        auto r = s.sync(who.value(), req);
        if (!r) return r.status();
        p.cursor = r->cursor;
        if (!r->more) return Status::ok();
    }
    return Status(Errc::internal, "no end to the pull of " + p.username);
}

// Makes devices up to `n` (users, logins, first pulls), keeping those made before.
Status ensure_devices(server::SqlStore& s, const Options& o, std::vector<DevicePlan>& plans, size_t n) {
    if (plans.size() >= n) return Status::ok();
    sql::Db& db = s.db();
    // Staff spread over the register; sites in order. Those already used are skipped.
    std::set<std::string> used;
    for (auto& p : plans) used.insert(p.person_or_site);
    std::vector<std::string> persons, sites;
    {
        auto q = db.query(
            "SELECT id FROM persons WHERE erased = 0 AND provisional = 0 AND site IS NOT NULL AND id NOT IN "
            "(SELECT person FROM users WHERE person IS NOT NULL) ORDER BY id");
        while (true) {
            auto r = q->step();
            if (!r) return r.status();
            if (!r.value()) break;
            if (!used.count(q->text(0))) persons.push_back(q->text(0));
        }
        // Spread over the register (every organisation and site), the same on every backend.
        std::shuffle(persons.begin(), persons.end(), std::mt19937(7919));
    }
    {
        auto q = db.query("SELECT id FROM sites ORDER BY id");
        while (true) {
            auto r = q->step();
            if (!r) return r.status();
            if (!r.value()) break;
            sites.push_back(q->text(0));
        }
    }
    size_t next_person = 0, next_site = 0;
    auto t0 = Clock::now();
    for (size_t i = plans.size(); i < n; ++i) {
        DevicePlan p;
        server::SqlStore::NewUser u;
        u.password = "load-password-1";
        if (is_coordinator(i)) {
            // Sites round-robin (a site has several coordinators past 102 of them).
            p.role = "coordinator";
            p.username = "load.c" + std::to_string(i);
            std::string site = sites[next_site++ % sites.size()];
            p.person_or_site = site;
            u.sites = {site};
        } else {
            if (next_person >= persons.size()) return Status(Errc::invalid_argument, "not enough staff for the devices");
            p.role = "participant";
            p.username = "load.p" + std::to_string(i);
            p.person_or_site = persons[next_person++];
            u.person = p.person_or_site;
        }
        u.username = p.username;
        u.role = p.role;
        if (Status st = s.add_user(u, "bench"); !st && st.code() != Errc::conflict) return st;
        LoginRequest lr;
        lr.username = p.username;
        lr.password = u.password;
        lr.device_name = "load bench";
        auto login = s.login(lr, "");
        if (!login) return login.status();
        p.token = login->token;
        p.device_id = login->device_id;
        TUNDRA_TRY(pull_to_end(s, p));
        plans.push_back(std::move(p));
        if ((i + 1) % 100 == 0) {
            std::printf("  %zu devices made (%.0f s)\n", i + 1,
                        std::chrono::duration<double>(Clock::now() - t0).count());
            std::fflush(stdout);
            save_plans(o, plans);
        }
    }
    save_plans(o, plans);
    return Status::ok();
}

// Before each run: what each device may do now (the store changes from run to run).
Status prepare_devices(server::SqlStore& s, std::vector<DevicePlan>& plans, size_t n) {
    sql::Db& db = s.db();
    std::set<std::string> bench_persons;
    for (size_t i = 0; i < n; ++i)
        if (plans[i].role == "participant") bench_persons.insert(plans[i].person_or_site);
    // Occasions a participant may enrol on: planned, enrolment open for at least another hour.
    std::set<std::string> open;
    {
        auto q = db.query(
            "SELECT id FROM occasions WHERE status = 'planned' AND enrolment_closes > ? AND "
            "(enrolment_opens IS NULL OR enrolment_opens <= ?)");
        q->bind(1, format_iso8601(wall_ms() + 3600'000)).bind(2, format_iso8601(wall_ms()));
        while (true) {
            auto r = q->step();
            if (!r) return r.status();
            if (!r.value()) break;
            open.insert(q->text(0));
        }
    }
    // Visible occasions by scope: the same for every participant of an organisation and for
    // every coordinator of a site, so asked once each.
    std::map<std::string, std::vector<std::string>> visible_by_key;
    for (size_t i = 0; i < n; ++i) {
        DevicePlan& p = plans[i];
        auto who = s.authenticate(p.token);
        if (!who) return Status(who.status().code(), p.username + ": " + who.status().message());
        {
            auto q = db.query("SELECT coalesce(max(seq), 0) FROM applied_actions WHERE device = ?");
            q->bind(1, p.device_id);
            auto r = q->step();
            if (!r) return r.status();
            p.last_seq = static_cast<uint64_t>(q->int64(0));
        }
        std::string key;
        if (p.role == "participant") {
            auto q = db.query("SELECT organisation FROM persons WHERE id = ?");
            q->bind(1, p.person_or_site);
            auto r = q->step();
            if (!r) return r.status();
            key = "org:" + (r.value() ? q->text(0) : std::string());
        } else {
            key = "site:" + p.person_or_site;
        }
        auto it = visible_by_key.find(key);
        if (it == visible_by_key.end()) {
            // The pull's own rule (SqlStore::rows reads through scope_sql), a page at a time.
            std::vector<std::string> ids;
            server::RowQuery rq;
            rq.limit = 5000;
            for (;;) {
                auto page = s.rows(who.value(), Kind::occasion, rq);
                if (!page) return page.status();
                for (auto& row : page->rows) ids.push_back(*get_str(row, "id"));
                if (page->rows.size() < rq.limit) break;
                rq.offset += rq.limit;
            }
            it = visible_by_key.emplace(key, std::move(ids)).first;
        }
        const auto& visible = it->second;
        p.occasions.clear();
        p.active.clear();
        p.markable.clear();
        if (p.role == "participant") {
            std::set<std::string> taken;
            auto q = db.query(
                "SELECT id, occasion, device FROM enrolments WHERE person = ? AND status IN "
                "('requested', 'confirmed', 'waitlisted')");
            q->bind(1, p.person_or_site);
            while (true) {
                auto r = q->step();
                if (!r) return r.status();
                if (!r.value()) break;
                taken.insert(q->text(1));
                if (!q->is_null(2) && q->text(2) == p.device_id && open.count(q->text(1))) p.active.push_back(q->text(0));
            }
            for (auto& id : visible)
                if (open.count(id) && !taken.count(id)) p.occasions.push_back(id);
        } else {
            std::set<std::string> vis(visible.begin(), visible.end());
            auto q = db.query(
                "SELECT e.occasion, e.person FROM enrolments e JOIN persons p ON p.id = e.person JOIN occasions o "
                "ON o.id = e.occasion WHERE p.site = ? AND e.status = 'confirmed' AND o.status <> 'cancelled' "
                "ORDER BY e.id LIMIT 400");
            q->bind(1, p.person_or_site);
            while (true) {
                auto r = q->step();
                if (!r) return r.status();
                if (!r.value()) break;
                if (vis.count(q->text(0)) && !bench_persons.count(q->text(1)))
                    p.markable.emplace_back(q->text(0), q->text(1));
            }
        }
    }
    return Status::ok();
}

// ---- the servers -------------------------------------------------------------------------

struct ServerProcess {
    pid_t pid = -1;
    uint16_t port = 0;
};

std::string default_server_bin() {
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    return (self.parent_path().parent_path() / "apps" / "tundra-server").string();
}

Result<ServerProcess> start_server(const Options& o, const std::string& db) {
    int out[2];
    if (pipe(out) != 0) return Status(Errc::internal, "pipe failed");
    pid_t pid = fork();
    if (pid < 0) return Status(Errc::internal, "fork failed");
    if (pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        std::vector<std::string> args = {o.server_bin, "serve", "--db", db, "--listen", "127.0.0.1:0", "--quiet"};
        for (auto& a : o.serve_args) args.push_back(a);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        std::perror("execv tundra-server");
        _exit(127);
    }
    close(out[1]);
    // Its first lines: "metrics listening on ..." (with --metrics-listen), then "listening on ...".
    std::string line;
    for (bool more = true; more && line.rfind("listening on ", 0) != 0;) {
        line.clear();
        char c;
        while ((more = read(out[0], &c, 1) == 1) && c != '\n') line += c;
    }
    close(out[0]);
    auto colon = line.rfind(':');
    if (line.rfind("listening on ", 0) != 0 || colon == std::string::npos) {
        kill(pid, SIGTERM);
        waitpid(pid, nullptr, 0);
        return Status(Errc::internal, "tundra-server did not start: '" + line + "'");
    }
    ServerProcess sp;
    sp.pid = pid;
    sp.port = static_cast<uint16_t>(std::atoi(line.c_str() + colon + 1));
    return sp;
}

void stop_server(ServerProcess& sp) {
    if (sp.pid <= 0) return;
    kill(sp.pid, SIGTERM);
    waitpid(sp.pid, nullptr, 0);
    sp.pid = -1;
}

// CPU seconds (user + system) of a process so far, from /proc/<pid>/stat.
double process_cpu_s(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(f)), {});
    auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) return 0;
    std::istringstream rest(stat.substr(close_paren + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) utime = std::stoull(field);
        if (i == 15) stime = std::stoull(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU seconds of every process named `name` (PostgreSQL's backends: the database's share).
double named_cpu_s(const std::string& name) {
    double total = 0;
    for (auto& e : std::filesystem::directory_iterator("/proc")) {
        auto pid = e.path().filename().string();
        if (pid.empty() || !std::isdigit(static_cast<unsigned char>(pid[0]))) continue;
        std::ifstream comm(e.path() / "comm");
        std::string c;
        if (std::getline(comm, c) && c == name) total += process_cpu_s(std::atoi(pid.c_str()));
    }
    return total;
}

double self_cpu_s() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return s(ru.ru_utime) + s(ru.ru_stime);
}

// ---- the simulated devices -----------------------------------------------------------------

struct SentAction {
    uint64_t seq = 0;
    std::string type, id, occasion, json;
};

// What the store must hold afterwards: every action an answer acknowledged, and every action
// sent at all (an answer lost to a timeout may still have been applied, once).
struct Acked {
    size_t device = 0;
    SentAction action;
    OutcomeResult result = OutcomeResult::applied;
    std::string reason;
};

struct Device {
    DevicePlan* plan = nullptr;
    size_t index = 0;
    int server = 0;
    int fd = -1;
    bool connected = false, in_flight = false;
    std::string out, in;
    size_t out_off = 0;
    Clock::time_point scheduled, sent_at;
    uint64_t next_seq = 1, gen = 0;
    int attempts = 0;  // failures in a row
    uint64_t hlc_counter = 0;
    std::vector<SentAction> pending;  // the actions of the round in flight, kept until answered
    // The next request goes on with a sync whose last page said more was to come: it pulls
    // the next page and pushes nothing new (a sync pushes in its first request, as the
    // reference client does; the load is 10% of syncs pushing, however they are paged).
    bool continuing = false;
    size_t served_in = 0;  // 1 + the phase whose window it was last answered in (0: none)
    bool parked = false;   // not part of the current phase: its next round waits for one it is
};

struct Stats {
    uint64_t answered = 0, overloaded = 0, errors = 0, timeouts = 0, other_status = 0, actions_acked = 0;
    uint64_t rows = 0, bytes = 0;  // changes and body bytes in answered rounds
    uint64_t more = 0;             // answered rounds that said more was to come (a page cut)
    uint64_t devices_served = 0;   // devices answered at least once (under turns, not all are)
    std::vector<double> latency_ms;
    std::map<int, uint64_t> statuses;
};

// One load of a run: its first `active` devices sync; measured after its warm-up.
struct Phase {
    size_t active = 0;
    Clock::time_point window_start, window_end;
    Stats stats;
    double gen_cpu_s = 0, server_cpu_s = 0, db_cpu_s = 0, window_s = 0;
};

class LoadRun {
public:
    LoadRun(const Options& o, std::vector<DevicePlan>& plans, const std::vector<int>& loads, std::vector<uint16_t> ports,
            std::string tag)
        : o_(o), ports_(std::move(ports)), tag_(std::move(tag)), rng_(o.seed) {
        size_t n = 0;
        for (int l : loads) {
            phases.emplace_back().active = static_cast<size_t>(l);
            n = std::max(n, static_cast<size_t>(l));
        }
        devices_.resize(n);
        for (size_t i = 0; i < n; ++i) {
            devices_[i].plan = &plans[i];
            devices_[i].index = i;
            devices_[i].server = static_cast<int>(i % ports_.size());
            devices_[i].next_seq = plans[i].last_seq + 1;
            devices_[i].parked = true;  // until a phase takes it in
        }
        ep_ = epoll_create1(0);
    }
    ~LoadRun() {
        for (auto& d : devices_)
            if (d.fd >= 0) close(d.fd);
        close(ep_);
    }

    // Runs each phase's warm-up + measured seconds, then waits for the rounds in flight.
    void run(const std::vector<pid_t>& server_pids);

    std::vector<Phase> phases;
    std::vector<Acked> acked;
    std::vector<std::pair<size_t, SentAction>> sent;  // every action sent (first time)

private:
    enum class Kind { round, timeout };
    struct Timer {
        Clock::time_point at;
        size_t device;
        uint64_t gen;
        Kind kind;
        bool operator>(const Timer& t) const { return at > t.at; }
    };

    void schedule(Device& d, Clock::time_point at, Kind k) { timers_.push({at, d.index, d.gen, k}); }
    void start_round(Device& d, Clock::time_point now);
    void make_actions(Device& d);
    bool connect_device(Device& d);
    void on_event(Device& d, uint32_t events, Clock::time_point now);
    void fail(Device& d, Clock::time_point now, bool timeout);
    void finish(Device& d, int status, const std::string& retry_after, std::string_view body, Clock::time_point now);
    void retry_later(Device& d, Clock::time_point now, std::chrono::milliseconds retry_after);
    void enter_phase(size_t k, Clock::time_point now);
    void sample_cpu(const std::vector<pid_t>& server_pids, bool end);
    // The phase under way if `t` is in its measured window, else null (windows follow each
    // other in phase order, and the phase moves on when its window ends).
    Phase* measuring(Clock::time_point t) {
        Phase& p = phases[current_];
        return t >= p.window_start && t < p.window_end ? &p : nullptr;
    }

    const Options& o_;
    std::vector<uint16_t> ports_;
    std::string tag_;
    std::mt19937_64 rng_;
    std::vector<Device> devices_;
    std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
    int ep_ = -1;
    bool stopping_ = false;
    Stats idle_stats_;                      // what happens outside every window (not reported)
    size_t current_ = 0;                    // the phase under way
    double gen0_ = 0, srv0_ = 0, db0_ = 0;  // CPU counters when its window began
};

bool LoadRun::connect_device(Device& d) {
    d.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (d.fd < 0) return false;
    int one = 1;
    setsockopt(d.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(ports_[static_cast<size_t>(d.server)]);
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(d.fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0 && errno != EINPROGRESS) {
        close(d.fd);
        d.fd = -1;
        return false;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = d.index;
    epoll_ctl(ep_, EPOLL_CTL_ADD, d.fd, &ev);
    d.connected = false;
    d.in.clear();
    return true;
}

void LoadRun::make_actions(Device& d) {
    std::uniform_real_distribution<double> unit(0, 1);
    if (unit(rng_) >= o_.push_share) return;
    int count = std::uniform_int_distribution<int>(1, 5)(rng_);
    DevicePlan& p = *d.plan;
    for (int k = 0; k < count; ++k) {
        SentAction a;
        a.seq = d.next_seq++;
        uint64_t hlc = (static_cast<uint64_t>(wall_ms()) << 16) | (d.hlc_counter++ & 0xffff);
        std::string head = "{\"seq\":" + std::to_string(a.seq) + ",\"hlc\":" + std::to_string(hlc) + ",\"type\":\"";
        std::string short_dev = p.device_id.substr(p.device_id.size() > 12 ? p.device_id.size() - 12 : 0);
        if (p.role == "participant") {
            bool cancel = !p.active.empty() && (p.occasions.empty() || unit(rng_) < 0.5 || p.active.size() >= 3);
            if (cancel) {
                a.type = "cancel_enrolment";
                a.id = p.active.front();
                p.active.erase(p.active.begin());
                a.json = head + a.type + "\",\"enrolment\":\"" + a.id + "\"}";
            } else if (!p.occasions.empty()) {
                size_t at = std::uniform_int_distribution<size_t>(0, p.occasions.size() - 1)(rng_);
                a.type = "enrol";
                a.occasion = p.occasions[at];
                p.occasions.erase(p.occasions.begin() + static_cast<long>(at));
                a.id = "e-" + tag_ + "-" + short_dev + "-" + std::to_string(a.seq);
                p.active.push_back(a.id);
                a.json = head + a.type + "\",\"enrolment\":\"" + a.id + "\",\"occasion\":\"" + a.occasion +
                         "\",\"person\":\"" + p.person_or_site + "\"}";
            } else {
                --d.next_seq;
                break;
            }
        } else {
            if (p.markable.empty()) {
                --d.next_seq;
                break;
            }
            auto& [occasion, person] =
                p.markable[std::uniform_int_distribution<size_t>(0, p.markable.size() - 1)(rng_)];
            static const char* kStatuses[] = {"present", "present", "present", "late", "absent"};
            a.type = "mark_attendance";
            a.occasion = occasion;
            a.id = "m-" + tag_ + "-" + short_dev + "-" + std::to_string(a.seq);
            a.json = head + a.type + "\",\"mark\":\"" + a.id + "\",\"occasion\":\"" + occasion + "\",\"person\":\"" +
                     person + "\",\"status\":\"" + kStatuses[a.seq % 5] + "\"}";
        }
        sent.emplace_back(d.index, a);
        d.pending.push_back(std::move(a));
    }
}

void LoadRun::start_round(Device& d, Clock::time_point now) {
    if (d.pending.empty() && !d.continuing) make_actions(d);
    std::string body = "{\"protocol\":2,\"capabilities\":[\"gzip\"],\"cursor\":\"" + d.plan->cursor +
                       "\",\"max_bytes\":" + std::to_string(o_.page_bytes) + ",\"actions\":[";
    for (size_t i = 0; i < d.pending.size(); ++i) body += (i ? "," : "") + d.pending[i].json;
    body += "]}";
    d.out = "POST /v1/sync HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + d.plan->token +
            "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    d.out_off = 0;
    d.in.clear();
    d.in_flight = true;
    d.sent_at = now;
    ++d.gen;
    if (d.fd < 0 && !connect_device(d)) return fail(d, now, false);
    if (d.connected) {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT;
        ev.data.u64 = d.index;
        epoll_ctl(ep_, EPOLL_CTL_MOD, d.fd, &ev);
    }
    schedule(d, now + std::chrono::milliseconds(o_.timeout_ms), Kind::timeout);
}

void LoadRun::retry_later(Device& d, Clock::time_point now, std::chrono::milliseconds retry_after) {
    // The reference client's back-off: uniform in [0, min(8 s, 250 ms * 2^attempt)], at
    // least Retry-After.
    int64_t ceiling = std::min<int64_t>(8000, 250LL << std::min(d.attempts, 5));
    auto jitter = std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(0, ceiling)(rng_));
    ++d.attempts;
    d.scheduled = now + std::max(jitter, retry_after);
    ++d.gen;
    if (!stopping_) schedule(d, d.scheduled, Kind::round);
}

void LoadRun::fail(Device& d, Clock::time_point now, bool timeout) {
    if (d.fd >= 0) {
        epoll_ctl(ep_, EPOLL_CTL_DEL, d.fd, nullptr);
        close(d.fd);
        d.fd = -1;
    }
    d.in_flight = false;
    if (Phase* p = measuring(now)) ++(timeout ? p->stats.timeouts : p->stats.errors);
    retry_later(d, now, std::chrono::milliseconds(0));
}

void LoadRun::finish(Device& d, int status, const std::string& retry_after, std::string_view body,
                     Clock::time_point now) {
    d.in_flight = false;
    Phase* phase = measuring(now);
    bool counted = phase != nullptr;
    Stats& stats = counted ? phase->stats : idle_stats_;
    if (counted) ++stats.statuses[status];
    if (status == 200) {
        auto r = read_answer(body);
        if (!r) {
            if (counted) ++stats.errors;
            std::fprintf(stderr, "bad sync response: %s\n", r.status().to_string().c_str());
            return retry_later(d, now, std::chrono::milliseconds(0));
        }
        if (counted) {
            ++stats.answered;
            size_t k = static_cast<size_t>(phase - phases.data()) + 1;
            if (d.served_in != k) {
                d.served_in = k;
                ++stats.devices_served;
            }
            stats.rows += r->changes;
            stats.bytes += body.size();
            if (r->more) ++stats.more;
            stats.latency_ms.push_back(std::chrono::duration<double, std::milli>(now - d.sent_at).count());
        }
        for (auto& out : r->outcomes) {
            auto it = std::find_if(d.pending.begin(), d.pending.end(), [&](const SentAction& a) { return a.seq == out.seq; });
            if (it == d.pending.end()) continue;
            if (counted) ++stats.actions_acked;
            // A refused enrolment frees its occasion again; a refused cancel keeps the enrolment.
            if (out.result == OutcomeResult::rejected && it->type == "enrol") {
                auto& act = d.plan->active;
                act.erase(std::remove(act.begin(), act.end(), it->id), act.end());
            }
            acked.push_back({d.index, *it, out.result, out.reason});
        }
        d.pending.clear();
        d.continuing = r->more;
        d.plan->cursor = r->cursor;
        d.attempts = 0;
        ++d.gen;
        if (stopping_) return;
        if (r->more) {
            d.scheduled = now;
        } else {
            d.scheduled += std::chrono::seconds(1);
            if (d.scheduled < now) d.scheduled = now;
        }
        return schedule(d, d.scheduled, Kind::round);
    }
    if (status == 503) {
        if (counted) ++stats.overloaded;
        int64_t s = retry_after.empty() ? 0 : std::atoll(retry_after.c_str());
        return retry_later(d, now, std::chrono::milliseconds(s * 1000));
    }
    if (counted) ++stats.other_status;
    std::fprintf(stderr, "device %s: HTTP %d %.*s\n", d.plan->username.c_str(), status,
                 static_cast<int>(std::min<size_t>(body.size(), 300)), body.data());
    retry_later(d, now, std::chrono::milliseconds(1000));
}

void LoadRun::on_event(Device& d, uint32_t events, Clock::time_point now) {
    if (d.fd < 0) return;
    if (events & (EPOLLERR | EPOLLHUP)) {
        if (d.in_flight) return fail(d, now, false);
        epoll_ctl(ep_, EPOLL_CTL_DEL, d.fd, nullptr);
        close(d.fd);
        d.fd = -1;
        return;
    }
    if (events & EPOLLOUT) {
        d.connected = true;
        while (d.in_flight && d.out_off < d.out.size()) {
            ssize_t w = send(d.fd, d.out.data() + d.out_off, d.out.size() - d.out_off, MSG_NOSIGNAL);
            if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            if (w <= 0) return fail(d, now, false);
            d.out_off += static_cast<size_t>(w);
        }
        if (!d.in_flight || d.out_off >= d.out.size()) {
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.u64 = d.index;
            epoll_ctl(ep_, EPOLL_CTL_MOD, d.fd, &ev);
        }
    }
    if (events & EPOLLIN) {
        char buf[65536];
        while (true) {
            ssize_t r = recv(d.fd, buf, sizeof buf, 0);
            if (r > 0) {
                d.in.append(buf, static_cast<size_t>(r));
                continue;
            }
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            // Closed by the server: an error if a round was waiting for its answer.
            if (d.in_flight) return fail(d, now, false);
            epoll_ctl(ep_, EPOLL_CTL_DEL, d.fd, nullptr);
            close(d.fd);
            d.fd = -1;
            return;
        }
        if (!d.in_flight) return;
        size_t end = d.in.find("\r\n\r\n");
        if (end == std::string::npos) return;
        std::string head = d.in.substr(0, end);
        std::transform(head.begin(), head.end(), head.begin(), ::tolower);
        auto header = [&](const char* name) {
            std::string key = std::string("\r\n") + name + ":";
            auto p = head.find(key);
            if (p == std::string::npos) return std::string();
            p += key.size();
            auto e = head.find("\r\n", p);
            std::string v = head.substr(p, e == std::string::npos ? std::string::npos : e - p);
            v.erase(0, v.find_first_not_of(' '));
            return v;
        };
        size_t length = std::strtoul(header("content-length").c_str(), nullptr, 10);
        if (d.in.size() < end + 4 + length) return;
        int status = std::atoi(d.in.c_str() + 9);
        bool close_after = header("connection") == "close";
        std::string body = d.in.substr(end + 4, length);
        d.in.erase(0, end + 4 + length);
        if (close_after) {
            epoll_ctl(ep_, EPOLL_CTL_DEL, d.fd, nullptr);
            close(d.fd);
            d.fd = -1;
        }
        finish(d, status, header("retry-after"), body, now);
    }
}

// Devices that join with phase k start their rounds spread over its first second; those it
// leaves out park when their next round is due.
void LoadRun::enter_phase(size_t k, Clock::time_point now) {
    current_ = k;
    size_t active = phases[k].active;
    for (size_t i = 0; i < active; ++i) {
        Device& d = devices_[i];
        if (!d.parked) continue;
        d.parked = false;
        d.scheduled = now + std::chrono::microseconds(static_cast<int64_t>(1e6 * static_cast<double>(i) / static_cast<double>(active)));
        ++d.gen;
        schedule(d, d.scheduled, Kind::round);
    }
}

void LoadRun::sample_cpu(const std::vector<pid_t>& server_pids, bool end) {
    double gen = self_cpu_s(), srv = 0, db = named_cpu_s("postgres");
    for (pid_t p : server_pids) srv += process_cpu_s(p);
    if (end) {
        Phase& ph = phases[current_];
        ph.gen_cpu_s = gen - gen0_;
        ph.server_cpu_s = srv - srv0_;
        ph.db_cpu_s = db - db0_;
        ph.window_s = std::chrono::duration<double>(Clock::now() - ph.window_start).count();
    }
    gen0_ = gen, srv0_ = srv, db0_ = db;
}

void LoadRun::run(const std::vector<pid_t>& server_pids) {
    auto start = Clock::now();
    auto at = start;
    for (auto& p : phases) {
        p.window_start = at + std::chrono::milliseconds(static_cast<int64_t>(o_.warmup * 1000));
        p.window_end = p.window_start + std::chrono::milliseconds(static_cast<int64_t>(o_.seconds * 1000));
        at = p.window_end;
    }
    enter_phase(0, start);
    bool in_window = false;
    std::vector<epoll_event> events(1024);
    auto drain_deadline = phases.back().window_end + std::chrono::milliseconds(o_.timeout_ms + 1000);
    while (true) {
        auto now = Clock::now();
        if (!stopping_ && !in_window && now >= phases[current_].window_start) {
            in_window = true;
            sample_cpu(server_pids, false);
        }
        if (!stopping_ && in_window && now >= phases[current_].window_end) {
            in_window = false;
            sample_cpu(server_pids, true);
            if (current_ + 1 < phases.size()) enter_phase(current_ + 1, now);
            else stopping_ = true;
        }
        if (stopping_) {
            bool busy = std::any_of(devices_.begin(), devices_.end(), [](const Device& d) { return d.in_flight; });
            if (!busy || now > drain_deadline) break;
        }
        while (!timers_.empty() && timers_.top().at <= now) {
            Timer t = timers_.top();
            timers_.pop();
            Device& d = devices_[t.device];
            if (t.gen != d.gen) continue;
            if (t.kind == Kind::round) {
                if (d.index >= phases[current_].active) d.parked = true;
                else if (!stopping_ && !d.in_flight) start_round(d, now);
            } else if (d.in_flight) {
                fail(d, now, true);
            }
        }
        int wait_ms = 50;
        if (!timers_.empty()) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(timers_.top().at - Clock::now()).count();
            wait_ms = static_cast<int>(std::clamp<int64_t>(left, 0, 50));
        }
        int got = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), wait_ms);
        now = Clock::now();
        for (int i = 0; i < got; ++i) on_event(devices_[events[static_cast<size_t>(i)].data.u64], events[static_cast<size_t>(i)].events, now);
    }
}

// ---- the check: every acknowledged action in the store, exactly once ----------------------

struct Check {
    size_t acked = 0, checked_effects = 0, lost_answers_applied = 0, problems = 0;
    std::vector<std::string> first_problems;
    void problem(std::string s) {
        ++problems;
        if (first_problems.size() < 5) first_problems.push_back(std::move(s));
    }
};

int64_t count_of(sql::Db& db, const std::string& sql, const std::vector<std::string>& args) {
    auto q = db.query(sql);
    for (size_t i = 0; i < args.size(); ++i) q->bind(static_cast<int>(i + 1), args[i]);
    auto r = q->step();
    return r && r.value() ? q->int64(0) : -1;
}

Check verify(server::SqlStore& s, const LoadRun& run, const std::vector<DevicePlan>& plans,
             const std::vector<uint64_t>& first_seq, const std::string& tag) {
    Check c;
    sql::Db& db = s.db();
    std::set<std::pair<size_t, uint64_t>> acked_keys;
    for (auto& a : run.acked) {
        ++c.acked;
        const std::string& dev = plans[a.device].device_id;
        std::string seq = std::to_string(a.action.seq);
        acked_keys.insert({a.device, a.action.seq});
        int64_t rows = count_of(db, "SELECT count(*) FROM applied_actions WHERE device = ? AND seq = CAST(? AS INTEGER)", {dev, seq});
        if (rows != 1) c.problem(dev + " seq " + seq + ": " + std::to_string(rows) + " applied_actions rows");
        int64_t same = count_of(db,
                                "SELECT count(*) FROM applied_actions WHERE device = ? AND seq = CAST(? AS INTEGER) AND " +
                                    db.json_text("outcome", "result") + " = ?",
                                {dev, seq, std::string(to_string(a.result))});
        if (rows == 1 && same != 1) c.problem(dev + " seq " + seq + ": stored outcome differs from the answer");
        if (a.result == OutcomeResult::rejected) continue;
        int64_t effect = -1;
        if (a.action.type == "enrol") {
            if (a.result != OutcomeResult::applied && a.reason != "waitlisted") continue;  // no row of its own
            effect = count_of(db, "SELECT count(*) FROM enrolments WHERE id = ? AND occasion = ? AND person = ?",
                              {a.action.id, a.action.occasion, plans[a.device].person_or_site});
        } else if (a.action.type == "cancel_enrolment") {
            effect = count_of(db, "SELECT count(*) FROM enrolments WHERE id = ? AND status = 'cancelled'", {a.action.id});
        } else {
            effect = count_of(db, "SELECT count(*) FROM attendance WHERE id = ? AND occasion = ?",
                              {a.action.id, a.action.occasion});
        }
        ++c.checked_effects;
        if (effect != 1) c.problem(a.action.type + " " + a.action.id + ": " + std::to_string(effect) + " effect rows");
    }
    // Actions sent whose answer never came (a timeout, a closed connection): applied once
    // or not at all.
    std::set<std::string> sent_ids;
    for (auto& [device, a] : run.sent) {
        if (a.type != "cancel_enrolment") sent_ids.insert(a.id);
        if (acked_keys.count({device, a.seq})) continue;
        int64_t rows = count_of(db, "SELECT count(*) FROM applied_actions WHERE device = ? AND seq = CAST(? AS INTEGER)",
                                {plans[device].device_id, std::to_string(a.seq)});
        if (rows == 1) ++c.lost_answers_applied;
        else if (rows != 0) c.problem("unanswered seq " + std::to_string(a.seq) + ": " + std::to_string(rows) + " rows");
    }
    // Nothing applied that was not sent: the run's rows and the devices' applied seqs.
    std::set<std::pair<std::string, uint64_t>> sent_keys;
    for (auto& [device, a] : run.sent) sent_keys.insert({plans[device].device_id, a.seq});
    for (size_t i = 0; i < first_seq.size(); ++i) {
        auto q = db.query("SELECT seq FROM applied_actions WHERE device = ? AND seq >= ?");
        q->bind(1, plans[i].device_id).bind(2, static_cast<int64_t>(first_seq[i]));
        while (true) {
            auto r = q->step();
            if (!r || !r.value()) break;
            uint64_t seq = static_cast<uint64_t>(q->int64(0));
            if (!sent_keys.count({plans[i].device_id, seq}))
                c.problem(plans[i].device_id + " seq " + std::to_string(seq) + " applied but never sent");
        }
    }
    for (const char* table : {"enrolments", "attendance"}) {
        std::string prefix = std::string(table[0] == 'e' ? "e-" : "m-") + tag + "-%";
        auto q = db.query(std::string("SELECT id FROM ") + table + " WHERE id LIKE ?");
        q->bind(1, prefix);
        while (true) {
            auto r = q->step();
            if (!r || !r.value()) break;
            if (!sent_ids.count(q->text(0))) c.problem(std::string(table) + " row " + q->text(0) + " was never sent");
        }
    }
    return c;
}

// ---- one point of the sweep ------------------------------------------------------------------

double percentile(std::vector<double>& v, double p) {
    if (v.empty()) return 0;
    size_t at = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
    std::nth_element(v.begin(), v.begin() + static_cast<long>(at), v.end());
    return v[at];
}

void print_phase(Phase& ph, int servers, const Check& c) {
    Stats& st = ph.stats;  // the percentiles reorder its latencies
    double w = ph.window_s > 0 ? ph.window_s : 1.0;
    double p50 = percentile(st.latency_ms, 0.50), p95 = percentile(st.latency_ms, 0.95),
           p99 = percentile(st.latency_ms, 0.99);
    double answered = st.answered ? static_cast<double>(st.answered) : 1.0;
    std::printf("%6zu %3d %9.1f %8.1f %8.1f %8.1f %9llu %7llu %7llu %6.2f %6.2f %5.2f %6.1f %7.0f %5.0f%% %6.0f%% %8zu %s\n",
                ph.active, servers, static_cast<double>(st.answered) / w, p50, p95, p99,
                static_cast<unsigned long long>(st.overloaded),
                static_cast<unsigned long long>(st.errors + st.other_status),
                static_cast<unsigned long long>(st.timeouts), ph.gen_cpu_s / w, ph.server_cpu_s / w, ph.db_cpu_s / w,
                static_cast<double>(st.rows) / answered, static_cast<double>(st.bytes) / answered,
                100.0 * static_cast<double>(st.more) / answered,
                100.0 * static_cast<double>(st.devices_served) / static_cast<double>(std::max<size_t>(1, ph.active)), c.acked,
                c.problems == 0 ? "ok" : "FAILED");
}

double rounds_per_s(const Phase& ph) {
    return ph.window_s > 0 ? static_cast<double>(ph.stats.answered) / ph.window_s : 0;
}

// Each phase at the run's largest load against the mean of its neighbours at lower loads, and
// all of them against all of those: answered rounds/s past saturation as a share of below it,
// measured in one run (docs/benchmarks.md).
void print_goodput(const std::vector<Phase>& phases) {
    size_t most = 0;
    for (auto& p : phases) most = std::max(most, p.active);
    double high = 0, low = 0;
    size_t highs = 0, lows = 0;
    for (size_t k = 0; k < phases.size(); ++k) {
        if (phases[k].active < most) {
            low += rounds_per_s(phases[k]), ++lows;
            continue;
        }
        high += rounds_per_s(phases[k]), ++highs;
        double around = 0;
        int count = 0;
        for (size_t j : {k - 1, k + 1})
            if (j < phases.size() && phases[j].active < most) around += rounds_per_s(phases[j]), ++count;
        if (count)
            std::printf("goodput: phase %zu (%zu devices) %.1f rounds/s = %.1f%% of its neighbours' %.1f\n", k + 1, most,
                        rounds_per_s(phases[k]), 100.0 * rounds_per_s(phases[k]) * count / around, around / count);
    }
    if (highs && lows && low > 0)
        std::printf("goodput: %zu phase(s) at %zu devices %.1f rounds/s = %.1f%% of the %zu below (%.1f)\n", highs, most,
                    high / static_cast<double>(highs), 100.0 * (high / static_cast<double>(highs)) / (low / static_cast<double>(lows)),
                    lows, low / static_cast<double>(lows));
}

// One run of the servers: one load, or --phases in turn.
int run_point(const Options& o, std::vector<DevicePlan>& plans, const std::vector<int>& loads) {
    size_t n = static_cast<size_t>(*std::max_element(loads.begin(), loads.end()));
    std::string tag = "L" + std::to_string(wall_ms() % 100000000);
    std::vector<uint64_t> first_seq;
    {
        server::StoreOptions so;
        so.kdf_iterations = 1000;
        so.durable = false;
        so.row_cache_bytes = 64 << 20;
        auto s = server::SqlStore::open(o.store, so, false);
        if (!s) return std::fprintf(stderr, "%s\n", s.status().to_string().c_str()), 1;
        if (Status st = ensure_devices(*s.value(), o, plans, n); !st)
            return std::fprintf(stderr, "making devices: %s\n", st.to_string().c_str()), 1;
        // Every device starts caught up (in-process, not measured): the run measures N devices
        // syncing once a second, not their catch-up after the rows earlier runs wrote.
        for (size_t i = 0; i < n; ++i)
            if (Status st = pull_to_end(*s.value(), plans[i]); !st)
                return std::fprintf(stderr, "catching up: %s\n", st.to_string().c_str()), 1;
        if (Status st = prepare_devices(*s.value(), plans, n); !st)
            return std::fprintf(stderr, "preparing devices: %s\n", st.to_string().c_str()), 1;
        for (size_t i = 0; i < n; ++i) first_seq.push_back(plans[i].last_seq + 1);
    }
    std::vector<ServerProcess> servers;
    std::vector<uint16_t> ports;
    std::vector<pid_t> pids;
    for (int k = 0; k < o.servers; ++k) {
        auto sp = start_server(o, o.store);
        if (!sp) {
            for (auto& s : servers) stop_server(s);
            return std::fprintf(stderr, "%s\n", sp.status().to_string().c_str()), 1;
        }
        servers.push_back(sp.value());
        ports.push_back(sp->port);
        pids.push_back(sp->pid);
    }
    LoadRun run(o, plans, loads, ports, tag);
    run.run(pids);
    for (auto& s : servers) stop_server(s);
    save_plans(o, plans);

    Check c;
    {
        auto s = server::SqlStore::open(o.store, {}, false);
        if (!s) return std::fprintf(stderr, "%s\n", s.status().to_string().c_str()), 1;
        c = verify(*s.value(), run, plans, first_seq, tag);
    }
    for (auto& ph : run.phases) print_phase(ph, o.servers, c);
    if (run.phases.size() > 1) print_goodput(run.phases);
    std::fflush(stdout);
    for (auto& p : c.first_problems) std::fprintf(stderr, "  check: %s\n", p.c_str());
    if (c.lost_answers_applied)
        std::fprintf(stderr, "  (%zu actions applied whose answer was lost: applied once, as required)\n",
                     c.lost_answers_applied);
    return c.problems == 0 ? 0 : 2;
}

}  // namespace

int load_bench_main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s needs a value\n", a.c_str());
                std::exit(64);
            }
            return argv[++i];
        };
        if (a == "--store") o.store = next();
        else if (a == "--devices-file") o.devices_file = next();
        else if (a == "--server-bin") o.server_bin = next();
        else if (a == "--servers") o.servers = std::max(1, std::atoi(next().c_str()));
        else if (a == "--devices") o.counts = {std::atoi(next().c_str())};
        else if (a == "--sweep" || a == "--phases") {
            o.phased = a == "--phases";
            o.counts.clear();
            std::stringstream ss(next());
            std::string item;
            while (std::getline(ss, item, ',')) o.counts.push_back(std::atoi(item.c_str()));
        } else if (a == "--seconds") o.seconds = std::atof(next().c_str());
        else if (a == "--warmup") o.warmup = std::atof(next().c_str());
        else if (a == "--timeout-ms") o.timeout_ms = std::atoi(next().c_str());
        else if (a == "--push-share") o.push_share = std::atof(next().c_str());
        else if (a == "--page-bytes") o.page_bytes = std::strtoull(next().c_str(), nullptr, 10);
        else if (a == "--seed") o.seed = static_cast<uint32_t>(std::atoi(next().c_str()));
        else if (a == "--serve-arg") o.serve_args.push_back(next());
        else {
            std::fprintf(stderr, "unknown option %s (docs/benchmarks.md, \"Load: many devices at once\")\n", a.c_str());
            return 64;
        }
    }
    if (o.store.empty()) return std::fprintf(stderr, "--store PATH is required\n"), 64;
    if (o.server_bin.empty()) o.server_bin = default_server_bin();
    setvbuf(stdout, nullptr, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    if (o.counts.empty()) return std::fprintf(stderr, "no device counts given\n"), 64;
    for (int n : o.counts)
        if (n <= 0) return std::fprintf(stderr, "device counts must be positive\n"), 64;
    int most = *std::max_element(o.counts.begin(), o.counts.end());
    web::fit_fd_limit(most + 64);
    bool made = is_uri(o.store) ? static_cast<bool>(server::SqlStore::open(o.store, {}, false))
                                : std::filesystem::exists(o.store);
    if (!made) {
        auto p = bench::open_demo_project(o.store, 1, wall_ms(), false);
        if (!p) return std::fprintf(stderr, "%s\n", p.status().to_string().c_str()), 1;
    }
    auto plans = load_plans(o);
    std::printf("load: store %s, %d server process(es) of %s, %.0f s warm-up + %.0f s measured, %.0f%% of rounds push\n",
                o.store.c_str(), o.servers, o.server_bin.c_str(), o.warmup, o.seconds, o.push_share * 100);
    std::printf("%6s %3s %9s %8s %8s %8s %9s %7s %7s %6s %6s %5s %6s %7s %6s %7s %8s %s\n", "N", "srv", "rounds/s", "p50 ms",
                "p95 ms", "p99 ms", "503s", "errors", "tmouts", "genCPU", "srvCPU", "pgCPU", "rows/r", "bytes/r",
                "more", "served", "acked", "check");
    int rc = 0;
    if (o.phased) return run_point(o, plans, o.counts);
    for (int n : o.counts) rc = std::max(rc, run_point(o, plans, {n}));
    return rc;
}
