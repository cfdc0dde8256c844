#include "tundra/server/sqlite_store.h"

#include <algorithm>
#include <charconv>

#include "schema.h"
#include "store_internal.h"
#include "tundra/core/crypto.h"
#include "tundra/sqlite/rows.h"

namespace tundra::server {
using sqlite::column_list;
using sqlite::read_row;

namespace {
// Visibility of each kind for a role, as an SQL condition over alias `t` with the named
// parameters :user and :person. Built from constants only; values are bound.
constexpr const char* kCourseVisible =
    "(%.published = 1 AND (NOT EXISTS (SELECT 1 FROM course_organisations co WHERE co.course = "
    "%.id) OR EXISTS (SELECT 1 FROM course_organisations co WHERE co.course = %.id AND "
    "co.organisation IN (SELECT organisation FROM user_orgs WHERE username = :user))))";

std::string course_visible_sql(const std::string& alias) {
    std::string s = kCourseVisible;
    for (size_t p; (p = s.find('%')) != std::string::npos;) s.replace(p, 1, alias);
    return s;
}

std::string scope_sql(Kind kind, const std::string& role) {
    if (role == "admin") return "1";
    bool coord = role == "coordinator";
    const std::string by_person =
        coord ? "t.person IN (SELECT id FROM persons WHERE site IN "
                "(SELECT site FROM user_sites WHERE username = :user))"
              : "t.person = :person";
    switch (kind) {
        case Kind::organisation:
        case Kind::site: return "1";
        case Kind::person:
            return coord ? "t.site IN (SELECT site FROM user_sites WHERE username = :user)"
                         : "t.id = :person";
        case Kind::participation:
        case Kind::enrolment:
        case Kind::attendance:
        case Kind::time_attestation: return by_person;
        case Kind::survey_response: return coord ? "0" : by_person;  // answers stay private
        case Kind::course: return course_visible_sql("t");
        case Kind::occasion:
            return "t.course IN (SELECT c.id FROM courses c WHERE " + course_visible_sql("c") + ")";
        case Kind::deviation:
            return coord ? "t.organisation IN (SELECT organisation FROM user_orgs WHERE username = "
                           ":user)"
                         : "0";
    }
    return "0";
}

// What a device may see depends on these; when they change, its replica is rebuilt.
std::string scope_hash(const AuthContext& who) {
    std::string key = who.role + "|" + who.person + "|";
    for (auto& s : who.sites) key += s + ",";
    return sha256_hex(key).substr(0, 16);
}

Result<PullCursor> parse_cursor(const std::string& text) {
    PullCursor c;
    if (text.empty()) return c;
    auto number = [](std::string_view s, uint64_t& out) {
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        return ec == std::errc() && p == s.data() + s.size();
    };
    auto bad = Result<PullCursor>(Errc::malformed, "cursor: not a cursor this server issued");
    if (text[0] == 'p' || text[0] == 'n') {
        // "<phase>.<after>.<v0>.<t0>": a full pull, priority part first (see PullCursor).
        std::vector<std::string_view> parts;
        std::string_view rest(text);
        for (size_t dot; (dot = rest.find('.')) != std::string_view::npos; rest.remove_prefix(dot + 1))
            parts.push_back(rest.substr(0, dot));
        parts.push_back(rest);
        uint64_t t0 = 0;
        if (parts.size() != 4 || parts[0].size() != 1 || !number(parts[1], c.after) ||
            !number(parts[2], c.v0) || !number(parts[3], t0))
            return bad;
        c.phase = text[0];
        c.t0 = static_cast<int64_t>(t0);
        return c;
    }
    if (!number(text, c.after)) return bad;
    return c;
}
}  // namespace

Outcome make_outcome(const Action& a, OutcomeResult r, std::string_view reason,
                     std::string message, std::string status) {
    Outcome o;
    o.seq = a.seq;
    o.result = r;
    o.reason = std::string(reason);
    o.message = std::move(message);
    o.status = std::move(status);
    return o;
}

// ---- open ---------------------------------------------------------------------------------
SqliteStore::SqliteStore(std::unique_ptr<sqlite::Db> db, StoreOptions opts)
    : db_(std::move(db)), opts_(std::move(opts)), clock_(opts_.wall) {
    impl_ = std::make_unique<Impl>(*this);
}

SqliteStore::~SqliteStore() = default;

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path, StoreOptions opts,
                                                       bool create) {
    sqlite::OpenOptions o;
    o.create = create;
    auto db = sqlite::Db::open(path, o);
    if (!db) return db.status();
    if (!create && db.value()->user_version() == 0)
        return Status(Errc::storage, "'" + path + "' is not a Tundra store (run `init` first)");
    TUNDRA_TRY(migrate(*db.value()));
    std::unique_ptr<SqliteStore> s(new SqliteStore(std::move(db.value()), std::move(opts)));
    TUNDRA_TRY(s->impl_->load_meta());
    s->clock_ = HlcClock(s->opts_.wall, s->clock_.last());
    return s;
}

Status SqliteStore::Impl::load_meta() {
    auto q = db.query("SELECT key, value FROM meta WHERE key IN ('version', 'hlc')");
    for (;;) {
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) break;
        uint64_t v = std::stoull(q->text(1));
        if (q->text(0) == "version") version = v;
        else if (v > self.clock_.last().value) self.clock_ = HlcClock(self.opts_.wall, Hlc{v});
    }
    return Status::ok();
}

Status SqliteStore::Impl::save_meta() {
    auto q = db.query("UPDATE meta SET value = ? WHERE key = ?");
    TUNDRA_TRY(q->bind(1, std::to_string(version)).bind(2, "version").run());
    q->reset();
    return q->bind(1, std::to_string(self.clock_.last().value)).bind(2, "hlc").run();
}

uint64_t SqliteStore::current_version() {
    std::lock_guard lock(mu_);
    return impl_->version;
}

Status SqliteStore::check_health() {
    std::lock_guard lock(mu_);
    auto q = db_->query("SELECT 1");
    auto r = q->step();
    return r ? Status::ok() : r.status();
}

Result<int64_t> SqliteStore::count(const std::string& table) {
    std::lock_guard lock(mu_);
    for (auto& e : all_entities()) {
        if (e.table != table && table != "devices" && table != "applied_actions" &&
            table != "users")
            continue;
        auto q = db_->query("SELECT count(*) FROM " + table);
        auto r = q->step();
        if (!r) return r.status();
        return q->int64(0);
    }
    return Result<int64_t>(Errc::invalid_argument, "unknown table " + table);
}

// ---- generic rows -------------------------------------------------------------------------
Result<std::optional<Row>> SqliteStore::Impl::load_row(Kind kind, const std::string& id) {
    return sqlite::load_row(db, kind, id);
}

Status SqliteStore::Impl::write_row(Kind kind, const Row& row) {
    auto& spec = entity(kind);
    std::string cols = column_list(spec), params, updates;
    for (auto& c : spec.columns) {
        params += "?, ";
        if (c.name != "id") updates += std::string(c.name) + " = excluded." + std::string(c.name) + ", ";
    }
    auto q = db.query("INSERT INTO " + std::string(spec.table) + " (" + cols +
                      ", version) VALUES (" + params + "?) ON CONFLICT(id) DO UPDATE SET " +
                      updates + "version = excluded.version");
    int i = 1;
    for (auto& c : spec.columns) {
        auto it = row.find(c.name);
        q->bind_value(i++, it == row.end() ? Value{} : it->second);
    }
    q->bind(i, next_version());
    return q->run();
}

// Gives matching rows a fresh version so that pulls send them again (e.g. the occasions of
// a course whose visibility changed).
Result<std::vector<std::string>> SqliteStore::Impl::select_ids(Kind kind, const std::string& where_sql,
                                                                const std::string& arg) {
    std::vector<std::string> ids;
    auto q = db.query("SELECT id FROM " + std::string(entity(kind).table) + " WHERE " + where_sql);
    q->bind(1, arg);
    for (;;) {
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) break;
        ids.push_back(q->text(0));
    }
    return ids;
}

Status SqliteStore::Impl::touch(Kind kind, const std::string& where_sql, const std::string& arg) {
    auto& spec = entity(kind);
    auto ids = select_ids(kind, where_sql, arg);
    if (!ids) return ids.status();
    auto u = db.query("UPDATE " + std::string(spec.table) + " SET version = ? WHERE id = ?");
    for (auto& id : ids.value()) {
        TUNDRA_TRY(u->bind(1, next_version()).bind(2, id).run());
        u->reset();
    }
    return Status::ok();
}

Status SqliteStore::Impl::tombstone(Kind kind, const std::string& where_sql, const std::string& arg) {
    auto& spec = entity(kind);
    auto ids = select_ids(kind, where_sql, arg);
    if (!ids) return ids.status();
    auto ins = db.query("INSERT INTO tombstones (version, kind, id, deleted_ms) VALUES (?, ?, ?, ?)");
    for (auto& id : ids.value()) {
        TUNDRA_TRY(ins->bind(1, next_version()).bind(2, spec.name).bind(3, id).bind(4, now_ms).run());
        ins->reset();
    }
    return Status::ok();
}

// Forgets deletions older than the retention; devices behind the new floor get a reset.
Status SqliteStore::Impl::purge_tombstones() {
    int64_t last = 0;
    {
        auto q = db.query("SELECT value FROM meta WHERE key = 'last_purge_ms'");
        auto r = q->step();
        if (!r) return r.status();
        if (r.value()) last = std::stoll(q->text(0));
    }
    if (now_ms - last < 3600'000) return Status::ok();  // at most hourly
    int64_t cutoff = now_ms - self.opts_.tombstone_retention_days * 86400'000;
    {
        auto q = db.query(
            "UPDATE meta SET value = (SELECT CAST(max(CAST(value AS INTEGER), (SELECT coalesce(max(version), "
            "0) FROM tombstones WHERE deleted_ms < ?)) AS TEXT)) WHERE key = 'tombstone_floor'");
        TUNDRA_TRY(q->bind(1, cutoff).run());
    }
    {
        auto q = db.query("DELETE FROM tombstones WHERE deleted_ms < ?");
        TUNDRA_TRY(q->bind(1, cutoff).run());
    }
    {
        // The idempotency memory; devices.last_seq stays, so an old retry is still known
        // to be a retry (answered `duplicate`), never applied again.
        auto q = db.query("DELETE FROM applied_actions WHERE applied_ms < ?");
        TUNDRA_TRY(q->bind(1, now_ms - self.opts_.outcome_retention_days * 86400'000).run());
    }
    auto q = db.query("UPDATE meta SET value = ? WHERE key = 'last_purge_ms'");
    return q->bind(1, std::to_string(now_ms)).run();
}

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
        auto u = db_->query(
            "INSERT INTO devices (id, username, name, token_hash, token_expires_ms, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)");
        TUNDRA_TRY(u->bind(1, resp.device_id)
                       .bind(2, req.username)
                       .bind(3, req.device_name)
                       .bind(4, sha256_hex(token))
                       .bind(5, expires)
                       .bind(6, format_iso8601(now))
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
    resp.server_hlc = clock_.now().value;
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

// ---- sync ---------------------------------------------------------------------------------
Result<SyncResponse> SqliteStore::sync(const AuthContext& who, const SyncRequest& req) {
    auto cursor = parse_cursor(req.cursor);
    if (!cursor) return cursor.status();
    // With a byte budget the rows cap only bounds memory; without one it sizes the page.
    int limit = req.limit > 0 ? req.limit : req.max_bytes > 0 ? kMaxPageRows : opts_.default_page_rows;

    std::lock_guard lock(mu_);
    auto& I = *impl_;
    sqlite::Transaction txn(*db_);
    if (Status st = txn.begin(); !st) return st;
    // A failed round must not leave half-advanced counters behind.
    struct Restore {
        Impl& i;
        HlcClock& clock;
        uint64_t v;
        Hlc h;
        bool armed = true;
        ~Restore() {
            if (armed) i.version = v, clock = HlcClock(i.self.opts_.wall, h);
        }
    } restore{I, clock_, I.version, clock_.last()};
    // Another process (import, demo-data) may have written since: counters come from the file.
    if (Status st = I.load_meta(); !st) return st;
    I.now_ms = static_cast<int64_t>(opts_.wall());

    uint64_t last_seq = 0;
    Hlc last_sync;
    std::string old_scope;
    uint64_t full_pull_until = 0;
    {
        auto q = db_->query(
            "SELECT last_seq, last_sync_hlc, scope_hash, full_pull_until FROM devices WHERE id = ?");
        q->bind(1, who.device_id);
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) return Result<SyncResponse>(Errc::unauthorized, "unknown device");
        last_seq = static_cast<uint64_t>(q->int64(0));
        last_sync = Hlc{static_cast<uint64_t>(q->int64(1))};
        old_scope = q->text(2);
        full_pull_until = static_cast<uint64_t>(q->int64(3));
    }
    if (Status st = I.purge_tombstones(); !st) return st;
    SyncResponse resp;
    PullCursor pc = cursor.value();
    const std::string new_scope = scope_hash(who);
    auto start_full_pull = [&] {
        pc = PullCursor{'p', 0, I.version, I.now_ms};
        full_pull_until = I.version;
    };
    if (req.cursor.empty()) {
        start_full_pull();
    } else if (pc.phase != 0) {
        if (old_scope != new_scope) {  // mid full pull, but now entitled to other rows
            start_full_pull();
            resp.reset = true;
        }
    } else {
        uint64_t from = pc.after;
        uint64_t floor = 0;
        auto q = db_->query("SELECT value FROM meta WHERE key = 'tombstone_floor'");
        auto r = q->step();
        if (!r) return r.status();
        if (r.value()) floor = std::stoull(q->text(0));
        // Too far behind to be told what was deleted, or entitled to other rows than it
        // holds: start over from zero and let the device sweep what is not sent again. A
        // device already in such a full pull (cursor below full_pull_until) just goes on.
        bool in_full_pull = from < full_pull_until;
        if ((from < floor && !in_full_pull) || old_scope != new_scope) {
            start_full_pull();
            resp.reset = true;
        }
    }

    for (auto& a : req.actions) {
        if (a.seq <= last_seq) {
            // A retry: answer with the outcome recorded the first time.
            auto q = db_->query("SELECT outcome FROM applied_actions WHERE device = ? AND seq = ?");
            q->bind(1, who.device_id).bind(2, a.seq);
            auto r = q->step();
            if (!r) return r.status();
            Outcome o;
            if (r.value() && decode_outcome(q->text(0))) {
                o = decode_outcome(q->text(0)).value();
            } else {
                o = make_outcome(a, OutcomeResult::applied, reasons::kDuplicate,
                                 "already applied earlier; its outcome is no longer kept");
            }
            resp.outcomes.push_back(std::move(o));
            continue;
        }
        // A stamp from a clock far ahead is limited to server time + max_clock_ahead, so a
        // tablet set to next year cannot win every edit (docs/failure-model.md).
        const Action* act = &a;
        Action limited;
        Hlc bound = Hlc::from_parts(static_cast<uint64_t>(I.now_ms) + opts_.max_clock_ahead_ms, 0);
        bool ahead = a.hlc > bound;
        if (ahead) {
            limited = a;
            limited.hlc = bound;
            act = &limited;
        }
        clock_.observe(act->hlc);
        // Fair order: a stamp earlier than the device's last successful sync is clamped.
        Hlc acted = std::max(act->hlc, last_sync);
        Outcome o;
        {
            sqlite::Savepoint sp(*db_);
            if (!sp.status()) return sp.status();
            uint64_t v_before = I.version;
            auto r = I.apply(who, *act, acted);
            if (r) {
                o = std::move(r.value());
            } else if (r.status().code() == Errc::conflict ||
                       r.status().code() == Errc::invalid_argument) {
                // A row the database refuses is this action's problem, not the round's: a
                // refusal here must never block the device's queue.
                o = make_outcome(a, OutcomeResult::rejected, reasons::kInvalid, r.status().message());
            } else {
                return r.status();  // storage failure: the whole round rolls back
            }
            if (o.result == OutcomeResult::rejected) {
                I.version = v_before;  // the savepoint's destructor undoes any partial write
            } else if (Status st = sp.release(); !st) {
                return st;
            }
        }
        if (ahead && o.result != OutcomeResult::rejected) {
            if (o.result == OutcomeResult::applied) {
                o.result = OutcomeResult::adjusted;
                o.reason = std::string(reasons::kClockAhead);
            }
            o.message = "your device clock is " +
                        std::to_string((a.hlc.physical_ms() - static_cast<uint64_t>(I.now_ms)) / 60000) +
                        " min ahead of the server; the action counts as made at " +
                        format_iso8601(static_cast<int64_t>(bound.physical_ms())) +
                        (o.message.empty() ? "" : "; " + o.message);
        }
        auto ins = db_->query(
            "INSERT INTO applied_actions (device, seq, outcome, applied_ms) VALUES (?, ?, ?, ?)");
        if (Status st = ins->bind(1, who.device_id)
                            .bind(2, a.seq)
                            .bind(3, encode_outcome(o))
                            .bind(4, I.now_ms)
                            .run();
            !st)
            return st;
        last_seq = a.seq;
        resp.outcomes.push_back(std::move(o));
    }

    if (Status st = I.pull(who, pc, limit, req.max_bytes, resp); !st) return st;
    resp.server_hlc = clock_.now().value;
    resp.last_seq = last_seq;
    {
        auto q = db_->query(
            "UPDATE devices SET last_seq = ?, last_sync_hlc = ?, last_seen_ms = ?, "
            "token_expires_ms = max(token_expires_ms, ?), scope_hash = ?, full_pull_until = ? "
            "WHERE id = ?");
        // The clamp bound moves to this round only when the batch was not full: a full batch
        // means the device still holds actions recorded before this round, and those must
        // keep their place (docs/architecture.md, "Fair seats").
        bool drained = req.actions.size() < kMaxActionsPerRequest;
        if (Status st = q->bind(1, last_seq)
                            .bind(2, drained ? resp.server_hlc : last_sync.value)
                            .bind(3, I.now_ms)
                            .bind(4, I.now_ms + opts_.token_lifetime_days * 86400'000)
                            .bind(5, new_scope)
                            .bind(6, full_pull_until)
                            .bind(7, who.device_id)
                            .run();
            !st)
            return st;
    }
    if (Status st = I.save_meta(); !st) return st;
    if (Status st = txn.commit(); !st) return st;
    restore.armed = false;
    return resp;
}

namespace {
// Roughly the bytes a change adds to the JSON page.
size_t estimate(const Change& c) {
    size_t n = 40 + c.id.size();
    for (auto& [k, v] : c.row) {
        n += k.size() + 4;
        if (auto* s = std::get_if<std::string>(&v)) n += s->size() + 2;
        else if (auto* l = std::get_if<StrList>(&v))
            for (auto& x : *l) n += x.size() + 3;
        else n += 8;
    }
    return n;
}
}  // namespace

std::string PullCursor::str() const {
    if (phase == 0) return std::to_string(after);
    return std::string(1, phase) + "." + std::to_string(after) + "." + std::to_string(v0) + "." +
           std::to_string(t0);
}

namespace {
// What a device needs first (issue 4, "priorities"): the occasions of the next 30 days, their
// courses and rosters (enrolments, attendance), the staff it may see and the participant's own
// rows. A predicate over one row and the occasions table, with :t0/:t1 bound.
std::string priority_sql(Kind kind, const std::string& role) {
    const std::string upcoming = "SELECT id FROM occasions WHERE starts_at >= :t0 AND starts_at < :t1";
    switch (kind) {
        case Kind::organisation:
        case Kind::site:
        case Kind::person: return "1";
        case Kind::occasion: return "t.starts_at >= :t0 AND t.starts_at < :t1";
        case Kind::course: return "t.id IN (SELECT course FROM occasions WHERE starts_at >= :t0 AND starts_at < :t1)";
        case Kind::enrolment:
        case Kind::attendance: return role == "participant" ? "1" : "t.occasion IN (" + upcoming + ")";
        case Kind::participation:
        case Kind::time_attestation:
        case Kind::survey_response: return role == "participant" ? "1" : "0";
        case Kind::deviation: return "0";
    }
    return "0";
}

// The rows of one kind a page may take from, given the cursor's phase.
std::string phase_sql(const PullCursor& c, Kind kind, const std::string& role) {
    if (c.phase == 'p')
        return "t.version > :cursor AND t.version <= :v0 AND (" + priority_sql(kind, role) + ")";
    if (c.phase == 'n')
        return "t.version > :cursor AND (t.version > :v0 OR NOT (" + priority_sql(kind, role) + "))";
    return "t.version > :cursor";
}

void bind_phase(sqlite::Stmt& q, const PullCursor& c, const AuthContext& who) {
    q.bind(":cursor", c.after).bind(":v0", c.v0);
    q.bind(":t0", format_iso8601(c.t0)).bind(":t1", format_iso8601(c.t0 + 30LL * 86400'000));
    q.bind(":user", who.username).bind(":person", who.person);
}
}  // namespace

// The rows (and deletions) after `cursor` in its phase, version order, at most limit + 1.
Status SqliteStore::Impl::fetch(const AuthContext& who, const PullCursor& cursor, int limit,
                                std::vector<Change>& changes) {
    for (auto& spec : all_entities()) {
        if (cursor.phase == 'p' && priority_sql(spec.kind, who.role) == "0") continue;
        std::string sql = "SELECT " + column_list(spec, "t") + ", t.version FROM " +
                          std::string(spec.table) + " t WHERE " + phase_sql(cursor, spec.kind, who.role) +
                          " AND (" + scope_sql(spec.kind, who.role) + ") ORDER BY t.version LIMIT :limit";
        auto q = db.query(sql);
        bind_phase(*q, cursor, who);
        q->bind(":limit", limit + 1);
        for (;;) {
            auto r = q->step();
            if (!r) return r.status();
            if (!r.value()) break;
            Change c;
            c.kind = spec.kind;
            c.row = read_row(*q, spec);
            c.id = *get_str(c.row, "id");
            c.version = static_cast<uint64_t>(q->int64(static_cast<int>(spec.columns.size())));
            changes.push_back(std::move(c));
        }
    }
    if (cursor.phase != 'p') {
        // Deletions go to every device: ids only, and a device without the row ignores them.
        // A full pull needs only those made after it began: rows deleted before are not in
        // what it sends (and a reset sweeps what the device held).
        uint64_t since = cursor.phase == 'n' ? std::max(cursor.after, cursor.v0) : cursor.after;
        auto q = db.query(
            "SELECT version, kind, id FROM tombstones WHERE version > ? ORDER BY version LIMIT ?");
        q->bind(1, since).bind(2, limit + 1);
        for (;;) {
            auto r = q->step();
            if (!r) return r.status();
            if (!r.value()) break;
            auto* spec = entity_by_name(q->text(1));
            if (!spec) continue;
            Change c;
            c.kind = spec->kind;
            c.id = q->text(2);
            c.version = static_cast<uint64_t>(q->int64(0));
            c.deleted = true;
            changes.push_back(std::move(c));
        }
    }
    // Taking the `limit` smallest versions over all kinds is exact: any row with a version
    // at or below the new cursor is among them (each kind's query is itself a prefix).
    std::sort(changes.begin(), changes.end(),
              [](const Change& a, const Change& b) { return a.version < b.version; });
    return Status::ok();
}

Result<uint64_t> SqliteStore::Impl::count_remaining(const AuthContext& who, const PullCursor& next) {
    uint64_t remaining = 0;
    std::vector<PullCursor> parts{next};
    if (next.phase == 'p') parts.push_back(PullCursor{'n', 0, next.v0, next.t0});
    for (auto& part : parts)
        for (auto& spec : all_entities()) {
            auto q = db.query("SELECT count(*) FROM " + std::string(spec.table) + " t WHERE " +
                              phase_sql(part, spec.kind, who.role) + " AND (" +
                              scope_sql(spec.kind, who.role) + ")");
            bind_phase(*q, part, who);
            auto r = q->step();
            if (!r) return r.status();
            remaining += static_cast<uint64_t>(q->int64(0));
        }
    if (next.phase != 'p') {
        auto q = db.query("SELECT count(*) FROM tombstones WHERE version > ?");
        q->bind(1, next.phase == 'n' ? std::max(next.after, next.v0) : next.after);
        auto r = q->step();
        if (!r) return r.status();
        remaining += static_cast<uint64_t>(q->int64(0));
    }
    return remaining;
}

Status SqliteStore::Impl::pull(const AuthContext& who, const PullCursor& cursor, int limit,
                               uint64_t max_bytes, SyncResponse& out) {
    // A page fills from the cursor's phase; when the priority part of a full pull runs out,
    // the same page goes on with the rest (no round trip is spent on the boundary).
    PullCursor cur = cursor;
    size_t rows_left = static_cast<size_t>(limit);
    uint64_t bytes = 0;
    out.changes.clear();
    for (;;) {
        std::vector<Change> changes;
        TUNDRA_TRY(fetch(who, cur, static_cast<int>(rows_left), changes));
        size_t keep = std::min(changes.size(), rows_left);
        if (max_bytes > 0) {
            // Cut at the byte budget; the first change of a page always goes, so every page
            // makes progress.
            for (size_t i = 0; i < keep; ++i) {
                bytes += estimate(changes[i]);
                if (bytes > max_bytes && (i > 0 || !out.changes.empty())) {
                    keep = i;
                    break;
                }
            }
        }
        bool cut = keep < changes.size();
        changes.resize(keep);
        if (!changes.empty()) cur.after = changes.back().version;
        rows_left -= keep;
        for (auto& c : changes) out.changes.push_back(std::move(c));
        if (cut) {
            out.more = true;
            break;
        }
        if (cur.phase == 'p') {
            cur = PullCursor{'n', 0, cur.v0, cur.t0};
            if (rows_left > 0 && (max_bytes == 0 || bytes < max_bytes)) continue;
            out.more = true;
            break;
        }
        out.more = false;
        cur = PullCursor{0, std::max(version, std::max(cur.after, cur.v0)), 0, 0};
        break;
    }
    out.cursor = cur.str();
    if (out.more) {
        // Honest progress: how many rows are still to come, from the server's own count.
        auto remaining = count_remaining(who, cur);
        if (!remaining) return remaining.status();
        out.remaining = remaining.value();
        if (out.remaining == 0 && cur.phase == 'n' && cur.after == 0) {
            // The priority part was everything: the full pull is complete.
            out.more = false;
            out.cursor = PullCursor{0, std::max(version, cur.v0), 0, 0}.str();
        }
    }
    return Status::ok();
}

}  // namespace tundra::server
