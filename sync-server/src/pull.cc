// Pages of a pull: who may see which rows (as SQL), what a full pull sends first, the rows
// after a cursor in version order, honest remaining counts, and the scope checksum.
#include <algorithm>
#include <cctype>
#include <optional>
#include <set>

#include "row_cache.h"
#include "store_internal.h"
#include "tundra/core/checksum.h"
#include "tundra/core/crypto.h"
#include "tundra/sql/rows.h"

namespace tundra::server {
using sql::column_list;
using sql::read_row;
using Phase = SyncCursor::Phase;

namespace {
// What a device needs first (issue 4, "priorities"): the occasions of the next 30 days, their
// courses and rosters (enrolments, attendance), the staff it may see and the participant's own
// rows. A predicate over one row and the occasions table, with :t0/:t1 bound (always a
// comparison: PostgreSQL's WHERE takes no integer).
std::string priority_sql(Kind kind, const std::string& role) {
    const std::string upcoming = "SELECT id FROM occasions WHERE starts_at >= :t0 AND starts_at < :t1";
    switch (kind) {
        case Kind::organisation:
        case Kind::site:
        case Kind::person: return "1 = 1";
        case Kind::occasion: return "t.starts_at >= :t0 AND t.starts_at < :t1";
        case Kind::course: return "t.id IN (SELECT course FROM occasions WHERE starts_at >= :t0 AND starts_at < :t1)";
        case Kind::enrolment:
        case Kind::attendance: return role == "participant" ? "1 = 1" : "t.occasion IN (" + upcoming + ")";
        case Kind::participation:
        case Kind::time_attestation:
        case Kind::survey_response: return role == "participant" ? "1 = 1" : "1 = 0";
        case Kind::deviation: return "1 = 0";
    }
    return "1 = 0";
}

// The rows of one kind a page may take from, given the cursor's phase.
std::string phase_sql(const SyncCursor& c, Kind kind, const std::string& role) {
    if (c.phase == Phase::priority)
        return "t.version > :cursor AND t.version <= :v0 AND (" + priority_sql(kind, role) + ")";
    if (c.phase == Phase::rest)
        return "t.version > :cursor AND (t.version > :v0 OR NOT (" + priority_sql(kind, role) + "))";
    return "t.version > :cursor";
}

void bind_phase(sql::Stmt& q, const SyncCursor& c, const AuthContext& who) {
    q.bind(":cursor", c.after).bind(":v0", c.v0);
    q.bind(":t0", format_iso8601(c.t0)).bind(":t1", format_iso8601(c.t0 + 30LL * 86400'000));
    q.bind(":user", who.username).bind(":person", who.person);
}

// Roughly the bytes a change adds to the JSON page.
size_t estimate(const Change& c) {
    size_t n = 40 + c.id.size();
    if (c.row_json) return n + c.row_json->size();
    for (auto& [k, v] : c.row) {
        n += k.size() + 4;
        if (auto* s = std::get_if<std::string>(&v)) n += s->size() + 2;
        else if (auto* l = std::get_if<StrList>(&v))
            for (auto& x : *l) n += x.size() + 3;
        else n += 8;
    }
    return n;
}

SyncCursor rest_of(const SyncCursor& c) {
    return SyncCursor{.phase = Phase::rest, .after = 0, .v0 = c.v0, .t0 = c.t0, .scope = c.scope,
                      .remaining = c.remaining};
}
SyncCursor caught_up(uint64_t after, const std::string& scope) {
    return SyncCursor{.phase = Phase::incremental, .after = after, .v0 = 0, .t0 = 0, .scope = scope};
}
}  // namespace

// What a device may see depends on these: its role, person and sites, and the organisations
// they resolve to (which decide the catalogue). Another value means another replica.
Result<std::string> SqlStore::Impl::scope_hash(const AuthContext& who) {
    std::string key = who.role + "|" + who.person + "|";
    for (auto& s : who.sites) key += s + ",";
    key += "|";
    auto q = db.query(kScopeOrgsSql);
    q->bind(":user", who.username);
    std::set<std::string> orgs;  // in SQLite's BINARY order, as the cursor's scope always was
    for (;;) {
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) break;
        orgs.insert(q->text(0));
    }
    for (auto& o : orgs) key += o + ",";
    return sha256_hex(key).substr(0, 16);
}

namespace {
// The scope condition in a form the planner cannot drive from (SQLite: a unary + on the
// row's columns), so that a page walks the version index from the cursor (keyset paging):
// an incremental round costs the rows written since, not the rows the user may see, and a
// page of a full pull of a big scope does not sort the whole scope again.
// PostgreSQL plans from its statistics and takes the condition as it is.
std::string unindexed(sql::Backend backend, const std::string& cond) {
    if (backend != sql::Backend::sqlite) return cond;
    std::string out;
    for (size_t i = 0; i < cond.size(); ++i) {
        bool word_before = i > 0 && (std::isalnum(static_cast<unsigned char>(cond[i - 1])) ||
                                     cond[i - 1] == '_' || cond[i - 1] == '.');
        if (!word_before && cond.compare(i, 2, "t.") == 0) out += '+';
        out += cond[i];
    }
    return out;
}

bool is_dense(const SyncCursor& c) { return c.remaining != SyncCursor::kUnknown && c.remaining * 4 >= c.v0; }

// A full pull most of whose road from here is its own rows: it still has to send at least a
// quarter of the versions it still has to pass (the store's, at its start; then those between
// its cursor and where it began; in the priority phase `remaining` counts the rest phase's rows
// too, which only errs towards bulk). Judged afresh on every page, so its last pages count as
// well as its first: `is_dense` alone turns false for the last quarter of the pull. A few
// dozen rows left say little about density (a participant's own rows near the cursor), and
// keeping them costs the cache nothing.
bool reads_in_bulk(const SyncCursor& c) {
    constexpr uint64_t kFewRows = 64;
    if (c.phase == Phase::incremental || c.remaining == SyncCursor::kUnknown) return false;
    if (is_dense(c)) return true;
    return c.remaining >= kFewRows && c.after < c.v0 && c.remaining * 4 >= c.v0 - c.after;
}

std::string where_sql(sql::Backend backend, Kind kind, const std::string& role, const SyncCursor& c) {
    std::string scope = scope_sql(kind, role);
    // A full pull of a scope that is a small part of the store (a participant's own rows, a
    // coordinator of a few sites) takes its rows by the scope's indexes instead: walking the
    // version index would pass every other row on every page. What it will send is known
    // (counted when it began, carried in the cursor) and v0 is about the store's size.
    bool dense = is_dense(c);
    // A participant's own rows are searched by (person, version) in every phase: walking the
    // version index would pass everybody's enrolments and marks written since to keep theirs.
    if ((c.phase == Phase::incremental || dense) && !scope_is_own(kind, role))
        scope = unindexed(backend, scope);
    return phase_sql(c, kind, role) + " AND (" + scope + ")";
}
}  // namespace

std::string fetch_sql(sql::Backend backend, Kind kind, const std::string& role, const SyncCursor& c) {
    auto& spec = entity(kind);
    return "SELECT " + column_list(spec, "t") + ", t.version FROM " + std::string(spec.table) +
           " t WHERE " + where_sql(backend, kind, role, c) + " ORDER BY t.version LIMIT :limit";
}

std::string count_sql(sql::Backend backend, Kind kind, const std::string& role, const SyncCursor& c) {
    return "SELECT count(*) FROM " + std::string(entity(kind).table) + " t WHERE " +
           where_sql(backend, kind, role, c);
}

// A page's (or a count's) SQL text depends only on the backend, kind, role, phase and whether
// the scope is dense: built once per connection, not in every round. A kind the priority
// phase cannot send (priority_sql "1 = 0") has none: the page and the count skip it.
const std::string& SqlStore::Impl::round_sql(bool count, Kind kind, const std::string& role,
                                             const SyncCursor& c) {
    std::tuple<bool, int, std::string, int, bool> key{count, static_cast<int>(kind), role,
                                                      static_cast<int>(c.phase), is_dense(c)};
    auto it = round_sql_memo.find(key);
    if (it != round_sql_memo.end()) return it->second;
    std::string text;
    if (c.phase != Phase::priority || priority_sql(kind, role) != "1 = 0")
        text = count ? count_sql(db.backend(), kind, role, c) : fetch_sql(db.backend(), kind, role, c);
    return round_sql_memo.emplace(std::move(key), std::move(text)).first->second;
}

const std::string& SqlStore::Impl::whole_count_sql(Kind kind, const std::string& role) {
    std::tuple<bool, int, std::string, int, bool> key{true, static_cast<int>(kind), role, -1, false};
    auto it = round_sql_memo.find(key);
    if (it != round_sql_memo.end()) return it->second;
    // The scope as it is (its indexes may drive the count: a small scope is not found by
    // passing every row of the store).
    std::string text = "SELECT count(*) FROM " + std::string(entity(kind).table) + " t WHERE t.version > :cursor AND (" +
                       scope_sql(kind, role) + ")";
    return round_sql_memo.emplace(std::move(key), std::move(text)).first->second;
}

// The rows (and deletions) after `cursor` in its phase, version order, at most limit + 1.
Status SqlStore::Impl::fetch(const AuthContext& who, const SyncCursor& cursor, int limit,
                                std::vector<Change>& changes, bool& complete) {
    // A dense full pull (most of the store: an admin's first sync) reads past the cache: its
    // rows are seldom asked for again soon, and keeping them would push out the rows every
    // device's rounds share (leveldb's fill_cache = false for bulk reads). Its rows are still
    // written as JSON text straight from the statement.
    const bool bulk = reads_in_bulk(cursor);
    RowCache* cache = bulk ? nullptr : self.row_cache_.get();
    const bool as_text = self.row_cache_ != nullptr;
    complete = true;
    for (auto& spec : all_entities()) {
        size_t before = changes.size();
        const std::string& text = round_sql(false, spec.kind, who.role, cursor);
        if (text.empty()) continue;
        auto q = db.query(text);
        bind_phase(*q, cursor, who);
        q->bind(":limit", limit + 1);
        for (;;) {
            auto r = q->step();
            if (!r) return r.status();
            if (!r.value()) break;
            Change c;
            c.kind = spec.kind;
            c.version = static_cast<uint64_t>(q->int64(static_cast<int>(spec.columns.size())));
            if (!as_text) {
                c.row = read_row(*q, spec);
                c.id = *get_str(c.row, "id");
            } else {
                c.id = q->text(0);  // the first column is always the id
                if (cache) c.row_json = cache->find(spec.kind, c.id, c.version);
                if (!c.row_json) {
                    std::string json = sql::row_json(*q, spec);
                    c.row_json = cache && fills_row_cache
                                     ? cache->insert(spec.kind, c.id, c.version, std::move(json))
                                     : std::make_shared<const std::string>(std::move(json));
                }
            }
            changes.push_back(std::move(c));
        }
        if (changes.size() - before > static_cast<size_t>(limit)) complete = false;
    }
    if (cursor.phase != Phase::priority) {
        size_t before = changes.size();
        // Deletions go to every device: ids only, and a device without the row ignores them.
        // A full pull needs only those made after it began: rows deleted before are not in
        // what it sends (and the sweep at its end removes what the device held).
        auto q = db.query(
            "SELECT version, kind, id FROM tombstones WHERE version > ? ORDER BY version LIMIT ?");
        q->bind(1, cursor.tombstones_after()).bind(2, limit + 1);
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
        if (changes.size() - before > static_cast<size_t>(limit)) complete = false;
    }
    // Taking the `limit` smallest versions over all kinds is exact: any row with a version
    // at or below the new cursor is among them (each kind's query is itself a prefix).
    std::sort(changes.begin(), changes.end(),
              [](const Change& a, const Change& b) { return a.version < b.version; });
    return Status::ok();
}

Result<uint64_t> SqlStore::Impl::count_remaining(const AuthContext& who, const SyncCursor& next) {
    uint64_t remaining = 0;
    auto count = [&](const std::string& text, const SyncCursor& at) -> Status {
        if (text.empty()) return Status::ok();
        auto q = db.query(text);
        bind_phase(*q, at, who);
        auto r = q->step();
        if (!r) return r.status();
        remaining += static_cast<uint64_t>(q->int64(0));
        return Status::ok();
    };
    if (next.phase == Phase::priority && next.after == 0) {
        // A full pull from its start: the priority part and the rest together are every row
        // the user may see (the parts split them by version and the priority condition), so
        // one count per kind instead of one per part. Deletions are not sent by a full pull's
        // priority part, and the rest's start later.
        for (auto& spec : all_entities()) TUNDRA_TRY(count(whole_count_sql(spec.kind, who.role), next));
        return remaining;
    }
    std::vector<SyncCursor> parts{next};
    if (next.phase == Phase::priority) parts.push_back(rest_of(next));
    for (auto& part : parts)
        for (auto& spec : all_entities()) TUNDRA_TRY(count(round_sql(true, spec.kind, who.role, part), part));
    if (next.phase != Phase::priority) {
        auto q = db.query("SELECT count(*) FROM tombstones WHERE version > ?");
        q->bind(1, next.tombstones_after());
        auto r = q->step();
        if (!r) return r.status();
        remaining += static_cast<uint64_t>(q->int64(0));
    }
    return remaining;
}

Result<SyncCursor> SqlStore::Impl::pull(const AuthContext& who, const SyncCursor& from,
                                           int limit, uint64_t max_bytes, SyncResponse& out) {
    out.changes.clear();
    if (from.phase == Phase::incremental && from.after >= version) {
        // Nothing can be new: every row and deletion has a version, and none is above the
        // cursor. The answer costs no query, however big the store.
        ++self.noop_rounds_;
        out.more = false;
        return caught_up(from.after, from.scope);
    }
    // A page fills from the cursor's phase; when the priority part of a full pull runs out,
    // the same page goes on with the rest (no round trip is spent on the boundary).
    SyncCursor cur = from;
    if (cur.remaining == SyncCursor::kUnknown && cur.phase == Phase::priority && cur.after == 0) {
        // The first page of a full pull: count once everything it will send.
        auto n = count_remaining(who, cur);
        if (!n) return n.status();
        cur.remaining = n.value();
    }
    const uint64_t known = cur.remaining;  // what was still to send before this page
    size_t rows_left = static_cast<size_t>(limit);
    uint64_t bytes = 0;
    // An incremental page cut from a batch that held everything after the cursor knows what
    // remains without counting: the rest of that batch.
    std::optional<uint64_t> left_in_batch;
    for (;;) {
        // With a byte budget, rows are taken in batches of about what the budget has room for
        // (the rows sent so far tell their size): a device far behind asks for 64 KB, and a
        // page must not read and check thousands of rows to send a hundred and fifty of them.
        size_t want = rows_left;
        if (max_bytes > 0) {
            uint64_t room = max_bytes > bytes ? max_bytes - bytes : 0;
            uint64_t per_row = out.changes.empty() ? 256 : std::max<uint64_t>(64, bytes / out.changes.size());
            want = std::min<size_t>(rows_left, static_cast<size_t>(room / per_row) + 16);
        }
        std::vector<Change> changes;
        bool complete = false;
        TUNDRA_TRY(fetch(who, cur, static_cast<int>(want), changes, complete));
        size_t keep = std::min(changes.size(), want);
        bool over_budget = false;
        if (max_bytes > 0) {
            // Cut at the byte budget; the first change of a page always goes, so every page
            // makes progress.
            for (size_t i = 0; i < keep; ++i) {
                bytes += estimate(changes[i]);
                if (bytes > max_bytes && (i > 0 || !out.changes.empty())) {
                    keep = i;
                    over_budget = true;
                    break;
                }
            }
        }
        bool cut = keep < changes.size();
        left_in_batch.reset();
        if (cut && complete && cur.phase == Phase::incremental) left_in_batch = changes.size() - keep;
        changes.resize(keep);
        if (!changes.empty()) cur.after = changes.back().version;
        rows_left -= keep;
        for (auto& c : changes) out.changes.push_back(std::move(c));
        // The batch ran out with room left on the page: the next batch, from the new cursor.
        if (cut && !over_budget && rows_left > 0) continue;
        if (cut) {
            out.more = true;
            break;
        }
        if (cur.phase == Phase::priority) {
            cur = rest_of(cur);
            if (rows_left > 0 && (max_bytes == 0 || bytes < max_bytes)) continue;
            out.more = true;
            break;
        }
        out.more = false;
        cur = caught_up(std::max(version, std::max(cur.after, cur.v0)), cur.scope);
        break;
    }
    if (out.more) {
        // Honest progress: how many rows are still to come. The count carried in the cursor,
        // lowered by this page; counted again only when it runs out while rows remain (rows
        // written during the pull), which happens at most once per that many rows sent.
        uint64_t sent = out.changes.size();
        if (known != SyncCursor::kUnknown && known > sent) {
            out.remaining = known - sent;
        } else if (left_in_batch) {
            out.remaining = *left_in_batch;
        } else {
            auto remaining = count_remaining(who, cur);
            if (!remaining) return remaining.status();
            out.remaining = remaining.value();
        }
        if (out.remaining == 0 && cur.phase == Phase::rest && cur.after == 0) {
            // The priority part was everything: the full pull is complete.
            out.more = false;
            cur = caught_up(std::max(version, cur.v0), cur.scope);
        } else {
            cur.remaining = out.remaining;
        }
    }
    return cur;
}

// Every row `who` may see, as (kind, id, version): the device compares it with its own.
Result<ScopeChecksum> SqlStore::Impl::checksum(const AuthContext& who) {
    ChecksumBuilder sum;
    for (auto& spec : all_entities()) {
        auto q = db.query("SELECT t.id, t.version FROM " + std::string(spec.table) + " t WHERE " +
                          scope_sql(spec.kind, who.role));
        q->bind(":user", who.username).bind(":person", who.person);
        for (;;) {
            auto r = q->step();
            if (!r) return r.status();
            if (!r.value()) break;
            sum.add(spec.name, q->text(0), static_cast<uint64_t>(q->int64(1)));
        }
    }
    return sum.result();
}

}  // namespace tundra::server
