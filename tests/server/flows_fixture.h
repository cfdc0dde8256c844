// A store with two municipalities, their coordinators and participants, for the issue-9 flows
// (participations, surveys, deviations, attestations, walk-ins, merges): actions go through
// the real sync round (`SqlStore::sync`), scope checks and all.
#pragma once

#include "fixture.h"
#include "tundra/core/protocol.h"

namespace tundra::server::test {

inline constexpr uint64_t kMinute = 60'000;
inline constexpr uint64_t kDay = 86400'000;
// o1 (course c1, Arjeplog) runs 2026-12-07 08:00-10:00Z; its enrolment closes 2026-12-03.
inline const uint64_t kO1Start = static_cast<uint64_t>(parse_iso8601("2026-12-07T08:00:00Z").value());
inline const uint64_t kO1End = static_cast<uint64_t>(parse_iso8601("2026-12-07T10:00:00Z").value());

struct Flows : StoreFixture {
    uint64_t seq = 0;
    std::map<std::string, AuthContext> logins;

    void SetUp() override {
        StoreFixture::SetUp();
        auto r = store->import_json(R"({
 "organisations":[{"code":"pajala","name":"Pajala","county":"Norrbotten"}],
 "sites":[{"id":"s2","organisation":"arjeplog","name":"Särskilt boende"},
          {"id":"s3","organisation":"pajala","name":"Hemtjänst Pajala"}],
 "persons":[{"id":"p5","organisation":"arjeplog","site":"s2","name":"Olle","gender":"man","birth_year":1960},
            {"id":"p6","organisation":"pajala","site":"s3","name":"Aino","gender":"woman","birth_year":1970,"personal_id":"197001011234"}],
 "users":[{"username":"coord","password":"password1","role":"coordinator","sites":["s1"]},
          {"username":"coord2","password":"password1","role":"coordinator","sites":["s3"]},
          {"username":"erik","password":"password1","role":"participant","person":"p2"},
          {"username":"aino","password":"password1","role":"participant","person":"p6"}],
 "courses":[{"id":"c9","title":"Utkast","format":"on_site","organisations":[],"published":false},
            {"id":"c3","title":"Lyft","format":"on_site","organisations":["pajala"],"published":true}],
 "occasions":[{"id":"o9","course":"c9","starts_at":"2026-12-07T08:00:00Z","ends_at":"2026-12-07T10:00:00Z","capacity":5,"enrolment_closes":"2026-12-03T08:00:00Z"},
              {"id":"o3","course":"c3","site":"s3","starts_at":"2026-12-08T08:00:00Z","ends_at":"2026-12-08T10:00:00Z","capacity":5,"enrolment_closes":"2026-12-04T08:00:00Z"}]})");
        ASSERT_TRUE(r) << r.status().to_string();
    }
    AuthContext who(const std::string& user) {
        auto it = logins.find(user);
        if (it != logins.end()) return it->second;
        auto w = store->authenticate(login(user));
        EXPECT_TRUE(w) << w.status().to_string();
        if (!w) return AuthContext{};
        logins[user] = w.value();
        return w.value();
    }
    // One action by `user`, stamped `at_ms` on the device, with the server's clock at `now`.
    // Each action is a new one (its own logical stamp): the same content at the same stamp
    // would be a retry, answered from the exactly-once memory.
    Outcome push(const std::string& user, const std::string& type, Row fields, uint64_t at_ms = 0) {
        SyncRequest req;
        ++seq;
        req.actions.push_back(Action{seq, Hlc::from_parts(at_ms ? at_ms : now, static_cast<uint16_t>(seq)), type,
                                     std::move(fields)});
        auto r = store->sync(who(user), req);
        EXPECT_TRUE(r) << r.status().to_string();
        return r && !r->outcomes.empty() ? r->outcomes[0] : Outcome{};
    }
    std::string text(const std::string& sql) {
        auto q = store->db().query(sql);
        auto r = q->step();
        return r && r.value() && !q->is_null(0) ? q->text(0) : std::string("<null>");
    }
};

// Asserts an outcome's result and reason, printing its message when they differ.
#define EXPECT_OUTCOME(o, res, why)                                   \
    do {                                                              \
        const Outcome& o_ = (o);                                      \
        EXPECT_EQ(o_.result, OutcomeResult::res) << o_.message;       \
        EXPECT_EQ(o_.reason, std::string(why)) << o_.message;         \
    } while (0)

}  // namespace tundra::server::test
