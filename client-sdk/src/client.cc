// The Client facade: each public method is a guard (nothing throws across the API), a lock
// (one Client may be shared by threads), and a forward to the replica or the sync engine.
#include "tundra/client/client.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "client_internal.h"
#include "tundra/core/protocol.h"

namespace tundra::client {

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

namespace {

std::string read_install_id(const std::string& path) {
    std::ifstream in(path);
    std::string id;
    if (in) std::getline(in, id);
    while (!id.empty() && (id.back() == '\n' || id.back() == '\r' || id.back() == ' ')) id.pop_back();
    return id;
}

// Written once, beside the replica (or where the platform keeps what it never backs up).
// Several replicas may share one file (a shared tablet: one install id, one replica per
// person): the first to create it wins, atomically (a private file linked into place fails
// when the name exists), and every other reads the same id.
Result<std::string> ensure_install_id(const std::string& path) {
    std::string id = read_install_id(path);
    if (!id.empty()) return id;
    std::string tmp = path + ".new-" + random_hex(8);
    // Owner-only, like the replica beside it.
    Status st = write_private_file(tmp, random_hex(32) + "\n");
    if (!st) return Status(Errc::storage, "cannot write the install id file: " + st.message());
    int rc = ::link(tmp.c_str(), path.c_str());
    int err = errno;
    if (rc != 0 && (err != EEXIST || read_install_id(path).empty())) {
        // An empty file left by a crash, or a file system without hard links: replace it.
        if (::rename(tmp.c_str(), path.c_str()) != 0)
            return Status(Errc::storage, "cannot write the install id file '" + path + "': " +
                                             std::strerror(errno));
    }
    ::unlink(tmp.c_str());
    id = read_install_id(path);
    if (id.empty()) return Status(Errc::storage, "cannot read the install id file '" + path + "'");
    return id;
}

// Binds the replica to a login reply in one transaction: the user (another user only when
// nothing is queued), the device identity, and the seq counter above the server's.
// Also keeps the password's verifier (for offline unlock); `wiped` says whether another
// user's data was deleted.
Status bind_login(Replica& r, const LoginResponse& resp, const std::string& server_url,
                  const std::string& username, const LoginOptions& link,
                  const std::string& install_id, const std::string& verifier,
                  const HlcClock::WallClock& wall, bool& wiped) {
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
        wiped = true;
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
    m.ca_file = link.ca_file;
    m.allow_insecure_http = link.allow_insecure_http;
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
    // The password just proved itself: it unlocks offline from now on, and wrong PINs are
    // forgiven.
    auto unlock = r.load_unlock();
    if (!unlock) return unlock.status();
    unlock->password_verifier = verifier;
    unlock->pin_failures = 0;
    unlock->pin_failed_ms = 0;
    TUNDRA_TRY(r.save_unlock(unlock.value()));
    return txn.commit();
}
}  // namespace

Transport& ClientCore::transport_for(const std::string& url, const std::string& ca_file,
                                     bool allow_insecure_http) {
    std::string key = url + '\n' + ca_file + '\n' + (allow_insecure_http ? "1" : "0");
    if (!transport_ || transport_key_ != key) {
        CurlOptions co;
        co.ca_file = ca_file;
        co.allow_insecure_http = allow_insecure_http;
        transport_ = opts.transport_factory ? opts.transport_factory(url) : make_curl_transport(url, co);
        transport_key_ = key;
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


// A request that checks a password (login, password change). A server busy checking other
// passwords (503, `overloaded`) is asked again after its Retry-After while the login timeout
// allows; any other answer, and above all `rate_limited`, is returned at once: a password is
// never retried into a throttle.
Result<HttpReply> post_password_request(ClientCore& core, Transport& transport, const std::string& path,
                                        const std::string& body,
                                        const std::vector<std::pair<std::string, std::string>>& headers) {
    using namespace std::chrono;
    auto deadline = steady_clock::now() + core.opts.login_timeout;
    for (int attempt = 0;; ++attempt) {
        auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
        auto reply = transport.post(path, body, headers, left);
        if (!reply || reply->status != 503 || attempt >= 4) return reply;
        Status st = error_from_reply(reply.value());
        if (st.code() != Errc::overloaded) return reply;
        milliseconds wait(std::max(1, st.retry_after_s()) * 1000);
        if (wait + milliseconds(100) > deadline - steady_clock::now()) return reply;
        if (core.opts.sleep) core.opts.sleep(wait);
        else std::this_thread::sleep_for(wait);
    }
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::open(const std::string& path, ClientOptions opts) {
    return guard([&]() -> Result<std::unique_ptr<Client>> {
        auto r = Replica::open(path);
        if (!r) return r.status();
        if (opts.storage_fault) r.value()->set_fault_hook(opts.storage_fault);
        auto impl = std::make_unique<Impl>();
        impl->install_id_path = opts.install_id_path.empty() ? path + ".install-id" : opts.install_id_path;
        {
            // Owner-only, like the replica (files from older builds were 0644).
            namespace fs = std::filesystem;
            std::error_code ec;
            auto perms = fs::status(impl->install_id_path, ec).permissions();
            if (!ec && (perms & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none)
                fs::permissions(impl->install_id_path, fs::perms::owner_read | fs::perms::owner_write,
                                fs::perm_options::replace, ec);
        }
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
                     const std::string& password, const LoginOptions& options) {
    return guard([&]() -> Status {
        auto& I = *impl_;
        SyncLock one_sync(I);
        TUNDRA_TRY(one_sync.status());
        if (server_url.rfind("http://", 0) != 0 && server_url.rfind("https://", 0) != 0)
            return Status(Errc::invalid_argument, "server URL must start with http:// or https://");
        ReplicaMeta before = I.with_replica([](Replica& r) { return r.load_meta(); });
        LoginOptions link = options;
        if (!link.ca_file.empty()) {
            // Absolute, so that later commands from another folder find it.
            std::error_code ec;
            auto abs = std::filesystem::absolute(link.ca_file, ec);
            if (!ec) link.ca_file = abs.lexically_normal().string();
            if (!std::ifstream(link.ca_file))
                return Status(Errc::invalid_argument, "cannot read the CA file '" + link.ca_file + "'");
        } else if (before.server == server_url) {
            link.ca_file = before.ca_file;  // a login again keeps the CA it was given
        }
        LoginRequest req;
        req.username = username;
        req.password = password;
        req.device_name = I.opts.device_name;
        bool same_user = before.username == username && before.server == server_url;
        if (same_user) req.device_id = before.device_id;
        // Sent with the login, so the console groups this tablet's devices (one per person).
        auto install_id = ensure_install_id(I.install_id_path);
        if (!install_id) return install_id.status();
        req.install_id = install_id.value();
        req.app_version = I.opts.app_version;
        auto reply = post_password_request(
            I, I.transport_for(server_url, link.ca_file, link.allow_insecure_http), "/v1/login", encode(req), {});
        if (!reply) return reply.status();
        if (reply->status != 200) {
            Status st = error_from_reply(reply.value());
            // The replica holds this user's synced data: a revoked device or user wipes it.
            if (st.code() == Errc::revoked && same_user) return wipe_after_revocation(I);
            return st;
        }
        auto resp = decode_login_response(reply->body);
        if (!resp) return Status(Errc::malformed, "bad login response: " + resp.status().message());
        std::string verifier = password_verifier(password);  // slow: outside the replica lock
        TUNDRA_TRY(I.with_replica([&](Replica& r) -> Status {
            bool wiped = false;
            TUNDRA_TRY(bind_login(r, resp.value(), server_url, username, link, install_id.value(),
                                  verifier, I.wall, wiped));
            I.note("login", wiped ? all_kinds({"outbox", "notice", "session", "settings"})
                                  : std::vector<std::string>{"session"});
            return Status::ok();
        }));
        I.restored = false;
        return Status::ok();
    });
}

Result<SyncReport> Client::sync(const SyncOptions& opts) {
    return guard([&]() -> Result<SyncReport> {
        SyncLock one_sync(*impl_);
        TUNDRA_TRY(one_sync.status());
        return run_sync(*impl_, opts);
    });
}

Result<VerifyReport> Client::verify(const SyncOptions& opts) {
    return guard([&]() -> Result<VerifyReport> {
        auto& I = *impl_;
        SyncLock one_sync(I);
        TUNDRA_TRY(one_sync.status());
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
        TUNDRA_TRY(I.with_replica([](Replica& r) { return r.forget_cursor(); }));
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
        v.logged_in = !m.token.empty();
        if (!m.person.empty()) {
            auto name = I.replica->person_name(m.person);
            if (!name) return name.status();
            v.name = name.value();
        }
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

Result<std::vector<EnrolmentView>> Client::enrolments(const EnrolmentFilter& filter) {
    return impl_->locked([&]() -> Result<std::vector<EnrolmentView>> { return impl_->replica->enrolments(filter); });
}

Result<std::vector<AttendanceView>> Client::attendance(const std::string& occasion) {
    return impl_->locked([&]() -> Result<std::vector<AttendanceView>> {
        TUNDRA_TRY(impl_->need(Kind::occasion, occasion));
        return impl_->replica->attendance(occasion);
    });
}


Status Client::dismiss(uint64_t seq) {
    return impl_->locked([&]() -> Status {
        auto a = impl_->replica->dismiss(seq);
        if (!a) return a.status();
        auto kinds = action_kinds(a.value());
        kinds.push_back("outbox");
        impl_->note("dismiss", std::move(kinds));
        return Status::ok();
    });
}

Result<std::map<std::string, std::vector<std::string>>> Client::snapshot() {
    return impl_->locked([&]() -> Result<std::map<std::string, std::vector<std::string>>> {
        return impl_->replica->snapshot();
    });
}

}  // namespace tundra::client
