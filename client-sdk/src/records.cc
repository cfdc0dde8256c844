// Replica, the programme's records: the reads behind surveys, attestations, participations,
// the deviation log and `todo` (attended occasions with their minutes).
#include "replica.h"
#include "tundra/sqlite/db.h"

namespace tundra::client {

Result<std::vector<AttendedOccasion>> Replica::attended(const std::string& person) {
    std::vector<AttendedOccasion> out;
    // The current mark per occasion (core's order, as on the server); it counts when it is
    // present, late or left_early.
    auto q = db_->query(
        "SELECT a.occasion, coalesce(c.title, ''), o.starts_at, o.ends_at, "
        "coalesce(o.survey_closes, ''), a.minutes FROM (SELECT a.*, row_number() OVER (PARTITION "
        "BY a.occasion ORDER BY " + attendance_current_order_sql("a") + ", a.id DESC) AS rn FROM "
        "attendance a WHERE a.person = ?) a JOIN occasions o ON o.id = a.occasion LEFT JOIN "
        "courses c ON c.id = o.course WHERE a.rn = 1 AND a.status IN ('present', 'late', "
        "'left_early') ORDER BY o.starts_at, a.occasion");
    q->bind(1, person);
    for (;;) {
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) break;
        AttendedOccasion a{q->text(0), q->text(1), q->text(2), q->text(3), q->text(4), 0};
        if (!q->is_null(5)) {
            a.minutes = q->int64(5);
        } else {
            auto s = parse_iso8601(a.starts_at);
            auto e = parse_iso8601(a.ends_at);
            if (s && e && e.value() > s.value()) a.minutes = (e.value() - s.value()) / 60'000;
        }
        out.push_back(std::move(a));
    }
    return out;
}

Result<std::optional<KeyedRow>> Replica::keyed_row(Kind kind, const std::string& person,
                                                   std::string_view key_column, const std::string& key) {
    auto& spec = entity(kind);
    auto q = db_->query("SELECT " + sqlite::column_list(spec) + ", pending FROM " +
                        std::string(spec.table) + " WHERE person = ? AND " + std::string(key_column) +
                        " = ? AND local_only = 0 ORDER BY pending DESC, id LIMIT 1");
    q->bind(1, person).bind(2, key);
    auto r = q->step();
    if (!r) return r.status();
    if (!r.value()) return std::optional<KeyedRow>();
    KeyedRow k{sqlite::read_row(*q, spec), q->int64(static_cast<int>(spec.columns.size())) != 0};
    return std::optional<KeyedRow>(std::move(k));
}

Result<std::vector<Row>> Replica::rows_of_person(Kind kind, const std::string& person) {
    auto& spec = entity(kind);
    std::vector<Row> out;
    auto q = db_->query("SELECT " + sqlite::column_list(spec) + " FROM " + std::string(spec.table) +
                        " WHERE person = ? AND local_only = 0 ORDER BY id");
    q->bind(1, person);
    for (;;) {
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) break;
        out.push_back(sqlite::read_row(*q, spec));
    }
    return out;
}

Result<std::vector<DeviationView>> Replica::deviations(const DeviationFilter& f) {
    std::vector<DeviationView> out;
    auto q = db_->query(
        "SELECT id, organisation, coalesce(occasion, ''), category, description, status, "
        "coalesce(action_taken, ''), pending FROM deviations WHERE local_only = 0 "
        "AND (?1 = '' OR status = ?1) AND (?2 = '' OR organisation = ?2) AND (?3 = '' OR "
        "category = ?3) ORDER BY status = 'handled', organisation, id");
    q->bind(1, f.status).bind(2, f.organisation).bind(3, f.category);
    for (;;) {
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) break;
        out.push_back({q->text(0), q->text(1), q->text(2), q->text(3), q->text(4), q->text(5),
                       q->text(6), q->int64(7) != 0});
    }
    return out;
}

}  // namespace tundra::client
