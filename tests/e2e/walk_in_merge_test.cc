// Issue 9, end to end: a walk-in registered as a provisional person reaches the coordinators'
// devices; after an admin merges her into the real person, every device converges on the
// real person (moved rows under her, the provisional person gone), and rows moved out of a
// coordinator's sites leave that coordinator's device.
#include <gtest/gtest.h>

#include "loopback.h"
#include "tundra/core/protocol.h"

using namespace tundra;
using namespace tundra::testing;

namespace {
// The row of `table` with this id on the device, as its snapshot JSON ("" when absent).
std::string row_of(client::Client& c, const char* table, const std::string& id) {
    auto snap = c.snapshot().value();
    for (auto& row : snap[table])
        if (row.find("\"id\":\"" + id + "\"") != std::string::npos) return row;
    return "";
}

// A walk-in recorded by a third device of coord1 (the action the CLI's `tundra walk-in
// OCCASION --name ...` sends), straight to the server.
void register_walk_in(World& w, const std::string& person, const std::string& site, uint16_t seq) {
    LoginRequest lr;
    lr.username = "coord1";
    lr.password = "password1";
    lr.device_name = "tablet";
    auto login = w.store->login(lr, "127.0.0.1");
    ASSERT_TRUE(login) << login.status().to_string();
    auto who = w.store->authenticate(login->token);
    ASSERT_TRUE(who) << who.status().to_string();
    SyncRequest req;
    req.actions.push_back(Action{seq, Hlc::from_parts(w.now, seq), "walk_in",
                                 Row{{"enrolment", "e-" + person},
                                     {"mark", "m-" + person},
                                     {"occasion", "o4"},
                                     {"person", person},
                                     {"name", "Maja Nilsson"},
                                     {"site", site},
                                     {"gender", "woman"}}});
    auto r = w.store->sync(who.value(), req);
    ASSERT_TRUE(r) << r.status().to_string();
    ASSERT_EQ(r->outcomes.size(), 1u);
    ASSERT_EQ(r->outcomes[0].result, OutcomeResult::applied) << r->outcomes[0].message;
}
}  // namespace

TEST(WalkInMerge, TwoDevicesConvergeOnTheRealPersonAfterAMerge) {
    World w;
    auto c1 = w.client("c1.db", "coord1");  // sites s1, s2
    auto c3 = w.client("c3.db", "coord3");  // site s1
    sync_ok(*c1);
    sync_ok(*c3);
    register_walk_in(w, "w1", "s1", 1);
    register_walk_in(w, "w2", "s1", 2);
    sync_ok(*c1);
    sync_ok(*c3);
    for (auto* c : {c1.get(), c3.get()}) {
        ASSERT_TRUE(has(*c, "persons", "w1"));
        EXPECT_NE(row_of(*c, "enrolments", "e-w1").find("\"person\":\"w1\""), std::string::npos);
    }

    // w1 is p2 (site s1, seen by both); w2 is p4 (site s2, seen by coord1 only).
    auto m1 = w.store->merge_person("w1", "p2", "cli:admin");
    ASSERT_TRUE(m1) << m1.status().to_string();
    EXPECT_EQ(m1->moved(), 2);
    auto m2 = w.store->merge_person("w2", "p4", "cli:admin");
    ASSERT_TRUE(m2) << m2.status().to_string();
    sync_ok(*c1);
    sync_ok(*c3);

    for (auto* c : {c1.get(), c3.get()}) {
        EXPECT_FALSE(has(*c, "persons", "w1"));
        EXPECT_FALSE(has(*c, "persons", "w2"));
        EXPECT_NE(row_of(*c, "enrolments", "e-w1").find("\"person\":\"p2\""), std::string::npos);
        EXPECT_NE(row_of(*c, "attendance", "m-w1").find("\"person\":\"p2\""), std::string::npos);
    }
    EXPECT_NE(row_of(*c1, "enrolments", "e-w2").find("\"person\":\"p4\""), std::string::npos);
    EXPECT_EQ(row_of(*c3, "enrolments", "e-w2"), "");
    EXPECT_EQ(row_of(*c3, "attendance", "m-w2"), "");
    // Each replica equals what a brand-new device of its user receives.
    expect_converged(w, *c1, "coord1");
    expect_converged(w, *c3, "coord3");
}
