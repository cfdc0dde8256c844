// Test fixtures for sync without a network: a Transport that calls the server's pure
// request handler in-process, with deterministic fault injection, and a small world
// (store + users) that tests share.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "tundra/client/client.h"
#include "tundra/server/handler.h"
#include "tundra/server/sql_store.h"
#include "tundra/sql/db.h"

namespace tundra::testing {

enum class Fault {
    none,
    drop_request,   // lost before the server sees it
    drop_response,  // the server committed; the answer is lost
    duplicate,      // delivered twice; the device sees the second answer
    cut_response,   // the answer breaks off mid-body
};

class LoopbackTransport final : public client::Transport {
public:
    LoopbackTransport(server::Store& store, std::function<Fault()> faults = {})
        : store_(store), faults_(std::move(faults)) {}
    Result<client::HttpReply> post(const std::string& path, const std::string& body,
                                   const std::vector<std::pair<std::string, std::string>>& headers,
                                   std::chrono::milliseconds timeout) override;
    int requests = 0;

private:
    server::Store& store_;
    std::function<Fault()> faults_;
};

// A link that cuts every connection after a fixed number of bytes downstream and/or
// upstream (0 = no limit), as some rural links and middleboxes do. A connection lives from
// one cut to the next (keep-alive), so bytes add up across requests. Cut upstream: the
// server never sees the request. Cut downstream: the server committed, the answer is lost.
struct LinkCounters {
    int requests = 0, cuts = 0;
    uint64_t bytes_sent = 0, bytes_received = 0;  // what the link carried, cut requests included
};
class CuttingTransport final : public client::Transport {
public:
    CuttingTransport(std::unique_ptr<client::Transport> inner, uint64_t down_limit, uint64_t up_limit,
                     std::shared_ptr<LinkCounters> counters = nullptr)
        : inner_(std::move(inner)), down_limit_(down_limit), up_limit_(up_limit),
          counters_(counters ? std::move(counters) : std::make_shared<LinkCounters>()) {}
    Result<client::HttpReply> post(const std::string& path, const std::string& body,
                                   const std::vector<std::pair<std::string, std::string>>& headers,
                                   std::chrono::milliseconds timeout) override;

private:
    std::unique_ptr<client::Transport> inner_;
    uint64_t down_limit_, up_limit_;
    uint64_t down_ = 0, up_ = 0;  // on the current connection
    std::shared_ptr<LinkCounters> counters_;
};

// A temp folder that removes itself.
struct TempDir {
    std::filesystem::path path;
    TempDir();
    ~TempDir();
    std::string file(const std::string& name) const { return (path / name).string(); }
};

// 2026-11-23T08:00:00Z
inline constexpr uint64_t kStartMs = 1795420800000ULL;

// Two municipalities, three sites, nine staff, three courses (one draft, one open to
// Pajala only), four occasions; users admin, coord1 (s1, s2), coord2 (s3), coord3 (s1),
// part1 (p1), part2 (p2), part3 (p7). Every password is "password1".
std::string small_world_document(uint64_t now_ms);

// Rounds spread over several servers of one database, one after another from `start`: any
// round may go to any server, as behind a load balancer (servers are stateless).
class SpreadTransport final : public client::Transport {
public:
    SpreadTransport(std::vector<server::Store*> servers, std::function<Fault()> faults, size_t start)
        : servers_(std::move(servers)), faults_(std::move(faults)), next_(start) {}
    Result<client::HttpReply> post(const std::string& path, const std::string& body,
                                   const std::vector<std::pair<std::string, std::string>>& headers,
                                   std::chrono::milliseconds timeout) override {
        LoopbackTransport t(*servers_[next_++ % servers_.size()], faults_);
        return t.post(path, body, headers, timeout);
    }

private:
    std::vector<server::Store*> servers_;
    std::function<Fault()> faults_;
    size_t next_;
};

struct World {
    TempDir dir;
    std::atomic<uint64_t> now{kStartMs};
    std::unique_ptr<server::SqlStore> store;
    // What the store was opened from: a file in `dir`, or a PostgreSQL database's URI.
    std::string target;
    // More servers on the same database (add_server): clients made after it spread their
    // rounds over `store` and these.
    std::vector<std::unique_ptr<server::SqlStore>> more_servers;
    server::StoreOptions options;
    std::function<Fault()> faults;  // applies to every client transport made after it is set
    std::function<Status()> replica_faults;  // likewise, for writes to client replicas
    // Wraps every client transport made after it is set (e.g. in a CuttingTransport).
    std::function<std::unique_ptr<client::Transport>(std::unique_ptr<client::Transport>)> wrap;

    explicit World(std::function<void(server::StoreOptions&)> tweak = {},
                   sql::Backend backend = sql::Backend::sqlite);
    explicit World(sql::Backend backend) : World({}, backend) {}
    // Another server (a store of its own, same options) on the same database.
    void add_server();
    std::unique_ptr<client::Client> client(const std::string& replica_name,
                                           const std::string& username,
                                           int64_t clock_skew_ms = 0);
    std::unique_ptr<client::Client> open_client(const std::string& replica_name,
                                                int64_t clock_skew_ms = 0);
    int64_t scalar(const std::string& sql);

private:
    size_t clients_opened_ = 0;
};

// Test helpers shared by the end-to-end tests.
// Adds `marks` attendance marks (o1..o4, p1..p6) to the world: a coordinator-sized load for
// coord1, whose sites hold p1..p6, so that first syncs take many pages.
void add_history(World& w, int marks);
// Staff mark only people with a confirmed or waitlisted place (issue 8). For tests about marks
// rather than seats: every person of the small world (p1..p9) confirmed on o1..o4, as an import
// of another system's rosters would (imports are facts; no seat allocation runs).
std::string roster_document();
void add_roster(World& w);
void sync_ok(client::Client& c);
// Whether the replica holds a synced row of `table` with this id.
bool has(client::Client& c, const char* table, const std::string& id);
// Rule 6: the replica equals what a brand-new device of `user` receives from the server.
void expect_converged(World& w, client::Client& c, const std::string& user);

}  // namespace tundra::testing
