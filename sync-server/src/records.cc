// The programme's own records, as actions: project participations (staff), time attestations
// and survey answers (each participant their own), and the deviation log (coordinators).
// The rules are in docs/protocol.md ("Participations, attestations, surveys, deviations").
#include "store_internal.h"
#include "tundra/core/stockholm_time.h"

namespace tundra::server {
namespace {
std::string str(const Row& r, std::string_view k) {
    auto* s = get_str(r, k);
    return s ? *s : std::string();
}

Outcome rejected(const Action& a, std::string_view reason, std::string msg) {
    return make_outcome(a, OutcomeResult::rejected, reason, std::move(msg));
}
}  // namespace

// ---- participations -----------------------------------------------------------------------
// Staff record when a person's project participation starts and ends (ESF: the ledger counts
// a person from her start month to her end month). One open participation per person.
Result<Outcome> SqlStore::Impl::upsert_participation(const AuthContext& who, const Action& a) {
    const std::string id = str(a.fields, "participation");
    auto existing = load_row(Kind::participation, id);
    if (!existing) return existing.status();
    std::string person = existing.value() ? str(*existing.value(), "person") : str(a.fields, "person");
    if (existing.value() && a.fields.count("person") && str(a.fields, "person") != person)
        return rejected(a, reasons::kInvalid,
                        "participation '" + id + "' is '" + person +
                            "''s: a participation stays with its person (end it and start another)");
    if (person.empty()) return rejected(a, reasons::kInvalid, "a new participation needs a person");
    // dispatch checked the participation (when it exists); the person must be one the actor
    // sees, so staff record participations only for the persons at their sites.
    auto refused = visible_ref(who, a, Kind::person, person);
    if (!refused) return refused.status();
    if (refused.value()) return *refused.value();
    // After the visibility check, so a hidden person is answered like an unknown one.
    if (role_of(who.role) == Role::participant)
        return rejected(a, reasons::kForbidden, "only coordinators and admins record participations");
    for (auto k : {"start_month", "end_month"})
        if (auto* m = get_str(a.fields, k); m && !valid_month(*m))
            return rejected(a, reasons::kInvalid, std::string(k) + " must be a month YYYY-MM, not '" + *m + "'");
    TUNDRA_LWW(res, lww_apply(Kind::participation, id, columns_of(a), a.hlc, who.device_id, {}));
    const std::string start = str(res->after, "start_month");
    if (auto* end = get_str(res->after, "end_month"); end && *end < start)
        return rejected(a, reasons::kInvalid, "end_month " + *end + " is before start_month " + start);
    if (!get_str(res->after, "end_month")) {
        auto q = db.query(
            "SELECT id, start_month FROM participations WHERE person = ? AND end_month IS NULL AND id <> ? "
            "ORDER BY start_month LIMIT 1");
        q->bind(1, person).bind(2, id);
        auto r = q->step();
        if (!r) return r.status();
        if (r.value())
            return rejected(a, reasons::kInvalid,
                            "'" + person + "' already has an open participation ('" + q->text(0) + "', since " +
                                q->text(1) + "): end it before starting another");
    }
    return lww_outcome(a, res.value(), "participation");
}

// ---- participant records ------------------------------------------------------------------
// For rows kept once per person and key (a month's attestation, an occasion's survey
// answer): the id to write, or an outcome when the id is someone else's or a newer record
// is kept. Storage failures are errors.
struct OnePerKey {
    std::string id;
    std::optional<Outcome> outcome;
};

Result<OnePerKey> SqlStore::Impl::one_per_key(const Action& a, Kind kind, const std::string& id,
                                                  const std::string& person,
                                                  const char* key_column, const std::string& key,
                                                  const std::string& what) {
    auto& spec = entity(kind);
    OnePerKey res{id, std::nullopt};
    auto other = load_row(kind, id);
    if (!other) return other.status();
    if (other.value() && (str(*other.value(), "person") != person || str(*other.value(), key_column) != key)) {
        res.outcome = rejected(a, reasons::kIdConflict, what + " id '" + id + "' is taken");
        return res;
    }
    auto q = db.query("SELECT id, hlc FROM " + std::string(spec.table) + " WHERE person = ? AND " +
                      key_column + " = ?");
    q->bind(1, person).bind(2, key);
    auto r = q->step();
    if (!r) return r.status();
    if (r.value()) {
        if (static_cast<uint64_t>(q->int64(1)) > a.hlc.value)
            res.outcome = make_outcome(a, OutcomeResult::adjusted, reasons::kSuperseded,
                                       "a newer " + what + " is kept");
        res.id = q->text(0);  // one per person and key: update it in place
    }
    return res;
}

Result<Outcome> SqlStore::Impl::attest_time(const AuthContext& who, const Action& a) {
    const std::string person_id = str(a.fields, "person");
    // ESF: participants certify their own time, on their own device.
    if (who.role != "participant" || person_id != who.person)
        return rejected(a, reasons::kForbidden, "only the participant can attest their own time");
    const std::string month = str(a.fields, "month");
    if (!valid_month(month)) return rejected(a, reasons::kInvalid, "month must be YYYY-MM, not '" + month + "'");
    // A month is attested once it has begun (Swedish time), by the server's clock: a device's
    // clock cannot open next month early.
    if (stockholm_month_start_ms(month) > now_ms)
        return rejected(a, reasons::kInvalid, "month " + month + " has not begun yet (Swedish time)");
    int64_t minutes = get_int(a.fields, "minutes").value_or(-1);
    if (minutes < 0 || minutes > kMaxAttestedMinutes)
        return rejected(a, reasons::kInvalid,
                        "minutes must be between 0 and " + std::to_string(kMaxAttestedMinutes));
    auto slot = one_per_key(a, Kind::time_attestation, str(a.fields, "attestation"), person_id, "month",
                            month, "attestation for " + month);
    if (!slot) return slot.status();
    if (slot->outcome) return *slot->outcome;
    Row row{{"id", slot->id}, {"person", person_id}, {"month", month}, {"minutes", minutes},
            {"hlc", static_cast<int64_t>(a.hlc.value)}};
    TUNDRA_TRY(write_row(Kind::time_attestation, row));
    return make_outcome(a, OutcomeResult::applied, "", "time attested for " + month);
}

Result<Outcome> SqlStore::Impl::submit_survey(const AuthContext& who, const Action& a, Hlc acted) {
    const std::string person_id = str(a.fields, "person");
    const std::string occ_id = str(a.fields, "occasion");
    if (who.role != "participant" || person_id != who.person)
        return rejected(a, reasons::kForbidden, "only the participant answers their own survey");
    auto refused = visible_ref(who, a, Kind::occasion, occ_id);
    if (!refused) return refused.status();
    if (refused.value()) return *refused.value();
    auto occ = occasion(occ_id);
    if (!occ) return occ.status();
    const OccasionInfo& o = *occ.value();
    for (auto k : {"rating_content", "rating_usefulness", "rating_overall"}) {
        auto v = get_int(a.fields, k).value_or(0);
        if (v < 1 || v > 5) return rejected(a, reasons::kInvalid, std::string(k) + " must be 1-5");
    }
    // Answered when she acted (an answer made offline counts when it was made): from the
    // occasion's end until its survey closes.
    int64_t at = static_cast<int64_t>(acted.physical_ms());
    if (at < o.ends_ms || at >= o.survey_closes_ms)
        return rejected(a, reasons::kOutsideWindow,
                        "the survey for '" + occ_id + "' is open from " + format_iso8601(o.ends_ms) +
                            " to " + format_iso8601(o.survey_closes_ms));
    {
        auto q = db.query("SELECT status FROM attendance a WHERE occasion = ? AND person = ? ORDER BY " +
                          attendance_current_order_sql("a") + ", a.id DESC LIMIT 1");
        q->bind(1, occ_id).bind(2, person_id);
        auto r = q->step();
        if (!r) return r.status();
        std::string mark = r.value() ? q->text(0) : std::string();
        // A participant's survey answers count only where she was there: her current mark says so.
        if (!attendance_attended(mark))
            return rejected(a, reasons::kNotEnrolled,
                            "you can answer the survey only for an occasion you attended; '" + occ_id +
                                "' has " + (mark.empty() ? std::string("no attendance mark") : "the mark '" + mark + "'") +
                                " for you");
    }
    auto slot = one_per_key(a, Kind::survey_response, str(a.fields, "response"), person_id, "occasion",
                            occ_id, "survey answer");
    if (!slot) return slot.status();
    if (slot->outcome) return *slot->outcome;
    Row row = columns_of(a);
    row["id"] = slot->id;
    row["hlc"] = static_cast<int64_t>(a.hlc.value);
    if (!row.count("comment")) row["comment"] = Value{};
    TUNDRA_TRY(write_row(Kind::survey_response, row));
    return make_outcome(a, OutcomeResult::applied, "", "survey answer saved");
}

// The coordinators' deviation log: logged for an organisation the actor covers, optionally
// about an occasion they see; handled with the action taken.
Result<Outcome> SqlStore::Impl::log_deviation(const AuthContext& who, const Action& a) {
    if (who.role == "participant")
        return rejected(a, reasons::kForbidden, "only coordinators and admins log deviations");
    const std::string id = str(a.fields, "deviation");
    auto existing = load_row(Kind::deviation, id);
    if (!existing) return existing.status();
    std::string org = existing.value() ? str(*existing.value(), "organisation")
                                       : str(a.fields, "organisation");
    if (auto* o = get_str(a.fields, "organisation")) org = *o;
    if (org.empty()) return rejected(a, reasons::kInvalid, "a deviation needs an organisation");
    {
        auto q = db.query("SELECT 1 FROM organisations WHERE id = ?");
        q->bind(1, org);
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) return rejected(a, reasons::kNotFound, "organisation '" + org + "' does not exist");
    }
    if (who.role == "coordinator") {
        auto q = db.query(std::string("SELECT 1 FROM (") + kUserOrgsSql + ") AS user_orgs WHERE organisation = :org");
        q->bind(":user", who.username).bind(":org", org);
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value())
            return rejected(a, reasons::kForbidden, "organisation '" + org + "' is not one of yours");
    }
    if (auto* occ = get_str(a.fields, "occasion")) {
        auto refused = visible_ref(who, a, Kind::occasion, *occ);
        if (!refused) return refused.status();
        if (refused.value()) return *refused.value();
    }
    Row fields = columns_of(a);
    Row defaults{{"status", std::string("open")}, {"hlc", static_cast<int64_t>(a.hlc.value)}};
    TUNDRA_LWW(res, lww_apply(Kind::deviation, id, fields, a.hlc, who.device_id, defaults));
    if (str(res->after, "status") == "handled" && str(res->after, "action_taken").empty())
        return rejected(a, reasons::kInvalid, "action_taken is required when a deviation is handled");
    return lww_outcome(a, res.value(), "deviation");
}

}  // namespace tundra::server
