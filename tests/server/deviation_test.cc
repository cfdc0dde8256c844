// Issue 9: the deviation log. Coordinators log deviations for the organisations they cover,
// in one of the enumerated categories, optionally about an occasion they see; "handled"
// needs the action taken. An older client's free-text category is refused per action.
#include "flows_fixture.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

namespace {
using Deviation = Flows;

Row deviation(const std::string& id, const std::string& org, const std::string& category = "technical") {
    return {{"deviation", id}, {"organisation", org}, {"category", category}, {"description", "Projektorn trasig"}};
}
}  // namespace

TEST_P(Deviation, ACoordinatorLogsForHerOwnMunicipalityOnly) {
    EXPECT_OUTCOME(push("coord", "log_deviation", deviation("d1", "arjeplog")), applied, "");
    Outcome o = push("coord", "log_deviation", deviation("d2", "pajala"));
    EXPECT_OUTCOME(o, rejected, "forbidden");
    EXPECT_OUTCOME(push("coord2", "log_deviation", deviation("d2", "pajala")), applied, "");
    // Nor can she edit, or move into her log, another municipality's deviation.
    EXPECT_OUTCOME(push("coord", "log_deviation", {{"deviation", "d2"}, {"description", "x"}}), rejected, "not_found");
    EXPECT_OUTCOME(push("coord2", "log_deviation", {{"deviation", "d2"}, {"organisation", "arjeplog"}}), rejected,
                   "forbidden");
    EXPECT_EQ(text("SELECT organisation || ':' || description FROM deviations WHERE id = 'd2'"),
              "pajala:Projektorn trasig");
    // Participants neither log nor see the log; admins log for anyone.
    EXPECT_OUTCOME(push("anna", "log_deviation", deviation("d3", "arjeplog")), rejected, "forbidden");
    EXPECT_OUTCOME(push("admin", "log_deviation", deviation("d3", "pajala", "accessibility")), applied, "");
    auto seen = store->visible_ids(who("coord"), Kind::deviation);
    ASSERT_TRUE(seen);
    EXPECT_EQ(seen->by_sql, std::vector<std::string>{"d1"});
    EXPECT_EQ(seen->by_sql, seen->by_cpp);
}

TEST_P(Deviation, TheCategoryIsOneOfTheEnumeration) {
    for (auto* c : {"cancelled_session", "technical", "attendance", "content", "accessibility", "other"})
        EXPECT_OUTCOME(push("coord", "log_deviation", deviation(std::string("d-") + c, "arjeplog", c)), applied, "");
    Outcome o = push("coord", "log_deviation", deviation("d9", "arjeplog", "Trasig projektor"));
    EXPECT_OUTCOME(o, rejected, "invalid");
    EXPECT_NE(o.message.find("category"), std::string::npos) << o.message;
    EXPECT_EQ(scalar("SELECT count(*) FROM deviations"), 6);
}

// Protocol: an older client's free-text category comes in a request that is otherwise
// valid. The request is accepted and that one action is refused, so the client's queue moves
// on; the action after it is applied.
TEST_P(Deviation, AnOlderClientsFreeTextCategoryIsRefusedNotTheRequest) {
    std::string token = login("coord");
    std::string hlc = std::to_string(Hlc::from_parts(now, 0).value);
    auto resp = post("/v1/sync", R"({"protocol":1,"cursor":"","actions":[)"
                                 R"({"seq":1,"hlc":)" + hlc + R"(,"type":"log_deviation","deviation":"d1","organisation":"arjeplog","category":"Projektor","description":"Trasig"},)"
                                 R"({"seq":2,"hlc":)" + hlc + R"(,"type":"log_deviation","deviation":"d2","organisation":"arjeplog","category":"technical","description":"Trasig"}]})",
                     token);
    ASSERT_EQ(resp.status, 200) << resp.body;
    auto r = decode_sync_response(resp.body);
    ASSERT_TRUE(r) << r.status().to_string();
    ASSERT_EQ(r->outcomes.size(), 2u);
    EXPECT_OUTCOME(r->outcomes[0], rejected, "invalid");
    EXPECT_OUTCOME(r->outcomes[1], applied, "");
    EXPECT_EQ(text("SELECT " + store->db().group_concat("id") + " FROM deviations"), "d2");
    // Still malformed: a value of the wrong type.
    resp = post("/v1/sync", R"({"protocol":1,"cursor":"","actions":[{"seq":3,"hlc":)" + hlc +
                                R"(,"type":"log_deviation","deviation":"d3","category":7}]})",
                token);
    EXPECT_EQ(resp.status, 400) << resp.body;
}

TEST_P(Deviation, HandlingOneNeedsTheActionTaken) {
    EXPECT_OUTCOME(push("coord", "log_deviation", deviation("d1", "arjeplog")), applied, "");
    EXPECT_EQ(text("SELECT status FROM deviations WHERE id = 'd1'"), "open");
    Outcome o = push("coord", "log_deviation", {{"deviation", "d1"}, {"status", "handled"}});
    EXPECT_OUTCOME(o, rejected, "invalid");
    EXPECT_NE(o.message.find("action_taken"), std::string::npos) << o.message;
    EXPECT_OUTCOME(push("coord", "log_deviation", {{"deviation", "d1"}, {"status", "handled"}, {"action_taken", ""}}),
                   rejected, "invalid");
    EXPECT_EQ(text("SELECT status FROM deviations WHERE id = 'd1'"), "open");
    EXPECT_OUTCOME(push("coord", "log_deviation",
                        {{"deviation", "d1"}, {"status", "handled"}, {"action_taken", "Ny projektor beställd"}}),
                   applied, "");
    EXPECT_EQ(text("SELECT status || ':' || action_taken FROM deviations WHERE id = 'd1'"),
              "handled:Ny projektor beställd");
    // Logged as handled from the start, with the action taken: fine.
    EXPECT_OUTCOME(push("coord", "log_deviation",
                        {{"deviation", "d2"}, {"organisation", "arjeplog"}, {"category", "cancelled_session"},
                         {"description", "Snöstorm"}, {"status", "handled"}, {"action_taken", "Nytt datum"}}),
                   applied, "");
}

TEST_P(Deviation, ItsOccasionMustExistAndBeVisible) {
    Row r = deviation("d1", "arjeplog");
    r["occasion"] = "o404";
    EXPECT_OUTCOME(push("coord", "log_deviation", r), rejected, "not_found");
    r["occasion"] = "o9";  // an unpublished course's occasion
    EXPECT_OUTCOME(push("coord", "log_deviation", r), rejected, "not_found");
    r["occasion"] = "o3";  // Pajala's course
    EXPECT_OUTCOME(push("coord", "log_deviation", r), rejected, "not_found");
    r["occasion"] = "o1";
    EXPECT_OUTCOME(push("coord", "log_deviation", r), applied, "");
    EXPECT_EQ(text("SELECT occasion FROM deviations WHERE id = 'd1'"), "o1");
    // Admins see every occasion.
    r = deviation("d2", "arjeplog");
    r["occasion"] = "o9";
    EXPECT_OUTCOME(push("admin", "log_deviation", r), applied, "");
}

TUNDRA_STORE_BACKENDS(Deviation);
