// Replica, the device's own state (schema v6): the verifiers that unlock a shared tablet
// (`unlock`, one row) and local settings. Neither is ever synced; both leave with the user.
#include "replica.h"

namespace tundra::client {

Result<UnlockState> Replica::load_unlock() {
    UnlockState u;
    auto q = db_->query(
        "SELECT coalesce(pin_verifier, ''), coalesce(password_verifier, ''), pin_failures, pin_failed_ms "
        "FROM unlock WHERE id = 1");
    auto r = q->step();
    if (!r) return r.status();
    if (!r.value()) return u;
    u.pin_verifier = q->text(0);
    u.password_verifier = q->text(1);
    u.pin_failures = static_cast<int>(q->int64(2));
    u.pin_failed_ms = q->int64(3);
    return u;
}

Status Replica::save_unlock(const UnlockState& u) {
    auto q = db_->query(
        "INSERT OR REPLACE INTO unlock (id, pin_verifier, password_verifier, pin_failures, pin_failed_ms) "
        "VALUES (1, ?, ?, ?, ?)");
    if (u.pin_verifier.empty()) q->bind(1, nullptr);
    else q->bind(1, u.pin_verifier);
    if (u.password_verifier.empty()) q->bind(2, nullptr);
    else q->bind(2, u.password_verifier);
    return q->bind(3, static_cast<int64_t>(u.pin_failures)).bind(4, u.pin_failed_ms).run();
}

Status Replica::forget_local_state(bool settings) {
    TUNDRA_TRY(db_->exec("DELETE FROM unlock"));
    if (settings) TUNDRA_TRY(db_->exec("DELETE FROM settings"));
    return Status::ok();
}

Result<std::string> Replica::setting(const std::string& key) {
    auto q = db_->query("SELECT value FROM settings WHERE key = ?");
    q->bind(1, key);
    auto r = q->step();
    if (!r) return r.status();
    return r.value() ? q->text(0) : std::string();
}

Status Replica::set_setting(const std::string& key, const std::string& value) {
    auto txn = transaction();
    TUNDRA_TRY(txn.begin());
    if (value.empty()) {
        TUNDRA_TRY(db_->query("DELETE FROM settings WHERE key = ?")->bind(1, key).run());
    } else {
        auto q = db_->query("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)");
        TUNDRA_TRY(q->bind(1, key).bind(2, value).run());
    }
    return txn.commit();
}

}  // namespace tundra::client
