// The people on this tablet. Each person who signs in gets their own replica in
// DATA_DIR/people/<id>.db (one device identity per person and tablet); every replica shares
// the tablet's install id (DATA_DIR/install-id), so the server groups them as one tablet
// that the console can show and revoke as a whole. Nobody reaches another person's replica
// through this class without that person's session (app_handler.cc checks). Uses the client
// SDK's public API only. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tundra/client/client.h"
#include "tundra/core/status.h"

namespace tundra::app {

struct TabletOptions {
    std::string data_dir;
    std::string server_url;
    client::LoginOptions login;  // CA file, insecure http: stored in each replica at sign-in
    std::string app_version;
    // For tests: the SDK options every replica is opened with (transport, clock, sleep).
    client::ClientOptions client;
};

// One person's replica and what the app keeps about it.
struct Person {
    std::string id;  // derived from the username: stable, not guessable from outside the tablet
    std::unique_ptr<client::Client> client;
    std::atomic<uint64_t> revision{1};  // bumped by every change notification
    uint64_t subscription = 0;
};

class Tablet {
public:
    // Creates DATA_DIR (0700) and opens every replica in it. Errors: storage.
    static Result<std::unique_ptr<Tablet>> open(TabletOptions opts);
    ~Tablet();

    // Everyone who has signed in on this tablet, by name.
    std::vector<std::shared_ptr<Person>> people();
    std::shared_ptr<Person> find(const std::string& id);

    // First sign-in on this tablet, or again after a wipe or too many wrong PINs: needs the
    // server. Returns the person's id. Errors: those of Client::login; forbidden for an admin
    // (nothing of theirs is kept: admins use the console).
    Result<std::string> sign_in(const std::string& username, const std::string& password);

    // Takes a person off this tablet: logs out (refused with `conflict` while actions are
    // queued, unless `export_path`), then deletes their replica files.
    Status remove(const std::string& id, const std::string& export_path = {});

    const TabletOptions& options() const { return opts_; }
    static std::string id_for(const std::string& username);

private:
    explicit Tablet(TabletOptions opts) : opts_(std::move(opts)) {}
    Result<std::shared_ptr<Person>> open_person(const std::string& id);
    std::string replica_path(const std::string& id) const;
    void delete_replica_files(const std::string& id) const;  // with its WAL, SHM, journal

    TabletOptions opts_;
    std::mutex mu_;
    std::vector<std::shared_ptr<Person>> people_;  // under mu_
    std::mutex sign_in_mu_;                         // one sign-in at a time
};

}  // namespace tundra::app
