// The Client facade: each public method is a guard (nothing throws across the API), a lock
// (one Client may be shared by threads), and a forward to the replica or the sync engine.
#include "tundra/client/client.h"

#include <filesystem>
#include <fstream>
#include <random>

#include "client_internal.h"
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

std::string random_hex(size_t digits) {
    static thread_local std::mt19937_64 rng(std::random_device{}() ^
                                            (static_cast<uint64_t>(std::random_device{}()) << 32));
    static const char* hex = "0123456789abcdef";
    std::string out;
    while (out.size() < digits) {
        uint64_t x = rng();
        for (int i = 0; i < 16 && out.size() < digits; ++i, x >>= 4) out += hex[x & 15];
    }
    return out;
}

std::string read_install_id(const std::string& path) {
    std::ifstream in(path);
    std::string id;
    if (in) std::getline(in, id);
    while (!id.empty() && (id.back() == '\n' || id.back() == '\r' || id.back() == ' ')) id.pop_back();
    return id;
}

// Written once, beside the replica (or where the platform keeps what it never backs up).
Result<std::string> ensure_install_id(const std::string& path) {
    std::string id = read_install_id(path);
    if (!id.empty()) return id;
    id = random_hex(32);
    std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << id << "\n";
        out.flush();
        if (!out) return Status(Errc::storage, "cannot write the install id file '" + path + "'");
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) return Status(Errc::storage, "cannot write the install id file '" + path + "': " + ec.message());
    return id;
}

// Local ids are unique without coordination and without the seq, which a restored or
// rolled-back replica may issue again.
std::string new_id(const char* prefix, const ReplicaMeta& m) {
    std::string dev = m.device_id.size() > 4 ? m.device_id.substr(4, 8) : m.device_id;
    return std::string(prefix) + "-" + dev + "-" + random_hex(16);
}
// Binds the replica to a login reply in one transaction: the user (another user only when
// nothing is queued), the device identity, and the seq counter above the server's.
Status bind_login(Replica& r, const LoginResponse& resp, const std::string& server_url,
                  const std::string& username, const std::string& install_id,
                  const HlcClock::WallClock& wall) {
    auto txn = r.transaction();
    TUNDRA_TRY(txn.begin());
    ReplicaMeta m = r.load_meta();
    if (!(m.username == username && m.server == server_url) && !m.username.empty()) {
        auto n = r.count_queued();
        if (!n) return n.status();
        if (n.value() > 0)
            return Status(Errc::conflict, "this replica holds " + std::to_string(n.value()) +
                                              " queued action(s) of '" + m.username +
                                              "'; sync them before another user logs in");
        TUNDRA_TRY(r.wipe_data());
        m = ReplicaMeta{};
    }
    if (m.device_id != resp.device_id) {
        // A new device identity: the server holds nothing of it yet, so the queued actions
        // are numbered afresh above what it reports, and the next sync is a full pull that
        // sweeps.
        m.cursor.clear();
        m.full_pull = false;
        auto top = r.renumber_queued(0, resp.last_seq);
        if (!top) return top.status();
        m.last_seq = std::max(m.last_seq, top.value());
    }
    // Same identity: queued actions keep their numbers (one whose reply was lost is on the
    // server under it, and must be answered `duplicate`, not applied again); the server
    // answers a seq it holds for another action `seq_reused`, and only then is it
    // renumbered. New actions are numbered above the server's last seq at once.
    m.last_seq = std::max(m.last_seq, resp.last_seq);
    std::string sites, caps;
    for (auto& s : resp.user.sites) sites += (sites.empty() ? "" : ",") + s;
    for (auto& c : resp.capabilities) caps += "," + c;
    m.server_capabilities = caps + ",";
    m.server = server_url;
    m.token = resp.token;
    m.device_id = resp.device_id;
    m.username = resp.user.username;
    m.role = resp.user.role;
    m.person = resp.user.person;
    m.sites = sites;
    m.install_id = install_id;
    HlcClock clock(wall, Hlc{m.hlc});
    m.hlc = clock.observe(Hlc{resp.server_hlc}).value;
    TUNDRA_TRY(r.save_meta(m));
    return txn.commit();
}
}  // namespace

Transport& ClientCore::transport_for(const std::string& url) {
    if (!transport_ || transport_url_ != url) {
        transport_ = opts.transport_factory ? opts.transport_factory(url) : make_curl_transport(url);
        transport_url_ = url;
    }
    return *transport_;
}

Status ClientCore::require_login(const ReplicaMeta& m) const {
    if (!m.token.empty()) return Status::ok();
    if (restored)
        return Status(Errc::unauthorized,
                      "this replica was restored from a backup or copied from another install: "
                      "run `tundra login` again to give it a new device identity (queued actions are kept)");
    return Status(Errc::unauthorized, "not logged in: run `tundra login` first");
}

struct Client::Impl : ClientCore {
    // Under replica_mu.
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
    Result<std::string> record(const std::string& type, Row fields) {
        auto a = replica->record(type, std::move(fields), wall);
        if (!a) return a.status();
        return a.value().target_id();
    }
    // The guard and the replica lock around one public call.
    template <class F>
    auto locked(F&& f) -> decltype(f()) {
        return guard([&]() -> decltype(f()) {
            std::lock_guard<std::mutex> g(replica_mu);
            return f();
        });
    }
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::open(const std::string& path, ClientOptions opts) {
    return guard([&]() -> Result<std::unique_ptr<Client>> {
        auto r = Replica::open(path);
        if (!r) return r.status();
        if (opts.storage_fault) r.value()->set_fault_hook(opts.storage_fault);
        auto impl = std::make_unique<Impl>();
        impl->install_id_path = opts.install_id_path.empty() ? path + ".install-id" : opts.install_id_path;
        impl->wall = opts.wall_clock ? opts.wall_clock : HlcClock::WallClock(wall_clock_ms);
        impl->opts = std::move(opts);
        impl->replica = std::move(r.value());
        // A replica created under another install id is a restored backup or a copy: its
        // seqs, cursor and token belong to another device's history. It keeps its rows and
        // queued actions but forgets the identity, and logs in again as a new device.
        Replica& rep = *impl->replica;
        ReplicaMeta m = rep.load_meta();
        if (m.install_id.empty() && !m.token.empty()) {
            // Logged in by a build without install ids: adopt this install from now on.
            auto id = ensure_install_id(impl->install_id_path);
            if (!id) return id.status();
            auto txn = rep.transaction();
            TUNDRA_TRY(txn.begin());
            m = rep.load_meta();
            m.install_id = id.value();
            TUNDRA_TRY(rep.save_meta(m));
            TUNDRA_TRY(txn.commit());
        }
        if (!m.install_id.empty() && m.install_id != read_install_id(impl->install_id_path)) {
            impl->restored = true;
            if (!m.device_id.empty() || !m.token.empty()) {
                auto txn = rep.transaction();
                TUNDRA_TRY(txn.begin());
                m = rep.load_meta();
                m.device_id.clear();
                m.token.clear();
                m.cursor.clear();
                m.full_pull = false;
                TUNDRA_TRY(rep.save_meta(m));
                TUNDRA_TRY(txn.commit());
            }
        }
        return std::unique_ptr<Client>(new Client(std::move(impl)));
    });
}

Status Client::login(const std::string& server_url, const std::string& username,
                     const std::string& password) {
    return guard([&]() -> Status {
        auto& I = *impl_;
        std::lock_guard<std::mutex> one_sync(I.sync_mu);
        if (server_url.rfind("http://", 0) != 0 && server_url.rfind("https://", 0) != 0)
            return Status(Errc::invalid_argument, "server URL must start with http:// or https://");
        ReplicaMeta before = I.with_replica([](Replica& r) { return r.load_meta(); });
        LoginRequest req;
        req.username = username;
        req.password = password;
        req.device_name = I.opts.device_name;
        bool same_user = before.username == username && before.server == server_url;
        if (same_user) req.device_id = before.device_id;
        auto reply = I.transport_for(server_url).post("/v1/login", encode(req), {}, std::chrono::milliseconds(0));
        if (!reply) return reply.status();
        if (reply->status != 200) return error_from_reply(reply.value());
        auto resp = decode_login_response(reply->body);
        if (!resp) return Status(Errc::malformed, "bad login response: " + resp.status().message());
        auto install_id = ensure_install_id(I.install_id_path);
        if (!install_id) return install_id.status();
        TUNDRA_TRY(I.with_replica([&](Replica& r) {
            return bind_login(r, resp.value(), server_url, username, install_id.value(), I.wall);
        }));
        I.restored = false;
        return Status::ok();
    });
}

Result<SyncReport> Client::sync(const SyncOptions& opts) {
    return guard([&]() -> Result<SyncReport> {
        std::lock_guard<std::mutex> one_sync(impl_->sync_mu);
        return run_sync(*impl_, opts);
    });
}

Result<VerifyReport> Client::verify(const SyncOptions& opts) {
    return guard([&]() -> Result<VerifyReport> {
        auto& I = *impl_;
        std::lock_guard<std::mutex> one_sync(I.sync_mu);
        auto started = std::chrono::steady_clock::now();
        SyncOptions so = opts;
        so.verify = true;
        VerifyReport v;
        auto compare = [&]() -> Result<bool> {
            auto r = run_sync(I, so);
            if (!r) return r.status();
            if (!r->checksum)
                return Status(Errc::unsupported_version,
                              "the server sent no checksum: it does not support verify (protocol v2)");
            auto local = I.with_replica([](Replica& rep) { return rep.checksum(); });
            if (!local) return local.status();
            v.local = Checksum{local->count, local->hash};
            v.server = *r->checksum;
            return v.local == v.server;
        };
        auto first = compare();
        if (!first) return first.status();
        v.ok = first.value();
        if (v.ok) return v;
        // Repair: forget the cursor, so the next pull is a full pull whose sweep removes
        // what the server no longer sends and whose rows bring every version up to date.
        TUNDRA_TRY(I.with_replica([](Replica& r) -> Status {
            auto txn = r.transaction();
            TUNDRA_TRY(txn.begin());
            ReplicaMeta m = r.load_meta();
            m.cursor.clear();
            m.full_pull = false;
            TUNDRA_TRY(r.save_meta(m));
            return txn.commit();
        }));
        so.deadline = std::max(std::chrono::milliseconds(0),
                               opts.deadline - std::chrono::duration_cast<std::chrono::milliseconds>(
                                                   std::chrono::steady_clock::now() - started));
        auto second = compare();
        if (!second) return second.status();
        v.repaired = second.value();
        return v;
    });
}

Result<StatusView> Client::status() {
    return impl_->locked([&]() -> Result<StatusView> {
        auto& I = *impl_;
        ReplicaMeta m = I.replica->load_meta();
        StatusView v;
        v.server = m.server;
        v.username = m.username;
        v.role = m.role;
        v.person = m.person;
        v.device_id = m.device_id;
        for (size_t p = 0; !m.sites.empty() && p != std::string::npos;) {
            size_t c = m.sites.find(',', p);
            v.sites.push_back(m.sites.substr(p, c == std::string::npos ? c : c - p));
            p = c == std::string::npos ? c : c + 1;
        }
        v.last_sync = m.last_sync;
        v.last_push = m.last_push;
        auto n = I.replica->count_queued();
        if (!n) return n.status();
        v.pending = n.value();
        auto rej = I.replica->outbox({OutboxState::rejected});
        if (!rej) return rej.status();
        for (auto& e : rej.value())
            v.rejected.push_back({e.action.seq, e.action.type, e.action.target_id(), e.outcome.reason,
                                  e.outcome.message});
        return v;
    });
}

Result<std::vector<CourseView>> Client::courses() {
    return impl_->locked([&]() -> Result<std::vector<CourseView>> {
        return impl_->replica->courses(impl_->replica->load_meta().role);
    });
}

Result<std::vector<EnrolmentView>> Client::enrolments() {
    return impl_->locked([&]() -> Result<std::vector<EnrolmentView>> { return impl_->replica->enrolments(); });
}

Result<std::vector<AttendanceView>> Client::attendance(const std::string& occasion) {
    return impl_->locked([&]() -> Result<std::vector<AttendanceView>> {
        TUNDRA_TRY(impl_->need(Kind::occasion, occasion));
        return impl_->replica->attendance(occasion);
    });
}

Result<std::string> Client::enrol(const std::string& occasion, const std::string& person) {
    return impl_->locked([&]() -> Result<std::string> {
        auto& I = *impl_;
        ReplicaMeta m = I.replica->load_meta();
        TUNDRA_TRY(I.require_login(m));
        std::string who = person.empty() ? m.person : person;
        if (who.empty())
            return Status(Errc::invalid_argument, "say whom to enrol: --person ID");
        TUNDRA_TRY(I.need(Kind::occasion, occasion));
        TUNDRA_TRY(I.need(Kind::person, who));
        return I.record("enrol", Row{{"enrolment", new_id("e", m)}, {"occasion", occasion}, {"person", who}});
    });
}

Result<std::string> Client::cancel(const std::string& enrolment) {
    return impl_->locked([&]() -> Result<std::string> {
        auto& I = *impl_;
        TUNDRA_TRY(I.require_login(I.replica->load_meta()));
        TUNDRA_TRY(I.need(Kind::enrolment, enrolment));
        return I.record("cancel_enrolment", Row{{"enrolment", enrolment}});
    });
}

Result<std::string> Client::mark_attendance(const std::string& occasion, const std::string& person,
                                            const std::string& status, std::optional<int64_t> minutes) {
    return impl_->locked([&]() -> Result<std::string> {
        auto& I = *impl_;
        ReplicaMeta m = I.replica->load_meta();
        TUNDRA_TRY(I.require_login(m));
        if (!kAttendanceStatuses.contains(status))
            return Status(Errc::invalid_argument,
                          "status must be one of " + kAttendanceStatuses.list());
        if (minutes && (*minutes < 0 || *minutes > 1440))
            return Status(Errc::invalid_argument, "minutes must be between 0 and 1440");
        TUNDRA_TRY(I.need(Kind::occasion, occasion));
        TUNDRA_TRY(I.need(Kind::person, person));
        Row f{{"mark", new_id("m", m)}, {"occasion", occasion}, {"person", person}, {"status", status}};
        if (minutes) f["minutes"] = *minutes;
        return I.record("mark_attendance", std::move(f));
    });
}

Result<std::string> Client::upsert_course(const CourseInput& in) {
    return impl_->locked([&]() -> Result<std::string> {
        auto& I = *impl_;
        ReplicaMeta m = I.replica->load_meta();
        TUNDRA_TRY(I.require_login(m));
        if (m.role != "admin") return Status(Errc::forbidden, "only admins edit courses");
        Row f{{"course", in.id.empty() ? new_id("c", m) : in.id}};
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
    return impl_->locked([&]() -> Result<std::string> {
        auto& I = *impl_;
        ReplicaMeta m = I.replica->load_meta();
        TUNDRA_TRY(I.require_login(m));
        if (m.role != "admin") return Status(Errc::forbidden, "only admins edit occasions");
        Row f{{"occasion", in.id.empty() ? new_id("o", m) : in.id}};
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
    return impl_->locked([&]() -> Result<std::string> {
        auto& I = *impl_;
        TUNDRA_TRY(I.require_login(I.replica->load_meta()));
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
    return impl_->locked([&]() -> Result<std::string> {
        auto& I = *impl_;
        ReplicaMeta m = I.replica->load_meta();
        TUNDRA_TRY(I.require_login(m));
        if (m.role != "admin") return Status(Errc::forbidden, "only admins delete occasions");
        TUNDRA_TRY(I.need(Kind::occasion, occasion));
        return I.record("delete_occasion", Row{{"occasion", occasion}});
    });
}

Status Client::dismiss(uint64_t seq) {
    return impl_->locked([&]() -> Status { return impl_->replica->dismiss(seq); });
}

Result<std::map<std::string, std::vector<std::string>>> Client::snapshot() {
    return impl_->locked([&]() -> Result<std::map<std::string, std::vector<std::string>>> {
        return impl_->replica->snapshot();
    });
}

}  // namespace tundra::client
