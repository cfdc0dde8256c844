// Remote wipe: what a device does when the server answers `revoked` (the device or its user
// was revoked by an admin). Synced personal data leaves the replica; the device's own unsent
// work stays, so nothing is lost silently, and the user is told how to take it out.
#include "client_internal.h"

namespace tundra::client {

Result<int64_t> Replica::wipe_synced_data() {
    // Freed pages are overwritten, and the log is emptied after the commit: the wiped rows
    // must not stay readable in free pages or in the WAL file.
    TUNDRA_TRY(db_->exec("PRAGMA secure_delete = ON"));
    {
        auto txn = transaction();
        TUNDRA_TRY(txn.begin());
        for (auto& e : all_entities()) TUNDRA_TRY(db_->exec("DELETE FROM " + std::string(e.table)));
        TUNDRA_TRY(db_->exec("DELETE FROM shadow; DELETE FROM reset_seen"));
        // Answered actions are the server's now; queued ones are the device's own work.
        auto q = db_->query("DELETE FROM outbox WHERE state <> ?");
        TUNDRA_TRY(q->bind(1, to_string(OutboxState::queued)).run());
        // Keep who and which device this was (a later login from this replica names the
        // revoked device again, and is refused) and the seq counter (for an export); forget
        // the token, the position and what the user may see.
        ReplicaMeta m = load_meta();
        ReplicaMeta kept;
        kept.server = m.server;
        kept.username = m.username;
        kept.device_id = m.device_id;
        kept.install_id = m.install_id;
        kept.hlc = m.hlc;
        kept.last_seq = m.last_seq;
        TUNDRA_TRY(db_->exec("DELETE FROM meta"));
        TUNDRA_TRY(save_meta(kept));
        TUNDRA_TRY(txn.commit());
    }
    TUNDRA_TRY(db_->exec("PRAGMA wal_checkpoint(TRUNCATE)"));
    return count_queued();
}

Status wipe_after_revocation(ClientCore& core) {
    auto kept = core.with_replica([](Replica& r) { return r.wipe_synced_data(); });
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
