#include "loopback.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <random>

#include "../support/backends.h"

namespace tundra::testing {

Result<client::HttpReply> LoopbackTransport::post(
    const std::string& path, const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers, std::chrono::milliseconds) {
    ++requests;
    Fault f = faults_ ? faults_() : Fault::none;
    if (f == Fault::drop_request) return Status(Errc::network, "injected: request dropped");
    server::HttpRequest req;
    req.method = "POST";
    req.target = path;
    req.body = body;
    req.headers["content-type"] = "application/json";  // as the libcurl transport sends it
    for (auto& [k, v] : headers) {
        std::string name = k;
        std::transform(name.begin(), name.end(), name.begin(), ::tolower);
        req.headers[name] = v;
    }
    server::HttpResponse resp = server::handle_request(req, store_);
    if (f == Fault::duplicate) resp = server::handle_request(req, store_);
    if (f == Fault::drop_response) return Status(Errc::network, "injected: response dropped");
    if (f == Fault::cut_response) return Status(Errc::network, "injected: response cut mid-body");
    client::HttpReply r;
    r.status = resp.status;
    for (auto& [k, v] : resp.headers) {
        std::string name = k;
        std::transform(name.begin(), name.end(), name.begin(), ::tolower);
        r.headers[name] = v;
    }
    r.body = std::move(resp.body);
    r.bytes_sent = body.size();
    r.bytes_received = r.body.size();
    return r;
}

Result<client::HttpReply> CuttingTransport::post(
    const std::string& path, const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers, std::chrono::milliseconds timeout) {
    ++counters_->requests;
    if (up_limit_ && up_ + body.size() > up_limit_) {
        counters_->bytes_sent += up_limit_ - std::min(up_limit_, up_);
        up_ = down_ = 0;
        ++counters_->cuts;
        return Status(Errc::network, "injected: connection cut after " + std::to_string(up_limit_) +
                                         " bytes upstream");
    }
    up_ += body.size();
    counters_->bytes_sent += body.size();
    auto reply = inner_->post(path, body, headers, timeout);
    if (!reply) {
        up_ = down_ = 0;
        return reply;
    }
    if (down_limit_ && down_ + reply->bytes_received > down_limit_) {
        counters_->bytes_received += down_limit_ - std::min(down_limit_, down_);
        up_ = down_ = 0;
        ++counters_->cuts;
        return Status(Errc::network, "injected: connection cut after " + std::to_string(down_limit_) +
                                         " bytes downstream, mid-response");
    }
    down_ += reply->bytes_received;
    counters_->bytes_received += reply->bytes_received;
    return reply;
}

TempDir::TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tundra-test-XXXXXX").string();
    path = mkdtemp(tmpl.data());
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
}

std::string small_world_document(uint64_t now_ms) {
    auto t = [&](int64_t minutes) { return format_iso8601(static_cast<int64_t>(now_ms) + minutes * 60000); };
    std::string persons;
    const char* sites[] = {"s1", "s1", "s1", "s2", "s2", "s2", "s3", "s3", "s3"};
    const char* genders[] = {"woman", "woman", "man", "woman", "non_binary", "woman", "woman", "man", "woman"};
    for (int i = 0; i < 9; ++i) {
        std::string org = i < 6 ? "arjeplog" : "pajala";
        persons += std::string(i ? "," : "") + R"({"id":"p)" + std::to_string(i + 1) +
                   R"(","organisation":")" + org + R"(","site":")" + sites[i] + R"(","name":"Person )" +
                   std::to_string(i + 1) + R"(","gender":")" + genders[i] +
                   R"(","birth_year":1980,"profession":"undersköterska"})";
    }
    return std::string(R"({
 "organisations":[{"code":"arjeplog","name":"Arjeplog","county":"Norrbotten"},
                  {"code":"pajala","name":"Pajala","county":"Norrbotten"}],
 "sites":[{"id":"s1","organisation":"arjeplog","name":"Hemtjänst Arjeplog"},
          {"id":"s2","organisation":"arjeplog","name":"Särskilt boende Arjeplog"},
          {"id":"s3","organisation":"pajala","name":"Hemtjänst Pajala"}],
 "persons":[)") + persons + R"(],
 "users":[{"username":"admin","password":"password1","role":"admin"},
          {"username":"coord1","password":"password1","role":"coordinator","sites":["s1","s2"]},
          {"username":"coord2","password":"password1","role":"coordinator","sites":["s3"]},
          {"username":"coord3","password":"password1","role":"coordinator","sites":["s1"]},
          {"username":"part1","password":"password1","role":"participant","person":"p1"},
          {"username":"part2","password":"password1","role":"participant","person":"p2"},
          {"username":"part3","password":"password1","role":"participant","person":"p7"}],
 "courses":[{"id":"c1","title":"Stress och hälsa","theme":"stress","format":"digital_self_paced","organisations":["arjeplog","pajala"],"published":true},
            {"id":"c2","title":"Hot och våld i arbetet","theme":"threats","format":"on_site","organisations":["pajala"],"published":true},
            {"id":"c3","title":"Utkast","theme":"sam","format":"live_online","organisations":[],"published":false}],
 "occasions":[{"id":"o1","course":"c1","starts_at":")" + t(60 * 24 * 14) + R"(","ends_at":")" + t(60 * 24 * 14 + 120) + R"(","capacity":2,"enrolment_closes":")" + t(60 * 24 * 10) + R"("},
              {"id":"o2","course":"c1","starts_at":")" + t(60 * 24 * 7) + R"(","ends_at":")" + t(60 * 24 * 7 + 120) + R"(","site":"s1","capacity":1,"enrolment_closes":")" + t(60 * 24 * 5) + R"("},
              {"id":"o3","course":"c2","starts_at":")" + t(60 * 24 * 3) + R"(","ends_at":")" + t(60 * 24 * 3 + 120) + R"(","site":"s3","capacity":2,"enrolment_closes":")" + t(60 * 24 * 2) + R"("},
              {"id":"o4","course":"c1","starts_at":")" + t(60 * 24) + R"(","ends_at":")" + t(60 * 24 + 120) + R"(","capacity":3,"enrolment_closes":")" + t(60) + R"("}]
})";
}

World::World(std::function<void(server::StoreOptions&)> tweak, sql::Backend backend) {
    server::StoreOptions& so = options;
    so.kdf_iterations = 1000;  // tests log in often; production uses the default
    so.durable = false;        // in-process: no power to lose, and fsyncs would dominate
    so.wall = [this] { return now.load(); };
    if (tweak) tweak(so);
    target = backend == sql::Backend::sqlite ? dir.file("server.db") : ::tundra::test::store_target(backend, dir.path);
    if (target.empty()) throw std::runtime_error("no database for this backend");
    auto s = server::SqlStore::open(target, so);
    if (!s) throw std::runtime_error(s.status().to_string());
    store = std::move(s.value());
    auto rep = store->import_json(small_world_document(now));
    if (!rep) throw std::runtime_error(rep.status().to_string());
}

void World::add_server() {
    auto s = server::SqlStore::open(target, options, false);
    if (!s) throw std::runtime_error(s.status().to_string());
    more_servers.push_back(std::move(s.value()));
}

std::unique_ptr<client::Client> World::open_client(const std::string& replica_name, int64_t skew) {
    client::ClientOptions o;
    auto f = faults;
    auto wrapper = wrap;
    std::vector<server::Store*> servers{store.get()};
    for (auto& s : more_servers) servers.push_back(s.get());
    // Each client starts at another server, so rounds of different devices interleave too.
    size_t start = clients_opened_++;
    o.transport_factory = [this, f, wrapper, servers, start](const std::string&) -> std::unique_ptr<client::Transport> {
        std::unique_ptr<client::Transport> t;
        if (servers.size() == 1) t = std::make_unique<LoopbackTransport>(*store, f);
        else t = std::make_unique<SpreadTransport>(servers, f, start);
        if (wrapper) return wrapper(std::move(t));
        return t;
    };
    o.storage_fault = replica_faults;
    o.sleep = [this](std::chrono::milliseconds d) { now += static_cast<uint64_t>(d.count()); };
    o.wall_clock = [this, skew] { return static_cast<uint64_t>(static_cast<int64_t>(now.load()) + skew); };
    auto c = client::Client::open(dir.file(replica_name), o);
    if (!c) throw std::runtime_error(c.status().to_string());
    return std::move(c.value());
}

std::unique_ptr<client::Client> World::client(const std::string& replica_name,
                                              const std::string& username, int64_t skew) {
    auto saved = faults;
    auto saved_replica = replica_faults;
    auto saved_wrap = wrap;
    faults = {};
    replica_faults = {};
    wrap = {};
    auto c2 = open_client(replica_name, skew);  // login without faults
    faults = saved;
    replica_faults = saved_replica;
    wrap = saved_wrap;
    Status st = c2->login("http://loopback", username, "password1");
    if (!st) throw std::runtime_error("login " + username + ": " + st.to_string());
    c2.reset();
    return open_client(replica_name, skew);
}

int64_t World::scalar(const std::string& sql) {
    auto q = store->db().query(sql);
    auto r = q->step();
    if (!r || !r.value()) return -1;
    return q->int64(0);
}

void add_history(World& w, int marks) {
    std::string d = R"({"attendance":[)";
    for (int i = 0; i < marks; ++i)
        d += std::string(i ? "," : "") + R"({"id":"h)" + std::to_string(i) + R"(","occasion":"o)" +
             std::to_string(1 + i % 4) + R"(","person":"p)" + std::to_string(1 + i % 6) +
             R"(","status":"present","minutes":)" + std::to_string(30 + i % 90) + "}";
    ASSERT_TRUE(w.store->import_json(d + "]}"));
}

std::string roster_document() {
    std::string d = R"({"enrolments":[)";
    for (int o = 1; o <= 4; ++o)
        for (int p = 1; p <= 9; ++p)
            d += std::string(o + p > 2 ? "," : "") + R"({"id":"r-o)" + std::to_string(o) + "-p" +
                 std::to_string(p) + R"(","occasion":"o)" + std::to_string(o) + R"(","person":"p)" +
                 std::to_string(p) + R"(","status":"confirmed"})";
    return d + "]}";
}

void add_roster(World& w) {
    auto r = w.store->import_json(roster_document());
    ASSERT_TRUE(r) << r.status().to_string();
}

void sync_ok(client::Client& c) {
    auto r = c.sync();
    ASSERT_TRUE(r) << r.status().to_string();
}

bool has(client::Client& c, const char* table, const std::string& id) {
    auto snap = c.snapshot().value();
    for (auto& row : snap[table])
        if (row.find("\"id\":\"" + id + "\"") != std::string::npos) return true;
    return false;
}

void expect_converged(World& w, client::Client& c, const std::string& user) {
    static int n = 0;
    auto fresh = w.client("fresh-" + user + "-" + std::to_string(++n) + ".db", user);
    sync_ok(*fresh);
    EXPECT_EQ(c.snapshot().value(), fresh->snapshot().value()) << user;
}

}  // namespace tundra::testing
