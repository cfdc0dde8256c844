// Who may see a row, as data: the columns that decide it per kind, and the rows whose
// visibility follows from it. Every write path (actions, import) reports a changed row here
// with its before and after; when a deciding column changed, the row (and its dependents)
// leave every device and come back to whoever may see them now. Also the primitives that do
// it (tombstones, touches) and the retention of deletions.
#include <algorithm>

#include "store_internal.h"

namespace tundra::server {

// ---- who may see what ---------------------------------------------------------------------
// Each (kind, role) names one Scope; the pull renders it to SQL (scope_sql), the write path
// to a C++ check (may_see). A table-driven test asserts both agree on every row.
namespace {
enum class Scope {
    everyone,
    nobody,
    self,                   // a person row: the user's own person
    staff_at_my_sites,      // a person row at one of the coordinator's sites
    own_rows,               // rows whose `person` is the user's person
    rows_of_my_staff,       // rows whose `person` is at one of the coordinator's sites
    catalogue,              // a course published to (or not targeted away from) my organisations
    catalogue_occasion,     // an occasion of such a course
    my_organisations,       // rows whose `organisation` is one of the user's
};

struct ScopeRule {
    Kind kind;
    Role role;
    Scope scope;
};

// Admins see everything. Survey answers stay with the person who gave them; deviations are
// the coordinators' log.
constexpr ScopeRule kScopes[] = {
    {Kind::organisation, Role::participant, Scope::everyone},
    {Kind::organisation, Role::coordinator, Scope::everyone},
    {Kind::site, Role::participant, Scope::everyone},
    {Kind::site, Role::coordinator, Scope::everyone},
    {Kind::person, Role::participant, Scope::self},
    {Kind::person, Role::coordinator, Scope::staff_at_my_sites},
    {Kind::participation, Role::participant, Scope::own_rows},
    {Kind::participation, Role::coordinator, Scope::rows_of_my_staff},
    {Kind::course, Role::participant, Scope::catalogue},
    {Kind::course, Role::coordinator, Scope::catalogue},
    {Kind::occasion, Role::participant, Scope::catalogue_occasion},
    {Kind::occasion, Role::coordinator, Scope::catalogue_occasion},
    {Kind::enrolment, Role::participant, Scope::own_rows},
    {Kind::enrolment, Role::coordinator, Scope::rows_of_my_staff},
    {Kind::attendance, Role::participant, Scope::own_rows},
    {Kind::attendance, Role::coordinator, Scope::rows_of_my_staff},
    {Kind::time_attestation, Role::participant, Scope::own_rows},
    {Kind::time_attestation, Role::coordinator, Scope::rows_of_my_staff},
    {Kind::survey_response, Role::participant, Scope::own_rows},
    {Kind::survey_response, Role::coordinator, Scope::nobody},
    {Kind::deviation, Role::participant, Scope::nobody},
    {Kind::deviation, Role::coordinator, Scope::my_organisations},
};

Scope scope_of(Kind kind, Role role) {
    if (role == Role::admin) return Scope::everyone;
    for (auto& r : kScopes)
        if (r.kind == kind && r.role == role) return r.scope;
    return Scope::nobody;
}

constexpr const char* kMySites = "(SELECT site FROM user_sites WHERE username = :user)";
// kUserOrgsSql, not the view: a query over user_orgs reads every user.
const std::string kMyOrgs = std::string("(") + kUserOrgsSql + ")";

std::string catalogue_sql(const std::string& alias) {
    const std::string c = alias;
    return "(" + c + ".published = 1 AND (NOT EXISTS (SELECT 1 FROM course_organisations co "
           "WHERE co.course = " + c + ".id) OR EXISTS (SELECT 1 FROM course_organisations co "
           "WHERE co.course = " + c + ".id AND co.organisation IN " + kMyOrgs + ")))";
}

std::string str_of(const Row& r, std::string_view k) {
    auto* s = get_str(r, k);
    return s ? *s : std::string();
}

bool contains(const StrList& l, const std::string& v) {
    return std::find(l.begin(), l.end(), v) != l.end();
}
}  // namespace

Role role_of(const std::string& role) {
    if (role == "admin") return Role::admin;
    if (role == "coordinator") return Role::coordinator;
    return Role::participant;
}

// Visibility of each kind for a role, as an SQL condition over alias `t` with the named
// parameters :user and :person. Built from constants only; values are bound.
namespace {
std::string rule_sql(Kind kind, const std::string& role) {
    switch (scope_of(kind, role_of(role))) {
        // Comparisons, not 1/0: PostgreSQL's WHERE takes a boolean only.
        case Scope::everyone: return "1 = 1";
        case Scope::nobody: return "1 = 0";
        case Scope::self: return "t.id = :person";
        case Scope::staff_at_my_sites: return std::string("t.site IN ") + kMySites;
        case Scope::own_rows: return "t.person = :person";
        case Scope::rows_of_my_staff:
            return std::string("t.person IN (SELECT id FROM persons WHERE site IN ") + kMySites + ")";
        case Scope::catalogue: return catalogue_sql("t");
        case Scope::catalogue_occasion:
            // Per row, by the course's key: a list of the whole catalogue would be read in
            // every round that pulls an occasion.
            return "EXISTS (SELECT 1 FROM courses c WHERE c.id = t.course AND " + catalogue_sql("c") + ")";
        case Scope::my_organisations: return std::string("t.organisation IN ") + kMyOrgs;
    }
    return "0";
}

bool has_person_column(Kind kind) {
    for (auto& c : entity(kind).columns)
        if (c.name == "person") return true;
    return false;
}
}  // namespace

// Erased persons (GDPR) stay on the server, with every row under their pseudonym: whatever
// the rule says, no device pulls them (the only exception is the ESF data kept server-side;
// docs/security.md).
bool scope_is_own(Kind kind, const std::string& role) {
    auto s = scope_of(kind, role_of(role));
    return s == Scope::self || s == Scope::own_rows;
}

std::string scope_sql(Kind kind, const std::string& role) {
    std::string rule = rule_sql(kind, role);
    if (kind == Kind::person) return "(" + rule + ") AND t.erased = 0";
    if (has_person_column(kind))
        return "(" + rule + ") AND t.person NOT IN (SELECT id FROM persons WHERE erased = 1)";
    return rule;
}

Result<StrList> SqlStore::Impl::organisations_of(const AuthContext& who) {
    StrList orgs;
    if (!who.person.empty()) {
        auto p = person(who.person);
        if (!p) return p.status();
        if (p.value()) orgs.push_back(p.value()->organisation);
    }
    auto q = db.query("SELECT organisation FROM sites WHERE id = ?");
    for (auto& site : who.sites) {
        q->bind(1, site);
        auto r = q->step();
        if (!r) return r.status();
        if (r.value() && !contains(orgs, q->text(0))) orgs.push_back(q->text(0));
        q->reset();
    }
    return orgs;
}

// The same rules in C++, over one row as the write path sees it.
Result<bool> SqlStore::Impl::may_see(const AuthContext& who, Kind kind, const Row& row) {
    if (kind == Kind::person) {
        auto it = row.find("erased");
        if (it != row.end() && it->second == Value(true)) return false;
    } else if (has_person_column(kind)) {
        auto erased = is_erased_id(str_of(row, "person"));
        if (!erased) return erased.status();
        if (erased.value()) return false;
    }
    switch (scope_of(kind, role_of(who.role))) {
        case Scope::everyone: return true;
        case Scope::nobody: return false;
        case Scope::self: return !who.person.empty() && str_of(row, "id") == who.person;
        case Scope::staff_at_my_sites: return contains(who.sites, str_of(row, "site"));
        case Scope::own_rows: return !who.person.empty() && str_of(row, "person") == who.person;
        case Scope::rows_of_my_staff: {
            auto p = person(str_of(row, "person"));
            if (!p) return p.status();
            return p.value() && contains(who.sites, p.value()->site);
        }
        case Scope::catalogue: {
            auto pub = row.find("published");
            auto* published = pub == row.end() ? nullptr : std::get_if<bool>(&pub->second);
            if (!published || !*published) return false;
            auto tgt = row.find("organisations");
            auto* targets = tgt == row.end() ? nullptr : std::get_if<StrList>(&tgt->second);
            if (!targets || targets->empty()) return true;
            auto mine = organisations_of(who);
            if (!mine) return mine.status();
            for (auto& o : *targets)
                if (contains(mine.value(), o)) return true;
            return false;
        }
        case Scope::catalogue_occasion: {
            auto course = load_row(Kind::course, str_of(row, "course"));
            if (!course) return course.status();
            if (!course.value()) return false;
            return may_see(who, Kind::course, *course.value());
        }
        case Scope::my_organisations: {
            auto mine = organisations_of(who);
            if (!mine) return mine.status();
            return contains(mine.value(), str_of(row, "organisation"));
        }
    }
    return false;
}

Result<SqlStore::VisibleIds> SqlStore::visible_ids(const AuthContext& who, Kind kind) {
    std::lock_guard lock(mu_);
    auto& spec = entity(kind);
    VisibleIds out;
    auto q = db_->query("SELECT t.id FROM " + std::string(spec.table) + " t WHERE " +
                        scope_sql(kind, who.role) + " ORDER BY t.id");
    q->bind(":user", who.username).bind(":person", who.person);
    for (;;) {
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) break;
        out.by_sql.push_back(q->text(0));
    }
    auto all = db_->query("SELECT id FROM " + std::string(spec.table) + " ORDER BY id");
    std::vector<std::string> ids;
    for (;;) {
        auto r = all->step();
        if (!r) return r.status();
        if (!r.value()) break;
        ids.push_back(all->text(0));
    }
    for (auto& id : ids) {
        auto row = impl_->load_row(kind, id);
        if (!row) return row.status();
        auto ok = impl_->may_see(who, kind, *row.value());
        if (!ok) return ok.status();
        if (ok.value()) out.by_cpp.push_back(id);
    }
    return out;
}

// ---- when it changes ----------------------------------------------------------------------
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

Status SqlStore::Impl::visibility_changed(Kind kind, const std::string& id, const Row& before,
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
Result<std::vector<std::string>> SqlStore::Impl::select_ids(Kind kind, const std::string& where_sql,
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

Status SqlStore::Impl::touch(Kind kind, const std::string& where_sql, const std::string& arg) {
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

Status SqlStore::Impl::tombstone(Kind kind, const std::string& where_sql, const std::string& arg) {
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
Status SqlStore::Impl::purge_tombstones() {
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
            // GREATEST by CASE (SQLite has no GREATEST, PostgreSQL no scalar max); BIGINT: 64 bits.
            "UPDATE meta SET value = (SELECT CASE WHEN CAST(meta.value AS BIGINT) > f THEN meta.value "
            "ELSE CAST(f AS TEXT) END FROM (SELECT coalesce(max(version), 0) AS f FROM tombstones "
            "WHERE deleted_ms < ?) tf) WHERE key = 'tombstone_floor'");
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
            "UPDATE applied_actions SET outcome = " + db.json_set("outcome", "message", "CAST('' AS TEXT)") +
            " WHERE applied_ms >= ? AND applied_ms < ?");
        TUNDRA_TRY(q->bind(1, last == 0 ? INT64_MIN : prev).bind(2, keep_from).run());
    }
    auto q = db.query("UPDATE meta SET value = ? WHERE key = 'last_purge_ms'");
    return q->bind(1, std::to_string(now_ms)).run();
}


}  // namespace tundra::server
