// Admin operations on users (tundra-server add-user, set-password, revoke-user) and a user's
// own password change (POST /v1/password): each change and its audit entry commit in one
// transaction; passwords are hashed outside the store lock and appear nowhere but as their
// hash.
#include <algorithm>

#include "kdf_gate.h"
#include "login_throttle.h"
#include "store_internal.h"
#include "tundra/core/crypto.h"

namespace tundra::server {
namespace {
Status check_password(const std::string& password) {
    if (password.size() < 8) return Status(Errc::invalid_argument, "the password must have at least 8 characters");
    if (password.size() > 1024) return Status(Errc::invalid_argument, "the password is over 1024 characters");
    return Status::ok();
}

Status check_username(const std::string& username) {
    if (username.empty() || username.size() > 64)
        return Status(Errc::invalid_argument, "a username has 1 to 64 characters");
    for (unsigned char c : username)
        if (c <= ' ' || c == 0x7f)
            return Status(Errc::invalid_argument, "a username has no spaces or control characters");
    return Status::ok();
}

// A new password, a revoked user: their console sessions end too (console.cc).
Status end_console_sessions(sql::Db& db, const std::string& username) {
    auto q = db.query("DELETE FROM console_sessions WHERE username = ?");
    return q->bind(1, username).run();
}

Result<bool> exists(sql::Db& db, const std::string& sql, const std::string& id) {
    auto q = db.query(sql);
    q->bind(1, id);
    auto r = q->step();
    if (!r) return r.status();
    return r.value();
}
}  // namespace

Status SqlStore::add_user(const NewUser& u, const std::string& actor) {
    TUNDRA_TRY(check_username(u.username));
    TUNDRA_TRY(check_password(u.password));
    if (u.role == "participant") {
        if (u.person.empty()) return Status(Errc::invalid_argument, "a participant needs --person");
        if (!u.sites.empty()) return Status(Errc::invalid_argument, "a participant has no --site");
    } else if (u.role == "coordinator") {
        if (u.sites.empty()) return Status(Errc::invalid_argument, "a coordinator needs at least one --site");
    } else if (u.role != "admin") {
        return Status(Errc::invalid_argument, "role must be participant, coordinator or admin");
    }
    std::string hash = hash_password(u.password, opts_.kdf_iterations);
    std::lock_guard lock(mu_);
    sql::Transaction txn(*db_);
    TUNDRA_TRY(txn.begin());
    auto taken = exists(*db_, "SELECT 1 FROM users WHERE username = ?", u.username);
    if (!taken) return taken.status();
    if (taken.value()) return Status(Errc::conflict, "user '" + u.username + "' exists (use set-password)");
    if (!u.person.empty()) {
        auto p = exists(*db_, "SELECT 1 FROM persons WHERE id = ?", u.person);
        if (!p) return p.status();
        if (!p.value()) return Status(Errc::not_found, "no person '" + u.person + "'");
    }
    for (auto& site : u.sites) {
        auto s = exists(*db_, "SELECT 1 FROM sites WHERE id = ?", site);
        if (!s) return s.status();
        if (!s.value()) return Status(Errc::not_found, "no site '" + site + "'");
    }
    int64_t now = static_cast<int64_t>(opts_.wall());
    auto ins = db_->query(
        "INSERT INTO users (username, password_hash, role, person, created_at) VALUES (?, ?, ?, ?, ?)");
    ins->bind(1, u.username).bind(2, hash).bind(3, u.role);
    if (u.person.empty()) ins->bind(4, nullptr);
    else ins->bind(4, u.person);
    TUNDRA_TRY(ins->bind(5, format_iso8601(now)).run());
    // ON CONFLICT DO NOTHING, not INSERT OR IGNORE: SQL both backends accept.
    auto site = db_->query("INSERT INTO user_sites (username, site) VALUES (?, ?) ON CONFLICT DO NOTHING");
    for (auto& s : u.sites) {
        TUNDRA_TRY(site->bind(1, u.username).bind(2, s).run());
        site->reset();
    }
    Row detail{{"role", u.role}};
    if (!u.person.empty()) detail["person"] = u.person;
    if (!u.sites.empty()) detail["sites"] = u.sites;
    TUNDRA_TRY(append_audit(*db_, now, actor, "add-user", u.username, audit_detail(detail)));
    return txn.commit();
}

Result<int64_t> SqlStore::set_password(const std::string& username, const std::string& password,
                                          const std::string& actor) {
    TUNDRA_TRY(check_password(password));
    std::string hash = hash_password(password, opts_.kdf_iterations);
    std::lock_guard lock(mu_);
    sql::Transaction txn(*db_);
    TUNDRA_TRY(txn.begin());
    auto u = db_->query("UPDATE users SET password_hash = ? WHERE username = ?");
    TUNDRA_TRY(u->bind(1, hash).bind(2, username).run());
    if (db_->changes() == 0) return Status(Errc::not_found, "no user '" + username + "'");
    // Tokens end (expiry 0: `authenticate` says why); the devices keep their identity and
    // seq memory, so a device that logs in again with its device_id applies nothing twice.
    auto end = db_->query(
        "UPDATE devices SET token_expires_ms = 0 WHERE username = ? AND token_expires_ms > 0 "
        "AND substr(id, 1, 8) <> 'console:'");  // a console device holds no token
    TUNDRA_TRY(end->bind(1, username).run());
    int64_t ended = db_->changes();
    TUNDRA_TRY(end_console_sessions(*db_, username));
    TUNDRA_TRY(forget_failures(*db_, user_key(username)));
    TUNDRA_TRY(append_audit(*db_, static_cast<int64_t>(opts_.wall()), actor, "set-password", username,
                            audit_detail({{"tokens_ended", ended}})));
    TUNDRA_TRY(txn.commit());
    return ended;
}

// The current password is checked like a login's (throttled keys first, the KDF behind the
// gate, outside the store lock; a wrong one counts as a failed login), the new one is hashed
// outside the lock, and the change is made only if the hash is still the one checked.
Status SqlStore::change_password(const AuthContext& who, const std::string& current,
                                    const std::string& next, const std::string& remote_address) {
    TUNDRA_TRY(check_password(next));
    const auto& policy = opts_.login_throttle;
    const std::string ukey = user_key(who.username), akey = address_key(remote_address);
    std::string hash;
    {
        std::lock_guard lock(mu_);
        int64_t now = static_cast<int64_t>(opts_.wall());
        auto by_user = blocked_for(*db_, ukey, policy.user, now);
        if (!by_user) return by_user.status();
        auto by_addr = blocked_for(*db_, akey, policy.address, now);
        if (!by_addr) return by_addr.status();
        if (int64_t wait = std::max(by_user.value(), by_addr.value()); wait > 0) {
            ++throttled_;
            int s = static_cast<int>((wait + 999) / 1000);
            return Status(Errc::rate_limited,
                          "too many wrong passwords; try again in " + std::to_string(s) + " s", s);
        }
        auto q = db_->query("SELECT password_hash FROM users WHERE username = ?");
        q->bind(1, who.username);
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) return Status(Errc::unauthorized, "unknown user; log in again");
        hash = q->text(0);
    }
    bool ok = false;
    {
        KdfGate::Turn turn = kdf_gate_->enter(opts_.kdf_wait);
        if (!turn) {
            ++overloaded_;
            return Status(Errc::overloaded, "the server is busy checking other passwords; try again in 1 s", 1);
        }
        ++password_checks_;
        ok = verify_password(current, hash);
    }
    if (!ok) {
        std::lock_guard lock(mu_);
        int64_t now = static_cast<int64_t>(opts_.wall());
        sql::Transaction txn(*db_);
        TUNDRA_TRY(txn.begin());
        TUNDRA_TRY(record_failure(*db_, ukey, policy.user, now));
        TUNDRA_TRY(record_failure(*db_, akey, policy.address, now));
        TUNDRA_TRY(purge_throttle(*db_, now,
                                  std::max(policy.user.forget_after_ms, policy.address.forget_after_ms)));
        TUNDRA_TRY(txn.commit());
        return Status(Errc::unauthorized, "the current password is wrong");
    }
    std::string next_hash = hash_password(next, opts_.kdf_iterations);
    std::lock_guard lock(mu_);
    sql::Transaction txn(*db_);
    TUNDRA_TRY(txn.begin());
    auto u = db_->query("UPDATE users SET password_hash = ? WHERE username = ? AND password_hash = ?");
    TUNDRA_TRY(u->bind(1, next_hash).bind(2, who.username).bind(3, hash).run());
    if (db_->changes() == 0)
        return Status(Errc::conflict, "the password was changed meanwhile; log in again");
    // The user's other devices sign in again with the new password; this one goes on.
    auto end = db_->query(
        "UPDATE devices SET token_expires_ms = 0 WHERE username = ? AND id <> ? AND token_expires_ms > 0");
    TUNDRA_TRY(end->bind(1, who.username).bind(2, who.device_id).run());
    int64_t ended = db_->changes();
    TUNDRA_TRY(end_console_sessions(*db_, who.username));
    TUNDRA_TRY(forget_failures(*db_, ukey));
    TUNDRA_TRY(append_audit(*db_, static_cast<int64_t>(opts_.wall()), who.username, "change-password",
                            who.username, audit_detail({{"device", who.device_id}, {"tokens_ended", ended}})));
    return txn.commit();
}

Result<int64_t> SqlStore::revoke_user(const std::string& username, const std::string& actor) {
    std::lock_guard lock(mu_);
    sql::Transaction txn(*db_);
    TUNDRA_TRY(txn.begin());
    auto u = db_->query("UPDATE users SET revoked = 1 WHERE username = ?");
    TUNDRA_TRY(u->bind(1, username).run());
    if (db_->changes() == 0) return Status(Errc::not_found, "no user '" + username + "'");
    // Tokens are kept: each device must still be told `revoked` (and wipe its data).
    auto d = db_->query("UPDATE devices SET revoked = 1 WHERE username = ? AND revoked = 0");
    TUNDRA_TRY(d->bind(1, username).run());
    int64_t devices = db_->changes();
    TUNDRA_TRY(end_console_sessions(*db_, username));
    TUNDRA_TRY(append_audit(*db_, static_cast<int64_t>(opts_.wall()), actor, "revoke-user", username,
                            audit_detail({{"devices_revoked", devices}})));
    TUNDRA_TRY(txn.commit());
    return devices;
}

}  // namespace tundra::server
