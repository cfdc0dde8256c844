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

Status Replica::apply_overlay(const OutboxEntry& e, const ReplicaMeta& m) {
    const std::string& username = m.username;
    const std::string& device_id = m.device_id;
    const Action& a = e.action;
    const Row& f = a.fields;
    const std::string& id = a.target_id();
    auto* spec = action_spec(a.type);
    if (!spec) return Status::ok();
    bool queued = e.state == OutboxState::queued;
    auto existing = load_row(spec->target, id);
    if (!existing) return existing.status();
    bool has_server_row = existing.value().has_value();

    if (a.type == "enrol") {
        if (e.state == OutboxState::acked && has_server_row) return Status::ok();
        if (e.state == OutboxState::rejected && has_server_row) return Status::ok();
        Row row{{"id", id},
                {"occasion", str(f, "occasion")},
                {"person", str(f, "person")},
                {"status", std::string("requested")},
                {"reason", Value{}},
                {"acted_hlc", static_cast<int64_t>(a.hlc.value)},
                {"acted_by", username},
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
        TUNDRA_TRY(shadow(spec->target, id));
        return put_row(spec->target, row, queued, local_only);
    }
    if (a.type == "delete_occasion") {
        if (!has_server_row || e.state == OutboxState::rejected) return Status::ok();
        TUNDRA_TRY(shadow(spec->target, id));
        return delete_row(spec->target, id);
    }
    if (a.type == "cancel_enrolment") {
        if (!has_server_row || e.state == OutboxState::rejected) return Status::ok();
        Row row = *existing.value();
        if (str(row, "status") == "cancelled") return Status::ok();
        row["status"] = std::string("cancelled");
        row["reason"] = Value{};
        TUNDRA_TRY(shadow(spec->target, id));
        return put_row(spec->target, row, queued, false);
    }
    if (e.state != OutboxState::queued) {
        // Marks acknowledged but not yet pulled stay visible; edits wait for the pull.
        if (a.type != "mark_attendance" || e.state != OutboxState::acked || has_server_row)
            return Status::ok();
    }
    Row row;
    if (a.type == "mark_attendance") {
        row = Row{{"id", id},
                  {"occasion", str(f, "occasion")},
                  {"person", str(f, "person")},
                  {"status", str(f, "status")},
                  {"minutes", f.count("minutes") ? f.at("minutes") : Value{}},
                  {"recorded_by", username},
                  {"source", std::string(str(f, "person") == m.person ? "self_check_in" : "coordinator")},
                  {"hlc", static_cast<int64_t>(a.hlc.value)},
                  {"device", device_id}};
    } else {
        // Edits and records: the action's fields over the current row.
        row = has_server_row ? *existing.value() : Row{{"id", id}};
        for (auto& [k, v] : f)
            if (k != spec->id_field) row[k] = v;
        if (a.type == "attest_time" || a.type == "submit_survey" || a.type == "log_deviation")
            row["hlc"] = static_cast<int64_t>(a.hlc.value);
        if (a.type == "log_deviation" && !row.count("status")) row["status"] = std::string("open");
        if (a.type == "upsert_occasion" && !has_server_row) {
            row["status"] = f.count("status") ? f.at("status") : Value(std::string("planned"));
            row["confirmed"] = int64_t{0};
            row["waitlisted"] = int64_t{0};
        }
    }
    TUNDRA_TRY(shadow(spec->target, id));
    return put_row(spec->target, row, queued, false);
}

Status Replica::apply_all_overlays(const ReplicaMeta& m) {
    auto entries = outbox({OutboxState::queued, OutboxState::acked, OutboxState::rejected});
    if (!entries) return entries.status();
    for (auto& e : entries.value()) TUNDRA_TRY(apply_overlay(e, m));
    return Status::ok();
}

}  // namespace tundra::client
