// How each action takes effect on the server: scope checks, business rules, fair seats
// and per-field last-writer-wins. Storage failures are errors; refusals are outcomes.
#include <algorithm>

#include "store_internal.h"
#include "tundra/core/seats.h"

namespace tundra::server {
namespace {
std::string str(const Row& r, std::string_view k) {
    auto* s = get_str(r, k);
    return s ? *s : std::string();
}

Outcome rejected(const Action& a, std::string_view reason, std::string msg) {
    return make_outcome(a, OutcomeResult::rejected, reason, std::move(msg));
}

bool contains(const StrList& l, const std::string& v) {
    return std::find(l.begin(), l.end(), v) != l.end();
}

int64_t iso_ms(const Row& r, std::string_view k) {
    auto* s = get_str(r, k);
    if (!s) return 0;
    auto t = parse_iso8601(*s);
    return t ? t.value() : 0;
}
}  // namespace

Result<std::optional<PersonInfo>> SqlStore::Impl::person(const std::string& id) {
    auto q = db.query("SELECT organisation, coalesce(site, '') FROM persons WHERE id = ?");
    q->bind(1, id);
    auto r = q->step();
    if (!r) return r.status();
    if (!r.value()) return std::optional<PersonInfo>();
    return std::optional<PersonInfo>(PersonInfo{id, q->text(0), q->text(1)});
}

Result<std::optional<OccasionInfo>> SqlStore::Impl::occasion(const std::string& id) {
    auto row = load_row(Kind::occasion, id);
    if (!row) return row.status();
    if (!row.value()) return std::optional<OccasionInfo>();
    const Row& r = *row.value();
    OccasionInfo o;
    o.id = id;
    o.course = str(r, "course");
    o.status = str(r, "status");
    o.capacity = get_int(r, "capacity").value_or(0);
    o.opens_ms = iso_ms(r, "enrolment_opens");
    o.closes_ms = iso_ms(r, "enrolment_closes");
    o.starts_ms = iso_ms(r, "starts_at");
    o.ends_ms = iso_ms(r, "ends_at");
    o.survey_closes_ms = survey_closes_ms(o.ends_ms, str(r, "survey_closes"));
    o.confirmed = get_int(r, "confirmed").value_or(0);
    o.waitlisted = get_int(r, "waitlisted").value_or(0);
    return std::optional<OccasionInfo>(o);
}

// The refusal for an id that does not exist and for one the actor may not see: the same
// reason and words, so that a refusal never tells which.
Outcome unknown_id(const Action& a, Kind kind, const std::string& id) {
    return rejected(a, reasons::kNotFound,
                    std::string(entity(kind).name) + " '" + id + "' does not exist");
}

// A row an action refers to (its occasion, its person): unknown and out of sight alike are
// `not_found`.
Result<std::optional<Outcome>> SqlStore::Impl::visible_ref(const AuthContext& who,
                                                             const Action& a, Kind kind,
                                                             const std::string& id) {
    auto row = load_row(kind, id);
    if (!row) return row.status();
    if (row.value()) {
        auto ok = may_see(who, kind, *row.value());
        if (!ok) return ok.status();
        if (ok.value()) return std::optional<Outcome>();
    }
    return std::optional<Outcome>(unknown_id(a, kind, id));
}

// The server side of each action type, by wire name (the fields are in core's ActionSpec):
// a table, so that a new type is one line here and one ActionSpec in core.
//
// Every action passes the same checks around its handler, whatever its kind:
// - limits: ids, text and lists within the storage limits (core `check_action_limits`),
//   values within their enumerations (`validate_action`), and the device's daily quota
//   (`quota_refusal`);
// - the row as stored: an action that changes a row must be allowed to see it as it is now
//   (`scope_before`); one it may not see is answered like an unknown id;
// - the row as it became: the actor must still be allowed to see it (`scope_after`), or the
//   write is undone (`apply` rolls back the savepoint of a rejected action) and refused
//   `forbidden`. So no action moves a row into or out of anybody's scope but the actor's own.
Result<Outcome> SqlStore::Impl::dispatch(const AuthContext& who, const Action& a, Hlc acted) {
    struct Handler {
        std::string_view type;
        Result<Outcome> (*apply)(Impl&, const AuthContext&, const Action&, Hlc acted);
    };
    static constexpr Handler kHandlers[] = {
        {"enrol", [](Impl& i, const AuthContext& w, const Action& x, Hlc t) { return i.enrol(w, x, t); }},
        {"cancel_enrolment", [](Impl& i, const AuthContext& w, const Action& x, Hlc) { return i.cancel_enrolment(w, x); }},
        {"mark_attendance", [](Impl& i, const AuthContext& w, const Action& x, Hlc t) { return i.mark_attendance(w, x, t); }},
        {"walk_in", [](Impl& i, const AuthContext& w, const Action& x, Hlc t) { return i.walk_in(w, x, t); }},
        {"upsert_course", [](Impl& i, const AuthContext& w, const Action& x, Hlc) { return i.upsert_course(w, x); }},
        {"upsert_occasion", [](Impl& i, const AuthContext& w, const Action& x, Hlc) { return i.upsert_occasion(w, x); }},
        {"delete_occasion", [](Impl& i, const AuthContext& w, const Action& x, Hlc) { return i.delete_occasion(w, x); }},
        {"update_person", [](Impl& i, const AuthContext& w, const Action& x, Hlc) { return i.update_person(w, x); }},
        {"attest_time", [](Impl& i, const AuthContext& w, const Action& x, Hlc) { return i.attest_time(w, x); }},
        {"submit_survey", [](Impl& i, const AuthContext& w, const Action& x, Hlc t) { return i.submit_survey(w, x, t); }},
        {"log_deviation", [](Impl& i, const AuthContext& w, const Action& x, Hlc) { return i.log_deviation(w, x); }},
        {"upsert_participation", [](Impl& i, const AuthContext& w, const Action& x, Hlc) { return i.upsert_participation(w, x); }},
        {"upsert_organisation", [](Impl& i, const AuthContext& w, const Action& x, Hlc) { return i.upsert_organisation(w, x); }},
        {"upsert_site", [](Impl& i, const AuthContext& w, const Action& x, Hlc) { return i.upsert_site(w, x); }},
        {"add_person", [](Impl& i, const AuthContext& w, const Action& x, Hlc) { return i.add_person(w, x); }},
    };
    const Handler* handler = nullptr;
    for (auto& h : kHandlers)
        if (h.type == a.type) handler = &h;
    if (!handler) return rejected(a, reasons::kInvalid, "unknown action type '" + a.type + "'");
    if (Status st = check_action_limits(a, "action"); !st)
        return rejected(a, reasons::kInvalid, st.message());
    // The request was decoded for its shape only: a value outside an enumeration (an older
    // client's free-text deviation category) is this action's refusal, not the request's.
    if (Status st = validate_action(a, "action"); !st) return rejected(a, reasons::kInvalid, st.message());
    // GDPR: nothing more is written about an erased person (privacy.cc).
    auto erased = refuse_if_erased(a);
    if (!erased) return erased.status();
    if (erased.value()) return *erased.value();
    auto over = quota_refusal(who, a);
    if (!over) return over.status();
    if (over.value()) return *over.value();
    auto before = scope_before(who, a);
    if (!before) return before.status();
    if (before.value()) return *before.value();
    auto r = handler->apply(*this, who, a, acted);
    if (!r || r->result == OutcomeResult::rejected) return r;
    auto after = scope_after(who, a);
    if (!after) return after.status();
    if (after.value()) return *after.value();
    TUNDRA_TRY(count_quota(who, a));
    return r;
}

Result<std::optional<Outcome>> SqlStore::Impl::scope_before(const AuthContext& who,
                                                              const Action& a) {
    const ActionSpec& spec = *action_spec(a.type);
    const std::string& id = a.target_id();
    auto row = load_row(spec.target, id);
    if (!row) return row.status();
    if (!row.value()) {
        if (spec.write == ActionWrite::changes) return std::optional(unknown_id(a, spec.target, id));
        return std::optional<Outcome>();
    }
    // A new row under an id in use: refused whoever's row it is, so the answer tells nothing
    // about the row's scope (client ids are random; docs/security.md#scope-on-every-write-attendance-findings-2-3).
    if (spec.write == ActionWrite::creates)
        return std::optional(rejected(a, reasons::kIdConflict,
                                      std::string(entity(spec.target).name) + " id '" + id +
                                          "' is taken"));
    auto ok = may_see(who, spec.target, *row.value());
    if (!ok) return ok.status();
    if (!ok.value()) return std::optional(unknown_id(a, spec.target, id));
    return std::optional<Outcome>();
}

Result<std::optional<Outcome>> SqlStore::Impl::scope_after(const AuthContext& who,
                                                             const Action& a) {
    const ActionSpec& spec = *action_spec(a.type);
    const std::string& id = a.target_id();
    auto row = load_row(spec.target, id);
    if (!row) return row.status();
    if (!row.value()) return std::optional<Outcome>();  // deleted, or kept under another id
    auto ok = may_see(who, spec.target, *row.value());
    if (!ok) return ok.status();
    if (ok.value()) return std::optional<Outcome>();
    return std::optional(rejected(a, reasons::kForbidden,
                                  "this would take " + std::string(entity(spec.target).name) +
                                      " '" + id + "' out of your scope"));
}

// ---- the daily quota ----------------------------------------------------------------------
// Each device may store a bounded number of actions, and of action bytes, per UTC day
// (StoreOptions). The count is kept in the store, in the round's transaction, so several
// server processes share it and a rolled-back round counts nothing.
Result<std::optional<Outcome>> SqlStore::Impl::quota_refusal(const AuthContext& who,
                                                               const Action& a) {
    auto q = db.query("SELECT actions, bytes FROM action_quota WHERE device = ? AND day = ?");
    q->bind(1, who.device_id).bind(2, now_ms / 86400'000);
    auto r = q->step();
    if (!r) return r.status();
    int64_t actions = r.value() ? q->int64(0) : 0, bytes = r.value() ? q->int64(1) : 0;
    int64_t size = static_cast<int64_t>(encode_action(a).size());
    if (actions + 1 > self.opts_.device_daily_actions || bytes + size > self.opts_.device_daily_bytes)
        return std::optional(rejected(
            a, reasons::kQuotaExceeded,
            "this device has stored its allowance for today (" +
                std::to_string(self.opts_.device_daily_actions) + " actions or " +
                std::to_string(self.opts_.device_daily_bytes) +
                " bytes a day); nothing was applied: record it again tomorrow or ask an admin"));
    return std::optional<Outcome>();
}

Status SqlStore::Impl::count_quota(const AuthContext& who, const Action& a) {
    auto q = db.query(
        "INSERT INTO action_quota (device, day, actions, bytes) VALUES (?, ?, 1, ?) "
        // The existing row's columns qualified: PostgreSQL finds a bare name ambiguous beside excluded.
        "ON CONFLICT(device, day) DO UPDATE SET actions = action_quota.actions + 1, "
        "bytes = action_quota.bytes + excluded.bytes");
    return q->bind(1, who.device_id)
        .bind(2, now_ms / 86400'000)
        .bind(3, static_cast<int64_t>(encode_action(a).size()))
        .run();
}

// ---- seats --------------------------------------------------------------------------------
// The enrolments of an occasion that seats are decided for: all but walk-ins, which are
// confirmed over and above the seats (neither taking nor losing one, never waitlisted).
// Cancelled and rejected rows come too, so that a position they still hold is cleared.
Result<std::vector<SeatEntry>> SqlStore::Impl::seat_entries(const std::string& occasion_id) {
    std::vector<SeatEntry> entries;
    auto q = db.query(
        "SELECT id, acted_hlc, coalesce(device, ''), status, coalesce(reason, ''), "
        "waitlist_position FROM enrolments WHERE occasion = ? "
        "AND NOT (status = 'confirmed' AND coalesce(reason, '') = 'walk_in')");  // not `IS 'x'`: SQLite's
    q->bind(1, occasion_id);
    for (;;) {
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) break;
        std::optional<int64_t> position;
        if (!q->is_null(5)) position = q->int64(5);
        entries.push_back({q->text(0), Hlc{static_cast<uint64_t>(q->int64(1))}, q->text(2),
                           q->text(3), q->text(4), position});
    }
    return entries;
}

// One new version per changed row: devices pull exactly the rows that moved.
Status SqlStore::Impl::write_seats(const std::vector<SeatChange>& changes) {
    auto u = db.query(
        "UPDATE enrolments SET status = ?, reason = ?, waitlist_position = ?, version = ? WHERE id = ?");
    for (auto& c : changes) {
        u->bind(1, c.status);
        if (c.reason.empty()) u->bind(2, nullptr);
        else u->bind(2, c.reason);
        if (c.position) u->bind(3, *c.position);
        else u->bind(3, nullptr);
        TUNDRA_TRY(u->bind(4, next_version()).bind(5, c.id).run());
        u->reset();
    }
    return Status::ok();
}

Status SqlStore::Impl::renumber_waitlist(const std::string& occasion_id) {
    auto entries = seat_entries(occasion_id);
    if (!entries) return entries.status();
    return write_seats(number_waitlist(std::move(entries.value())));
}

Status SqlStore::Impl::reallocate(const std::string& occasion_id) {
    auto occ = occasion(occasion_id);
    if (!occ) return occ.status();
    if (!occ.value()) return Status::ok();
    const OccasionInfo& o = *occ.value();
    auto entries = seat_entries(occasion_id);
    if (!entries) return entries.status();
    bool closed = now_ms >= o.closes_ms;
    TUNDRA_TRY(write_seats(allocate_seats(std::move(entries.value()), o.capacity, closed)));
    auto cnt = db.query(
        "SELECT count(*) FILTER (WHERE status = 'confirmed'), count(*) FILTER (WHERE status = "
        "'waitlisted') FROM enrolments WHERE occasion = ?");
    cnt->bind(1, occasion_id);
    auto r = cnt->step();
    if (!r) return r.status();
    int64_t confirmed = cnt->int64(0), waitlisted = cnt->int64(1);
    if (confirmed != o.confirmed || waitlisted != o.waitlisted) {
        auto uo = db.query(
            "UPDATE occasions SET confirmed = ?, waitlisted = ?, version = ? WHERE id = ?");
        TUNDRA_TRY(uo->bind(1, confirmed)
                       .bind(2, waitlisted)
                       .bind(3, next_version())
                       .bind(4, occasion_id)
                       .run());
    }
    return Status::ok();
}

Status SqlStore::Impl::insert_enrolment(const AuthContext& who, const Action& a, Hlc acted,
                                          const std::string& id, const std::string& occasion,
                                          const std::string& person, const std::string& status,
                                          const std::optional<std::string>& reason) {
    auto ins = db.query(
        "INSERT INTO enrolments (id, occasion, person, status, reason, acted_hlc, acted_by, "
        "updated_hlc, device, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    ins->bind(1, id).bind(2, occasion).bind(3, person).bind(4, status);
    if (reason) ins->bind(5, *reason);
    else ins->bind(5, nullptr);
    return ins->bind(6, acted.value)
        .bind(7, who.username)
        .bind(8, a.hlc.value)
        .bind(9, who.device_id)
        .bind(10, next_version())
        .run();
}

// The occasion and person an action names, or the refusal when either is unknown or the
// person is outside the user's scope.
Result<SqlStore::Impl::Target> SqlStore::Impl::target(const AuthContext& who, const Action& a) {
    Target t;
    const std::string occ_id = str(a.fields, "occasion");
    const std::string person_id = str(a.fields, "person");
    for (auto [kind, id] : {std::pair{Kind::occasion, &occ_id}, {Kind::person, &person_id}}) {
        auto refused = visible_ref(who, a, kind, *id);
        if (!refused) return refused.status();
        if (refused.value()) {
            t.refusal = refused.value();
            return t;
        }
    }
    auto occ = occasion(occ_id);
    if (!occ) return occ.status();
    t.occasion = *occ.value();
    auto p = person(person_id);
    if (!p) return p.status();
    t.person = *p.value();
    return t;
}

// ---- enrolments ---------------------------------------------------------------------------
Result<Outcome> SqlStore::Impl::enrol(const AuthContext& who, const Action& a, Hlc acted) {
    const std::string id = str(a.fields, "enrolment");
    const std::string occ_id = str(a.fields, "occasion");
    const std::string person_id = str(a.fields, "person");
    // The occasion is visible only while its course is published and open to the actor
    // (visibility.cc), so an unpublished course's occasion is `not_found` here.
    auto t = target(who, a);
    if (!t) return t.status();
    if (t->refusal) return *t->refusal;
    const OccasionInfo& o = t->occasion;
    if (o.status == "cancelled")
        return rejected(a, reasons::kOccasionCancelled, "occasion '" + occ_id + "' is cancelled");
    if (o.status == "completed")
        return rejected(a, reasons::kEnrolmentClosed, "occasion '" + occ_id + "' has taken place");
    int64_t acted_ms = static_cast<int64_t>(acted.physical_ms());
    if (acted_ms >= o.closes_ms)
        return rejected(a, reasons::kEnrolmentClosed,
                        "enrolment for occasion '" + occ_id + "' closed at " +
                            format_iso8601(o.closes_ms));
    if (o.opens_ms && acted_ms < o.opens_ms)
        return rejected(a, reasons::kEnrolmentNotOpen,
                        "enrolment for occasion '" + occ_id + "' opens at " +
                            format_iso8601(o.opens_ms));
    {
        auto q = db.query(
            "SELECT id, status, acted_hlc FROM enrolments WHERE occasion = ? AND person = ? AND "
            "status IN ('requested', 'confirmed', 'waitlisted')");
        q->bind(1, occ_id).bind(2, person_id);
        auto r = q->step();
        if (!r) return r.status();
        if (r.value()) {
            std::string existing = q->text(0), status = q->text(1);
            Hlc existing_acted{static_cast<uint64_t>(q->int64(2))};
            if (!(acted < existing_acted))
                return rejected(a, reasons::kAlreadyEnrolled,
                                "'" + person_id + "' is already enrolled (" + status + ")");
            // Two staff enrolled the same person; this request was made first but arrived
            // second. Seat order follows when people acted, not arrival: the enrolment keeps
            // the earlier time and seats are allocated again.
            q->reset();
            auto u = db.query(
                "UPDATE enrolments SET acted_hlc = ?, device = ?, version = ? WHERE id = ?");
            TUNDRA_TRY(u->bind(1, acted.value).bind(2, who.device_id).bind(3, next_version()).bind(4, existing).run());
            TUNDRA_TRY(reallocate(occ_id));
            auto row = load_row(Kind::enrolment, existing);
            if (!row) return row.status();
            std::string now_status = row.value() ? str(*row.value(), "status") : status;
            return make_outcome(a, OutcomeResult::adjusted, reasons::kAlreadyEnrolled,
                                "'" + person_id + "' was already enrolled (" + existing +
                                    "); your earlier request now sets their place: " + now_status,
                                now_status);
        }
    }
    TUNDRA_TRY(insert_enrolment(who, a, acted, id, occ_id, person_id, "requested", std::nullopt));
    TUNDRA_TRY(reallocate(occ_id));
    auto row = load_row(Kind::enrolment, id);
    if (!row) return row.status();
    std::string status = str(*row.value(), "status");
    if (status == "confirmed")
        return make_outcome(a, OutcomeResult::applied, "", "seat confirmed", status);
    int64_t position = get_int(*row.value(), "waitlist_position").value_or(0);
    return make_outcome(a, OutcomeResult::adjusted, reasons::kWaitlisted,
                        "the occasion is full: waitlisted as number " + std::to_string(position),
                        status);
}

// dispatch has checked that the enrolment exists and that the actor may see it: their own,
// or their sites' staff's.
Result<Outcome> SqlStore::Impl::cancel_enrolment(const AuthContext&, const Action& a) {
    const std::string id = str(a.fields, "enrolment");
    auto row = load_row(Kind::enrolment, id);
    if (!row) return row.status();
    const Row& e = *row.value();
    std::string status = str(e, "status");
    if (status == "cancelled" || status == "rejected")
        return rejected(a, reasons::kAlreadyCancelled, "enrolment '" + id + "' is already " + status);
    auto u = db.query(
        "UPDATE enrolments SET status = 'cancelled', reason = NULL, waitlist_position = NULL, "
        "updated_hlc = ?, version = ? WHERE id = ?");
    TUNDRA_TRY(u->bind(1, a.hlc.value).bind(2, next_version()).bind(3, id).run());
    TUNDRA_TRY(reallocate(str(e, "occasion")));
    return make_outcome(a, OutcomeResult::applied, "", "enrolment cancelled", "cancelled");
}

// ---- last-writer-wins edits ---------------------------------------------------------------
Result<LwwResult> SqlStore::Impl::lww_apply(Kind kind, const std::string& id, const Row& fields,
                                               Hlc hlc, const std::string& device,
                                               const Row& defaults) {
    LwwResult res;
    auto existing = load_row(kind, id);
    if (!existing) return existing.status();
    auto& spec = entity(kind);
    Row row;
    if (existing.value()) {
        row = *existing.value();
        res.before = row;
    } else {
        res.created = true;
        row = defaults;
        row["id"] = id;
    }
    auto get = db.query("SELECT hlc, device FROM field_stamps WHERE kind = ? AND id = ? AND field = ?");
    auto put = db.query(
        "INSERT INTO field_stamps (kind, id, field, hlc, device) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(kind, id, field) DO UPDATE SET hlc = excluded.hlc, device = excluded.device");
    for (auto& [field, value] : fields) {
        bool known = false;
        for (auto& c : spec.columns) known |= c.name == field;
        if (!known || field == "id") continue;
        if (!res.created) {
            get->bind(1, spec.name).bind(2, id).bind(3, field);
            auto r = get->step();
            if (!r) return r.status();
            bool newer = r.value() && (static_cast<uint64_t>(get->int64(0)) > hlc.value ||
                                       (static_cast<uint64_t>(get->int64(0)) == hlc.value &&
                                        get->text(1) > device));
            get->reset();
            if (newer) {
                ++res.superseded;
                continue;
            }
        }
        row[field] = value;
        TUNDRA_TRY(put->bind(1, spec.name)
                       .bind(2, id)
                       .bind(3, field)
                       .bind(4, hlc.value)
                       .bind(5, device)
                       .run());
        put->reset();
    }
    for (auto& c : spec.columns) {
        auto it = row.find(c.name);
        Status st = check_value(c, it == row.end() ? Value{} : it->second, c.name);
        if (!st) return Status(Errc::invalid_argument, st.message());
    }
    res.after = row;
    if (res.created || row != res.before) {
        TUNDRA_TRY(write_row(kind, row));
        TUNDRA_TRY(visibility_changed(kind, id, res.before, res.after));
    }
    return res;
}

// Converts an action's fields to column names (the id field becomes "id").
Row columns_of(const Action& a) {
    Row r = a.fields;
    auto* spec = action_spec(a.type);
    r.erase(std::string(spec->id_field));
    return r;
}

Outcome lww_outcome(const Action& a, const LwwResult& res, std::string_view what) {
    if (res.superseded)
        return make_outcome(a, OutcomeResult::adjusted, reasons::kSuperseded,
                            std::to_string(res.superseded) +
                                " field(s) kept a newer edit made elsewhere");
    return make_outcome(a, OutcomeResult::applied, "",
                        std::string(what) + (res.created ? " created" : " updated"));
}

Result<Outcome> SqlStore::Impl::upsert_course(const AuthContext& who, const Action& a) {
    if (who.role != "admin") return rejected(a, reasons::kForbidden, "only admins edit courses");
    const std::string id = str(a.fields, "course");
    if (auto it = a.fields.find("organisations"); it != a.fields.end()) {
        for (auto& org : std::get<StrList>(it->second)) {
            auto q = db.query("SELECT 1 FROM organisations WHERE id = ?");
            q->bind(1, org);
            auto r = q->step();
            if (!r) return r.status();
            if (!r.value()) return rejected(a, reasons::kNotFound, "organisation '" + org + "' does not exist");
        }
    }
    Row defaults{{"organisations", StrList{}}, {"published", false}};
    TUNDRA_LWW(res, lww_apply(Kind::course, id, columns_of(a), a.hlc, who.device_id, defaults));
    if (res->before.empty() || res->before["organisations"] != res->after["organisations"]) {
        auto del = db.query("DELETE FROM course_organisations WHERE course = ?");
        TUNDRA_TRY(del->bind(1, id).run());
        // ON CONFLICT DO NOTHING, not INSERT OR IGNORE: SQL both backends accept.
        auto ins = db.query("INSERT INTO course_organisations VALUES (?, ?) ON CONFLICT DO NOTHING");
        for (auto& org : std::get<StrList>(res->after["organisations"])) {
            TUNDRA_TRY(ins->bind(1, id).bind(2, org).run());
            ins->reset();
        }
    }
    return lww_outcome(a, res.value(), "course");
}

Result<Outcome> SqlStore::Impl::upsert_occasion(const AuthContext& who, const Action& a) {
    if (who.role != "admin") return rejected(a, reasons::kForbidden, "only admins edit occasions");
    const std::string id = str(a.fields, "occasion");
    if (auto* course = get_str(a.fields, "course")) {
        auto c = load_row(Kind::course, *course);
        if (!c) return c.status();
        if (!c.value()) return rejected(a, reasons::kNotFound, "course '" + *course + "' does not exist");
    }
    if (auto cap = get_int(a.fields, "capacity"); cap && (*cap < 0 || *cap > 100000))
        return rejected(a, reasons::kInvalid, "capacity must be between 0 and 100000");
    if (auto* site = get_str(a.fields, "site")) {
        auto q = db.query("SELECT 1 FROM sites WHERE id = ?");
        q->bind(1, *site);
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) return rejected(a, reasons::kNotFound, "site '" + *site + "' does not exist");
    }
    Row defaults{{"status", std::string("planned")}, {"confirmed", int64_t{0}}, {"waitlisted", int64_t{0}}};
    Row fields = columns_of(a);
    // Normalise times to the canonical UTC form so that every replica shows the same text.
    for (auto k : {"starts_at", "ends_at", "enrolment_opens", "enrolment_closes", "survey_closes"})
        if (auto* s = get_str(fields, k)) fields[k] = format_iso8601(parse_iso8601(*s).value());
    TUNDRA_LWW(res, lww_apply(Kind::occasion, id, fields, a.hlc, who.device_id, defaults));
    if (iso_ms(res->after, "ends_at") < iso_ms(res->after, "starts_at"))
        return rejected(a, reasons::kInvalid, "ends_at is before starts_at");
    if (get_str(res->after, "survey_closes") &&
        iso_ms(res->after, "survey_closes") <= iso_ms(res->after, "ends_at"))
        return rejected(a, reasons::kInvalid, "survey_closes must be after ends_at");
    if (str(res->after, "status") == "cancelled" && str(res->before, "status") != "cancelled") {
        auto u = db.query(
            "UPDATE enrolments SET status = 'cancelled', reason = 'occasion_cancelled', "
            "waitlist_position = NULL, version = ? WHERE id = ?");
        std::vector<std::string> ids;
        auto q = db.query(
            "SELECT id FROM enrolments WHERE occasion = ? AND status IN ('requested', "
            "'confirmed', 'waitlisted')");
        q->bind(1, id);
        for (;;) {
            auto r = q->step();
            if (!r) return r.status();
            if (!r.value()) break;
            ids.push_back(q->text(0));
        }
        for (auto& e : ids) {
            TUNDRA_TRY(u->bind(1, next_version()).bind(2, e).run());
            u->reset();
        }
    }
    if (res->created || res->before["starts_at"] != res->after["starts_at"] ||
        res->before["course"] != res->after["course"]) {
        // Whether the course and rosters are "upcoming" (a full pull's priority part) may
        // have changed: give them new versions so no full pull in progress misses them.
        TUNDRA_TRY(touch(Kind::course, "id = ?", str(res->after, "course")));
        TUNDRA_TRY(touch(Kind::enrolment, "occasion = ?", id));
        TUNDRA_TRY(touch(Kind::attendance, "occasion = ?", id));
    }
    TUNDRA_TRY(reallocate(id));
    return lww_outcome(a, res.value(), "occasion");
}

Result<Outcome> SqlStore::Impl::delete_occasion(const AuthContext& who, const Action& a) {
    if (who.role != "admin") return rejected(a, reasons::kForbidden, "only admins delete occasions");
    const std::string id = str(a.fields, "occasion");
    auto occ = occasion(id);
    if (!occ) return occ.status();
    if (!occ.value()) return rejected(a, reasons::kNotFound, "occasion '" + id + "' does not exist");
    auto q = db.query(
        "SELECT (SELECT count(*) FROM enrolments WHERE occasion = ?1) + (SELECT count(*) FROM "
        "attendance WHERE occasion = ?1) + (SELECT count(*) FROM survey_responses WHERE occasion = ?1)");
    q->bind(1, id);
    auto r = q->step();
    if (!r) return r.status();
    if (q->int64(0) > 0)
        return rejected(a, reasons::kInUse,
                        "occasion '" + id + "' has enrolments or attendance; cancel it instead");
    TUNDRA_TRY(tombstone(Kind::occasion, "id = ?", id));
    auto del = db.query("DELETE FROM occasions WHERE id = ?");
    TUNDRA_TRY(del->bind(1, id).run());
    auto fs = db.query("DELETE FROM field_stamps WHERE kind = 'occasion' AND id = ?");
    TUNDRA_TRY(fs->bind(1, id).run());
    return make_outcome(a, OutcomeResult::applied, "", "occasion deleted");
}

Result<Outcome> SqlStore::Impl::update_person(const AuthContext& who, const Action& a) {
    // dispatch has checked that the person exists and that the actor may see them.
    const std::string id = str(a.fields, "person");
    if (who.role == "participant" && (a.fields.count("site") || a.fields.count("name")))
        return rejected(a, reasons::kForbidden, "participants cannot change their site or name");
    std::string organisation;
    if (auto* site = get_str(a.fields, "site")) {
        if (who.role == "coordinator" && !contains(who.sites, *site))
            return rejected(a, reasons::kForbidden, "site '" + *site + "' is not one of yours");
        auto q = db.query("SELECT organisation FROM sites WHERE id = ?");
        q->bind(1, *site);
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) return rejected(a, reasons::kNotFound, "site '" + *site + "' does not exist");
        organisation = q->text(0);
    }
    Row fields = columns_of(a);
    // A person belongs to their site's organisation: a move to another municipality's site
    // moves them there (and so changes which courses they may see).
    if (!organisation.empty()) fields["organisation"] = organisation;
    TUNDRA_LWW(res, lww_apply(Kind::person, id, fields, a.hlc, who.device_id, {}));
    return lww_outcome(a, res.value(), "person");
}

// ---- the register: organisations, sites, persons (the console, issue 11) -----------------
Result<Outcome> SqlStore::Impl::upsert_organisation(const AuthContext& who, const Action& a) {
    if (who.role != "admin") return rejected(a, reasons::kForbidden, "only admins edit organisations");
    TUNDRA_LWW(res, lww_apply(Kind::organisation, str(a.fields, "organisation"), columns_of(a), a.hlc,
                              who.device_id, {}));
    return lww_outcome(a, res.value(), "organisation");
}

// A site belongs to one organisation; it moves to another only while nobody is at it (its
// persons and coordinators belong to its organisation: moving them is update_person's and
// an admin's user administration).
Result<Outcome> SqlStore::Impl::upsert_site(const AuthContext& who, const Action& a) {
    if (who.role != "admin") return rejected(a, reasons::kForbidden, "only admins edit sites");
    const std::string id = str(a.fields, "site");
    if (auto* org = get_str(a.fields, "organisation")) {
        auto q = db.query("SELECT 1 FROM organisations WHERE id = ?");
        q->bind(1, *org);
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) return rejected(a, reasons::kNotFound, "organisation '" + *org + "' does not exist");
        auto existing = load_row(Kind::site, id);
        if (!existing) return existing.status();
        if (existing.value() && str(*existing.value(), "organisation") != *org) {
            auto used = db.query(
                "SELECT (SELECT count(*) FROM persons WHERE site = ?1) + "
                "(SELECT count(*) FROM user_sites WHERE site = ?1)");
            used->bind(1, id);
            auto u = used->step();
            if (!u) return u.status();
            if (used->int64(0) > 0)
                return rejected(a, reasons::kInUse,
                                "site '" + id + "' has persons or coordinators: it stays with organisation '" +
                                    str(*existing.value(), "organisation") + "'");
        }
    }
    TUNDRA_LWW(res, lww_apply(Kind::site, id, columns_of(a), a.hlc, who.device_id, {}));
    return lww_outcome(a, res.value(), "site");
}

// A staff member added by hand: admins at any site, coordinators at theirs. The person
// belongs to the site's organisation; never provisional (that is a walk-in), never erased.
Result<Outcome> SqlStore::Impl::add_person(const AuthContext& who, const Action& a) {
    if (role_of(who.role) == Role::participant)
        return rejected(a, reasons::kForbidden, "only coordinators and admins add persons");
    const std::string site = str(a.fields, "site");
    auto q = db.query("SELECT organisation FROM sites WHERE id = ?");
    q->bind(1, site);
    auto r = q->step();
    if (!r) return r.status();
    if (!r.value()) return rejected(a, reasons::kNotFound, "site '" + site + "' does not exist");
    const std::string organisation = q->text(0);
    if (role_of(who.role) == Role::coordinator && !contains(who.sites, site))
        return rejected(a, reasons::kForbidden, "site '" + site + "' is not one of yours");
    if (auto* org = get_str(a.fields, "organisation"); org && *org != organisation)
        return rejected(a, reasons::kInvalid,
                        "site '" + site + "' belongs to organisation '" + organisation + "', not '" + *org + "'");
    auto born = get_int(a.fields, "birth_year");
    int64_t this_year = std::stoll(format_iso8601(now_ms).substr(0, 4));
    if (born && (*born < 1900 || *born > this_year))
        return rejected(a, reasons::kInvalid, "birth_year must be between 1900 and " + std::to_string(this_year));
    Row fields = columns_of(a);
    fields["organisation"] = organisation;
    Row defaults{{"erased", false}, {"provisional", false}};
    TUNDRA_LWW(res, lww_apply(Kind::person, str(a.fields, "person"), fields, a.hlc, who.device_id, defaults));
    return lww_outcome(a, res.value(), "person");
}

}  // namespace tundra::server
