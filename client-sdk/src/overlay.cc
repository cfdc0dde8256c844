// Replica, the optimistic overlay: shadows of server rows and the local effects of actions
// the server's rows do not reflect yet.
#include "replica.h"

namespace tundra::client {
namespace {
std::string str(const Row& r, std::string_view k) {
    auto* s = get_str(r, k);
    return s ? *s : std::string();
}
}  // namespace

Status Replica::shadow(Kind kind, const std::string& id) {
    auto& spec = entity(kind);
    {
        auto q = db_->query("SELECT 1 FROM shadow WHERE tbl = ? AND id = ?");
        q->bind(1, spec.table).bind(2, id);
        auto r = q->step();
        if (!r) return r.status();
        if (r.value()) return Status::ok();  // the server's version is already saved
    }
    auto row = load_row(kind, id);
    if (!row) return row.status();
    auto q = db_->query("INSERT INTO shadow (tbl, id, row) VALUES (?, ?, ?)");
    q->bind(1, spec.table).bind(2, id);
    if (row.value()) q->bind(3, encode_row(*row.value()));
    else q->bind(3, nullptr);
    return q->run();
}

Status Replica::restore_shadows() {
    struct Saved {
        std::string tbl, id;
        std::optional<std::string> row;
    };
    std::vector<Saved> saved;
    {
        auto q = db_->query("SELECT tbl, id, row FROM shadow");
        for (;;) {
            auto r = q->step();
            if (!r) return r.status();
            if (!r.value()) break;
            saved.push_back({q->text(0), q->text(1), q->opt_text(2)});
        }
    }
    for (auto& s : saved) {
        const EntitySpec* spec = nullptr;
        for (auto& e : all_entities())
            if (e.table == s.tbl) spec = &e;
        if (!spec) continue;
        if (!s.row) {
            TUNDRA_TRY(delete_row(spec->kind, s.id));
        } else {
            auto row = decode_row(*s.row);
            if (!row) return Status(Errc::storage, "corrupt shadow row: " + row.status().message());
            TUNDRA_TRY(put_row(spec->kind, row.value(), false, false));
        }
    }
    return db_->exec("DELETE FROM shadow");
}

namespace {
// What one overlay function gets: the entry, who this device is, and the row the server sent
// (if any) for the action's target.
struct OverlayInput {
    const OutboxEntry& e;
    const ReplicaMeta& m;
    const ActionSpec& spec;
    const std::string& id;
    const std::optional<Row>& server_row;
    bool queued;
};
}  // namespace

// The local effect of each action type, by wire name: a table, as on the server
// (sync-server/src/actions.cc, `dispatch`). Types without an entry are edits and records:
// the action's fields over the current row.
Status Replica::apply_overlay(const OutboxEntry& e, const ReplicaMeta& m) {
    const Action& a = e.action;
    auto* spec = action_spec(a.type);
    if (!spec) return Status::ok();
    const std::string& id = a.target_id();
    auto existing = load_row(spec->target, id);
    if (!existing) return existing.status();
    OverlayInput in{e, m, *spec, id, existing.value(), e.state == OutboxState::queued};

    using Fn = Status (*)(Replica&, const OverlayInput&);
    struct Overlay {
        std::string_view type;
        Fn apply;
    };
    static constexpr Overlay kOverlays[] = {
        {"enrol", [](Replica& r, const OverlayInput& in) { return r.overlay_enrol(in.e, in.m, in.server_row.has_value(), in.queued); }},
        {"delete_occasion",
         [](Replica& r, const OverlayInput& in) -> Status {
             if (!in.server_row || in.e.state == OutboxState::rejected) return Status::ok();
             TUNDRA_TRY(r.shadow(in.spec.target, in.id));
             return r.delete_row(in.spec.target, in.id);
         }},
        {"cancel_enrolment",
         [](Replica& r, const OverlayInput& in) -> Status {
             if (!in.server_row || in.e.state == OutboxState::rejected) return Status::ok();
             Row row = *in.server_row;
             if (str(row, "status") == "cancelled") return Status::ok();
             row["status"] = std::string("cancelled");
             row["reason"] = Value{};
             TUNDRA_TRY(r.shadow(in.spec.target, in.id));
             return r.put_row(in.spec.target, row, in.queued, false);
         }},
        {"mark_attendance",
         [](Replica& r, const OverlayInput& in) -> Status {
             // Marks acknowledged but not yet pulled stay visible.
             bool pulled = in.server_row.has_value();
             if (!in.queued && (in.e.state != OutboxState::acked || pulled)) return Status::ok();
             return r.overlay_mark(in.e, in.m, in.queued);
         }},
        {"walk_in",
         [](Replica& r, const OverlayInput& in) -> Status {
             if (in.e.state == OutboxState::rejected) return Status::ok();
             const Row& f = in.e.action.fields;
             // A walk-in registered by name: the provisional person, until the server's row.
             if (f.count("name")) TUNDRA_TRY(r.overlay_walk_in_person(in.e, in.queued));
             // The enrolment until its server row arrives: confirmed, reason walk_in.
             if (in.queued || !in.server_row) {
                 Row row{{"id", in.id},
                         {"occasion", str(f, "occasion")},
                         {"person", str(f, "person")},
                         {"status", std::string("confirmed")},
                         {"reason", std::string(reasons::kWalkIn)},
                         {"acted_hlc", static_cast<int64_t>(in.e.action.hlc.value)},
                         {"acted_by", in.m.username},
                         {"updated_hlc", static_cast<int64_t>(in.e.action.hlc.value)}};
                 TUNDRA_TRY(r.shadow(Kind::enrolment, in.id));
                 TUNDRA_TRY(r.put_row(Kind::enrolment, row, in.queued, false));
             }
             auto mark = r.load_row(Kind::attendance, str(f, "mark"));
             if (!mark) return mark.status();
             if (!in.queued && mark.value()) return Status::ok();
             return r.overlay_mark(in.e, in.m, in.queued);
         }},
    };
    for (auto& o : kOverlays)
        if (o.type == a.type) return o.apply(*this, in);

    // Edits and records wait for the pull once acknowledged.
    if (!in.queued) return Status::ok();
    const Row& f = a.fields;
    Row row = existing.value() ? *existing.value() : Row{{"id", id}};
    for (auto& [k, v] : f)
        if (k != spec->id_field) row[k] = v;
    // Records kept once per key carry their stamp; new rows get the server's defaults.
    const EntitySpec& target = entity(spec->target);
    for (auto& c : target.columns)
        if (c.name == "hlc") row["hlc"] = static_cast<int64_t>(a.hlc.value);
    if (spec->target == Kind::deviation && !row.count("status")) row["status"] = std::string("open");
    if (spec->target == Kind::occasion && !existing.value()) {
        row["status"] = f.count("status") ? f.at("status") : Value(std::string("planned"));
        row["confirmed"] = int64_t{0};
        row["waitlisted"] = int64_t{0};
    }
    TUNDRA_TRY(shadow(spec->target, id));
    return put_row(spec->target, row, true, false);
}

Status Replica::overlay_enrol(const OutboxEntry& e, const ReplicaMeta& m, bool has_server_row,
                              bool queued) {
    const Action& a = e.action;
    const Row& f = a.fields;
    const std::string& id = a.target_id();
    if (e.state == OutboxState::acked && has_server_row) return Status::ok();
    if (e.state == OutboxState::rejected && has_server_row) return Status::ok();
    Row row{{"id", id},
            {"occasion", str(f, "occasion")},
            {"person", str(f, "person")},
            {"status", std::string("requested")},
            {"reason", Value{}},
            {"acted_hlc", static_cast<int64_t>(a.hlc.value)},
            {"acted_by", m.username},
            {"updated_hlc", static_cast<int64_t>(a.hlc.value)}};
    bool local_only = false;
    if (e.state == OutboxState::acked) {
        row["status"] = e.outcome.status.empty() ? std::string("requested") : e.outcome.status;
        if (!e.outcome.reason.empty()) row["reason"] = e.outcome.reason;
    } else if (e.state == OutboxState::rejected) {
        row["status"] = std::string("rejected");
        row["reason"] = e.outcome.reason;
        local_only = true;  // the server holds no such row; kept visible until dismissed
    }
    TUNDRA_TRY(shadow(Kind::enrolment, id));
    return put_row(Kind::enrolment, row, queued, local_only);
}

// The mark an action records (mark_attendance, walk_in), as the server will store it: the
// source follows the role, as on the server, so the current mark is ranked alike.
Status Replica::overlay_mark(const OutboxEntry& e, const ReplicaMeta& m, bool queued) {
    const Row& f = e.action.fields;
    const std::string id = str(f, "mark");
    Row row{{"id", id},
            {"occasion", str(f, "occasion")},
            {"person", str(f, "person")},
            {"status", f.count("status") ? str(f, "status") : std::string("present")},
            {"minutes", f.count("minutes") ? f.at("minutes") : Value{}},
            {"recorded_by", m.username},
            {"source", std::string(m.role == "participant" ? "self_check_in" : "coordinator")},
            {"hlc", static_cast<int64_t>(e.action.hlc.value)},
            {"device", m.device_id}};
    TUNDRA_TRY(shadow(Kind::attendance, id));
    return put_row(Kind::attendance, row, queued, false);
}

// The person a walk_in registers by name (provisional), at the organisation of their site.
Status Replica::overlay_walk_in_person(const OutboxEntry& e, bool queued) {
    const Row& f = e.action.fields;
    const std::string id = str(f, "person");
    auto held = load_row(Kind::person, id);
    if (!held) return held.status();
    if (!queued && held.value()) return Status::ok();
    auto site = load_row(Kind::site, str(f, "site"));
    if (!site) return site.status();
    Row row{{"id", id},
            {"organisation", site.value() ? str(*site.value(), "organisation") : std::string()},
            {"site", str(f, "site")},
            {"name", str(f, "name")},
            {"gender", str(f, "gender")},
            {"birth_year", f.count("birth_year") ? f.at("birth_year") : Value{}},
            {"erased", false},
            {"provisional", true}};
    TUNDRA_TRY(shadow(Kind::person, id));
    return put_row(Kind::person, row, queued, false);
}

Status Replica::apply_all_overlays(const ReplicaMeta& m) {
    auto entries = outbox({OutboxState::queued, OutboxState::acked, OutboxState::rejected});
    if (!entries) return entries.status();
    for (auto& e : entries.value()) TUNDRA_TRY(apply_overlay(e, m));
    return Status::ok();
}

}  // namespace tundra::client
