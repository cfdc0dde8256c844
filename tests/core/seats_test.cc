#include "tundra/core/seats.h"

#include <gtest/gtest.h>

#include <map>

using namespace tundra;

namespace {
std::map<std::string, std::string> apply(std::vector<SeatEntry>& es, int64_t cap, bool closed) {
    auto changes = allocate_seats(es, cap, closed);
    for (auto& c : changes)
        for (auto& e : es)
            if (e.id == c.id) e.status = c.status, e.reason = c.reason;
    std::map<std::string, std::string> out;
    for (auto& e : es) out[e.id] = e.status + (e.reason.empty() ? "" : ":" + e.reason);
    return out;
}
SeatEntry req(std::string id, uint64_t t) { return {id, Hlc{t}, "d", "requested", ""}; }
}  // namespace

TEST(Seats, FirstActorsGetSeatsOthersWaitlisted) {
    std::vector<SeatEntry> es{req("a", 10), req("b", 20), req("c", 30)};
    auto r = apply(es, 2, false);
    EXPECT_EQ(r["a"], "confirmed");
    EXPECT_EQ(r["b"], "confirmed");
    EXPECT_EQ(r["c"], "waitlisted:waitlisted");
}

TEST(Seats, EarlierActorArrivingLaterPreemptsBeforeClose) {
    std::vector<SeatEntry> es{req("late", 20)};
    apply(es, 1, false);
    es.push_back(req("early", 10));  // acted first, offline; synced later
    auto r = apply(es, 1, false);
    EXPECT_EQ(r["early"], "confirmed");
    EXPECT_EQ(r["late"], "waitlisted:preempted");
}

TEST(Seats, AfterCloseConfirmationsAreFinal) {
    std::vector<SeatEntry> es{req("late", 20)};
    apply(es, 1, false);
    es.push_back(req("early", 10));
    auto r = apply(es, 1, true);
    EXPECT_EQ(r["late"], "confirmed");
    EXPECT_EQ(r["early"], "waitlisted:waitlisted");
}

TEST(Seats, CancellationPromotesTheEarliestWaitlisted) {
    std::vector<SeatEntry> es{req("a", 10), req("b", 30), req("c", 20)};
    apply(es, 1, true);
    es[0].status = "cancelled";
    auto r = apply(es, 1, true);
    EXPECT_EQ(r["c"], "confirmed:promoted");
    EXPECT_EQ(r["b"], "waitlisted:waitlisted");
}

TEST(Seats, EqualStampsBreakTiesByDevice) {
    std::vector<SeatEntry> es{{"x", Hlc{5}, "dev-b", "requested", ""},
                              {"y", Hlc{5}, "dev-a", "requested", ""}};
    auto r = apply(es, 1, false);
    EXPECT_EQ(r["y"], "confirmed");
    EXPECT_EQ(r["x"], "waitlisted:waitlisted");
}

TEST(Seats, NeverMoreConfirmedThanCapacity) {
    for (int cap = 0; cap < 5; ++cap) {
        std::vector<SeatEntry> es;
        for (int i = 0; i < 8; ++i) es.push_back(req("p" + std::to_string(i), 100 - i));
        auto r = apply(es, cap, false);
        int confirmed = 0;
        for (auto& [id, s] : r) confirmed += s == "confirmed";
        EXPECT_EQ(confirmed, cap);
    }
}
