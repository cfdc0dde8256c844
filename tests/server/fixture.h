#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "tundra/core/hlc.h"
#include "tundra/server/handler.h"
#include "tundra/server/sql_store.h"
#include "../support/backends.h"

namespace tundra::server::test {

using ::tundra::test::store_target;

inline constexpr uint64_t kNow = 1795420800000ULL;  // 2026-11-23T08:00:00Z

inline std::string tiny_document() {
    return R"({
 "organisations":[{"code":"arjeplog","name":"Arjeplog","county":"Norrbotten"}],
 "sites":[{"id":"s1","organisation":"arjeplog","name":"Hemtjänst Arjeplog"}],
 "persons":[{"id":"p1","organisation":"arjeplog","site":"s1","name":"Anna","gender":"woman","birth_year":1980,"profession":"undersköterska"},
            {"id":"p2","organisation":"arjeplog","site":"s1","name":"Erik","gender":"man","birth_year":1975,"profession":"vårdbiträde"}],
 "users":[{"username":"anna","password":"password1","role":"participant","person":"p1"},
          {"username":"admin","password":"password1","role":"admin"}],
 "courses":[{"id":"c1","title":"Stress och hälsa","theme":"stress","format":"digital_self_paced","organisations":["arjeplog"],"published":true}],
 "occasions":[{"id":"o1","course":"c1","starts_at":"2026-12-07T08:00:00Z","ends_at":"2026-12-07T10:00:00Z","capacity":1,"enrolment_closes":"2026-12-03T08:00:00Z"}]
})";
}

// The store tests run on every backend (docs/architecture.md, "The connection seam"): a suite
// whose fixture derives from StoreFixture is a TEST_P suite, instantiated for SQLite and
// PostgreSQL with TUNDRA_STORE_BACKENDS(Suite). Tests of what only a SQLite file has (schema
// migrations from old files, PRAGMAs, file modes, the -wal file) use SqliteStoreFixture.
struct StoreFixtureBase : ::testing::Test {
    std::filesystem::path dir;
    uint64_t now = kNow;
    std::unique_ptr<SqlStore> store;
    // What the store was opened from (a file path or a postgresql:// URI): reopen with this.
    std::string target;

    virtual sql::Backend backend() const = 0;

    StoreOptions options() {
        StoreOptions o;
        o.kdf_iterations = 1000;
        o.wall = [this] { return now; };
        return o;
    }
    void SetUp() override {
        std::string tmpl = (std::filesystem::temp_directory_path() / "tundra-server-XXXXXX").string();
        dir = mkdtemp(tmpl.data());
        if (backend() == sql::Backend::postgres) TUNDRA_REQUIRE_PG();
        target = store_target(backend(), dir);
        ASSERT_FALSE(target.empty());
        auto s = SqlStore::open(target, options());
        ASSERT_TRUE(s) << s.status().to_string();
        store = std::move(s.value());
        auto r = store->import_json(tiny_document());
        ASSERT_TRUE(r) << r.status().to_string();
    }
    void TearDown() override {
        store.reset();
        std::filesystem::remove_all(dir);
    }

    HttpResponse post(const std::string& path, const std::string& body, const std::string& token = {}) {
        HttpRequest r;
        r.method = "POST";
        r.target = path;
        r.body = body;
        r.headers["content-type"] = "application/json";
        if (!token.empty()) r.headers["authorization"] = "Bearer " + token;
        return handle_request(r, *store);
    }
    std::string login(const std::string& user) {
        auto resp = post("/v1/login", R"({"protocol":1,"username":")" + user + R"(","password":"password1"})");
        EXPECT_EQ(resp.status, 200) << resp.body;
        auto d = decode_login_response(resp.body);
        return d ? d->token : std::string();
    }
    int64_t scalar(const std::string& sql) {
        auto q = store->db().query(sql);
        auto r = q->step();
        return r && r.value() ? q->int64(0) : -1;
    }
};

// Inside a TEST_P suite, a test of what only a SQLite file has (the reason is the message).
#define TUNDRA_SQLITE_ONLY(why) \
    if (backend() != ::tundra::sql::Backend::sqlite) GTEST_SKIP() << (why)

// A store on a SQLite file, for what only SQLite has.
struct SqliteStoreFixture : StoreFixtureBase {
    sql::Backend backend() const override { return sql::Backend::sqlite; }
};

// A store on each backend in turn (TEST_P; instantiate with TUNDRA_STORE_BACKENDS).
struct StoreFixture : StoreFixtureBase, ::testing::WithParamInterface<sql::Backend> {
    sql::Backend backend() const override { return GetParam(); }
};

inline std::string enrol_json(uint64_t seq, const std::string& id, const std::string& person,
                              uint64_t hlc = Hlc::from_parts(kNow, 1).value) {
    return R"({"protocol":1,"cursor":"","actions":[{"seq":)" + std::to_string(seq) + R"(,"hlc":)" +
           std::to_string(hlc) + R"(,"type":"enrol","enrolment":")" + id +
           R"(","occasion":"o1","person":")" + person + R"("}]})";
}

}  // namespace tundra::server::test
