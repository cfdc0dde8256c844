// The sync engine: the round loop. Each round sends queued actions (as many as the push
// budget allows) and asks for one page (as many bytes as the page budget allows); each
// reply is applied in one transaction (apply_page.cc). Failures are retried with back-off
// inside the deadline, and a failure on the link makes the next request smaller.
#include <algorithm>
#include <random>
#include <thread>

#include "backoff.h"
#include "client_internal.h"
#include "page_budget.h"

namespace tundra::client {

Status error_from_reply(const HttpReply& reply) {
    auto e = decode_error(reply.body);
    if (e) {
        Errc code = e->code;
        if (reply.status == 429) code = Errc::overloaded;
        return Status(code, e->message);
    }
    Errc code = reply.status >= 500 ? Errc::server_error
                : reply.status == 429 ? Errc::overloaded
                : reply.status == 401 ? Errc::unauthorized
                                      : Errc::invalid_argument;
    return Status(code, "the server answered HTTP " + std::to_string(reply.status));
}

namespace {
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

Status gave_up(int attempts, const Status& last) {
    if (attempts == 0 || last.ok())
        return Status(Errc::timeout, "gave up after " + std::to_string(attempts) +
                                         " attempt(s): the sync deadline passed");
    return Status(last.code(), "gave up after " + std::to_string(attempts) +
                                   " attempt(s): " + last.message());
}

void update_progress(SyncProgress& p, const SyncReport& report, const SyncResponse& resp,
                     Clock::time_point started) {
    p.round = report.rounds;
    p.pushed = report.pushed;
    p.pulled = report.pulled;
    p.bytes_sent = report.bytes_sent;
    p.bytes_received = report.bytes_received;
    p.more = resp.more;
    p.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    p.rows_expected = resp.more ? report.pulled + static_cast<int64_t>(resp.remaining) : report.pulled;
    if (report.pulled > 0) {
        double per_row = static_cast<double>(report.bytes_received) / static_cast<double>(report.pulled);
        p.bytes_expected = static_cast<uint64_t>(per_row * static_cast<double>(p.rows_expected));
        double rate = static_cast<double>(report.bytes_received) / std::max(1e-3, p.seconds);
        p.eta_seconds =
            static_cast<double>(p.bytes_expected - std::min(p.bytes_expected, report.bytes_received)) / rate;
    }
}
}  // namespace

Result<SyncReport> run_sync(ClientCore& core, const SyncOptions& opts) {
    auto started = Clock::now();
    auto deadline = started + opts.deadline;
    bool no_deadline = opts.deadline.count() <= 0;
    SyncReport report;
    SyncProgress progress;
    ReplicaMeta m = core.with_replica([](Replica& r) { return r.load_meta(); });
    TUNDRA_TRY(core.require_login(m));

    PageBudgetConfig cfg;
    cfg.target_page_seconds = opts.target_page_seconds;
    cfg.max_bytes = kMaxPageBytes;
    PageBudget budget(cfg, PageBudgetState::decode(m.page_budget));
    PushBudget push(std::min(opts.max_actions_per_round, kMaxActionsPerRequest));
    progress.page_budget = budget.bytes();
    std::mt19937_64 rng(std::random_device{}());
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    int attempts = 0;  // consecutive failed requests of this round
    Status last;

    for (;;) {
        std::vector<OutboxEntry> queued;
        TUNDRA_TRY(core.with_replica([&](Replica& r) -> Status {
            m = r.load_meta();
            auto q = r.outbox({OutboxState::queued}, push.actions());
            if (!q) return q.status();
            queued = std::move(q.value());
            return Status::ok();
        }));
        TUNDRA_TRY(core.require_login(m));
        SyncRequest req;
        req.cursor = m.cursor;
        req.limit = opts.page_rows;
        // Byte-sized pages only where the server announced them; rows otherwise.
        bool byte_pages = opts.page_rows == 0 && m.server_capabilities.find(",max_bytes,") != std::string::npos;
        if (byte_pages) req.max_bytes = budget.bytes();
        req.capabilities = {"gzip"};
        req.verify = opts.verify;
        for (auto& e : queued) req.actions.push_back(e.action);

        // No deadline (0): the transport's own limits, and the first failure ends the sync.
        auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
        if (no_deadline) left = milliseconds(0);
        else if (left.count() <= 0) return gave_up(attempts, last);
        auto sent_at = Clock::now();
        auto reply = core.transport_for(m.server).post(
            "/v1/sync", encode(req), {{"Authorization", "Bearer " + m.token}}, left);
        double seconds = std::chrono::duration<double>(Clock::now() - sent_at).count();
        ++report.requests;

        milliseconds retry_after{0};
        if (reply) {
            report.bytes_sent += reply->bytes_sent;
            report.bytes_received += reply->bytes_received;
        }
        if (!reply || reply->status != 200) {
            ++attempts;
            if (reply) {
                last = error_from_reply(reply.value());
                bool retry = reply->status == 429 || reply->status == 503 ||
                             (reply->status >= 500 && last.retryable());
                if (!retry) return last;
                if (auto it = reply->headers.find("retry-after"); it != reply->headers.end())
                    retry_after = parse_retry_after(it->second).value_or(milliseconds{0});
            } else {
                last = reply.status();
                if (!last.retryable()) return last;
                // The link broke somewhere in this request: resending the same sizes would
                // break the same way on a link that cuts after a fixed number of bytes.
                if (byte_pages) budget.on_cut();
                if (!req.actions.empty()) push.on_failure();
                progress.page_budget = budget.bytes();
            }
            auto delay = backoff_delay(attempts - 1, unit(rng), retry_after);
            if (no_deadline || !retry_fits(delay, std::chrono::duration_cast<milliseconds>(deadline - Clock::now())))
                return gave_up(attempts, last);
            if (opts.progress) {
                progress.note = "retrying in " + std::to_string(delay.count()) + " ms: " + last.to_string();
                opts.progress(progress);
                progress.note.clear();
            }
            if (core.opts.sleep) core.opts.sleep(delay);
            else std::this_thread::sleep_for(delay);
            continue;
        }

        attempts = 0;
        if (byte_pages && reply->bytes_received > 0) budget.on_reply(reply->bytes_received, seconds, reply->first_byte_seconds);
        if (!req.actions.empty()) push.on_success();
        progress.page_budget = budget.bytes();
        auto resp = decode_sync_response(reply->body);
        if (!resp) return Status(Errc::malformed, "bad response from server: " + resp.status().message());
        PageResult page;
        PageInput in{resp.value(), req.actions, req.cursor.empty(),
                     byte_pages ? budget.state().encode() : std::string()};
        TUNDRA_TRY(core.with_replica([&](Replica& r) { return apply_page(r, in, core.wall, page); }));
        report.reset = report.reset || page.reset;
        report.removed += page.removed;
        report.outcomes.insert(report.outcomes.end(), page.outcomes.begin(), page.outcomes.end());
        if (resp->checksum) report.checksum = Checksum{resp->checksum->count, resp->checksum->hash};
        ++report.rounds;
        report.pushed += static_cast<int64_t>(req.actions.size()) - page.requeued;
        report.pulled += static_cast<int64_t>(resp->changes.size());
        update_progress(progress, report, resp.value(), started);
        progress.round_outcomes = std::move(page.outcomes);
        if (opts.progress) opts.progress(progress);
        progress.round_outcomes.clear();
        auto left_queued = core.with_replica([](Replica& r) { return r.count_queued(); });
        if (!left_queued) return left_queued.status();
        if (!resp->more && left_queued.value() == 0) break;
    }
    return report;
}

}  // namespace tundra::client
