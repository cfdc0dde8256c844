// Client internals shared by the facade (client.cc), the sync engine (sync_engine.cc) and
// page apply (apply_page.cc). Not part of the SDK's API.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "replica.h"
#include "tundra/client/client.h"
#include "tundra/client/transport.h"

namespace tundra::client {

// What a Client owns. Lock order: sync_mu, then replica_mu.
struct ClientCore {
    ClientOptions opts;
    std::unique_ptr<Replica> replica;
    HlcClock::WallClock wall;
    std::string install_id_path;
    // The replica was created under another install id (a restored backup or a copy): its
    // device identity was dropped at open, and it must log in again.
    std::atomic<bool> restored{false};
    std::mutex replica_mu;  // every use of `replica`
    std::mutex sync_mu;     // one sync or login at a time: the transport is not thread-safe

    Transport& transport_for(const std::string& url);
    Status require_login(const ReplicaMeta& m) const;

    template <class F>
    auto with_replica(F&& f) -> decltype(f(*replica)) {
        std::lock_guard<std::mutex> g(replica_mu);
        return f(*replica);
    }

private:
    std::unique_ptr<Transport> transport_;
    std::string transport_url_;
};

// One reply, applied in one transaction with its cursor (apply_page.cc).
struct PageInput {
    const SyncResponse& resp;
    const std::vector<Action>& sent;
    bool full_pull_start = false;  // the request carried no cursor: this page begins a full pull
    std::string page_budget;       // PageBudgetState to remember; empty = unchanged
};
struct PageResult {
    bool reset = false;
    int64_t removed = 0;
    int64_t requeued = 0;  // answered seq_reused: renumbered and queued again
    std::vector<OutcomeView> outcomes;
};
Status apply_page(Replica& replica, const PageInput& in, const HlcClock::WallClock& wall,
                  PageResult& out);

// The round loop (sync_engine.cc).
Result<SyncReport> run_sync(ClientCore& core, const SyncOptions& opts);

// A non-200 reply as a Status (sync_engine.cc).
Status error_from_reply(const HttpReply& reply);

}  // namespace tundra::client
