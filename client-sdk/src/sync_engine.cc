// The sync engine (SyncEngine): the round loop. Each round sends queued actions (as many as the push
// budget allows) and asks for one page (as many bytes as the page budget allows); each
// reply is applied in one transaction (apply_page.cc). Failures are retried with back-off
// inside the deadline, and a failure on the link makes the next request smaller. A cancelled
// sync (SyncOptions::cancel) stops between rounds, in a back-off wait, or mid-transfer (the
// transport's abort check), and the round in flight is not applied.
//
// Pages of a pull are pipelined: when a reply says `more` and nothing waits to be pushed, the
// request for the next page (from the cursor that reply carries) is sent on a second thread
// while this one applies the reply, so the server's work, the link's transfer and the JSON
// decoding of page k+1 overlap the replica's apply of page k. Only one request is ever in
// flight, and the cursor the replica holds moves only when a page is applied: a reply that
// arrives for a page whose predecessor failed to apply, or after a cancel, is dropped unread.
#include <algorithm>
#include <atomic>
#include <future>
#include <memory>
#include <random>
#include <thread>

#include "backoff.h"
#include "client_internal.h"
#include "page_budget.h"

namespace tundra::client {

Status error_from_reply(const HttpReply& reply) {
    int retry_after_s = 0;
    if (auto it = reply.headers.find("retry-after"); it != reply.headers.end())
        if (auto d = parse_retry_after(it->second)) retry_after_s = static_cast<int>(d->count() / 1000);
    auto e = decode_error(reply.body);
    if (e) {
        Errc code = e->code;
        // A 429 that is not a login throttle is the server shedding load: retry later.
        if (reply.status == 429 && code != Errc::rate_limited) code = Errc::overloaded;
        std::string message = e->message;
        if (code == Errc::rate_limited && retry_after_s > 0 && message.find("try again") == std::string::npos)
            message += "; try again in " + std::to_string(retry_after_s) + " s";
        return Status(code, std::move(message), retry_after_s);
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
// One sync: the state a round loop keeps between requests.
class SyncEngine {
public:
    SyncEngine(ClientCore& core, const SyncOptions& opts)
        : core_(core), opts_(opts), started_(Clock::now()), deadline_(started_ + opts.deadline),
          no_deadline_(opts.deadline.count() <= 0),
          push_(std::min(opts.max_actions_per_round, kMaxActionsPerRequest)),
          rng_(std::random_device{}()) {}

    Result<SyncReport> run() {
        m_ = core_.with_replica([](Replica& r) { return r.load_meta(); });
        TUNDRA_TRY(core_.require_login(m_));
        PageBudgetConfig cfg;
        cfg.target_page_seconds = opts_.target_page_seconds;
        cfg.max_bytes = kMaxPageBytes;
        budget_ = PageBudget(cfg, PageBudgetState::decode(m_.page_budget));
        progress_.page_budget = budget_.bytes();
        for (;;) {
            if (opts_.cancel.cancelled()) return cancelled();
            Sent sent;
            if (ahead_) {
                // The next page, asked for (and decoded) while the previous one was applied.
                sent = ahead_->get();
                ahead_.reset();
            } else {
                TUNDRA_TRY(next_request(sent.req));
                // No deadline (0): the transport's own limits, and the first failure ends the sync.
                if (!no_deadline_ && time_left().count() <= 0) return gave_up();
                send(core_.transport_for(m_), m_.token, sent, nullptr);
            }
            const SyncRequest& req = sent.req;
            Result<HttpReply>& reply = sent.reply;
            ++report_.requests;
            // The answer to a cancelled round is not applied: the server keeps what it
            // applied, and the next sync sends the same actions again (answered from the
            // server's memory of this device's seqs, so nothing is applied twice).
            if (opts_.cancel.cancelled()) return cancelled();
            if (reply) {
                report_.bytes_sent += reply->bytes_sent;
                report_.bytes_received += reply->bytes_received;
            }
            if (!reply || reply->status != 200) {
                TUNDRA_TRY(on_failure(req, reply));
                continue;
            }
            auto done = on_reply(req, reply.value(), sent.seconds, std::move(sent.decoded));
            if (!done) return done.status();
            if (done.value()) return report_;
        }
    }

    ~SyncEngine() { drop_ahead(); }

private:
    // A request and what came of it.
    struct Sent {
        SyncRequest req;
        Result<HttpReply> reply = Status(Errc::internal, "no request made");
        double seconds = 0;
        std::optional<Result<SyncResponse>> decoded;  // a 200's body, decoded on the thread ahead
    };

    // Sends `out.req` and waits for the answer (into `out`); `dropped`, when given, abandons it
    // mid-transfer. Touches nothing of the engine but its deadline: it may run on the thread ahead.
    void send(Transport& t, const std::string& token, Sent& out, const std::shared_ptr<std::atomic<bool>>& dropped) {
        auto left = no_deadline_ ? milliseconds(0) : time_left();
        auto sent_at = Clock::now();
        t.set_abort([cancel = opts_.cancel, dropped] { return cancel.cancelled() || (dropped && dropped->load()); });
        out.reply = t.post("/v1/sync", encode(out.req), {{"Authorization", "Bearer " + token}}, left);
        t.set_abort({});
        out.seconds = std::chrono::duration<double>(Clock::now() - sent_at).count();
    }

    // Sends the request for the page after `resp` on a second thread, when the pull goes on
    // and nothing is queued to push (a request with actions is built from the outbox after
    // the reply before it is applied, as ever).
    void send_ahead(const SyncRequest& req, const SyncResponse& resp) {
        if (!resp.more || !req.actions.empty() || opts_.cancel.cancelled()) return;
        if (!no_deadline_ && time_left().count() <= 0) return;
        auto queued = core_.with_replica([](Replica& r) { return r.count_queued(); });
        if (!queued || queued.value() != 0) return;
        Sent next;
        next.req = page_request(resp.cursor);
        ahead_dropped_ = std::make_shared<std::atomic<bool>>(false);
        ahead_ = std::async(std::launch::async, [this, &t = core_.transport_for(m_), token = m_.token,
                                                 sent = std::move(next), dropped = ahead_dropped_]() mutable {
            send(t, token, sent, dropped);
            if (sent.reply && sent.reply->status == 200 && !dropped->load())
                sent.decoded = decode_sync_response(sent.reply->body);
            return sent;
        });
    }

    // A request sent ahead whose reply will not be applied: abandon it and wait for its thread.
    void drop_ahead() {
        if (!ahead_) return;
        ahead_dropped_->store(true);
        ahead_->wait();
        ahead_.reset();
    }

    milliseconds time_left() const {
        return std::chrono::duration_cast<milliseconds>(deadline_ - Clock::now());
    }

    bool byte_pages() const {
        // Byte-sized pages only where the server announced them; rows otherwise.
        return opts_.page_rows == 0 && m_.server_capabilities.find(",max_bytes,") != std::string::npos;
    }

    Status cancelled() {
        drop_ahead();
        return Status(Errc::cancelled, "the sync was cancelled after " + std::to_string(report_.rounds) +
                                           " round(s); what they brought is kept");
    }

    // Waits out a back-off delay, ending early when the sync is cancelled.
    void wait(milliseconds delay) const {
        if (core_.opts.sleep) {
            core_.opts.sleep(delay);
            return;
        }
        auto until = Clock::now() + delay;
        while (!opts_.cancel.cancelled()) {
            auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now());
            if (left.count() <= 0) break;
            std::this_thread::sleep_for(std::min(left, milliseconds(50)));
        }
    }

    Status gave_up() const {
        if (attempts_ == 0 || last_.is_ok())
            return Status(Errc::timeout, "gave up after " + std::to_string(attempts_) +
                                             " attempt(s): the sync deadline passed");
        return Status(last_.code(), "gave up after " + std::to_string(attempts_) +
                                        " attempt(s): " + last_.message());
    }

    // The next request: as many queued actions as the push budget allows, a page as large as
    // the page budget allows, from the cursor the replica holds now.
    Status next_request(SyncRequest& req) {
        std::vector<OutboxEntry> queued;
        TUNDRA_TRY(core_.with_replica([&](Replica& r) -> Status {
            m_ = r.load_meta();
            auto q = r.outbox({OutboxState::queued}, push_.actions());
            if (!q) return q.status();
            queued = std::move(q.value());
            return Status::ok();
        }));
        TUNDRA_TRY(core_.require_login(m_));
        req = page_request(m_.cursor);
        for (auto& e : queued) req.actions.push_back(std::move(e.action));
        return Status::ok();
    }

    // A request for the page after `cursor`, of the size this sync asks for now.
    SyncRequest page_request(const std::string& cursor) const {
        SyncRequest req;
        req.cursor = cursor;
        req.limit = opts_.page_rows;
        if (byte_pages()) req.max_bytes = budget_.bytes();
        req.capabilities = {"gzip"};
        req.verify = opts_.verify;
        return req;
    }

    // A failed request: stop on what retrying cannot cure; otherwise shrink what the next
    // request asks for (after a failure of the link) and wait, if a retry still fits.
    Status on_failure(const SyncRequest& req, const Result<HttpReply>& reply) {
        ++attempts_;
        milliseconds retry_after{0};
        if (reply) {
            last_ = error_from_reply(reply.value());
            if (last_.code() == Errc::malformed && !req.cursor.empty() && !cursor_dropped_ &&
                last_.message().rfind("cursor:", 0) == 0) {
                // The server no longer accepts the cursor it issued (its signing key changed,
                // or the store was replaced): start again with a full pull, which sweeps what
                // it does not send. Once per sync; queued actions are kept.
                cursor_dropped_ = true;
                report_.reset = true;  // the user sees a rebuild, as for a reset
                return core_.with_replica([](Replica& r) { return r.forget_cursor(); });
            }
            // Remote wipe: the device (or its user) was revoked.
            if (last_.code() == Errc::revoked) return wipe_after_revocation(core_);
            bool retry = last_.code() != Errc::rate_limited &&
                         (reply->status == 429 || reply->status == 503 ||
                          (reply->status >= 500 && last_.retryable()));
            if (!retry) return last_;
            if (auto it = reply->headers.find("retry-after"); it != reply->headers.end())
                retry_after = parse_retry_after(it->second).value_or(milliseconds{0});
        } else {
            last_ = reply.status();
            if (!last_.retryable()) return last_;
            // The link broke somewhere in this request: resending the same sizes would
            // break the same way on a link that cuts after a fixed number of bytes.
            if (byte_pages()) budget_.on_cut();
            if (!req.actions.empty()) push_.on_failure();
            progress_.page_budget = budget_.bytes();
        }
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        auto delay = backoff_delay(attempts_ - 1, unit(rng_), retry_after);
        if (no_deadline_ || !retry_fits(delay, time_left())) return gave_up();
        if (opts_.progress) {
            progress_.note = "retrying in " + std::to_string(delay.count()) + " ms: " + last_.to_string();
            progress_.retrying = last_.code();
            progress_.retry_in_ms = delay.count();
            opts_.progress(progress_);
            progress_.note.clear();
            progress_.retrying = Errc::ok;
            progress_.retry_in_ms = 0;
        }
        wait(delay);
        return Status::ok();
    }

    // A 200 reply: learn from it, apply it in one transaction, report. True when the pull
    // has caught up and nothing is left to push.
    Result<bool> on_reply(const SyncRequest& req, const HttpReply& reply, double seconds,
                          std::optional<Result<SyncResponse>> decoded) {
        attempts_ = 0;
        bool bytes = byte_pages();
        // The budget is in bytes of (uncompressed) JSON, as the server counts max_bytes: the
        // rate is learnt in the same unit, decoded bytes per second of transfer, so gzip's
        // ratio is in it.
        if (bytes && reply.bytes_received > 0)
            budget_.on_reply(std::max<uint64_t>(reply.body.size(), reply.bytes_received), seconds,
                             reply.first_byte_seconds);
        if (!req.actions.empty()) push_.on_success();
        progress_.page_budget = budget_.bytes();
        Result<SyncResponse> resp = decoded ? std::move(*decoded) : decode_sync_response(reply.body);
        if (!resp) return Status(Errc::malformed, "bad response from server: " + resp.status().message());
        send_ahead(req, resp.value());
        PageResult page;
        PageInput in{resp.value(), req.actions, req.cursor.empty(),
                     bytes ? budget_.state().encode() : std::string()};
        Status applied = core_.with_replica([&](Replica& r) -> Status {
            TUNDRA_TRY(apply_page(r, in, core_.wall, page));
            if (!page.kinds.empty())
                core_.note("sync", std::vector<std::string>(page.kinds.begin(), page.kinds.end()));
            return Status::ok();
        });
        if (!applied) {
            drop_ahead();  // asked for from a cursor the replica does not hold
            return applied;
        }
        report_.reset = report_.reset || page.reset;
        report_.removed += page.removed;
        report_.outcomes.insert(report_.outcomes.end(), page.outcomes.begin(), page.outcomes.end());
        if (resp->checksum) report_.checksum = Checksum{resp->checksum->count, resp->checksum->hash};
        ++report_.rounds;
        report_.pushed += static_cast<int64_t>(req.actions.size()) - page.requeued;
        report_.pulled += static_cast<int64_t>(resp->changes.size());
        update_progress(progress_, report_, resp.value(), started_);
        progress_.round_outcomes = std::move(page.outcomes);
        if (opts_.progress) opts_.progress(progress_);
        progress_.round_outcomes.clear();
        auto queued = core_.with_replica([](Replica& r) { return r.count_queued(); });
        if (!queued) return queued.status();
        return !resp->more && queued.value() == 0;
    }

    ClientCore& core_;
    const SyncOptions& opts_;
    Clock::time_point started_, deadline_;
    bool no_deadline_;
    ReplicaMeta m_;
    PageBudget budget_;
    PushBudget push_;
    std::mt19937_64 rng_;
    int attempts_ = 0;  // consecutive failed requests
    bool cursor_dropped_ = false;  // a refused cursor was given up once in this sync
    std::optional<std::future<Sent>> ahead_;             // the next page's request, in flight
    std::shared_ptr<std::atomic<bool>> ahead_dropped_;  // abandons it
    Status last_;
    SyncReport report_;
    SyncProgress progress_;
};
}  // namespace

Result<SyncReport> run_sync(ClientCore& core, const SyncOptions& opts) {
    auto r = SyncEngine(core, opts).run();
    // The sync state (last sync, last error, progress) changed, whatever the outcome.
    struct EndOfSync {
        ClientCore& core;
        ~EndOfSync() { core.notifier.fire({ChangeEvent{"sync", {"sync"}}}); }
    } end_of_sync{core};
    // Rows this sync deleted (tombstones of an erased or moved person, a sweep) must not
    // linger in the outbox's history or in the -wal file: prune, then truncate the log.
    // Best effort: a reader elsewhere may hold the log.
    if (r)
        (void)core.with_replica([](Replica& rep) {
            TUNDRA_TRY(rep.prune_history());
            return rep.checkpoint();
        });
    return r;
}

}  // namespace tundra::client
