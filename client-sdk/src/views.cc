// Replica, read views: the queries behind Client::courses, enrolments, attendance,
// attendance_of, persons, sites, snapshot.
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
        "SELECT o.id, coalesce(o.starts_at, ''), coalesce(o.ends_at, ''), coalesce(o.site, ''), "
        "coalesce(o.online_link, ''), coalesce(o.status, ''), coalesce(o.enrolment_closes, ''), "
        "coalesce(o.capacity, 0), coalesce(o.confirmed, 0), coalesce(o.waitlisted, 0), "
        "coalesce(s.name, ''), coalesce(o.enrolment_opens, '') "
        "FROM occasions o LEFT JOIN sites s ON s.id = o.site WHERE o.course = ? ORDER BY o.starts_at, o.id");
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
            o.site_name = q->text(10);
            o.enrolment_opens = q->text(11);
            o.seats_left = std::max<int64_t>(0, o.capacity - o.confirmed);
            c.occasions.push_back(std::move(o));
        }
        q->reset();
    }
    return out;
}

Result<std::vector<EnrolmentView>> Replica::enrolments(const EnrolmentFilter& filter) {
    std::vector<EnrolmentView> out;
    auto q = db_->query(
        "SELECT e.id, e.occasion, e.person, coalesce(p.name, ''), e.status, e.pending, "
        "coalesce(e.reason, ''), coalesce((SELECT json_extract(o.outcome, '$.message') FROM "
        "outbox o WHERE o.target = e.id AND o.state = 'rejected' ORDER BY o.seq DESC LIMIT 1), "
        "''), e.waitlist_position FROM enrolments e LEFT JOIN persons p ON p.id = e.person "
        "LEFT JOIN occasions oc ON oc.id = e.occasion WHERE " +
        // Each filter is its own condition (not `?1 = '' OR ...`), so that SQLite answers a
        // roster from the occasion index instead of scanning every enrolment.
        std::string(filter.occasion.empty() ? "1" : "e.occasion = ?1") +
        (filter.person.empty() ? "" : " AND e.person = ?2") + " ORDER BY oc.starts_at, e.occasion, p.name, e.id");
    if (!filter.occasion.empty()) q->bind(1, filter.occasion);
    if (!filter.person.empty()) q->bind(2, filter.person);
    for (;;) {
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) break;
        EnrolmentView v;
        v.id = q->text(0);
        v.occasion = q->text(1);
        v.person = q->text(2);
        v.person_name = q->text(3);
        v.status = q->text(4);
        v.pending = q->int64(5) != 0;
        v.reason = q->text(6);
        v.message = q->text(7);
        // Only a waiting place has a position (the server clears it, but a row the overlay
        // changed may still carry the last one).
        if (!q->is_null(8) && v.status == "waitlisted") v.waitlist_position = q->int64(8);
        out.push_back(std::move(v));
    }
    return out;
}

namespace {
// The current marks a query selects as (id, occasion, person, name, status, minutes,
// recorded_by, pending, marks kept).
Result<std::vector<AttendanceView>> read_marks(sql::Stmt& q) {
    std::vector<AttendanceView> out;
    for (;;) {
        auto r = q.step();
        if (!r) return r.status();
        if (!r.value()) break;
        AttendanceView v;
        v.id = q.text(0);
        v.occasion = q.text(1);
        v.person = q.text(2);
        v.person_name = q.text(3);
        v.status = q.text(4);
        if (!q.is_null(5)) v.minutes = q.int64(5);
        v.recorded_by = q.text(6);
        v.pending = q.int64(7) != 0;
        v.history = static_cast<int>(q.int64(8));
        out.push_back(std::move(v));
    }
    return out;
}
}  // namespace

Result<std::vector<AttendanceView>> Replica::attendance(const std::string& occasion) {
    auto q = db_->query(
        "SELECT id, occasion, person, coalesce(name, ''), status, minutes, coalesce(recorded_by, ''), "
        "pending, n FROM (SELECT a.*, p.name AS name, row_number() OVER (PARTITION BY "
        "a.person ORDER BY " + attendance_current_order_sql("a") + ", a.id DESC) AS rn, "
        "count(*) OVER (PARTITION BY a.person) AS n FROM attendance a LEFT JOIN persons p ON "
        "p.id = a.person WHERE a.occasion = ?) WHERE rn = 1 ORDER BY name, person");
    q->bind(1, occasion);
    return read_marks(*q);
}

Result<std::vector<AttendanceView>> Replica::attendance_of(const std::string& person) {
    auto q = db_->query(
        "SELECT id, occasion, person, coalesce(name, ''), status, minutes, coalesce(recorded_by, ''), "
        "pending, n FROM (SELECT a.*, p.name AS name, oc.starts_at AS starts_at, row_number() OVER "
        "(PARTITION BY a.occasion ORDER BY " + attendance_current_order_sql("a") + ", a.id DESC) AS rn, "
        "count(*) OVER (PARTITION BY a.occasion) AS n FROM attendance a LEFT JOIN persons p ON "
        "p.id = a.person LEFT JOIN occasions oc ON oc.id = a.occasion WHERE a.person = ?) "
        "WHERE rn = 1 ORDER BY starts_at DESC, occasion DESC");
    q->bind(1, person);
    return read_marks(*q);
}

namespace {
// Lower case for a case-insensitive search: ASCII, and the Latin-1 letters of Swedish names
// (Å Ä Ö É ...: U+00C0-U+00DE but U+00D7, two bytes in UTF-8).
std::string fold(std::string_view s) {
    std::string out(s);
    for (size_t i = 0; i < out.size(); ++i) {
        auto c = static_cast<unsigned char>(out[i]);
        if (c >= 'A' && c <= 'Z') {
            out[i] = static_cast<char>(c + 32);
        } else if (c == 0xC3 && i + 1 < out.size()) {
            auto d = static_cast<unsigned char>(out[i + 1]);
            if (d >= 0x80 && d <= 0x9E && d != 0x97) out[i + 1] = static_cast<char>(d + 0x20);
            ++i;
        }
    }
    return out;
}
}  // namespace

Result<std::vector<PersonView>> Replica::persons(const PersonFilter& filter) {
    std::vector<PersonView> out;
    // Erased persons keep no name: nobody can pick them.
    auto q = db_->query(
        "SELECT p.id, coalesce(p.name, ''), coalesce(p.site, ''), coalesce(s.name, ''), "
        "coalesce(p.provisional, 0) FROM persons p LEFT JOIN sites s ON s.id = p.site "
        "WHERE coalesce(p.erased, 0) = 0 AND (?1 = '' OR p.site = ?1) ORDER BY p.name, p.id");
    q->bind(1, filter.site);
    std::string needle = fold(filter.search);
    for (;;) {
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) break;
        PersonView v{q->text(0), q->text(1), q->text(2), q->text(3), q->int64(4) != 0};
        if (!needle.empty() && fold(v.name).find(needle) == std::string::npos) continue;
        out.push_back(std::move(v));
    }
    return out;
}

Result<std::vector<SiteView>> Replica::sites() {
    std::vector<SiteView> out;
    auto q = db_->query(
        "SELECT s.id, coalesce(s.name, ''), coalesce(s.organisation, ''), coalesce(o.name, '') "
        "FROM sites s LEFT JOIN organisations o ON o.id = s.organisation ORDER BY s.name, s.id");
    for (;;) {
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) break;
        out.push_back({q->text(0), q->text(1), q->text(2), q->text(3)});
    }
    return out;
}

Result<std::string> Replica::person_name(const std::string& person) {
    auto q = db_->query("SELECT coalesce(name, '') FROM persons WHERE id = ?");
    q->bind(1, person);
    auto r = q->step();
    if (!r) return r.status();
    return r.value() ? q->text(0) : std::string();
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
