// The project console's sessions and its way in for changes (issue 11). Sessions live in
// the store (table console_sessions, schema v7; only the token's hash is kept), so any server
// process answers any request. A console change is an action of the user's console device
// ("console:<username>"), numbered and stamped by the store, and applied exactly as a sync
// round applies a device's action (apply_new_action, sync_round.cc).
#include <algorithm>

#include "login_throttle.h"
#include "store_internal.h"
#include "tundra/core/crypto.h"

namespace tundra::server {
namespace {
// seen_ms is written at most this often: a page's burst of requests costs one write.
constexpr int64_t kSeenEveryMs = 60'000;

std::string console_device_of(const std::string& username) {
    return std::string(kConsoleDevicePrefix) + username;
}

Result<StrList> sites_of(sql::Db& db, const std::string& username) {
    StrList sites;
    auto q = db.query("SELECT site FROM user_sites WHERE username = ? ORDER BY site");
    q->bind(1, username);
    for (;;) {
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) break;
        sites.push_back(q->text(0));
    }
    return sites;
}

Status unauthorized(const std::string& why) { return Status(Errc::unauthorized, why); }
}  // namespace

// ---- sessions -----------------------------------------------------------------------------
Result<OpenedConsoleSession> SqlStore::console_login(const std::string& username,
                                                        const std::string& password,
                                                        const std::string& remote_address) {
    auto c = check_credentials(username, password, remote_address);
    if (!c) return c.status();
    // Only someone who knows the password learns that the user was revoked, or is no staff.
    if (c->revoked) return Status(Errc::revoked, "this user was revoked by an admin");
    if (role_of(c->role) == Role::participant)
        return Status(Errc::forbidden, "the console is for coordinators and admins");
    std::lock_guard lock(mu_);
    int64_t now = static_cast<int64_t>(opts_.wall());
    sql::Transaction txn(*db_);
    TUNDRA_TRY(txn.begin());
    {
        // Ended sessions go at every sign-in: the table holds only live ones (and those that
        // ended since the last sign-in).
        auto purge = db_->query("DELETE FROM console_sessions WHERE seen_ms <= ? OR created_ms <= ?");
        TUNDRA_TRY(purge->bind(1, now - opts_.console_idle_ms).bind(2, now - opts_.console_max_ms).run());
    }
    TUNDRA_TRY(forget_failures(*db_, user_key(username)));
    OpenedConsoleSession out;
    out.token = random_hex(32);
    ConsoleSession& s = out.session;
    s.csrf = random_hex(32);
    s.lang = "sv";
    s.created_ms = s.seen_ms = now;
    s.expires_ms = std::min(now + opts_.console_idle_ms, now + opts_.console_max_ms);
    auto ins = db_->query(
        "INSERT INTO console_sessions (token_hash, username, csrf, lang, created_ms, seen_ms) "
        "VALUES (?, ?, ?, ?, ?, ?)");
    TUNDRA_TRY(ins->bind(1, sha256_hex(out.token))
                   .bind(2, username)
                   .bind(3, s.csrf)
                   .bind(4, s.lang)
                   .bind(5, now)
                   .bind(6, now)
                   .run());
    auto sites = sites_of(*db_, username);
    if (!sites) return sites.status();
    s.who = AuthContext{username, c->role, c->person, std::move(sites.value()), console_device_of(username)};
    TUNDRA_TRY(append_audit(*db_, now, username, "console-login", username,
                            audit_detail({{"role", c->role}})));
    TUNDRA_TRY(txn.commit());
    return out;
}

Result<ConsoleSession> SqlStore::console_session(std::string_view token) {
    if (token.empty() || token.size() > 200) return unauthorized("no console session; sign in");
    std::lock_guard lock(mu_);
    int64_t now = static_cast<int64_t>(opts_.wall());
    const std::string hash = sha256_hex(token);
    auto q = db_->query(
        "SELECT s.username, s.csrf, s.lang, s.created_ms, s.seen_ms, u.role, u.person, u.revoked "
        "FROM console_sessions s LEFT JOIN users u ON u.username = s.username WHERE s.token_hash = ?");
    q->bind(1, hash);
    auto r = q->step();
    if (!r) return r.status();
    if (!r.value()) return unauthorized("the console session has ended; sign in again");
    ConsoleSession s;
    s.who.username = q->text(0);
    s.csrf = q->text(1);
    s.lang = q->text(2);
    s.created_ms = q->int64(3);
    s.seen_ms = q->int64(4);
    bool user_gone = q->is_null(5);
    s.who.role = q->opt_text(5).value_or("");
    s.who.person = q->opt_text(6).value_or("");
    bool revoked = !user_gone && q->int64(7) != 0;
    q->reset();
    s.expires_ms = std::min(s.seen_ms + opts_.console_idle_ms, s.created_ms + opts_.console_max_ms);
    std::string why;
    if (user_gone || revoked || role_of(s.who.role) == Role::participant)
        why = "this user can no longer sign in to the console";
    else if (now >= s.expires_ms)
        why = "the console session has expired; sign in again";
    if (!why.empty()) {
        auto del = db_->query("DELETE FROM console_sessions WHERE token_hash = ?");
        TUNDRA_TRY(del->bind(1, hash).run());
        return unauthorized(why);
    }
    if (now - s.seen_ms >= kSeenEveryMs) {
        auto u = db_->query("UPDATE console_sessions SET seen_ms = ? WHERE token_hash = ?");
        TUNDRA_TRY(u->bind(1, now).bind(2, hash).run());
        s.seen_ms = now;
        s.expires_ms = std::min(s.seen_ms + opts_.console_idle_ms, s.created_ms + opts_.console_max_ms);
    }
    auto sites = sites_of(*db_, s.who.username);
    if (!sites) return sites.status();
    s.who.sites = std::move(sites.value());
    s.who.device_id = console_device_of(s.who.username);
    return s;
}

Status SqlStore::console_logout(std::string_view token) {
    if (token.empty() || token.size() > 200) return Status::ok();
    std::lock_guard lock(mu_);
    auto del = db_->query("DELETE FROM console_sessions WHERE token_hash = ?");
    return del->bind(1, sha256_hex(token)).run();
}

Status SqlStore::set_console_language(std::string_view token, const std::string& lang) {
    if (lang != "sv" && lang != "en") return Status(Errc::invalid_argument, "lang: must be sv or en");
    auto s = console_session(token);
    if (!s) return s.status();
    std::lock_guard lock(mu_);
    auto u = db_->query("UPDATE console_sessions SET lang = ? WHERE token_hash = ?");
    return u->bind(1, lang).bind(2, sha256_hex(token)).run();
}

// ---- changes ------------------------------------------------------------------------------
Result<std::vector<Outcome>> SqlStore::apply_actions(const AuthContext& who, std::vector<Action> actions) {
    if (who.username.empty() || who.device_id != console_device_of(who.username))
        return Status(Errc::invalid_argument,
                      "apply_actions takes a console session's user (device 'console:<username>')");
    std::lock_guard lock(mu_);
    auto& I = *impl_;
    sql::Transaction txn(*db_);
    TUNDRA_TRY(txn.begin());
    // A failed batch must not leave half-advanced counters behind (as sync()).
    Impl::RoundGuard restore(I, clock_, opts_.wall);
    // Another process may have written since: counters come from the file.
    TUNDRA_TRY(I.load_meta());
    I.now_ms = static_cast<int64_t>(opts_.wall());
    {
        auto q = db_->query(
            "SELECT d.revoked, u.revoked FROM users u LEFT JOIN devices d ON d.id = ? WHERE u.username = ?");
        q->bind(1, who.device_id).bind(2, who.username);
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) return unauthorized("no user '" + who.username + "'");
        if (q->int64(1) || (!q->is_null(0) && q->int64(0)))
            return Status(Errc::revoked, "this user or their console was revoked by an admin");
        if (q->is_null(0)) {
            q->reset();
            // The user's console device, made on first use: no usable token (its hash is no
            // SHA-256 of anything), never a tablet, stamps counted from now.
            auto ins = db_->query(
                "INSERT INTO devices (id, username, name, token_hash, token_expires_ms, created_at, "
                "last_sync_hlc, install_id) VALUES (?, ?, 'Console', ?, 0, ?, ?, 'console')");
            TUNDRA_TRY(ins->bind(1, who.device_id)
                           .bind(2, who.username)
                           .bind(3, std::string(kConsoleDevicePrefix) + random_hex(32))
                           .bind(4, format_iso8601(I.now_ms))
                           .bind(5, clock_.now().value)
                           .run());
        }
    }
    auto st = I.device_state(who);
    if (!st) return st.status();
    RoundContext ctx{.now_ms = I.now_ms,
                     .clock = clock_,
                     .max_clock_ahead_ms = opts_.max_clock_ahead_ms,
                     .cursor_key = I.cursor_key,
                     .limit = 0};
    Hlc floor = st->stamp_floor;
    std::vector<Outcome> outcomes;
    outcomes.reserve(actions.size());
    for (auto& a : actions) {
        a.seq = ++st->last_seq;
        a.hlc = clock_.now();
        auto o = apply_new_action(I, who, a, action_hash(a), floor, ctx);
        if (!o) return o.status();
        outcomes.push_back(std::move(o.value()));
    }
    st->stamp_floor = clock_.now();
    TUNDRA_TRY(I.save_device_state(who, st.value()));
    TUNDRA_TRY(I.save_meta());
    TUNDRA_TRY(txn.commit());
    restore.armed = false;
    return outcomes;
}

}  // namespace tundra::server
