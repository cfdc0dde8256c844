// Attendance on the server: marks by staff and self check-ins, and walk-ins (a person who
// turned up without an enrolment). The figures feed ESF reports, so each kind of mark has
// its rules (docs/protocol.md, "Attendance"); import is exempt.
#include <algorithm>

#include "store_internal.h"

namespace tundra::server {
namespace {
// A participant may check in from 30 minutes before the occasion starts until 24 hours
// after it ends (by the action's stamp: a check-in made offline counts when it was made).
constexpr int64_t kCheckInOpensBeforeMs = 30 * 60'000;
constexpr int64_t kCheckInClosesAfterMs = 24 * 3600'000;
constexpr int64_t kMaxMarkMinutes = 24 * 60;

std::string str(const Row& r, std::string_view k) {
    auto* s = get_str(r, k);
    return s ? *s : std::string();
}

Outcome rejected(const Action& a, std::string_view reason, std::string msg) {
    return make_outcome(a, OutcomeResult::rejected, reason, std::move(msg));
}
}  // namespace

// The status of the person's requested, confirmed or waitlisted enrolment, or "".
Result<std::string> SqlStore::Impl::active_enrolment_status(const std::string& occasion,
                                                               const std::string& person) {
    auto q = db.query(
        "SELECT status FROM enrolments WHERE occasion = ? AND person = ? AND status IN "
        "('requested', 'confirmed', 'waitlisted') ORDER BY status = 'confirmed' DESC LIMIT 1");
    q->bind(1, occasion).bind(2, person);
    auto r = q->step();
    if (!r) return r.status();
    return r.value() ? q->text(0) : std::string();
}

// Writes the action's mark (fields mark, occasion, person, status, minutes) and answers
// whether it is the current one: the newest by (source rank, HLC, device), so staff's
// correction outranks a self check-in stamped later.
Result<Outcome> SqlStore::Impl::write_mark(const AuthContext& who, const Action& a,
                                              const std::string& source) {
    const std::string id = str(a.fields, "mark");
    const std::string occ_id = str(a.fields, "occasion");
    const std::string person_id = str(a.fields, "person");
    const std::string status = a.fields.count("status") ? str(a.fields, "status") : "present";
    auto minutes = get_int(a.fields, "minutes");
    Row row{{"id", id},
            {"occasion", occ_id},
            {"person", person_id},
            {"status", status},
            {"minutes", minutes ? Value(*minutes) : Value()},
            {"recorded_by", who.username},
            {"source", source},
            {"hlc", static_cast<int64_t>(a.hlc.value)},
            {"device", who.device_id}};
    TUNDRA_TRY(write_row(Kind::attendance, row));
    auto q = db.query("SELECT id, coalesce(recorded_by, ''), status FROM attendance a WHERE "
                      "occasion = ? AND person = ? ORDER BY " +
                      attendance_current_order_sql("a") + ", a.id DESC LIMIT 1");
    q->bind(1, occ_id).bind(2, person_id);
    auto r = q->step();
    if (!r) return r.status();
    if (r.value() && q->text(0) != id)
        return make_outcome(a, OutcomeResult::adjusted, reasons::kSuperseded,
                            "kept in history; a mark by " + q->text(1) + " (" + q->text(2) +
                                ") is current",
                            q->text(2));
    return make_outcome(a, OutcomeResult::applied, "", "attendance recorded", status);
}

Result<Outcome> SqlStore::Impl::mark_attendance(const AuthContext& who, const Action& a,
                                                   Hlc acted) {
    auto t = target(who, a);
    if (!t) return t.status();
    if (t->refusal) return *t->refusal;
    const OccasionInfo& o = t->occasion;
    const std::string& person_id = t->person.id;
    auto minutes = get_int(a.fields, "minutes");
    if (minutes && (*minutes < 0 || *minutes > kMaxMarkMinutes))
        return rejected(a, reasons::kInvalid, "minutes must be between 0 and 1440");
    auto enrolled = active_enrolment_status(o.id, person_id);
    if (!enrolled) return enrolled.status();
    if (role_of(who.role) == Role::participant) {
        // target() let a participant name only their own person.
        if (enrolled.value() != "confirmed")
            return rejected(a, reasons::kNotEnrolled,
                            "you can check in only where you have a confirmed place; '" + o.id +
                                "' is not one");
        int64_t at = static_cast<int64_t>(acted.physical_ms());
        if (at < o.starts_ms - kCheckInOpensBeforeMs || at > o.ends_ms + kCheckInClosesAfterMs)
            return rejected(a, reasons::kOutsideWindow,
                            "check-in for '" + o.id + "' is open from " +
                                format_iso8601(o.starts_ms - kCheckInOpensBeforeMs) + " to " +
                                format_iso8601(o.ends_ms + kCheckInClosesAfterMs));
        int64_t length = (o.ends_ms - o.starts_ms) / 60'000;
        if (minutes && *minutes > length)
            return rejected(a, reasons::kInvalid,
                            "minutes must be at most the occasion's length (" +
                                std::to_string(length) + ")");
        return write_mark(who, a, "self_check_in");
    }
    if (enrolled.value() != "confirmed" && enrolled.value() != "waitlisted")
        return rejected(a, reasons::kNotEnrolled,
                        "'" + person_id + "' has no confirmed or waitlisted place on '" + o.id +
                            "': record a walk-in instead");
    return write_mark(who, a, "coordinator");
}

// A walk-in who is no person in the store yet: staff register her with name, site and gender
// as a provisional person (organisation = the site's), matched to the staff register later by
// merge_person or by an import with the same personal_id (merge.cc). A session at a rural
// site is never blocked by a missing record. Coordinators register at their own sites.
Result<std::optional<Outcome>> SqlStore::Impl::register_walk_in(const AuthContext& who,
                                                                   const Action& a) {
    const std::string person_id = str(a.fields, "person");
    const std::string site = str(a.fields, "site");
    const std::string name = str(a.fields, "name");
    if (name.empty() || site.empty() || !get_str(a.fields, "gender"))
        return std::optional(rejected(a, reasons::kInvalid,
                                      "a walk-in who is not yet a person needs name, site and gender"));
    auto taken = load_row(Kind::person, person_id);
    if (!taken) return taken.status();
    // Whoever's id it is: the answer tells nothing about a person the actor may not see.
    if (taken.value())
        return std::optional(rejected(a, reasons::kIdConflict, "person id '" + person_id + "' is taken"));
    auto q = db.query("SELECT organisation FROM sites WHERE id = ?");
    q->bind(1, site);
    auto r = q->step();
    if (!r) return r.status();
    if (!r.value()) return std::optional(rejected(a, reasons::kNotFound, "site '" + site + "' does not exist"));
    const std::string organisation = q->text(0);
    if (role_of(who.role) == Role::coordinator && std::find(who.sites.begin(), who.sites.end(), site) == who.sites.end())
        return std::optional(rejected(a, reasons::kForbidden, "site '" + site + "' is not one of yours"));
    auto born = get_int(a.fields, "birth_year");
    int64_t this_year = std::stoll(format_iso8601(now_ms).substr(0, 4));
    if (born && (*born < 1900 || *born > this_year))
        return std::optional(rejected(a, reasons::kInvalid,
                                      "birth_year must be between 1900 and " + std::to_string(this_year)));
    auto ins = db.query(
        "INSERT INTO persons (id, organisation, site, name, gender, birth_year, personal_id, provisional, "
        "version) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)");
    ins->bind(1, person_id).bind(2, organisation).bind(3, site).bind(4, name).bind(5, str(a.fields, "gender"));
    if (born) ins->bind(6, *born);
    else ins->bind(6, nullptr);
    if (auto* pid = get_str(a.fields, "personal_id"); pid && !pid->empty()) ins->bind(7, *pid);
    else ins->bind(7, nullptr);
    TUNDRA_TRY(ins->bind(8, next_version()).run());
    return std::optional<Outcome>();
}

// One action for a person who turned up without an enrolment: a confirmed enrolment (reason
// `walk_in`, over capacity if need be, taking nobody's seat) and their mark; with `name`, the
// person is registered by the same action (register_walk_in).
Result<Outcome> SqlStore::Impl::walk_in(const AuthContext& who, const Action& a, Hlc acted) {
    bool new_person = a.fields.count("name") > 0;
    if (new_person) {
        if (role_of(who.role) == Role::participant)
            return rejected(a, reasons::kForbidden, "only staff record walk-ins");
        // Nothing is registered for an occasion the actor cannot see.
        auto refused = visible_ref(who, a, Kind::occasion, str(a.fields, "occasion"));
        if (!refused) return refused.status();
        if (refused.value()) return *refused.value();
        auto registered = register_walk_in(who, a);
        if (!registered) return registered.status();
        if (registered.value()) return *registered.value();
    } else {
        for (auto k : {"site", "gender", "birth_year", "personal_id"})
            if (a.fields.count(k))
                return rejected(a, reasons::kInvalid,
                                std::string(k) + " describes a walk-in who is not yet a person: give name too");
    }
    auto t = target(who, a);
    if (!t) return t.status();
    if (t->refusal) return *t->refusal;
    if (role_of(who.role) == Role::participant)
        return rejected(a, reasons::kForbidden, "only staff record walk-ins");
    const OccasionInfo& o = t->occasion;
    const std::string& person_id = t->person.id;
    const std::string id = str(a.fields, "enrolment");
    const std::string mark = str(a.fields, "mark");
    if (o.status == "cancelled")
        return rejected(a, reasons::kOccasionCancelled, "occasion '" + o.id + "' is cancelled");
    auto minutes = get_int(a.fields, "minutes");
    if (minutes && (*minutes < 0 || *minutes > kMaxMarkMinutes))
        return rejected(a, reasons::kInvalid, "minutes must be between 0 and 1440");
    auto taken = load_row(Kind::attendance, mark);
    if (!taken) return taken.status();
    if (taken.value()) return rejected(a, reasons::kIdConflict, "attendance id '" + mark + "' is taken");
    auto enrolled = active_enrolment_status(o.id, person_id);
    if (!enrolled) return enrolled.status();
    if (!enrolled.value().empty())
        return rejected(a, reasons::kAlreadyEnrolled,
                        "'" + person_id + "' is already enrolled (" + enrolled.value() +
                            "): mark their attendance instead");
    TUNDRA_TRY(insert_enrolment(who, a, acted, id, o.id, person_id, "confirmed",
                                std::string(reasons::kWalkIn)));
    TUNDRA_TRY(reallocate(o.id));  // seat counts now include the walk-in
    auto marked = write_mark(who, a, "coordinator");
    if (!marked) return marked.status();
    bool over = o.confirmed + 1 > o.capacity;
    return make_outcome(a, OutcomeResult::applied, "",
                        "walk-in: '" + person_id + "'" + (new_person ? " registered (provisional)," : "") +
                            " confirmed" +
                            (over ? " over capacity" : "") + " and marked " +
                            (a.fields.count("status") ? str(a.fields, "status") : "present"),
                        "confirmed");
}

}  // namespace tundra::server
