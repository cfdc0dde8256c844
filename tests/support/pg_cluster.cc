#include "pg_cluster.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "tundra/pg/db.h"

namespace tundra::test {
namespace {
namespace fs = std::filesystem;

const char* kBin = "/usr/lib/postgresql/15/bin";

// std::system's result, for the commands whose failure matters.
int run(const std::string& cmd) { return std::system(cmd.c_str()); }

class Cluster {
public:
    ~Cluster() { stop(); }

    // Empty when running.
    std::string start() {
        std::lock_guard lock(mu_);
        if (tried_) return error_;
        tried_ = true;
        error_ = start_locked();
        if (!error_.empty()) {
            stop_locked();
            error_ = "PostgreSQL test cluster: " + error_;
        }
        return error_;
    }

    std::string fresh_database() {
        std::string why = start();
        if (!why.empty()) throw std::runtime_error(why);
        std::lock_guard lock(mu_);
        std::string name = "t_" + std::to_string(++databases_);
        auto admin = pg::Db::open(uri("postgres"));
        if (!admin) throw std::runtime_error("PostgreSQL test cluster: " + admin.status().message());
        Status st = admin.value()->exec("CREATE DATABASE " + name);
        if (!st) throw std::runtime_error("PostgreSQL test cluster: " + st.message());
        return uri(name);
    }

    std::string uri(const std::string& db) const {
        return "postgresql:///" + db + "?host=" + dir_ + "&user=postgres";
    }

private:
    // A command as the cluster's owner: `runuser -u postgres --` when we are root.
    std::string as_owner(const std::string& cmd) const {
        return geteuid() == 0 ? "runuser -u postgres -- " + cmd : cmd;
    }

    std::string log_tail() const {
        std::ifstream in(dir_ + "/log");
        std::stringstream ss;
        ss << in.rdbuf();
        std::string s = ss.str();
        return s.size() > 1500 ? s.substr(s.size() - 1500) : s;
    }

    std::string start_locked() {
        if (!fs::exists(std::string(kBin) + "/initdb") || !fs::exists(std::string(kBin) + "/pg_ctl"))
            return std::string("initdb/pg_ctl not found in ") + kBin +
                   " (install Debian's postgresql-15: scripts/setup.sh)";
        char tmpl[] = "/tmp/tundra-pg-XXXXXX";
        if (!mkdtemp(tmpl)) return "cannot create a temporary directory";
        dir_ = tmpl;
        owner_pid_ = getpid();
        if (geteuid() == 0) {
            struct passwd* pw = getpwnam("postgres");
            if (!pw) return "running as root, but there is no `postgres` user to run PostgreSQL as";
            if (chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) return "cannot chown " + dir_;
        }
        std::string log = " >>" + dir_ + "/log 2>&1";
        std::string initdb = as_owner(std::string(kBin) + "/initdb -D " + dir_ +
                                      "/data -U postgres --auth=trust -E UTF8 --no-locale -N") + log;
        if (run(initdb) != 0) return "initdb failed:\n" + log_tail();
        std::string opts =
            "-c listen_addresses='' -k " + dir_ +
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            " -c max_connections=300 -c shared_buffers=32MB -c max_locks_per_transaction=128";
        std::string ctl = as_owner(std::string(kBin) + "/pg_ctl -D " + dir_ + "/data -l " + dir_ +
                                   "/server.log -w -t 60 -o \"" + opts + "\" start") + log;
        if (run(ctl) != 0) {
            std::ifstream in(dir_ + "/server.log");
            std::stringstream ss;
            ss << in.rdbuf();
            return "pg_ctl start failed:\n" + log_tail() + ss.str();
        }
        running_ = true;
        // If this process dies without running its exit handlers, a watchdog stops the
        // cluster and removes its directory.
        std::string watchdog = "(while kill -0 " + std::to_string(owner_pid_) +
                               " 2>/dev/null; do sleep 1; done; " +
                               as_owner(std::string(kBin) + "/pg_ctl -D " + dir_ +
                                        "/data -m immediate stop") +
                               "; rm -rf " + dir_ + ") >/dev/null 2>&1 </dev/null &";
        if (run("setsid sh -c '" + escape_single(watchdog) + "' >/dev/null 2>&1") != 0)
            return "cannot start the cluster's watchdog";
        return "";
    }

    static std::string escape_single(const std::string& s) {
        std::string out;
        for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
        return out;
    }

    void stop() {
        std::lock_guard lock(mu_);
        stop_locked();
    }

    void stop_locked() {
        if (dir_.empty() || getpid() != owner_pid_) return;  // a forked child leaves it alone
        if (running_) {
            std::string ctl = as_owner(std::string(kBin) + "/pg_ctl -D " + dir_ +
                                       "/data -m immediate stop") + " >/dev/null 2>&1";
            int rc = run(ctl);  // nothing to do if it fails: the watchdog tries again
            (void)rc;
            running_ = false;
        }
        std::error_code ec;
        fs::remove_all(dir_, ec);
        dir_.clear();
    }

    std::mutex mu_;
    bool tried_ = false;
    bool running_ = false;
    std::string error_;
    std::string dir_;
    pid_t owner_pid_ = 0;
    int databases_ = 0;
};

Cluster& cluster() {
    static Cluster c;
    return c;
}
}  // namespace

std::string pg_unavailable() { return cluster().start(); }
std::string fresh_database() { return cluster().fresh_database(); }
std::string admin_uri() {
    std::string why = cluster().start();
    if (!why.empty()) throw std::runtime_error(why);
    return cluster().uri("postgres");
}

}  // namespace tundra::test
