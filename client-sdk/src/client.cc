#include "tundra/client/client.h"

#include <algorithm>
#include <random>
#include <thread>

#include "replica.h"
#include "test_hooks.h"
#include "tundra/core/crypto.h"
#include "tundra/core/protocol.h"

namespace tundra::client {
namespace {
// One catch helper per boundary: nothing throws across the public API.
template <class F>
auto guard(F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const std::exception& e) {
        return Status(Errc::internal, std::string("unexpected error: ") + e.what());
    }
}

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
}  // namespace

struct Client::Impl {
    ClientOptions opts;
    std::unique_ptr<Replica> replica;
    std::unique_ptr<Transport> transport;
    std::string transport_url;
    HlcClock clock;

    Impl(ClientOptions o, std::unique_ptr<Replica> r)
        : opts(std::move(o)), replica(std::move(r)),
          clock(opts.wall_clock ? HlcClock::WallClock(opts.wall_clock) : HlcClock::WallClock(wall_clock_ms)) {
        std::string h = replica->meta("hlc");
        if (!h.empty()) clock.observe(Hlc{std::stoull(h)});
    }

    sqlite::Db& db() { return replica->db(); }
    std::string meta(const std::string& k) { return replica->meta(k); }

    Transport& transport_for(const std::string& url) {
        if (!transport || transport_url != url) {
            transport = opts.transport_factory ? opts.transport_factory(url) : make_curl_transport(url);
            transport_url = url;
        }
        return *transport;
    }

    Status require_login() {
        if (meta("token").empty())
            return Status(Errc::unauthorized, "not logged in: run `tundra login` first");
        return Status::ok();
    }

    Result<std::string> record(const std::string& type, Row fields) {
        TUNDRA_TRY(require_login());
        sqlite::Transaction txn(db());
        TUNDRA_TRY(txn.begin());
        Action a;
        std::string last = meta("last_seq");
        a.seq = (last.empty() ? 0 : std::stoull(last)) + 1;
        a.hlc = clock.now();
        a.type = type;
        a.fields = std::move(fields);
        TUNDRA_TRY(validate_action(a, "action"));
        TUNDRA_TRY(replica->add_to_outbox(a));
        TUNDRA_TRY(replica->apply_overlay(OutboxEntry{a, OutboxState::queued, {}}, meta("username"),
                                          meta("device_id")));
        TUNDRA_TRY(replica->set_meta("last_seq", std::to_string(a.seq)));
        TUNDRA_TRY(replica->set_meta("hlc", std::to_string(clock.last().value)));
        TUNDRA_TRY(txn.commit());
        return a.target_id();
    }

    Result<bool> exists(Kind kind, const std::string& id) {
        auto r = replica->load_row(kind, id);
        if (!r) return r.status();
        return r.value().has_value();
    }

    Status need(Kind kind, const std::string& id) {
        auto e = exists(kind, id);
        if (!e) return e.status();
        if (!e.value())
            return Status(Errc::not_found, "unknown " + std::string(entity(kind).name) + " '" + id +
                                               "' (not in this replica; try `tundra sync`)");
        return Status::ok();
    }

    std::string new_id(const char* prefix) {
        // Unique without coordination: the device id and the action's sequence number.
        std::string last = meta("last_seq");
        uint64_t next = (last.empty() ? 0 : std::stoull(last)) + 1;
        return std::string(prefix) + "-" + meta("device_id").substr(4) + "-" + std::to_string(next);
    }

    Result<HttpReply> post_with_retry(const std::string& path, const std::string& body,
                                      std::chrono::steady_clock::time_point deadline,
                                      SyncReport& report, const SyncOptions& opts,
                                      SyncProgress& progress, double* seconds = nullptr) {
        std::mt19937_64 rng(std::random_device{}());
        std::vector<std::pair<std::string, std::string>> headers{
            {"Authorization", "Bearer " + meta("token")}};
        Status last;
        for (int attempt = 0;; ++attempt) {
            auto started = std::chrono::steady_clock::now();
            auto reply = transport_for(meta("server")).post(path, body, headers);
            if (seconds) *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            ++report.requests;
            std::chrono::milliseconds retry_after{0};
            if (reply) {
                report.bytes_sent += reply->bytes_sent;
                report.bytes_received += reply->bytes_received;
                if (reply->status == 200) return reply;
                last = error_from_reply(reply.value());
                bool retry = reply->status == 429 || reply->status == 503 ||
                             (reply->status >= 500 && last.retryable());
                if (!retry) return last;
                if (auto it = reply->headers.find("retry-after"); it != reply->headers.end()) {
                    try {
                        retry_after = std::chrono::seconds(std::stoi(it->second));
                    } catch (...) {
                    }
                }
            } else {
                last = reply.status();
                if (!last.retryable()) return last;
            }
            // Exponential backoff with full jitter (capped), at least Retry-After.
            auto cap = std::chrono::milliseconds(std::min<int64_t>(8000, 250LL << std::min(attempt, 5)));
            auto delay = std::chrono::milliseconds(
                std::uniform_int_distribution<int64_t>(0, cap.count())(rng));
            delay = std::max(delay, retry_after);
            if (std::chrono::steady_clock::now() + delay > deadline)
                return Status(last.code(), "gave up after " + std::to_string(attempt + 1) +
                                               " attempt(s): " + last.message());
            if (opts.progress) {
                progress.note = "retrying in " + std::to_string(delay.count()) + " ms: " + last.to_string();
                opts.progress(progress);
                progress.note.clear();
            }
            if (this->opts.sleep) this->opts.sleep(delay);
            else std::this_thread::sleep_for(delay);
        }
    }

    Status apply_response(const SyncResponse& resp, const std::vector<Action>& sent,
                          SyncReport& report) {
        sqlite::Transaction txn(db());
        TUNDRA_TRY(txn.begin());
        TUNDRA_TRY(replica->restore_shadows());
        if (resp.reset) {
            TUNDRA_TRY(replica->set_meta("resetting", "1"));
            TUNDRA_TRY(db().exec("DELETE FROM reset_seen"));
            report.reset = true;
        }
        bool resetting = meta("resetting") == "1";
        for (auto& c : resp.changes) {
            if (c.deleted) {
                TUNDRA_TRY(replica->delete_row(c.kind, c.id));
            } else {
                TUNDRA_TRY(replica->put_row(c.kind, c.row, false, false));
                if (resetting) TUNDRA_TRY(replica->mark_seen(c.kind, c.id));
            }
        }
        if (resetting && !resp.more) {
            auto removed = replica->sweep_unseen();
            if (!removed) return removed.status();
            report.removed += removed.value();
            TUNDRA_TRY(replica->set_meta("resetting", ""));
        }
        for (auto& o : resp.outcomes) {
            auto it = std::find_if(sent.begin(), sent.end(), [&](const Action& a) { return a.seq == o.seq; });
            if (it == sent.end()) continue;
            TUNDRA_TRY(replica->set_outcome(
                o, o.result == OutcomeResult::rejected ? OutboxState::rejected : OutboxState::acked));
            report.outcomes.push_back({o.seq, it->type, it->target_id(), std::string(to_string(o.result)),
                                       o.reason, o.message, o.status});
        }
        // Once the pull has caught up, every acknowledged action is reflected in the rows.
        if (!resp.more) TUNDRA_TRY(replica->finish_acked());
        TUNDRA_TRY(replica->set_meta("cursor", resp.cursor));
        clock.observe(Hlc{resp.server_hlc});
        TUNDRA_TRY(replica->set_meta("hlc", std::to_string(clock.last().value)));
        if (!resp.more)
            TUNDRA_TRY(replica->set_meta("last_sync", format_iso8601(static_cast<int64_t>(clock.wall_ms()))));
        if (!resp.outcomes.empty())
            TUNDRA_TRY(replica->set_meta("last_push", format_iso8601(static_cast<int64_t>(clock.wall_ms()))));
        TUNDRA_TRY(replica->apply_all_overlays(meta("username"), meta("device_id")));
        return test_hooks::commit_page([&] { return txn.commit(); });
    }

    Result<SyncReport> sync(const SyncOptions& opts) {
        TUNDRA_TRY(require_login());
        SyncReport report;
        SyncProgress progress;
        auto started = std::chrono::steady_clock::now();
        auto deadline = started + opts.deadline;
        // The byte budget of the next page: remembered across syncs (the link is usually the
        // same), first guess 128 KiB, then sized from each page's measured throughput.
        uint64_t budget = 128 * 1024;
        if (std::string b = meta("page_budget"); !b.empty()) budget = std::stoull(b);
        for (;;) {
            auto queued = replica->outbox("'queued'", opts.max_actions_per_round);
            if (!queued) return queued.status();
            SyncRequest req;
            req.cursor = meta("cursor");
            req.limit = opts.page_rows;
            // Byte-sized pages only where the server announced them; rows otherwise.
            bool byte_pages = opts.page_rows == 0 && meta("server_capabilities").find(",max_bytes,") != std::string::npos;
            if (byte_pages) req.max_bytes = budget;
            req.capabilities = {"gzip"};
            for (auto& e : queued.value()) req.actions.push_back(e.action);
            double seconds = 0;
            auto reply = post_with_retry("/v1/sync", encode(req), deadline, report, opts, progress, &seconds);
            if (!reply) return reply.status();
            if (byte_pages && reply->bytes_received > 0 && seconds > 0) {
                double rate = static_cast<double>(reply->bytes_received) / seconds;  // wire B/s
                double ratio = static_cast<double>(reply->body.size()) / static_cast<double>(reply->bytes_received);
                double next = rate * opts.target_page_seconds * std::max(1.0, ratio);
                // Grow at most fourfold per page; never below 16 KiB.
                next = std::min(next, static_cast<double>(budget) * 4);
                budget = static_cast<uint64_t>(std::clamp(next, 16.0 * 1024, static_cast<double>(kMaxPageBytes)));
                progress.page_budget = budget;
            }
            auto resp = decode_sync_response(reply->body);
            if (!resp) return Status(Errc::malformed, "bad response from server: " + resp.status().message());
            size_t before = report.outcomes.size();
            TUNDRA_TRY(apply_response(resp.value(), req.actions, report));
            progress.round_outcomes.assign(report.outcomes.begin() + static_cast<std::ptrdiff_t>(before),
                                           report.outcomes.end());
            ++report.rounds;
            report.pushed += static_cast<int64_t>(req.actions.size());
            report.pulled += static_cast<int64_t>(resp->changes.size());
            progress.round = report.rounds;
            progress.pushed = report.pushed;
            progress.pulled = report.pulled;
            progress.bytes_sent = report.bytes_sent;
            progress.bytes_received = report.bytes_received;
            progress.more = resp->more;
            progress.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            progress.rows_expected = resp->more ? report.pulled + static_cast<int64_t>(resp->remaining) : report.pulled;
            if (report.pulled > 0) {
                double per_row = static_cast<double>(report.bytes_received) / static_cast<double>(report.pulled);
                progress.bytes_expected = static_cast<uint64_t>(per_row * static_cast<double>(progress.rows_expected));
                double rate = static_cast<double>(report.bytes_received) / std::max(1e-3, progress.seconds);
                progress.eta_seconds = static_cast<double>(progress.bytes_expected - std::min(progress.bytes_expected, report.bytes_received)) / rate;
            }
            if (byte_pages) TUNDRA_TRY(replica->set_meta("page_budget", std::to_string(budget)));
            if (opts.progress) opts.progress(progress);
            progress.round_outcomes.clear();
            auto left = replica->count_queued();
            if (!left) return left.status();
            if (!resp->more && left.value() == 0) break;
        }
        return report;
    }
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::open(const std::string& path, ClientOptions opts) {
    return guard([&]() -> Result<std::unique_ptr<Client>> {
        auto r = Replica::open(path);
        if (!r) return r.status();
        if (opts.storage_fault) r.value()->db().set_fault_hook(opts.storage_fault);
        return std::unique_ptr<Client>(
            new Client(std::make_unique<Impl>(std::move(opts), std::move(r.value()))));
    });
}

Status Client::login(const std::string& server_url, const std::string& username,
                     const std::string& password) {
    return guard([&]() -> Status {
        auto& I = *impl_;
        if (server_url.rfind("http://", 0) != 0 && server_url.rfind("https://", 0) != 0)
            return Status(Errc::invalid_argument, "server URL must start with http:// or https://");
        LoginRequest req;
        req.username = username;
        req.password = password;
        req.device_name = I.opts.device_name;
        bool same_user = I.meta("username") == username && I.meta("server") == server_url;
        if (same_user) req.device_id = I.meta("device_id");
        auto reply = I.transport_for(server_url).post("/v1/login", encode(req), {});
        if (!reply) return reply.status();
        if (reply->status != 200) return error_from_reply(reply.value());
        auto resp = decode_login_response(reply->body);
        if (!resp) return Status(Errc::malformed, "bad login response: " + resp.status().message());
        sqlite::Transaction txn(I.db());
        TUNDRA_TRY(txn.begin());
        if (!same_user && !I.meta("username").empty()) {
            auto n = I.replica->count_queued();
            if (!n) return n.status();
            if (n.value() > 0)
                return Status(Errc::conflict, "this replica holds " + std::to_string(n.value()) +
                                                  " queued action(s) of '" + I.meta("username") +
                                                  "'; sync them before another user logs in");
            TUNDRA_TRY(I.replica->wipe_data());
        }
        if (I.meta("device_id") != resp->device_id) TUNDRA_TRY(I.replica->set_meta("cursor", ""));
        std::string sites, caps;
        for (auto& s : resp->user.sites) sites += (sites.empty() ? "" : ",") + s;
        for (auto& c : resp->capabilities) caps += "," + c;
        TUNDRA_TRY(I.replica->set_meta("server_capabilities", caps + ","));
        for (auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
                 {"server", server_url},
                 {"token", resp->token},
                 {"device_id", resp->device_id},
                 {"username", resp->user.username},
                 {"role", resp->user.role},
                 {"person", resp->user.person},
                 {"sites", sites}})
            TUNDRA_TRY(I.replica->set_meta(k, v));
        I.clock.observe(Hlc{resp->server_hlc});
        TUNDRA_TRY(I.replica->set_meta("hlc", std::to_string(I.clock.last().value)));
        return txn.commit();
    });
}

Result<SyncReport> Client::sync(const SyncOptions& opts) {
    return guard([&]() -> Result<SyncReport> { return impl_->sync(opts); });
}

Result<StatusView> Client::status() {
    return guard([&]() -> Result<StatusView> {
        auto& I = *impl_;
        StatusView v;
        v.server = I.meta("server");
        v.username = I.meta("username");
        v.role = I.meta("role");
        v.person = I.meta("person");
        v.device_id = I.meta("device_id");
        std::string sites = I.meta("sites");
        for (size_t p = 0; !sites.empty() && p != std::string::npos;) {
            size_t c = sites.find(',', p);
            v.sites.push_back(sites.substr(p, c == std::string::npos ? c : c - p));
            p = c == std::string::npos ? c : c + 1;
        }
        v.last_sync = I.meta("last_sync");
        v.last_push = I.meta("last_push");
        auto n = I.replica->count_queued();
        if (!n) return n.status();
        v.pending = n.value();
        auto rej = I.replica->outbox("'rejected'");
        if (!rej) return rej.status();
        for (auto& e : rej.value())
            v.rejected.push_back({e.action.seq, e.action.type, e.action.target_id(), e.outcome.reason,
                                  e.outcome.message});
        return v;
    });
}

Result<std::vector<CourseView>> Client::courses() {
    return guard([&]() -> Result<std::vector<CourseView>> {
        auto& I = *impl_;
        std::vector<CourseView> out;
        {
            auto q = I.db().query(
                "SELECT id, coalesce(title, ''), coalesce(theme, ''), coalesce(format, ''), "
                "coalesce(provider, ''), coalesce(published, 0) FROM courses "
                "WHERE published = 1 OR ? = 'admin' ORDER BY title, id");
            q->bind(1, I.meta("role"));
            for (;;) {
                auto r = q->step();
                if (!r) return r.status();
                if (!r.value()) break;
                out.push_back({q->text(0), q->text(1), q->text(2), q->text(3), q->text(4),
                               q->int64(5) != 0, {}});
            }
        }
        auto q = I.db().query(
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
    });
}

Result<std::vector<EnrolmentView>> Client::enrolments() {
    return guard([&]() -> Result<std::vector<EnrolmentView>> {
        auto& I = *impl_;
        std::vector<EnrolmentView> out;
        auto q = I.db().query(
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
    });
}

Result<std::vector<AttendanceView>> Client::attendance(const std::string& occasion) {
    return guard([&]() -> Result<std::vector<AttendanceView>> {
        auto& I = *impl_;
        TUNDRA_TRY(I.need(Kind::occasion, occasion));
        std::vector<AttendanceView> out;
        auto q = I.db().query(
            "SELECT id, person, coalesce(name, ''), status, minutes, coalesce(recorded_by, ''), "
            "pending, n FROM (SELECT a.*, p.name AS name, row_number() OVER (PARTITION BY "
            "a.person ORDER BY a.hlc DESC, a.device DESC) AS rn, count(*) OVER (PARTITION BY "
            "a.person) AS n FROM attendance a LEFT JOIN persons p ON p.id = a.person WHERE "
            "a.occasion = ?) WHERE rn = 1 ORDER BY name, person");
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
    });
}

Result<std::string> Client::enrol(const std::string& occasion, const std::string& person) {
    return guard([&]() -> Result<std::string> {
        auto& I = *impl_;
        TUNDRA_TRY(I.require_login());
        std::string who = person.empty() ? I.meta("person") : person;
        if (who.empty())
            return Status(Errc::invalid_argument, "say whom to enrol: --person ID");
        TUNDRA_TRY(I.need(Kind::occasion, occasion));
        TUNDRA_TRY(I.need(Kind::person, who));
        return I.record("enrol", Row{{"enrolment", I.new_id("e")}, {"occasion", occasion}, {"person", who}});
    });
}

Result<std::string> Client::cancel(const std::string& enrolment) {
    return guard([&]() -> Result<std::string> {
        auto& I = *impl_;
        TUNDRA_TRY(I.require_login());
        TUNDRA_TRY(I.need(Kind::enrolment, enrolment));
        return I.record("cancel_enrolment", Row{{"enrolment", enrolment}});
    });
}

Result<std::string> Client::mark_attendance(const std::string& occasion, const std::string& person,
                                            const std::string& status, std::optional<int64_t> minutes) {
    return guard([&]() -> Result<std::string> {
        auto& I = *impl_;
        TUNDRA_TRY(I.require_login());
        if (!kAttendanceStatuses.contains(status))
            return Status(Errc::invalid_argument,
                          "status must be one of " + kAttendanceStatuses.list());
        if (minutes && (*minutes < 0 || *minutes > 1440))
            return Status(Errc::invalid_argument, "minutes must be between 0 and 1440");
        TUNDRA_TRY(I.need(Kind::occasion, occasion));
        TUNDRA_TRY(I.need(Kind::person, person));
        Row f{{"mark", I.new_id("m")}, {"occasion", occasion}, {"person", person}, {"status", status}};
        if (minutes) f["minutes"] = *minutes;
        return I.record("mark_attendance", std::move(f));
    });
}

Result<std::string> Client::upsert_course(const CourseInput& in) {
    return guard([&]() -> Result<std::string> {
        auto& I = *impl_;
        TUNDRA_TRY(I.require_login());
        if (I.meta("role") != "admin") return Status(Errc::forbidden, "only admins edit courses");
        Row f{{"course", in.id.empty() ? I.new_id("c") : in.id}};
        auto exists = I.exists(Kind::course, *get_str(f, "course"));
        if (!exists) return exists.status();
        if (!exists.value() && (!in.title || !in.format))
            return Status(Errc::invalid_argument, "a new course needs --title and --format");
        if (in.title) f["title"] = *in.title;
        if (in.description) f["description"] = *in.description;
        if (in.theme) f["theme"] = *in.theme;
        if (in.format) f["format"] = *in.format;
        if (in.provider) f["provider"] = *in.provider;
        if (in.duration_minutes) f["duration_minutes"] = *in.duration_minutes;
        if (in.organisations) f["organisations"] = *in.organisations;
        if (in.published) f["published"] = *in.published;
        if (in.organisations)
            for (auto& o : *in.organisations) TUNDRA_TRY(I.need(Kind::organisation, o));
        return I.record("upsert_course", std::move(f));
    });
}

Result<std::string> Client::upsert_occasion(const OccasionInput& in) {
    return guard([&]() -> Result<std::string> {
        auto& I = *impl_;
        TUNDRA_TRY(I.require_login());
        if (I.meta("role") != "admin") return Status(Errc::forbidden, "only admins edit occasions");
        Row f{{"occasion", in.id.empty() ? I.new_id("o") : in.id}};
        auto exists = I.exists(Kind::occasion, *get_str(f, "occasion"));
        if (!exists) return exists.status();
        if (!exists.value() && (!in.course || !in.starts_at || !in.ends_at || !in.capacity || !in.enrolment_closes))
            return Status(Errc::invalid_argument,
                          "a new occasion needs --course, --starts-at, --ends-at, --capacity and --enrolment-closes");
        if (in.course) {
            TUNDRA_TRY(I.need(Kind::course, *in.course));
            f["course"] = *in.course;
        }
        for (auto [key, val] : {std::pair{"starts_at", &in.starts_at}, {"ends_at", &in.ends_at},
                                {"enrolment_opens", &in.enrolment_opens},
                                {"enrolment_closes", &in.enrolment_closes}}) {
            if (!*val) continue;
            auto t = parse_iso8601(**val);
            if (!t) return Status(Errc::invalid_argument, std::string(key) + ": " + t.status().message());
            f[key] = format_iso8601(t.value());
        }
        if (in.site) {
            TUNDRA_TRY(I.need(Kind::site, *in.site));
            f["site"] = *in.site;
        }
        if (in.online_link) f["online_link"] = *in.online_link;
        if (in.status) f["status"] = *in.status;
        if (in.capacity) {
            if (*in.capacity < 0) return Status(Errc::invalid_argument, "capacity must not be negative");
            f["capacity"] = *in.capacity;
        }
        return I.record("upsert_occasion", std::move(f));
    });
}

Result<std::string> Client::update_person(const PersonInput& in) {
    return guard([&]() -> Result<std::string> {
        auto& I = *impl_;
        TUNDRA_TRY(I.require_login());
        TUNDRA_TRY(I.need(Kind::person, in.id));
        Row f{{"person", in.id}};
        if (in.name) f["name"] = *in.name;
        if (in.site) f["site"] = *in.site;
        if (in.profession) f["profession"] = *in.profession;
        if (in.education_level) f["education_level"] = *in.education_level;
        if (in.employment_status) f["employment_status"] = *in.employment_status;
        auto a = Action{1, Hlc{1}, "update_person", f};
        TUNDRA_TRY(validate_action(a, "person"));
        return I.record("update_person", std::move(f));
    });
}

Result<std::string> Client::delete_occasion(const std::string& occasion) {
    return guard([&]() -> Result<std::string> {
        auto& I = *impl_;
        TUNDRA_TRY(I.require_login());
        if (I.meta("role") != "admin") return Status(Errc::forbidden, "only admins delete occasions");
        TUNDRA_TRY(I.need(Kind::occasion, occasion));
        return I.record("delete_occasion", Row{{"occasion", occasion}});
    });
}

Status Client::dismiss(uint64_t seq) {
    return guard([&]() -> Status {
        auto& I = *impl_;
        sqlite::Transaction txn(I.db());
        TUNDRA_TRY(txn.begin());
        auto q = I.db().query("UPDATE outbox SET state = 'dismissed' WHERE seq = ? AND state = 'rejected'");
        TUNDRA_TRY(q->bind(1, seq).run());
        if (I.db().changes() == 0)
            return Status(Errc::not_found, "no rejected action with number " + std::to_string(seq));
        TUNDRA_TRY(I.replica->restore_shadows());
        TUNDRA_TRY(I.replica->apply_all_overlays(I.meta("username"), I.meta("device_id")));
        return txn.commit();
    });
}

Result<std::map<std::string, std::vector<std::string>>> Client::snapshot() {
    return guard([&]() -> Result<std::map<std::string, std::vector<std::string>>> {
        auto& I = *impl_;
        std::map<std::string, std::vector<std::string>> out;
        for (auto& spec : all_entities()) {
            auto& rows = out[std::string(spec.table)];
            auto ids = I.db().query("SELECT id FROM " + std::string(spec.table) + " WHERE local_only = 0");
            std::vector<std::string> list;
            for (;;) {
                auto r = ids->step();
                if (!r) return r.status();
                if (!r.value()) break;
                list.push_back(ids->text(0));
            }
            for (auto& id : list) {
                auto row = I.replica->load_row(spec.kind, id);
                if (!row) return row.status();
                rows.push_back(encode_row(*row.value()));
            }
            std::sort(rows.begin(), rows.end());
        }
        return out;
    });
}

}  // namespace tundra::client
