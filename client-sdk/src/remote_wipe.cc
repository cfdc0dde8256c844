// Remote wipe: what a device does when the server answers `revoked` (the device or its user
// was revoked by an admin). Synced personal data leaves the replica; the device's own unsent
// work stays, so nothing is lost silently, and the user is told how to take it out.
#include "client_internal.h"

namespace tundra::client {

Result<int64_t> Replica::wipe_after_revocation() {
    // wipe_synced_data overwrites freed pages (secure_delete) and empties the WAL after its
    // commit: the wiped rows must not stay readable in free pages or in the -wal file.
    TUNDRA_TRY(wipe_synced_data());
    {
        auto txn = transaction();
        TUNDRA_TRY(txn.begin());
        TUNDRA_TRY(forget_token());
        // The PIN and password verifiers unlocked this user's data: they go with it.
        TUNDRA_TRY(forget_local_state(false));
        TUNDRA_TRY(txn.commit());
    }
    return count_queued();
}

Status wipe_after_revocation(ClientCore& core) {
    auto kept = core.with_replica([&](Replica& r) {
        auto n = r.wipe_after_revocation();
        core.note("wipe", all_kinds({"outbox", "notice", "session"}));
        return n;
    });
    if (!kept)
        return Status(Errc::revoked, "this device was revoked, but wiping its synced data failed: " +
                                         kept.status().message());
    int64_t n = kept.value();
    std::string unsent =
        n == 0 ? "no unsent actions"
               : std::to_string(n) + " unsent action" + (n == 1 ? "" : "s") +
                     " kept — export with `tundra logout --export FILE`";
    return Status(Errc::revoked, "this device was revoked: synced data wiped; " + unsent);
}

}  // namespace tundra::client
