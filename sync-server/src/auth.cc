// Logins and tokens: password check (the slow KDF outside the store lock), per-device tokens
// (only their hash is stored), a new device's stamp floor, revocation.
#include "store_internal.h"
#include "tundra/core/crypto.h"

namespace tundra::server {

// ---- login / auth -------------------------------------------------------------------------
Result<LoginResponse> SqliteStore::login(const LoginRequest& req) {
    std::string hash, role, person;
    {
        std::lock_guard lock(mu_);
        auto q = db_->query("SELECT password_hash, role, person FROM users WHERE username = ?");
        q->bind(1, req.username);
        auto r = q->step();
        if (!r) return r.status();
        if (r.value()) {
            hash = q->text(0);
            role = q->text(1);
            person = q->opt_text(2).value_or("");
        }
    }
    // The slow KDF runs outside the lock so that logins do not stall sync rounds.
    bool ok = !hash.empty() && verify_password(req.password, hash);
    if (!ok) return Result<LoginResponse>(Errc::unauthorized, "wrong username or password");

    std::lock_guard lock(mu_);
    sqlite::Transaction txn(*db_);
    TUNDRA_TRY(txn.begin());
    LoginResponse resp;
    std::string token = random_hex(32);
    int64_t now = static_cast<int64_t>(opts_.wall());
    int64_t expires = now + opts_.token_lifetime_days * 86400'000;
    bool reused = false;
    if (!req.device_id.empty()) {
        auto q = db_->query("SELECT username, revoked, last_seq FROM devices WHERE id = ?");
        q->bind(1, req.device_id);
        auto r = q->step();
        if (!r) return r.status();
        if (r.value() && q->text(0) == req.username) {
            if (q->int64(1))
                return Result<LoginResponse>(Errc::unauthorized,
                                             "this device has been revoked; ask an admin");
            reused = true;
            resp.last_seq = static_cast<uint64_t>(q->int64(2));
        }
    }
    if (reused) {
        resp.device_id = req.device_id;
        auto u = db_->query(
            "UPDATE devices SET token_hash = ?, token_expires_ms = ?, name = coalesce(?, name) "
            "WHERE id = ?");
        u->bind(1, sha256_hex(token)).bind(2, expires);
        if (req.device_name.empty()) u->bind(3, nullptr);
        else u->bind(3, req.device_name);
        TUNDRA_TRY(u->bind(4, resp.device_id).run());
    } else {
        resp.device_id = "dev-" + random_hex(8);
        // A new device's stamps count from its login: it cannot backdate an action to before
        // it existed (fair seats).
        resp.server_hlc = clock_.now().value;
        auto u = db_->query(
            "INSERT INTO devices (id, username, name, token_hash, token_expires_ms, created_at, "
            "last_sync_hlc) VALUES (?, ?, ?, ?, ?, ?, ?)");
        TUNDRA_TRY(u->bind(1, resp.device_id)
                       .bind(2, req.username)
                       .bind(3, req.device_name)
                       .bind(4, sha256_hex(token))
                       .bind(5, expires)
                       .bind(6, format_iso8601(now))
                       .bind(7, resp.server_hlc)
                       .run());
    }
    resp.token = token;
    resp.capabilities = kServerCapabilities;
    resp.user.username = req.username;
    resp.user.role = role;
    resp.user.person = person;
    {
        auto q = db_->query("SELECT site FROM user_sites WHERE username = ? ORDER BY site");
        q->bind(1, req.username);
        for (;;) {
            auto r = q->step();
            if (!r) return r.status();
            if (!r.value()) break;
            resp.user.sites.push_back(q->text(0));
        }
    }
    if (!resp.server_hlc) resp.server_hlc = clock_.now().value;
    {
        // Only the clock: the version counter belongs to write rounds (and other processes).
        auto q = db_->query(
            "UPDATE meta SET value = CAST(max(CAST(value AS INTEGER), ?) AS TEXT) WHERE key = 'hlc'");
        TUNDRA_TRY(q->bind(1, resp.server_hlc).run());
    }
    TUNDRA_TRY(txn.commit());
    return resp;
}

Result<AuthContext> SqliteStore::authenticate(std::string_view token) {
    if (token.empty() || token.size() > 200)
        return Result<AuthContext>(Errc::unauthorized, "missing or malformed bearer token");
    std::lock_guard lock(mu_);
    auto q = db_->query(
        "SELECT d.id, d.username, d.revoked, d.token_expires_ms, u.role, u.person "
        "FROM devices d JOIN users u ON u.username = d.username WHERE d.token_hash = ?");
    q->bind(1, sha256_hex(token));
    auto r = q->step();
    if (!r) return r.status();
    if (!r.value()) return Result<AuthContext>(Errc::unauthorized, "unknown token; log in again");
    if (q->int64(2))
        return Result<AuthContext>(Errc::unauthorized, "this device has been revoked; ask an admin");
    if (q->int64(3) < static_cast<int64_t>(opts_.wall()))
        return Result<AuthContext>(Errc::unauthorized, "the token has expired; log in again");
    AuthContext who;
    who.device_id = q->text(0);
    who.username = q->text(1);
    who.role = q->text(4);
    who.person = q->opt_text(5).value_or("");
    auto s = db_->query("SELECT site FROM user_sites WHERE username = ? ORDER BY site");
    s->bind(1, who.username);
    for (;;) {
        auto rr = s->step();
        if (!rr) return rr.status();
        if (!rr.value()) break;
        who.sites.push_back(s->text(0));
    }
    return who;
}

Status SqliteStore::revoke_device(const std::string& device_id) {
    std::lock_guard lock(mu_);
    auto q = db_->query("UPDATE devices SET revoked = 1 WHERE id = ?");
    TUNDRA_TRY(q->bind(1, device_id).run());
    if (db_->changes() == 0) return Status(Errc::not_found, "no device " + device_id);
    return Status::ok();
}

}  // namespace tundra::server
