// Walk-ins registered as provisional persons are merged into the real person from the staff
// register (an admin's `merge-person`, or an import with the same personal_id): their rows
// move, clashes keep the real person's row, the provisional person leaves every device.
#include <set>

#include "store_internal.h"
#include "tundra/core/json.h"

namespace tundra::server {

int64_t MergeReport::moved() const {
    return enrolments.moved + attendance.moved + participations.moved + time_attestations.moved +
           survey_responses.moved;
}

int64_t MergeReport::dropped() const {
    return enrolments.dropped + attendance.dropped + participations.dropped +
           time_attestations.dropped + survey_responses.dropped;
}

namespace {
// The rows about a person, and when one of the provisional person's rows clashes with the
// real person's (SQL over the provisional row `s`, with ?1 = the real person): then the real
// person's row is kept and the provisional's dropped. Marks are history: where the real person
// has marks at an occasion, the provisional's marks there would change which mark is current.
struct MovedKind {
    Kind kind;
    MergeReport::Count MergeReport::*count;
    const char* clash;
};
constexpr MovedKind kMoved[] = {
    {Kind::enrolment, &MergeReport::enrolments,
     "s.status IN ('requested', 'confirmed', 'waitlisted') AND EXISTS (SELECT 1 FROM enrolments r WHERE "
     "r.person = ?1 AND r.occasion = s.occasion AND r.status IN ('requested', 'confirmed', 'waitlisted'))"},
    {Kind::attendance, &MergeReport::attendance,
     "EXISTS (SELECT 1 FROM attendance r WHERE r.person = ?1 AND r.occasion = s.occasion)"},
    {Kind::participation, &MergeReport::participations,
     "EXISTS (SELECT 1 FROM participations r WHERE r.person = ?1 AND (r.start_month = s.start_month OR "
     "(r.end_month IS NULL AND s.end_month IS NULL)))"},
    {Kind::time_attestation, &MergeReport::time_attestations,
     "EXISTS (SELECT 1 FROM time_attestations r WHERE r.person = ?1 AND r.month = s.month)"},
    {Kind::survey_response, &MergeReport::survey_responses,
     "EXISTS (SELECT 1 FROM survey_responses r WHERE r.person = ?1 AND r.occasion = s.occasion)"},
};

Result<std::vector<std::pair<std::string, bool>>> rows_of(sql::Db& db, const MovedKind& m,
                                                          const std::string& from, const std::string& into) {
    std::vector<std::pair<std::string, bool>> out;  // id, clashes
    auto q = db.query("SELECT s.id, " + std::string(m.clash) + " FROM " + std::string(entity(m.kind).table) +
                      " s WHERE s.person = ?2 ORDER BY s.id");
    q->bind(1, into).bind(2, from);
    for (;;) {
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) break;
        out.push_back({q->text(0), q->int64(1) != 0});
    }
    return out;
}

std::string detail_json(const MergeReport& rep) {
    rapidjson::StringBuffer buf;
    json::Writer w(buf);
    w.StartObject();
    w.Key("from");
    json::put(w, rep.from);
    for (auto [k, c] : {std::pair{"enrolments", rep.enrolments}, {"attendance", rep.attendance},
                        {"participations", rep.participations}, {"time_attestations", rep.time_attestations},
                        {"survey_responses", rep.survey_responses}}) {
        w.Key(k);
        w.StartObject();
        w.Key("moved");
        w.Int64(c.moved);
        w.Key("dropped");
        w.Int64(c.dropped);
        w.EndObject();
    }
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}
}  // namespace

Result<MergeReport> SqlStore::Impl::merge_person(const std::string& from, const std::string& into,
                                                    const std::string& actor) {
    MergeReport rep;
    rep.from = from;
    rep.into = into;
    if (from == into) return Status(Errc::invalid_argument, "a person cannot be merged into herself ('" + from + "')");
    for (auto* id : {&from, &into}) {
        auto erased = is_erased_person(*id);
        if (!erased) return erased.status();
        if (erased.value())
            return Status(Errc::invalid_argument,
                          "person '" + *id + "' was erased at their request (GDPR); nothing is merged");
    }
    auto src = load_row(Kind::person, from);
    if (!src) return src.status();
    if (!src.value()) return Status(Errc::not_found, "no person '" + from + "'");
    auto dst = load_row(Kind::person, into);
    if (!dst) return dst.status();
    if (!dst.value()) return Status(Errc::not_found, "no person '" + into + "'");
    if (src.value()->count("provisional") == 0 || src.value()->at("provisional") != Value(true))
        return Status(Errc::invalid_argument,
                      "person '" + from + "' is not provisional: only a person registered at a walk-in is merged");

    std::set<std::string> occasions;  // whose seat counts may change
    auto seat_occasions = db.query("SELECT DISTINCT occasion FROM enrolments WHERE person = ?");
    seat_occasions->bind(1, from);
    for (;;) {
        auto r = seat_occasions->step();
        if (!r) return r.status();
        if (!r.value()) break;
        occasions.insert(seat_occasions->text(0));
    }
    for (auto& m : kMoved) {
        auto rows = rows_of(db, m, from, into);
        if (!rows) return rows.status();
        const std::string table(entity(m.kind).table);
        auto move = db.query("UPDATE " + table + " SET person = ?, version = ? WHERE id = ?");
        auto drop = db.query("DELETE FROM " + table + " WHERE id = ?");
        for (auto& [id, clashes] : rows.value()) {
            if (clashes) {
                // Devices drop it; the real person's row stays as it is.
                TUNDRA_TRY(tombstone(m.kind, "id = ?", id));
                TUNDRA_TRY(drop->bind(1, id).run());
                drop->reset();
                ++(rep.*m.count).dropped;
                continue;
            }
            auto before = load_row(m.kind, id);
            if (!before) return before.status();
            TUNDRA_TRY(move->bind(1, into).bind(2, next_version()).bind(3, id).run());
            move->reset();
            auto after = load_row(m.kind, id);
            if (!after) return after.status();
            // The row leaves the devices that saw it through the provisional person and comes
            // back to whoever sees the real one (visibility.cc).
            TUNDRA_TRY(visibility_changed(m.kind, id, *before.value(), *after.value()));
            ++(rep.*m.count).moved;
        }
    }
    // Logins of the provisional person (rare: a walk-in given a login before the merge).
    {
        auto q = db.query("UPDATE users SET person = ? WHERE person = ?");
        TUNDRA_TRY(q->bind(1, into).bind(2, from).run());
    }
    TUNDRA_TRY(tombstone(Kind::person, "id = ?", from));
    {
        auto q = db.query("DELETE FROM field_stamps WHERE kind = 'person' AND id = ?");
        TUNDRA_TRY(q->bind(1, from).run());
        auto del = db.query("DELETE FROM persons WHERE id = ?");
        TUNDRA_TRY(del->bind(1, from).run());
    }
    for (auto& o : occasions) TUNDRA_TRY(reallocate(o));
    TUNDRA_TRY(append_audit(db, now_ms, actor, "merge_person", into, detail_json(rep)));
    return rep;
}

Result<MergeReport> SqlStore::merge_person(const std::string& provisional_id, const std::string& real_id,
                                              const std::string& actor) {
    std::lock_guard lock(mu_);
    auto& I = *impl_;
    sql::Transaction txn(*db_);
    TUNDRA_TRY(txn.begin());
    TUNDRA_TRY(I.load_meta());
    I.now_ms = static_cast<int64_t>(opts_.wall());
    Impl::VersionGuard restore{I, I.version};
    auto rep = I.merge_person(provisional_id, real_id, actor);
    if (!rep) return rep.status();
    TUNDRA_TRY(I.save_meta());
    TUNDRA_TRY(txn.commit());
    restore.armed = false;
    return rep;
}

}  // namespace tundra::server
