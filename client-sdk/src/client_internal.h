// Client internals shared by the facade (client.cc), the sync engine (sync_engine.cc) and
// page apply (apply_page.cc). Not part of the SDK's API.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "replica.h"
#include "tundra/client/client.h"
#include "tundra/client/transport.h"

namespace tundra::client {

// Change notifications (client_ui.cc). A subscriber is called on the thread that made the
// change, with no lock held; after unsubscribe() returns it is not called again.
class Notifier {
public:
    uint64_t subscribe(std::function<void(const ChangeEvent&)> fn);
    void unsubscribe(uint64_t id);
    // Calls every subscriber with each event in order. Never throws (a subscriber that
    // throws is skipped for that event).
    void fire(const std::vector<ChangeEvent>& events) noexcept;

private:
    struct Subscriber;
    std::mutex mu_;
    uint64_t next_ = 1;
    std::map<uint64_t, std::shared_ptr<Subscriber>> subs_;
};

// The model kinds an action's local effect touches (its target; a walk-in's mark and, when
// it registers one, its person), for change notifications.
std::vector<std::string> action_kinds(const Action& a);
// Every model kind, plus the local kinds a wipe or logout empties ("outbox", "notice", ...).
std::vector<std::string> all_kinds(std::initializer_list<const char*> also);

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
    Notifier notifier;
    // Changes committed under replica_mu by the call holding it, fired by that call once it
    // has released the lock (ReplicaLock).
    std::vector<ChangeEvent> pending_events;
    // Call with replica_mu held, after the change committed.
    void note(std::string source, std::vector<std::string> kinds) {
        pending_events.push_back(ChangeEvent{std::move(source), std::move(kinds)});
    }

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
    auto with_replica(F&& f) -> decltype(f(*replica));

private:
    std::unique_ptr<Transport> transport_;
    std::string transport_key_;  // url, CA file and policy the transport was made for
};

// The replica lock of one call: on release, the changes the call noted are fired, outside
// the lock, on this thread.
class ReplicaLock {
public:
    explicit ReplicaLock(ClientCore& core) : core_(core), lock_(core.replica_mu) {}
    ~ReplicaLock() {
        std::vector<ChangeEvent> events;
        events.swap(core_.pending_events);
        lock_.unlock();
        core_.notifier.fire(events);
    }
    ReplicaLock(const ReplicaLock&) = delete;
    ReplicaLock& operator=(const ReplicaLock&) = delete;

private:
    ClientCore& core_;
    std::unique_lock<std::mutex> lock_;
};

template <class F>
auto ClientCore::with_replica(F&& f) -> decltype(f(*replica)) {
    ReplicaLock g(*this);
    return f(*replica);
}

// One sync, login, logout or password change at a time per Client (sync_mu). A second one
// from the thread already running one (a change notification calling sync()) would wait for
// itself: it is refused with `conflict` instead.
class SyncLock {
public:
    explicit SyncLock(ClientCore& core);
    ~SyncLock();
    SyncLock(const SyncLock&) = delete;
    SyncLock& operator=(const SyncLock&) = delete;
    // conflict when this thread already runs one on this Client.
    Status status() const;

private:
    ClientCore& core_;
    bool held_ = false;
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

// The verifier kept of the user's password for an offline unlock (PBKDF2, pin.cc).
std::string password_verifier(const std::string& password);

// Writes a file readable by its owner only (0600), atomically (a temporary file in the same
// folder, fsync, rename): install ids and logout exports (logout.cc).
Status write_private_file(const std::string& path, std::string_view content);

// The facade's state (client.cc: lifecycle, sync, reads; client_actions.cc: recording;
// client_records.cc: surveys, attestations, deviations, participations, new walk-ins;
// todo.cc: `todo` and notices seen; client_ui.cc: notifications, settings and the views a UI
// needs; pin.cc: PIN, offline password check, change_password).
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
        auto kinds = action_kinds(a.value());
        kinds.push_back("outbox");
        note("action", std::move(kinds));
        return a.value().target_id();
    }
    // The guard and the replica lock around one public call.
    template <class F>
    auto locked(F&& f) -> decltype(f()) {
        return guard([&]() -> decltype(f()) {
            ReplicaLock g(*this);
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
    // What the page changed, for change notifications: the kinds of its rows (and of rows
    // swept or changed by its outcomes), "outbox" when outcomes changed the outbox, "notice"
    // when it added notices.
    std::set<std::string> kinds;
};
Status apply_page(Replica& replica, const PageInput& in, const HlcClock::WallClock& wall,
                  PageResult& out);

// The round loop (sync_engine.cc).
Result<SyncReport> run_sync(ClientCore& core, const SyncOptions& opts);

// A non-200 reply as a Status (sync_engine.cc): the server's code and message; a
// `rate_limited` answer says how long to wait (from Retry-After).
Status error_from_reply(const HttpReply& reply);

// POSTs a request that checks a password (/v1/login, /v1/password; client.cc): asked again
// while the server is `overloaded` with password checks, within ClientOptions::login_timeout;
// never retried into `rate_limited`.
Result<HttpReply> post_password_request(ClientCore& core, Transport& transport, const std::string& path,
                                        const std::string& body,
                                        const std::vector<std::pair<std::string, std::string>>& headers);

// The answer to `revoked` (remote_wipe.cc): wipes the replica's synced data, keeps its queued
// actions, and returns the `revoked` status that tells the user how many were kept.
Status wipe_after_revocation(ClientCore& core);

}  // namespace tundra::client
