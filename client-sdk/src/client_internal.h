// Client internals shared by the facade (client.cc), the sync engine (sync_engine.cc) and
// page apply (apply_page.cc). Not part of the SDK's API.
#pragma once

#include <atomic>
#include <map>
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

    // The transport to the replica's server, with its CA file and http policy.
    Transport& transport_for(const ReplicaMeta& m) {
        return transport_for(m.server, m.ca_file, m.allow_insecure_http);
    }
    Transport& transport_for(const std::string& url, const std::string& ca_file, bool allow_insecure_http);
    Status require_login(const ReplicaMeta& m) const;
    // The replica's state for a recording call: logged in, and an admin when `admins_only`
    // names what only admins do ("edit courses"). Call with the replica lock held.
    Result<ReplicaMeta> signed_in(std::string_view admins_only = {});

    template <class F>
    auto with_replica(F&& f) -> decltype(f(*replica)) {
        std::lock_guard<std::mutex> g(replica_mu);
        return f(*replica);
    }

private:
    std::unique_ptr<Transport> transport_;
    std::string transport_key_;  // url, CA file and policy the transport was made for
};

// One catch helper per boundary: nothing throws across the public API.
template <class F>
auto guard(F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const std::exception& e) {
        return Status(Errc::internal, std::string("unexpected error: ") + e.what());
    }
}

// Random lowercase hex digits (install ids, local ids).
std::string random_hex(size_t digits);
// A new local id ("e-<device>-<random>"): unique without coordination and without the seq,
// which a restored or rolled-back replica may issue again (client_actions.cc).
std::string new_id(const char* prefix, const ReplicaMeta& m);

// Writes a file readable by its owner only (0600), atomically (a temporary file in the same
// folder, fsync, rename): install ids and logout exports (logout.cc).
Status write_private_file(const std::string& path, std::string_view content);

// The facade's state (client.cc: lifecycle, sync, reads; client_actions.cc: recording;
// client_records.cc: surveys, attestations, deviations, participations, new walk-ins;
// todo.cc: `todo` and notices seen).
struct Client::Impl : ClientCore {
    // Under replica_mu.
    Result<bool> exists(Kind kind, const std::string& id) {
        auto r = replica->load_row(kind, id);
        if (!r) return r.status();
        return r.value().has_value();
    }
    Status need(Kind kind, const std::string& id) {
        auto e = exists(kind, id);
        if (!e) return e.status();
        if (!e.value())
            return Status(Errc::not_found, "unknown " + std::string(entity(kind).name) + " '" + id +
                                               "' (not in this replica; try `tundra sync`)");
        return Status::ok();
    }
    Result<std::string> record(const std::string& type, Row fields) {
        auto a = replica->record(type, std::move(fields), wall);
        if (!a) return a.status();
        return a.value().target_id();
    }
    // The guard and the replica lock around one public call.
    template <class F>
    auto locked(F&& f) -> decltype(f()) {
        return guard([&]() -> decltype(f()) {
            std::lock_guard<std::mutex> g(replica_mu);
            return f();
        });
    }
};

// Attended minutes and occasions per month (Europe/Stockholm, by the occasion's start):
// what `attest` suggests and `todo` lists (client_records.cc).
struct MonthMinutes {
    int64_t minutes = 0, occasions = 0;
};
std::map<std::string, MonthMinutes> minutes_by_month(const std::vector<AttendedOccasion>& attended);

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

// A non-200 reply as a Status (sync_engine.cc): the server's code and message; a
// `rate_limited` answer says how long to wait (from Retry-After).
Status error_from_reply(const HttpReply& reply);

// The answer to `revoked` (remote_wipe.cc): wipes the replica's synced data, keeps its queued
// actions, and returns the `revoked` status that tells the user how many were kept.
Status wipe_after_revocation(ClientCore& core);

}  // namespace tundra::client
