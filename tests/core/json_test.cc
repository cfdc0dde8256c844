// JSON from the network, import files and replicas is hostile until parsed: depth is bounded
// and the parser never recurses, so no input can overflow the stack.
#include "tundra/core/json.h"

#include <gtest/gtest.h>

#include "tundra/core/protocol.h"

using namespace tundra;

namespace {
std::string nested(const std::string& open, const std::string& inner, const std::string& close, int n) {
    std::string s;
    s.reserve((open.size() + close.size()) * static_cast<size_t>(n) + inner.size());
    for (int i = 0; i < n; ++i) s += open;
    s += inner;
    for (int i = 0; i < n; ++i) s += close;
    return s;
}
}  // namespace

TEST(Json, AMillionNestedArraysOrObjectsAreMalformedNotAStackOverflow) {
    for (const std::string& text :
         {std::string(1'000'000, '['), nested("[", "1", "]", 1'000'000),
          nested("{\"a\":", "1", "}", 1'000'000), nested("{\"a\":[", "1", "]}", 500'000)}) {
        rapidjson::Document doc;
        Status st = json::parse(text, doc);
        ASSERT_FALSE(st);
        EXPECT_EQ(st.code(), Errc::malformed);
        EXPECT_NE(st.message().find("nesting deeper than 64 levels at byte "), std::string::npos)
            << st.message();
    }
}

TEST(Json, NestingUpToTheBoundParsesAndOneMoreLevelDoesNot) {
    rapidjson::Document doc;
    ASSERT_TRUE(json::parse(nested("[", "1", "]", json::kMaxDepth), doc));
    EXPECT_TRUE(doc.IsArray());
    Status st = json::parse(nested("[", "1", "]", json::kMaxDepth + 1), doc);
    ASSERT_FALSE(st);
    // The 65th `[` is at byte 64.
    EXPECT_NE(st.message().find("at byte 64"), std::string::npos) << st.message();
    // Depth counts arrays and objects alike, and closing brackets give levels back.
    std::string wide = "[" + nested("{\"a\":", "1", "}", 40) + "," + nested("[", "2", "]", 40) + "]";
    EXPECT_TRUE(json::parse(wide, doc));
}

TEST(Json, ParseStillValidatesUtf8AndRefusesTrailingGarbage) {
    rapidjson::Document doc;
    EXPECT_FALSE(json::parse("{\"a\":\"\xc3\x28\"}", doc));
    Status st = json::parse("{\"a\":1} x", doc);
    ASSERT_FALSE(st);
    EXPECT_NE(st.message().find("at byte 8"), std::string::npos) << st.message();
    // The text need not be NUL-terminated: only the view is read.
    std::string buf = "[1,2]]]]";
    EXPECT_TRUE(json::parse(std::string_view(buf).substr(0, 5), doc));
    EXPECT_EQ(doc.Size(), 2u);
}

TEST(Json, EveryProtocolDecoderRefusesDeepNesting) {
    std::string bomb(1'000'000, '[');
    std::string in_field = "{\"protocol\":2,\"cursor\":" + nested("[", "1", "]", 100'000) + "}";
    for (const std::string& text : {bomb, in_field}) {
        EXPECT_EQ(decode_login_request(text).status().code(), Errc::malformed);
        EXPECT_EQ(decode_login_response(text).status().code(), Errc::malformed);
        EXPECT_EQ(decode_sync_request(text).status().code(), Errc::malformed);
        EXPECT_EQ(decode_sync_response(text).status().code(), Errc::malformed);
        EXPECT_EQ(decode_error(text).status().code(), Errc::malformed);
        EXPECT_EQ(decode_action(text).status().code(), Errc::malformed);
        EXPECT_EQ(decode_row(text).status().code(), Errc::malformed);
        EXPECT_EQ(decode_outcome(text).status().code(), Errc::malformed);
    }
}
