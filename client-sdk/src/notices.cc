// Replica, "changed for you": changes the server made to this person's enrolments and to
// the occasions they are enrolled on (pre-empted, promoted, cancelled, moved), noticed while
// a pulled page is applied (apply_page.cc) and kept until the user has seen them.
#include "replica.h"
#include "tundra/core/stockholm_time.h"

namespace tundra::client {
namespace {
std::string str(const Row& r, std::string_view k) {
    auto* s = get_str(r, k);
    return s ? *s : std::string();
}
bool live(const std::string& status) {
    return status == "requested" || status == "confirmed" || status == "waitlisted";
}

// "2026-12-01 09:00–11:00" (Swedish time), or with both dates when it spans midnight.
std::string span(const std::string& starts_at, const std::string& ends_at) {
    auto s = parse_iso8601(starts_at);
    auto e = parse_iso8601(ends_at);
    if (!s) return starts_at;
    std::string from = stockholm_datetime(s.value());
    if (!e) return from;
    std::string to = stockholm_datetime(e.value());
    return from + "–" + (to.substr(0, 10) == from.substr(0, 10) ? to.substr(11) : to);
}

std::string notice_message(const NoticeView& v, const std::string& starts_at, const std::string& ends_at) {
    std::string what = (v.course_title.empty() ? v.occasion : v.course_title + " (" + v.occasion + ")");
    if (v.kind == "preempted")
        return "your seat at " + what + ", " + span(starts_at, ends_at) +
               ", went to someone who enrolled first: you are on the waiting list";
    if (v.kind == "promoted")
        return "you got a seat at " + what + ", " + span(starts_at, ends_at) + ", from the waiting list";
    if (v.kind == "cancelled") return what + ", " + span(starts_at, ends_at) + ", is cancelled";
    if (v.kind == "moved") {
        auto times = [](const std::string& pair) {
            auto slash = pair.find('/');
            return slash == std::string::npos ? pair : span(pair.substr(0, slash), pair.substr(slash + 1));
        };
        return what + " moved from " + times(v.before) + " to " + times(v.after);
    }
    return what + ": " + v.kind;
}
}  // namespace

Result<std::set<std::string>> Replica::outstanding_targets() {
    std::set<std::string> out;
    auto q = db_->query("SELECT target FROM outbox WHERE state IN ('queued', 'acked')");
    for (;;) {
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) break;
        out.insert(q->text(0));
    }
    return out;
}

Status Replica::note_server_change(Kind kind, const Row& after, const std::set<std::string>& echoes,
                                   const ReplicaMeta& m, int64_t now_ms) {
    if (m.person.empty() || (kind != Kind::enrolment && kind != Kind::occasion)) return Status::ok();
    const std::string id = str(after, "id");
    if (echoes.count(id)) return Status::ok();  // the user's own action coming back
    auto held = load_row(kind, id);
    if (!held) return held.status();
    if (!held.value()) return Status::ok();  // new to this device: not a change
    const Row& before = *held.value();

    // One unseen notice per (kind, occasion): a second change updates it, and a change back
    // to how it was withdraws it.
    auto note = [&](std::string_view what, const std::string& occasion, const std::string& enrolment,
                    const std::string& was, const std::string& now) -> Status {
        auto q = db_->query(
            "SELECT id, coalesce(before, '') FROM notices WHERE seen_ms IS NULL AND kind = ? AND "
            "occasion = ?");
        q->bind(1, what).bind(2, occasion);
        auto r = q->step();
        if (!r) return r.status();
        if (r.value()) {
            int64_t nid = q->int64(0);
            bool back = q->text(1) == now;
            q->reset();
            ++notices_changed_;
            if (back) return db_->query("DELETE FROM notices WHERE id = ?")->bind(1, nid).run();
            auto u = db_->query("UPDATE notices SET after = ?, enrolment = ?, noticed_ms = ? WHERE id = ?");
            return u->bind(1, now).bind(2, enrolment).bind(3, now_ms).bind(4, nid).run();
        }
        q->reset();
        auto ins = db_->query(
            "INSERT INTO notices (kind, occasion, enrolment, before, after, noticed_ms) VALUES (?, ?, "
            "?, ?, ?, ?)");
        TUNDRA_TRY(ins->bind(1, what).bind(2, occasion).bind(3, enrolment).bind(4, was).bind(5, now).bind(6, now_ms).run());
        ++notices_changed_;
        return Status::ok();
    };

    if (kind == Kind::enrolment) {
        if (str(after, "person") != m.person) return Status::ok();
        const std::string was = str(before, "status"), now = str(after, "status");
        const std::string reason = str(after, "reason"), occasion = str(after, "occasion");
        if (was == now) return Status::ok();
        if (was == "confirmed" && reason == reasons::kPreempted)
            return note("preempted", occasion, id, was, now);
        if (now == "confirmed" && reason == reasons::kPromoted)
            return note("promoted", occasion, id, was, now);
        if (now == "cancelled" && reason == reasons::kOccasionCancelled && live(was))
            return note("cancelled", occasion, id, was, now);
        return Status::ok();
    }
    // An occasion touches this person through a live enrolment on it.
    std::string enrolment;
    {
        auto q = db_->query(
            "SELECT id FROM enrolments WHERE occasion = ? AND person = ? AND status IN ('requested', "
            "'confirmed', 'waitlisted') AND local_only = 0 ORDER BY id LIMIT 1");
        q->bind(1, id).bind(2, m.person);
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) return Status::ok();
        enrolment = q->text(0);
    }
    if (str(after, "status") == "cancelled" && str(before, "status") != "cancelled")
        TUNDRA_TRY(note("cancelled", id, enrolment, str(before, "status"), "cancelled"));
    const std::string was = str(before, "starts_at") + "/" + str(before, "ends_at");
    const std::string now = str(after, "starts_at") + "/" + str(after, "ends_at");
    if (was != now) TUNDRA_TRY(note("moved", id, enrolment, was, now));
    return Status::ok();
}

Result<std::vector<NoticeView>> Replica::notices() {
    std::vector<NoticeView> out;
    auto q = db_->query(
        "SELECT n.id, n.kind, n.occasion, coalesce(c.title, ''), coalesce(n.enrolment, ''), "
        "coalesce(n.before, ''), coalesce(n.after, ''), n.noticed_ms, coalesce(o.starts_at, ''), "
        "coalesce(o.ends_at, '') FROM notices n LEFT JOIN "
        "occasions o ON o.id = n.occasion LEFT JOIN courses c ON c.id = o.course WHERE "
        "n.seen_ms IS NULL ORDER BY n.id");
    for (;;) {
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) break;
        NoticeView v;
        v.id = q->int64(0);
        v.kind = q->text(1);
        v.occasion = q->text(2);
        v.course_title = q->text(3);
        v.enrolment = q->text(4);
        v.before = q->text(5);
        v.after = q->text(6);
        v.noticed_at = format_iso8601(q->int64(7));
        v.message = notice_message(v, q->text(8), q->text(9));
        out.push_back(std::move(v));
    }
    return out;
}

Result<int64_t> Replica::mark_notices_seen(int64_t now_ms) {
    auto txn = transaction();
    TUNDRA_TRY(txn.begin());
    auto q = db_->query("UPDATE notices SET seen_ms = ? WHERE seen_ms IS NULL");
    TUNDRA_TRY(q->bind(1, now_ms).run());
    int64_t n = db_->changes();
    TUNDRA_TRY(txn.commit());
    return n;
}

}  // namespace tundra::client
