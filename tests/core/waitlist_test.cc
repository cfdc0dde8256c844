// Waitlist positions (issue 10): decided with the seats, in seat order, and reported only
// when they change.
#include <gtest/gtest.h>

#include <map>

#include "tundra/core/seats.h"

using namespace tundra;

namespace {
// Applies the changes; returns how many entries changed.
size_t apply_changes(std::vector<SeatEntry>& es, const std::vector<SeatChange>& changes) {
    for (auto& c : changes)
        for (auto& e : es)
            if (e.id == c.id) e.status = c.status, e.reason = c.reason, e.position = c.position;
    return changes.size();
}
std::map<std::string, int64_t> positions(const std::vector<SeatEntry>& es) {
    std::map<std::string, int64_t> out;
    for (auto& e : es) out[e.id] = e.position.value_or(0);
    return out;
}
SeatEntry req(std::string id, uint64_t t) { return {id, Hlc{t}, "d", "requested", ""}; }
}  // namespace

TEST(Waitlist, PositionsFollowSeatOrderAndOnlyWaitlistedHaveOne) {
    std::vector<SeatEntry> es{req("d", 40), req("a", 10), req("c", 30), req("b", 20)};
    apply_changes(es, allocate_seats(es, 1, false));
    EXPECT_EQ(positions(es), (std::map<std::string, int64_t>{{"a", 0}, {"b", 1}, {"c", 2}, {"d", 3}}));
}

TEST(Waitlist, ACancellationPromotesTheHeadAndTheRestMoveUp) {
    std::vector<SeatEntry> es{req("a", 10), req("b", 20), req("c", 30), req("d", 40)};
    apply_changes(es, allocate_seats(es, 1, true));
    es[0].status = "cancelled";
    auto changes = allocate_seats(es, 1, true);
    EXPECT_EQ(apply_changes(es, changes), 3u);  // b promoted, c and d move up; a keeps no position
    EXPECT_EQ(es[1].status, "confirmed");
    EXPECT_EQ(positions(es), (std::map<std::string, int64_t>{{"a", 0}, {"b", 0}, {"c", 1}, {"d", 2}}));
}

TEST(Waitlist, ThePreemptedBecomeTheHeadOfTheWaitlist) {
    std::vector<SeatEntry> es{req("late", 20), req("later", 30)};
    apply_changes(es, allocate_seats(es, 1, false));
    EXPECT_EQ(positions(es)["later"], 1);
    es.push_back(req("early", 10));
    apply_changes(es, allocate_seats(es, 1, false));
    EXPECT_EQ(es[0].reason, "preempted");
    EXPECT_EQ(positions(es), (std::map<std::string, int64_t>{{"early", 0}, {"late", 1}, {"later", 2}}));
}

TEST(Waitlist, ANoOpAllocationChangesNothing) {
    std::vector<SeatEntry> es{req("a", 10), req("b", 20), req("c", 30)};
    apply_changes(es, allocate_seats(es, 1, false));
    EXPECT_TRUE(allocate_seats(es, 1, false).empty());
    EXPECT_TRUE(allocate_seats(es, 1, true).empty());
    EXPECT_TRUE(number_waitlist(es).empty());
}

TEST(Waitlist, AStalePositionOnARowThatLeftTheWaitlistIsCleared) {
    std::vector<SeatEntry> es{{"gone", Hlc{10}, "d", "cancelled", "", 1}, req("x", 20)};
    auto changes = allocate_seats(es, 0, false);
    apply_changes(es, changes);
    EXPECT_EQ(changes.size(), 2u);
    EXPECT_EQ(es[0].status, "cancelled");
    EXPECT_FALSE(es[0].position);
    EXPECT_EQ(es[1].position, 1);
}

TEST(Waitlist, NumberingKeepsImportedStatuses) {
    std::vector<SeatEntry> es{{"a", Hlc{5}, "", "waitlisted", "", {}},
                              {"b", Hlc{5}, "", "confirmed", "", {}},
                              {"c", Hlc{5}, "", "waitlisted", "", 7}};
    auto changes = number_waitlist(es);
    apply_changes(es, changes);
    EXPECT_EQ(changes.size(), 2u);
    EXPECT_EQ(es[1].status, "confirmed");  // over capacity or not, an import's status stands
    EXPECT_EQ(positions(es), (std::map<std::string, int64_t>{{"a", 1}, {"b", 0}, {"c", 2}}));
}
