// Logins and tokens: throttling of failed logins (login_throttle.cc), the password check
// behind an admission gate (kdf_gate.h) with the same cost for unknown users, per-device
// tokens (only their hash is stored), a new device's stamp floor, revocation.
#include "kdf_gate.h"
#include "login_throttle.h"
#include "store_internal.h"
#include "tundra/core/crypto.h"

namespace tundra::server {
namespace {
int seconds_up(int64_t ms) { return static_cast<int>((ms + 999) / 1000); }

Status rate_limited(int64_t wait_ms) {
    int s = seconds_up(wait_ms);
    return Status(Errc::rate_limited,
                  "too many failed logins; try again in " + std::to_string(s) + " s", s);
}

// An optional text of a login request: empty means the device did not tell (NULL).
void bind_told(sql::Stmt& q, int idx, const std::string& v) {
    if (v.empty()) q.bind(idx, nullptr);
    else q.bind(idx, v);
}

const char* const kRevokedDevice =
    "this device was revoked by an admin: it must delete its synced data";
}  // namespace

// ---- login --------------------------------------------------------------------------------
// Throttled keys first (a blocked guess costs a read), then the password check behind the
// gate, then a failure is counted or a token issued. A wrong password and an unknown user get
// the same answer after the same work: the unknown user's password is checked against a
// dummy hash of the same cost, and both count as failures of their username and address.
Result<SqlStore::Credentials> SqlStore::check_credentials(const std::string& username,
                                                               const std::string& password,
                                                               const std::string& remote_address) {
    const auto& policy = opts_.login_throttle;
    const std::string ukey = user_key(username), akey = address_key(remote_address);
    int64_t now = static_cast<int64_t>(opts_.wall());
    std::string hash;
    Credentials c;
    {
        std::lock_guard lock(mu_);
        auto by_user = blocked_for(*db_, ukey, policy.user, now);
        if (!by_user) return by_user.status();
        auto by_addr = blocked_for(*db_, akey, policy.address, now);
        if (!by_addr) return by_addr.status();
        if (int64_t wait = std::max(by_user.value(), by_addr.value()); wait > 0) {
            ++throttled_;
            return rate_limited(wait);
        }
        auto q = db_->query("SELECT password_hash, role, person, revoked FROM users WHERE username = ?");
        q->bind(1, username);
        auto r = q->step();
        if (!r) return r.status();
        if (r.value()) {
            hash = q->text(0);
            c.role = q->text(1);
            c.person = q->opt_text(2).value_or("");
            c.revoked = q->int64(3) != 0;
        }
    }
    bool ok = false;
    {
        // The slow KDF runs outside the store lock, and at most as many at once as the gate
        // allows: the rest are turned away before they hold a request worker for long.
        KdfGate::Turn turn = kdf_gate_->enter(opts_.kdf_wait);
        if (!turn) {
            ++overloaded_;
            return Status(Errc::overloaded, "the server is busy checking other logins; try again in 1 s", 1);
        }
        ++password_checks_;
        bool known = !hash.empty();
        ok = verify_password(password, known ? hash : dummy_hash_) && known;
    }
    if (!ok) {
        std::lock_guard lock(mu_);
        now = static_cast<int64_t>(opts_.wall());
        sql::Transaction txn(*db_);
        TUNDRA_TRY(txn.begin());
        TUNDRA_TRY(record_failure(*db_, ukey, policy.user, now));
        TUNDRA_TRY(record_failure(*db_, akey, policy.address, now));
        TUNDRA_TRY(purge_throttle(*db_, now,
                                  std::max(policy.user.forget_after_ms, policy.address.forget_after_ms)));
        TUNDRA_TRY(txn.commit());
        return Status(Errc::unauthorized, "wrong username or password");
    }
    return c;
}

Result<LoginResponse> SqlStore::login(const LoginRequest& req, const std::string& remote_address) {
    auto c = check_credentials(req.username, req.password, remote_address);
    if (!c) return c.status();
    // Only someone who knows the password learns that the user or device was revoked.
    if (c->revoked) return Status(Errc::revoked, "this user was revoked by an admin");
    return issue_token(req, c->role, c->person);
}

// A correct password: a token for the device named (unless it was revoked) or a new one.
Result<LoginResponse> SqlStore::issue_token(const LoginRequest& req, const std::string& role,
                                               const std::string& person) {
    std::lock_guard lock(mu_);
    sql::Transaction txn(*db_);
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
        // A console device ("console:<username>", console.cc) takes no token: the console's
        // actions are numbered by the store alone.
        if (r.value() && q->text(0) == req.username && !is_console_device(req.device_id)) {
            // A revoked device stays revoked: logging in from it never hands out a new
            // identity that would escape the revocation (and its remote wipe).
            if (q->int64(1)) return Status(Errc::revoked, kRevokedDevice);
            reused = true;
            resp.last_seq = static_cast<uint64_t>(q->int64(2));
        }
    }
    TUNDRA_TRY(forget_failures(*db_, user_key(req.username)));
    if (reused) {
        resp.device_id = req.device_id;
        // What the login tells of the device (its name, its tablet's install id, the app's
        // version) replaces what was known; what it leaves out stays.
        auto u = db_->query(
            "UPDATE devices SET token_hash = ?, token_expires_ms = ?, name = coalesce(?, name), "
            "install_id = coalesce(?, install_id), app_version = coalesce(?, app_version) "
            "WHERE id = ?");
        u->bind(1, sha256_hex(token)).bind(2, expires);
        bind_told(*u, 3, req.device_name);
        bind_told(*u, 4, req.install_id);
        bind_told(*u, 5, req.app_version);
        TUNDRA_TRY(u->bind(6, resp.device_id).run());
    } else {
        resp.device_id = "dev-" + random_hex(8);
        // A new device's stamps count from its login: it cannot backdate an action to before
        // it existed (fair seats).
        resp.server_hlc = clock_.now().value;
        auto u = db_->query(
            "INSERT INTO devices (id, username, name, token_hash, token_expires_ms, created_at, "
            "last_sync_hlc, install_id, app_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        u->bind(1, resp.device_id)
            .bind(2, req.username)
            .bind(3, req.device_name)
            .bind(4, sha256_hex(token))
            .bind(5, expires)
            .bind(6, format_iso8601(now))
            .bind(7, resp.server_hlc);
        bind_told(*u, 8, req.install_id);
        bind_told(*u, 9, req.app_version);
        TUNDRA_TRY(u->run());
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
            // CASE, not the scalar max() PostgreSQL lacks; BIGINT: an HLC needs 64 bits there.
            "UPDATE meta SET value = CASE WHEN CAST(value AS BIGINT) > ? THEN value ELSE ? END "
            "WHERE key = 'hlc'");
        TUNDRA_TRY(q->bind(1, resp.server_hlc).bind(2, std::to_string(resp.server_hlc)).run());
    }
    TUNDRA_TRY(txn.commit());
    return resp;
}

SqlStore::LoginStats SqlStore::login_stats() const {
    return {password_checks_.load(), throttled_.load(), overloaded_.load()};
}

// ---- tokens -------------------------------------------------------------------------------
Result<AuthContext> SqlStore::authenticate(std::string_view token) {
    if (token.empty() || token.size() > 200)
        return Result<AuthContext>(Errc::unauthorized, "missing or malformed bearer token");
    // A read connection: checking a token writes nothing and waits for no writer.
    ReaderLease lease(*this);
    sql::Db& db = *lease.get().db;
    auto q = db.query(
        // revoked is an integer 0/1 (PostgreSQL has no OR over integers: compare).
        "SELECT d.id, d.username, CASE WHEN d.revoked <> 0 OR u.revoked <> 0 THEN 1 ELSE 0 END, "
        "d.token_expires_ms, u.role, u.person "
        "FROM devices d JOIN users u ON u.username = d.username WHERE d.token_hash = ?");
    q->bind(1, sha256_hex(token));
    auto r = q->step();
    if (!r) return r.status();
    if (!r.value()) return Result<AuthContext>(Errc::unauthorized, "unknown token; log in again");
    // Revoked before expired: a revoked device must learn it, however long it was away.
    if (q->int64(2)) return Result<AuthContext>(Errc::revoked, kRevokedDevice);
    if (q->int64(3) == 0)
        return Result<AuthContext>(Errc::unauthorized,
                                   "the session was ended (the password was changed); log in again");
    if (q->int64(3) < static_cast<int64_t>(opts_.wall()))
        return Result<AuthContext>(Errc::unauthorized, "the token has expired; log in again");
    AuthContext who;
    who.device_id = q->text(0);
    who.username = q->text(1);
    who.role = q->text(4);
    who.person = q->opt_text(5).value_or("");
    auto s = db.query("SELECT site FROM user_sites WHERE username = ? ORDER BY site");
    s->bind(1, who.username);
    for (;;) {
        auto rr = s->step();
        if (!rr) return rr.status();
        if (!rr.value()) break;
        who.sites.push_back(s->text(0));
    }
    return who;
}

// Revokes one device inside the caller's transaction, with its audit entry (revoke_device,
// revoke_tablet). Errors: not_found, storage.
Status revoke_one_device(sql::Db& db, const std::string& device_id, const std::string& actor, int64_t now_ms) {
    std::string username;
    {
        auto q = db.query("SELECT username FROM devices WHERE id = ?");
        q->bind(1, device_id);
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) return Status(Errc::not_found, "no device " + device_id);
        username = q->text(0);
    }
    auto q = db.query("UPDATE devices SET revoked = 1 WHERE id = ?");
    TUNDRA_TRY(q->bind(1, device_id).run());
    return append_audit(db, now_ms, actor, "revoke-device", device_id, audit_detail({{"username", username}}));
}

Status SqlStore::revoke_device(const std::string& device_id, const std::string& actor) {
    if (is_console_device(device_id))
        return Status(Errc::invalid_argument, "'" + device_id + "' is a console, not a tablet: revoke its user");
    std::lock_guard lock(mu_);
    sql::Transaction txn(*db_);
    TUNDRA_TRY(txn.begin());
    TUNDRA_TRY(revoke_one_device(*db_, device_id, actor, static_cast<int64_t>(opts_.wall())));
    return txn.commit();
}

}  // namespace tundra::server
