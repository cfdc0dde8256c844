// Turns under sustained overload (web/include/tundra/web/admission_turns.h): who is admitted
// at a share, how long the others are told to wait, and how the share follows the queue.
#include "tundra/web/admission_turns.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace tundra::web;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

namespace {
std::string key(int i) { return "Bearer device-token-" + std::to_string(i); }
constexpr int64_t kT0 = 1796000000000;  // a wall-clock instant (Unix ms)

// Feeds one tick's worth of keyed requests, `refused` of them refused by the queue and `idle`
// of them finding a worker idle.
void tick_with(AdmissionTurns& t, Steady::time_point at, int seen, int refused, int idle = 0) {
    for (int i = 0; i < seen; ++i) t.note(i < refused, i >= seen - idle);
    t.tick(at);
}
}  // namespace

TEST(AdmissionTurns, AtFullShareEveryKeyIsAdmitted) {
    AdmissionTurns t;
    for (int i = 0; i < 1000; ++i) EXPECT_FALSE(t.admit(key(i), kT0 + i * 7919));
}

// The place is part of the protocol between server processes (and releases): all of them
// must agree on whose turn it is. The values were worked out apart from this code (FNV-1a 64
// then splitmix64's finaliser, the top 53 bits as a fraction, in Python).
TEST(AdmissionTurns, APlaceIsTheSameInEveryProcess) {
    EXPECT_DOUBLE_EQ(AdmissionTurns::place_of("Bearer device-token-1"), AdmissionTurns::place_of("Bearer device-token-1"));
    EXPECT_NEAR(AdmissionTurns::place_of("Bearer device-token-1"), 0.3252959148553504, 1e-12);
    EXPECT_NEAR(AdmissionTurns::place_of(""), 0.3327216930149326, 1e-12);
}

TEST(AdmissionTurns, AtAShareThatShareOfTheKeysIsAdmittedAtAnyMoment) {
    AdmissionTurns t(TurnOptions{.period = 120s});
    t.set_share(0.4);
    for (int64_t at : {kT0, kT0 + 31'000, kT0 + 95'500}) {
        int admitted = 0;
        for (int i = 0; i < 10000; ++i) admitted += !t.admit(key(i), at);
        EXPECT_NEAR(admitted / 10000.0, 0.4, 0.02) << at;
    }
}

// Each key is served for share x period out of every period, in one stretch, and a refused
// key is told the time until its stretch begins: asking again then, it is admitted; a second
// before, it would not have been.
TEST(AdmissionTurns, EachKeyIsServedItsShareOfEveryPeriodAndToldWhenItsTurnStarts) {
    AdmissionTurns t(TurnOptions{.period = 100s, .max_wait = 100s});
    t.set_share(0.3);
    for (int i = 0; i < 200; ++i) {
        int admitted_seconds = 0, stretches = 0;
        bool was_in = !t.admit(key(i), kT0 - 1000);
        for (int s = 0; s < 100; ++s) {
            int64_t now = kT0 + s * 1000;
            auto wait = t.admit(key(i), now);
            bool in = !wait;
            admitted_seconds += in;
            if (in && !was_in) ++stretches;
            was_in = in;
            if (!wait) continue;
            EXPECT_GE(wait->count(), 1);
            EXPECT_LE(wait->count(), 70);  // (1 - share) x period
            EXPECT_FALSE(t.admit(key(i), now + wait->count() * 1000)) << key(i) << " at +" << s << " s";
            if (wait->count() > 1) {
                EXPECT_TRUE(t.admit(key(i), now + (wait->count() - 1) * 1000 - 1)) << key(i);
            }
        }
        EXPECT_NEAR(admitted_seconds, 30, 1) << key(i);
        EXPECT_LE(stretches, 1) << key(i);  // one stretch a period (the sampled period may cut it in two)
    }
}

// Turns begin evenly over the period: the refused are told different waits, not one moment
// at which they would all come back.
TEST(AdmissionTurns, TheRefusedComeBackSpreadOverTimeAndNeverLaterThanMaxWait) {
    AdmissionTurns t(TurnOptions{.period = 120s, .max_wait = 30s});
    t.set_share(0.2);
    std::vector<int> by_second(31, 0);
    int refused = 0;
    for (int i = 0; i < 5000; ++i) {
        auto wait = t.admit(key(i), kT0);
        if (!wait) continue;
        ++refused;
        ASSERT_GE(wait->count(), 1);
        ASSERT_LE(wait->count(), 30);
        ++by_second[wait->count()];
    }
    EXPECT_NEAR(refused / 5000.0, 0.8, 0.02);
    // Waits under 30 s are spread evenly (about 1/96 of the refused per second); the rest
    // are capped at 30 s.
    for (int s = 2; s < 30; ++s) EXPECT_GT(by_second[s], 10) << s;
}

// A burst of refusals (every device reconnecting to a restarted server) is the queue's to
// absorb: the share is cut only once refusals have lasted `sustain`, then to the part of the
// load the queue took (within [decrease_floor, decrease]), at most once per `hold`; it grows
// back once the refusals stop: by increase_per_second while the requests find workers idle,
// by a tenth of it while they hardly do (near capacity the load follows a grown share late).
TEST(AdmissionTurns, TheShareFollowsSustainedRefusalsAndGrowsBackWhenTheyStop) {
    AdmissionTurns t(TurnOptions{.decrease_floor = 0.5, .increase_per_second = 0.1, .sustain = 2000ms,
                                 .tick = 250ms, .hold = 1000ms});
    Steady::time_point at = Steady::now();
    for (int i = 0; i < 8; ++i) tick_with(t, at += 250ms, 100, 40);  // 1.75 s of overload
    EXPECT_EQ(t.share(), 1.0);
    tick_with(t, at += 250ms, 100, 40);  // 2 s
    EXPECT_NEAR(t.share(), 0.6, 1e-9);
    for (int i = 0; i < 3; ++i) tick_with(t, at += 250ms, 100, 40);  // within the hold: no cut
    EXPECT_NEAR(t.share(), 0.6, 1e-9);
    tick_with(t, at += 250ms, 100, 90);  // a cut never goes below decrease_floor
    EXPECT_NEAR(t.share(), 0.3, 1e-9);
    // The refusals stop: no growth within the hold.
    for (int i = 0; i < 3; ++i) tick_with(t, at += 250ms, 100, 0, 100);
    EXPECT_NEAR(t.share(), 0.3, 1e-9);
    // Busy workers (no request finds one idle): 0.01 a second.
    for (int i = 0; i < 4 * 10; ++i) tick_with(t, at += 250ms, 100, 0, 0);
    EXPECT_NEAR(t.share(), 0.4, 1e-6);
    // Idle workers: 0.1 a second.
    for (int i = 0; i < 4 * 4; ++i) tick_with(t, at += 250ms, 100, 0, 100);
    EXPECT_NEAR(t.share(), 0.8, 1e-6);
    // A few stray refusals at the edge of capacity (under half of overload_ratio) do not
    // stop it growing.
    for (int i = 0; i < 4 * 3; ++i) tick_with(t, at += 250ms, 1000, 4, 1000);
    EXPECT_EQ(t.share(), 1.0);
}

// Under a moderate overload some quarter seconds go by without refusals; they do not restart
// the clock (found in the load bench: at 1.2x the saturating load the share was never cut
// while rounds were refused throughout). A pause of `hold` ends the overload.
TEST(AdmissionTurns, QuietTicksInsideAnOverloadDoNotRestartItButAPauseOfHoldDoes) {
    TurnOptions o{.sustain = 5000ms, .tick = 250ms, .hold = 1000ms};
    {
        AdmissionTurns t(o);
        Steady::time_point at = Steady::now();
        for (int i = 0; i < 24; ++i) tick_with(t, at += 250ms, 100, i % 2 ? 0 : 30);  // 6 s, every other tick
        EXPECT_LT(t.share(), 1.0);
    }
    {
        AdmissionTurns t(o);
        Steady::time_point at = Steady::now();
        for (int i = 0; i < 16; ++i) tick_with(t, at += 250ms, 100, 30);  // 4 s
        for (int i = 0; i < 4; ++i) tick_with(t, at += 250ms, 100, 0);    // 1 s pause
        for (int i = 0; i < 16; ++i) tick_with(t, at += 250ms, 100, 30);  // 4 s
        EXPECT_EQ(t.share(), 1.0);
        for (int i = 0; i < 5; ++i) tick_with(t, at += 250ms, 100, 30);   // past 5 s again
        EXPECT_LT(t.share(), 1.0);
    }
}

// Once in turns, a new overload (the share grew back past what the server takes) is met
// after `hold`, not after another `sustain` of refusals.
TEST(AdmissionTurns, BelowFullShareANewOverloadIsCutWithoutWaitingForSustain) {
    AdmissionTurns t(TurnOptions{.sustain = 5000ms, .tick = 250ms, .hold = 1000ms});
    t.set_share(0.6);
    Steady::time_point at = Steady::now();
    for (int i = 0; i < 4; ++i) tick_with(t, at += 250ms, 100, 30);
    EXPECT_LT(t.share(), 0.6);
}

TEST(AdmissionTurns, AFewStrayRefusalsDoNotCutTheShareNorDoesItFallBelowTheFloor) {
    AdmissionTurns t(TurnOptions{.min_share = 0.1, .decrease_floor = 0.5, .sustain = 0ms, .tick = 250ms, .hold = 0ms});
    Steady::time_point at = Steady::now();
    for (int i = 0; i < 40; ++i) tick_with(t, at += 250ms, 1000, 2);  // under min_refused
    for (int i = 0; i < 40; ++i) tick_with(t, at += 250ms, 1000, 15);  // under 2%
    EXPECT_EQ(t.share(), 1.0);
    for (int i = 0; i < 40; ++i) tick_with(t, at += 250ms, 100, 100);
    EXPECT_NEAR(t.share(), 0.1, 1e-9);
    // A tick comes at most once per `tick`: calls in between only gather counts.
    t.set_share(0.5);
    t.tick(at + 100ms);
    EXPECT_EQ(t.share(), 0.5);
}

// Below share 1 the queue's refusals come in bursts (devices returning for their turn with
// many rows waiting, a wave of retries): found in the load bench, where one quarter second
// with a burst began a new overload whose measure was that quarter second alone and cut the
// share by 30% while the seconds around it were quiet. A cut is judged, and sized, by the
// last `hold` of requests.
TEST(AdmissionTurns, BelowFullShareABurstIsJudgedByTheLastHoldNotByItsOwnTick) {
    // (No growth in between: only cuts are looked at here.)
    TurnOptions o{.decrease = 0.95, .decrease_floor = 0.7, .increase_per_second = 0, .sustain = 5000ms, .tick = 250ms,
                  .hold = 3000ms};
    {
        AdmissionTurns t(o);
        t.set_share(0.75);
        Steady::time_point at = Steady::now();
        for (int i = 0; i < 12; ++i) tick_with(t, at += 250ms, 250, 0);  // 3 s, busy and without refusals
        tick_with(t, at += 250ms, 250, 40);  // 16% of a tick, 1.3% of the last 3 s: no cut
        EXPECT_EQ(t.share(), 0.75);
        for (int i = 0; i < 11; ++i) tick_with(t, at += 250ms, 250, 0);
        tick_with(t, at += 250ms, 250, 75);  // 30% of a tick, 2.5% of the last 3 s: the smallest cut
        EXPECT_NEAR(t.share(), 0.75 * 0.95, 1e-9);
    }
    {
        AdmissionTurns t(o);
        t.set_share(0.75);
        Steady::time_point at = Steady::now();
        for (int i = 0; i < 12; ++i) tick_with(t, at += 250ms, 250, 50);  // 20% refused throughout
        EXPECT_NEAR(t.share(), 0.75 * 0.8, 1e-9);                            // cut to what the queue took
    }
}

// Near capacity the queue refuses a request now and then (under half the overload ratio over
// the last `hold`); that is its work, not a reason to keep devices waiting for their turn: the
// share grows back to 1 through them.
TEST(AdmissionTurns, ScatteredRefusalsUnderHalfTheOverloadRatioDoNotHoldTheShareDown) {
    AdmissionTurns t(TurnOptions{.increase_per_second = 0.1, .tick = 250ms, .hold = 3000ms});
    t.set_share(0.8);
    Steady::time_point at = Steady::now();
    for (int i = 0; i < 4 * 30; ++i) tick_with(t, at += 250ms, 250, 2, 25);  // 0.8% in every tick, 10% idle
    EXPECT_EQ(t.share(), 1.0);
}
