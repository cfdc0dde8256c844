#include "tundra/core/cursor.h"

#include <gtest/gtest.h>

using namespace tundra;

TEST(Cursor, RoundTripsEveryPhaseAndField) {
    for (auto phase : {SyncCursor::Phase::incremental, SyncCursor::Phase::priority,
                       SyncCursor::Phase::rest}) {
        SyncCursor c{.phase = phase, .after = 18446744073709551615ULL, .v0 = 18446744073709551615ULL,
                     .t0 = 1795420800000, .scope = std::string(64, 'f'),
                     .remaining = 18446744073709551614ULL, .epoch = std::string(32, 'e')};
        auto d = decode_cursor(encode_cursor(c, "key"), "key");
        ASSERT_TRUE(d) << d.status().to_string();
        EXPECT_FALSE(d->legacy);
        EXPECT_FALSE(d->empty);
        EXPECT_EQ(d->cursor, c);
    }
    auto e = decode_cursor("", "key");
    ASSERT_TRUE(e);
    EXPECT_TRUE(e->empty);
}

TEST(Cursor, ACursorThisServerDidNotIssueIsMalformed) {
    SyncCursor c{.phase = SyncCursor::Phase::incremental, .after = 42, .scope = "abcd"};
    std::string good = encode_cursor(c, "key");
    std::string forged = good;
    forged[5] = '9';  // move `after` without the key
    std::vector<std::string> bad = {
        forged, encode_cursor(c, "another key"), good.substr(0, good.size() - 1), "c2.x",
        "c2.q.1.2.3.abcd." + good.substr(good.size() - 16), "not-a-cursor", "12a",
        std::string(500, '1'), "p.1.2", "-1"};
    for (auto& text : bad) {
        auto d = decode_cursor(text, "key");
        ASSERT_FALSE(d) << text;
        EXPECT_EQ(d.status().code(), Errc::malformed) << text;
    }
}

TEST(Cursor, UnknownRemainingAndNoEpochRoundTrip) {
    SyncCursor c{.phase = SyncCursor::Phase::priority, .after = 1, .v0 = 2, .t0 = 3, .scope = "ab"};
    auto d = decode_cursor(encode_cursor(c, "key"), "key");
    ASSERT_TRUE(d) << d.status().to_string();
    EXPECT_EQ(d->cursor.remaining, SyncCursor::kUnknown);
    EXPECT_EQ(d->cursor.epoch, "");
    EXPECT_EQ(d->cursor, c);
}

// The previous release issued "c2.<phase>.<after>.<v0>.<t0>.<scope>.<mac>": a device
// upgraded from it (or an old CLI) keeps its place.
TEST(Cursor, ThePreviousReleasesC2FormStillDecodes) {
    std::string body = "c2.n.12.8.1795420800000.abcd";
    std::string text = body + "." + hmac_sha256_hex("key", body).substr(0, 16);
    auto d = decode_cursor(text, "key");
    ASSERT_TRUE(d) << d.status().to_string();
    EXPECT_FALSE(d->legacy);
    EXPECT_EQ(d->cursor.phase, SyncCursor::Phase::rest);
    EXPECT_EQ(d->cursor.after, 12u);
    EXPECT_EQ(d->cursor.v0, 8u);
    EXPECT_EQ(d->cursor.scope, "abcd");
    EXPECT_EQ(d->cursor.remaining, SyncCursor::kUnknown);
    EXPECT_EQ(d->cursor.epoch, "");
    EXPECT_FALSE(decode_cursor(text, "other key"));
}

TEST(Cursor, AC3CursorWithAMovedFieldOrBadEpochIsMalformed) {
    SyncCursor c{.phase = SyncCursor::Phase::priority, .after = 1, .v0 = 2, .t0 = 3, .scope = "ab",
                 .remaining = 50, .epoch = "00ff"};
    std::string good = encode_cursor(c, "key");
    std::string mac = good.substr(good.size() - 16);
    for (std::string text : {"c3.p.1.2.3.49.00ff.ab." + mac, "c3.p.1.2.3.50.00fe.ab." + mac,
                             "c3.p.1.2.3.x.00ff.ab." + mac, "c3.p.1.2.3.50.XYZ.ab." + mac,
                             "c3.p.1.2.3.50.00ff." + mac}) {
        auto d = decode_cursor(text, "key");
        ASSERT_FALSE(d) << text;
        EXPECT_EQ(d.status().code(), Errc::malformed) << text;
    }
}

TEST(Cursor, V1CursorsDecodeAsLegacy) {
    for (const char* text : {"123", "p.1.2.3", "n.10.5.1795420800000"}) {
        auto d = decode_cursor(text, "key");
        ASSERT_TRUE(d) << text;
        EXPECT_TRUE(d->legacy) << text;
    }
}

TEST(Cursor, TombstonesAreNeededFromTheLaterOfAfterAndTheFullPullStart) {
    EXPECT_EQ((SyncCursor{.after = 9}).tombstones_after(), 9u);
    EXPECT_EQ((SyncCursor{.phase = SyncCursor::Phase::priority, .after = 3, .v0 = 8}).tombstones_after(), 8u);
    EXPECT_EQ((SyncCursor{.phase = SyncCursor::Phase::rest, .after = 12, .v0 = 8}).tombstones_after(), 12u);
}
