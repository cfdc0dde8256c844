// The replica's own state, typed: who is logged in, the device identity, the cursor, the
// clock and the sequence counter. Stored as rows of the `meta` table under the field names
// below (the same keys older builds wrote, so no migration is needed); read and written
// whole by Replica::load_meta / save_meta inside the caller's transaction.
#pragma once

#include <cstdint>
#include <string>

namespace tundra::client {

struct ReplicaMeta {
    // Login (empty until `login`).
    std::string server;     // base URL
    std::string username;
    std::string role;       // participant | coordinator | admin
    std::string person;     // participants
    std::string sites;      // coordinators, comma-separated
    std::string server_capabilities;  // ",cap1,cap2," as announced at login
    // How to reach `server` (LoginOptions): the CA file to trust (absolute path; empty: the
    // system's) and whether plain http:// beyond loopback was allowed.
    std::string ca_file;
    bool allow_insecure_http = false;
    // Device identity: dropped when the replica turns out to be a restored copy.
    std::string device_id;
    std::string token;
    // The install this replica was created under (the id in the file beside it).
    std::string install_id;
    // Sync position: the server's opaque cursor and whether a full pull is under way (rows
    // it sends are marked and the rest swept when it ends).
    std::string cursor;
    bool full_pull = false;
    // The full pull began on a replica holding no row of the server's: there is nothing for
    // its sweep to remove, so the rows it sends are not marked and no sweep runs.
    bool full_pull_unmarked = false;
    // The device clock (HLC) and the highest action seq ever issued: the replica is their
    // only holder, so every Client on this file stamps and numbers from here.
    uint64_t hlc = 0;
    uint64_t last_seq = 0;
    // The page budget learnt from the link (PageBudgetState::encode()).
    std::string page_budget;
    // ISO 8601, for `status`.
    std::string last_sync;
    std::string last_push;
};

}  // namespace tundra::client
