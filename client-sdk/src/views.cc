// Replica, read views: the queries behind Client::courses, enrolments, attendance, snapshot.
#include <algorithm>

#include "replica.h"

namespace tundra::client {

Result<std::vector<CourseView>> Replica::courses(const std::string& role) {
    std::vector<CourseView> out;
    {
        auto q = db_->query(
            "SELECT id, coalesce(title, ''), coalesce(theme, ''), coalesce(format, ''), "
            "coalesce(provider, ''), coalesce(published, 0) FROM courses "
            "WHERE published = 1 OR ? = 'admin' ORDER BY title, id");
        q->bind(1, role);
        for (;;) {
            auto r = q->step();
            if (!r) return r.status();
            if (!r.value()) break;
            out.push_back({q->text(0), q->text(1), q->text(2), q->text(3), q->text(4),
                           q->int64(5) != 0, {}});
        }
    }
    auto q = db_->query(
        "SELECT id, coalesce(starts_at, ''), coalesce(ends_at, ''), coalesce(site, ''), "
        "coalesce(online_link, ''), coalesce(status, ''), coalesce(enrolment_closes, ''), "
        "coalesce(capacity, 0), coalesce(confirmed, 0), coalesce(waitlisted, 0) "
        "FROM occasions WHERE course = ? ORDER BY starts_at, id");
    for (auto& c : out) {
        q->bind(1, c.id);
        for (;;) {
            auto r = q->step();
            if (!r) return r.status();
            if (!r.value()) break;
            OccasionView o;
            o.id = q->text(0);
            o.course = c.id;
            o.starts_at = q->text(1);
            o.ends_at = q->text(2);
            o.site = q->text(3);
            o.online_link = q->text(4);
            o.status = q->text(5);
            o.enrolment_closes = q->text(6);
            o.capacity = q->int64(7);
            o.confirmed = q->int64(8);
            o.waitlisted = q->int64(9);
            o.seats_left = std::max<int64_t>(0, o.capacity - o.confirmed);
            c.occasions.push_back(std::move(o));
        }
        q->reset();
    }
    return out;
}

Result<std::vector<EnrolmentView>> Replica::enrolments() {
    std::vector<EnrolmentView> out;
    auto q = db_->query(
        "SELECT e.id, e.occasion, e.person, coalesce(p.name, ''), e.status, e.pending, "
        "coalesce(e.reason, ''), coalesce((SELECT json_extract(o.outcome, '$.message') FROM "
        "outbox o WHERE o.target = e.id AND o.state = 'rejected' ORDER BY o.seq DESC LIMIT 1), "
        "'') FROM enrolments e LEFT JOIN persons p ON p.id = e.person "
        "LEFT JOIN occasions oc ON oc.id = e.occasion ORDER BY oc.starts_at, e.occasion, "
        "p.name, e.id");
    for (;;) {
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) break;
        out.push_back({q->text(0), q->text(1), q->text(2), q->text(3), q->text(4),
                       q->int64(5) != 0, q->text(6), q->text(7)});
    }
    return out;
}

Result<std::vector<AttendanceView>> Replica::attendance(const std::string& occasion) {
    std::vector<AttendanceView> out;
    auto q = db_->query(
        "SELECT id, person, coalesce(name, ''), status, minutes, coalesce(recorded_by, ''), "
        "pending, n FROM (SELECT a.*, p.name AS name, row_number() OVER (PARTITION BY "
        "a.person ORDER BY " + attendance_current_order_sql("a") + ", a.id DESC) AS rn, "
        "count(*) OVER (PARTITION BY a.person) AS n FROM attendance a LEFT JOIN persons p ON "
        "p.id = a.person WHERE a.occasion = ?) WHERE rn = 1 ORDER BY name, person");
    q->bind(1, occasion);
    for (;;) {
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) break;
        AttendanceView v;
        v.id = q->text(0);
        v.occasion = occasion;
        v.person = q->text(1);
        v.person_name = q->text(2);
        v.status = q->text(3);
        if (!q->is_null(4)) v.minutes = q->int64(4);
        v.recorded_by = q->text(5);
        v.pending = q->int64(6) != 0;
        v.history = static_cast<int>(q->int64(7));
        out.push_back(std::move(v));
    }
    return out;
}

Result<std::map<std::string, std::vector<std::string>>> Replica::snapshot() {
    std::map<std::string, std::vector<std::string>> out;
    for (auto& spec : all_entities()) {
        auto& rows = out[std::string(spec.table)];
        std::vector<std::string> ids;
        {
            auto q = db_->query("SELECT id FROM " + std::string(spec.table) + " WHERE local_only = 0");
            for (;;) {
                auto r = q->step();
                if (!r) return r.status();
                if (!r.value()) break;
                ids.push_back(q->text(0));
            }
        }
        for (auto& id : ids) {
            auto row = load_row(spec.kind, id);
            if (!row) return row.status();
            rows.push_back(encode_row(*row.value()));
        }
        std::sort(rows.begin(), rows.end());
    }
    return out;
}

}  // namespace tundra::client
