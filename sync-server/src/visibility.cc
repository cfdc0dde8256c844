// Who may see a row, as data: the columns that decide it per kind, and the rows whose
// visibility follows from it. Every write path (actions, import) reports a changed row here
// with its before and after; when a deciding column changed, the row (and its dependents)
// leave every device and come back to whoever may see them now. Also the primitives that do
// it (tombstones, touches) and the retention of deletions.
#include "store_internal.h"

namespace tundra::server {
namespace {
struct Dependent {
    Kind kind;
    const char* column;  // the column of the dependent that names the row
};

struct VisibilityRule {
    Kind kind;
    std::initializer_list<std::string_view> columns;  // change any: visibility may change
    std::initializer_list<Dependent> dependents;     // rows that are seen through this one
};

// Mirrors scope_sql (pull.cc): a person is seen by their site's coordinators and by
// themselves; their own rows follow them; a course is seen where it is published and
// targeted; an occasion follows its course; a deviation its organisation.
const VisibilityRule kVisibility[] = {
    {Kind::person,
     {"site", "organisation"},
     {{Kind::enrolment, "person"},
      {Kind::attendance, "person"},
      {Kind::participation, "person"},
      {Kind::time_attestation, "person"},
      {Kind::survey_response, "person"}}},
    {Kind::course, {"published", "organisations"}, {{Kind::occasion, "course"}}},
    {Kind::occasion, {"course"}, {}},
    {Kind::deviation, {"organisation"}, {}},
    {Kind::enrolment, {"person"}, {}},
    {Kind::attendance, {"person"}, {}},
    {Kind::participation, {"person"}, {}},
    {Kind::time_attestation, {"person"}, {}},
    {Kind::survey_response, {"person", "occasion"}, {}},
};

const Value& field(const Row& r, std::string_view k) {
    static const Value kNull;
    auto it = r.find(std::string(k));
    return it == r.end() ? kNull : it->second;
}
}  // namespace

bool visibility_columns_changed(Kind kind, const Row& before, const Row& after) {
    if (before.empty()) return false;  // a new row reaches its viewers with its version
    for (auto& rule : kVisibility) {
        if (rule.kind != kind) continue;
        for (auto col : rule.columns)
            if (field(before, col) != field(after, col)) return true;
    }
    return false;
}

Status SqliteStore::Impl::visibility_changed(Kind kind, const std::string& id, const Row& before,
                                             const Row& after) {
    if (!visibility_columns_changed(kind, before, after)) return Status::ok();
    const VisibilityRule* rule = nullptr;
    for (auto& r : kVisibility)
        if (r.kind == kind) rule = &r;
    // Deletions first, then new versions: a device that may still see a row deletes it and
    // gets it again in the same pull; one that may not keeps only the deletion.
    TUNDRA_TRY(tombstone(kind, "id = ?", id));
    for (auto& d : rule->dependents)
        TUNDRA_TRY(tombstone(d.kind, std::string(d.column) + " = ?", id));
    TUNDRA_TRY(touch(kind, "id = ?", id));
    for (auto& d : rule->dependents) TUNDRA_TRY(touch(d.kind, std::string(d.column) + " = ?", id));
    return Status::ok();
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
        // The exactly-once memory is kept for good: which action each seq was (its hash) and
        // what came of it (result, reason, status). Only the message text is dropped, for the
        // rows that passed the retention since the last purge.
        int64_t keep_from = now_ms - self.opts_.outcome_retention_days * 86400'000;
        int64_t prev = last - self.opts_.outcome_retention_days * 86400'000;
        auto q = db.query(
            "UPDATE applied_actions SET outcome = json_set(outcome, '$.message', '') "
            "WHERE applied_ms >= ? AND applied_ms < ?");
        TUNDRA_TRY(q->bind(1, last == 0 ? INT64_MIN : prev).bind(2, keep_from).run());
    }
    auto q = db.query("UPDATE meta SET value = ? WHERE key = 'last_purge_ms'");
    return q->bind(1, std::to_string(now_ms)).run();
}


}  // namespace tundra::server
