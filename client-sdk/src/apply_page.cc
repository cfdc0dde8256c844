// One sync reply applied in one transaction: rows (and the notices they bring, notices.cc),
// full-pull marks and sweep, outcomes (seq_reused ones renumbered and queued again), cursor,
// clock, and the overlay put back.
#include <algorithm>

#include "client_internal.h"
#include "test_hooks.h"

namespace tundra::client {

namespace {
// Rows of the page; a full pull marks what it sends and, on its last page, sweeps the rest.
Status apply_changes(Replica& r, const PageInput& in, ReplicaMeta& m, PageResult& out, int64_t now_ms) {
    const SyncResponse& resp = in.resp;
    // Every full pull ends with the mark-and-sweep, not only a reset: a first sync, a
    // cursor cleared by `verify`, a reset. A reset page that comes again (the server
    // decided again) starts the marks over, which is what the full pull it begins needs.
    if (resp.reset || in.full_pull_start) {
        m.full_pull = true;
        auto held = r.begin_full_pull();
        if (!held) return held.status();
        m.full_pull_unmarked = !held.value();
        // Nothing of the server's here yet: the rows come in without the secondary indexes,
        // which are built once when the pull ends.
        if (m.full_pull_unmarked) TUNDRA_TRY(r.drop_row_indexes());
        // Reported as a rebuild only when the server refused a cursor this replica held; a
        // full pull the device asked for (no cursor) is not news to the user.
        out.reset = resp.reset && !in.full_pull_start;
    }
    // "Changed for you" compares each row with the one held before it; the targets of the
    // user's own actions in flight are echoes, not news.
    std::set<std::string> echoes;
    if (!m.person.empty()) {
        auto t = r.outstanding_targets();
        if (!t) return t.status();
        echoes = std::move(t.value());
    }
    for (auto& c : resp.changes) {
        out.kinds.insert(std::string(entity(c.kind).name));
        if (c.deleted) {
            TUNDRA_TRY(r.delete_row(c.kind, c.id));
        } else {
            TUNDRA_TRY(r.note_server_change(c.kind, c.row, echoes, m, now_ms));
            TUNDRA_TRY(r.put_row(c.kind, c.row, false, false, c.version));
            if (m.full_pull && !m.full_pull_unmarked) TUNDRA_TRY(r.mark_seen(c.kind, c.id));
        }
    }
    if (m.full_pull && !resp.more) {
        if (!m.full_pull_unmarked) {
            auto removed = r.sweep_unseen(&out.kinds);
            if (!removed) return removed.status();
            out.removed += removed.value();
        }
        TUNDRA_TRY(r.ensure_row_indexes());
        m.full_pull = false;
        m.full_pull_unmarked = false;
    }
    return Status::ok();
}

// Outcomes of the actions this request carried; `seq_reused` ones are queued again.
Status apply_outcomes(Replica& r, const PageInput& in, ReplicaMeta& m, PageResult& out) {
    const SyncResponse& resp = in.resp;
    uint64_t first_reused = 0;
    for (auto& o : resp.outcomes) {
        auto it = std::find_if(in.sent.begin(), in.sent.end(), [&](const Action& a) { return a.seq == o.seq; });
        if (it == in.sent.end()) continue;
        if (o.result == OutcomeResult::rejected && o.reason == reasons::kSeqReused) {
            // Not the user's rejection: this replica issued a seq the server already holds
            // for another action (restored or rolled back). It stays queued, renumbered.
            first_reused = first_reused == 0 ? o.seq : std::min(first_reused, o.seq);
            ++out.requeued;
            out.kinds.insert("outbox");
            continue;
        }
        // The answer changes the action's local effect (a rejected enrolment shows as such).
        for (auto& k : action_kinds(*it)) out.kinds.insert(k);
        out.kinds.insert("outbox");
        TUNDRA_TRY(r.set_outcome(
            o, o.result == OutcomeResult::rejected ? OutboxState::rejected : OutboxState::acked));
        out.outcomes.push_back({o.seq, it->type, it->target_id(), std::string(to_string(o.result)),
                                o.reason, o.message, o.status});
    }
    if (first_reused != 0) {
        // Every queued action from the first reused seq on was recorded after the replica's
        // history diverged from the server's, so none of them is on the server under its
        // number: moving them all (in order) above the server's last seq is safe.
        auto top = r.renumber_queued(first_reused, std::max(resp.last_seq, m.last_seq));
        if (!top) return top.status();
        m.last_seq = std::max(m.last_seq, top.value());
    }
    // New actions are numbered above anything the server holds from this device.
    m.last_seq = std::max(m.last_seq, resp.last_seq);
    // Once the pull has caught up, every acknowledged action is reflected in the rows.
    if (!resp.more) TUNDRA_TRY(r.finish_acked());
    return Status::ok();
}
}  // namespace

Status apply_page(Replica& r, const PageInput& in, const HlcClock::WallClock& wall, PageResult& out) {
    const SyncResponse& resp = in.resp;
    auto txn = r.transaction();
    TUNDRA_TRY(txn.begin());
    ReplicaMeta m = r.load_meta();
    int64_t notices_before = r.notices_changed();
    // The overlay comes off before the server's rows go in, and back on after.
    TUNDRA_TRY(r.restore_shadows());
    TUNDRA_TRY(apply_changes(r, in, m, out, static_cast<int64_t>(wall())));
    TUNDRA_TRY(apply_outcomes(r, in, m, out));
    m.cursor = resp.cursor;
    HlcClock clock(wall, Hlc{m.hlc});
    m.hlc = clock.observe(Hlc{resp.server_hlc}).value;
    if (!in.page_budget.empty()) m.page_budget = in.page_budget;
    if (!resp.more) m.last_sync = format_iso8601(static_cast<int64_t>(wall()));
    if (!out.outcomes.empty()) m.last_push = format_iso8601(static_cast<int64_t>(wall()));
    TUNDRA_TRY(r.save_meta(m));
    TUNDRA_TRY(r.apply_all_overlays(m));
    if (r.notices_changed() != notices_before) out.kinds.insert("notice");
    return test_hooks::commit_page([&] { return txn.commit(); });
}

}  // namespace tundra::client
