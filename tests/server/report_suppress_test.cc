// Small-cell suppression (report_suppress.h): primary, secondary, links, and over random
// tables with margins that no suppressed cell can be recovered by differences.
#include "report_suppress.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace tundra::server {
namespace {

TEST(Suppression, CellsOfOneToMinCellMinusOnePeopleAreSuppressedAndZeroIsShown) {
    Suppression s(5);
    std::vector<size_t> c;
    for (int64_t n : {0, 1, 2, 3, 4, 5, 6, 100}) c.push_back(s.add_cell(n));
    s.run();
    std::vector<bool> got;
    for (size_t i : c) got.push_back(s.suppressed(i));
    EXPECT_EQ(got, (std::vector<bool>{false, true, true, true, true, false, false, false}));
    EXPECT_TRUE(s.primary(c[1]));
    EXPECT_FALSE(s.primary(c[0]));
}

TEST(Suppression, MinCellIsTheThresholdAndOneSuppressesNothing) {
    Suppression three(3);
    size_t a = three.add_cell(2), b = three.add_cell(3);
    Suppression one(1);
    size_t c = one.add_cell(1), d = one.add_cell(0);
    three.run();
    one.run();
    EXPECT_TRUE(three.suppressed(a));
    EXPECT_FALSE(three.suppressed(b));
    EXPECT_FALSE(one.suppressed(c));
    EXPECT_FALSE(one.suppressed(d));
}

TEST(Suppression, AFurtherCountOfPeopleAlsoSuppressesTheCell) {
    Suppression s(5);
    size_t hours_of_two = s.add_cell(40, {2});  // 40 participants, hours from 2 attendees
    size_t no_hours = s.add_cell(40, {0});
    s.run();
    EXPECT_TRUE(s.suppressed(hours_of_two));
    EXPECT_FALSE(s.suppressed(no_hours));
}

TEST(Suppression, ALoneSuppressedPartHidesTheSmallestShownPartWithPeople) {
    Suppression s(5);
    size_t total = s.add_cell(32);
    size_t women = s.add_cell(20), men = s.add_cell(9), non_binary = s.add_cell(3),
           undisclosed = s.add_cell(0);
    s.add_group(total, {women, men, non_binary, undisclosed});
    s.run();
    EXPECT_TRUE(s.suppressed(non_binary));
    EXPECT_TRUE(s.suppressed(men)) << "32 - 20 - 0 would reveal the 3 otherwise";
    EXPECT_FALSE(s.suppressed(women));
    EXPECT_FALSE(s.suppressed(undisclosed)) << "an empty cell protects nothing";
    EXPECT_FALSE(s.suppressed(total));
}

TEST(Suppression, TheTotalGoesWhenNoOtherPartHasPeople) {
    Suppression s(5);
    size_t total = s.add_cell(7);
    size_t a = s.add_cell(7), b = s.add_cell(0);
    size_t t2 = s.add_cell(4);  // a small total with only empty parts besides
    size_t c = s.add_cell(0), d = s.add_cell(4);
    s.add_group(total, {a, b});
    s.add_group(t2, {c, d});
    s.run();
    EXPECT_FALSE(s.suppressed(total));  // nothing small here
    EXPECT_TRUE(s.suppressed(t2));
    EXPECT_TRUE(s.suppressed(d));
    EXPECT_FALSE(s.suppressed(c));
}

TEST(Suppression, ASmallSumOfSuppressedPartsIsNotRevealedByDifference) {
    // 1 + 1 suppressed beside a shown total of 12: 12 - 10 = 2 would tell both are 1.
    Suppression s(5);
    size_t total = s.add_cell(12);
    size_t a = s.add_cell(1), b = s.add_cell(1), c = s.add_cell(10);
    s.add_group(total, {a, b, c});
    s.run();
    EXPECT_TRUE(s.suppressed(c) || s.suppressed(total));
    // Without the people adding up (themes: one person in several), only exact recovery
    // matters and two hidden parts suffice.
    Suppression t(5);
    size_t total2 = t.add_cell(12);
    size_t a2 = t.add_cell(1), b2 = t.add_cell(1), c2 = t.add_cell(10);
    t.add_group(total2, {a2, b2, c2}, /*people_add_up=*/false);
    t.run();
    EXPECT_FALSE(t.suppressed(c2));
    EXPECT_FALSE(t.suppressed(total2));
}

TEST(Suppression, LinksCarrySuppressionAndFeedBackIntoGroups) {
    Suppression s(5);
    size_t small = s.add_cell(2), big = s.add_cell(50);
    size_t total = s.add_cell(70), other = s.add_cell(20);
    s.link(small, big);
    s.add_group(total, {big, other});
    s.run();
    EXPECT_TRUE(s.suppressed(big));
    EXPECT_TRUE(s.suppressed(other)) << "big alone in its group would be recoverable";
    EXPECT_FALSE(s.suppressed(total));
}

// ---- property: random tables with margins ------------------------------------------------

// An a x b x c table of counts with every margin (index == size: "all"), declared the way
// the participants report declares its gender, age band and organisation groups.
struct Table {
    int na, nb, nc;
    std::vector<int64_t> v;
    std::vector<size_t> cell;
    size_t at(int i, int j, int k) const { return (size_t(i) * (nb + 1) + j) * (nc + 1) + k; }
};

Table random_table(std::mt19937& rng, Suppression& s) {
    Table t{int(rng() % 4) + 2, int(rng() % 4) + 2, int(rng() % 3) + 1, {}, {}};
    t.v.assign(size_t(t.na + 1) * (t.nb + 1) * (t.nc + 1), 0);
    std::geometric_distribution<int> small_counts(0.25);
    for (int i = 0; i < t.na; ++i)
        for (int j = 0; j < t.nb; ++j)
            for (int k = 0; k < t.nc; ++k) {
                int64_t n = rng() % 5 == 0 ? 0 : small_counts(rng);
                for (int ii : {i, t.na})
                    for (int jj : {j, t.nb})
                        for (int kk : {k, t.nc}) t.v[t.at(ii, jj, kk)] += n;
            }
    for (int64_t n : t.v) t.cell.push_back(s.add_cell(n));
    for (int i = 0; i <= t.na; ++i)
        for (int j = 0; j <= t.nb; ++j)
            for (int k = 0; k <= t.nc; ++k) {
                if (i == t.na) {
                    std::vector<size_t> parts;
                    for (int x = 0; x < t.na; ++x) parts.push_back(t.cell[t.at(x, j, k)]);
                    s.add_group(t.cell[t.at(i, j, k)], parts);
                }
                if (j == t.nb) {
                    std::vector<size_t> parts;
                    for (int x = 0; x < t.nb; ++x) parts.push_back(t.cell[t.at(i, x, k)]);
                    s.add_group(t.cell[t.at(i, j, k)], parts);
                }
                if (k == t.nc && t.nc > 1) {
                    std::vector<size_t> parts;
                    for (int x = 0; x < t.nc; ++x) parts.push_back(t.cell[t.at(i, j, x)]);
                    s.add_group(t.cell[t.at(i, j, k)], parts);
                }
            }
    return t;
}

// The groups of a table as lists of (total, parts) over values, checked with no help from
// Suppression: a suppressed value is recoverable within a group when it is the group's only
// unknown; the sum of the suppressed parts is revealed when the total is shown.
void expect_nothing_recoverable(const Table& t, const Suppression& s, int min_cell, int seed) {
    auto hid = [&](size_t idx) { return s.suppressed(t.cell[idx]); };
    auto check = [&](size_t total, const std::vector<size_t>& parts) {
        int unknown = hid(total) ? 1 : 0;
        int64_t hidden_sum = 0;
        for (size_t p : parts) {
            unknown += hid(p) ? 1 : 0;
            if (hid(p)) hidden_sum += t.v[p];
        }
        EXPECT_NE(unknown, 1) << "seed " << seed << ": a suppressed value is total minus the rest";
        if (!hid(total)) {
            EXPECT_TRUE(hidden_sum == 0 || hidden_sum >= min_cell)
                << "seed " << seed << ": the difference reveals " << hidden_sum << " people";
        }
    };
    for (int i = 0; i <= t.na; ++i)
        for (int j = 0; j <= t.nb; ++j)
            for (int k = 0; k <= t.nc; ++k) {
                std::vector<size_t> pa, pb, pc;
                for (int x = 0; x < t.na; ++x) pa.push_back(t.at(x, j, k));
                for (int x = 0; x < t.nb; ++x) pb.push_back(t.at(i, x, k));
                for (int x = 0; x < t.nc; ++x) pc.push_back(t.at(i, j, x));
                if (i == t.na) check(t.at(i, j, k), pa);
                if (j == t.nb) check(t.at(i, j, k), pb);
                if (k == t.nc && t.nc > 1) check(t.at(i, j, k), pc);
            }
}

TEST(Suppression, RandomTablesWithMarginsRevealNoSuppressedValueByDifferences) {
    int suppressed_total = 0, cells_total = 0;
    for (int seed = 1; seed <= 400; ++seed) {
        std::mt19937 rng(seed);
        int min_cell = 2 + int(rng() % 6);
        Suppression s(min_cell);
        Table t = random_table(rng, s);
        s.run();
        for (size_t i = 0; i < t.v.size(); ++i) {
            bool small = t.v[i] >= 1 && t.v[i] < min_cell;
            if (small) { EXPECT_TRUE(s.suppressed(t.cell[i])) << "seed " << seed << " primary"; }
            EXPECT_EQ(s.primary(t.cell[i]), small) << "seed " << seed;
            if (t.v[i] == 0) { EXPECT_FALSE(s.suppressed(t.cell[i])) << "seed " << seed << " zero"; }
            suppressed_total += s.suppressed(t.cell[i]) ? 1 : 0;
            ++cells_total;
        }
        expect_nothing_recoverable(t, s, min_cell, seed);
    }
    // The tables are small-count heavy: suppression happens, but not to everything.
    EXPECT_GT(suppressed_total, cells_total / 20);
    EXPECT_LT(suppressed_total, cells_total);
}

TEST(Suppression, IsDeterministic) {
    for (int seed = 1; seed <= 20; ++seed) {
        std::mt19937 a(seed), b(seed);
        Suppression s1(5), s2(5);
        Table t1 = random_table(a, s1), t2 = random_table(b, s2);
        s1.run();
        s2.run();
        for (size_t i = 0; i < t1.cell.size(); ++i) EXPECT_EQ(s1.suppressed(i), s2.suppressed(i));
    }
}

}  // namespace
}  // namespace tundra::server
