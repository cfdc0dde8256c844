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

// Found by fuzz_login_request (fuzz/corpus/login_request/crash-lone-surrogate): RapidJSON
// 1.1 accepted an escaped lone low surrogate and produced bytes that are not UTF-8. Stored
// (a device name, a course title) and sent on, they made every reply holding them
// unreadable to every device, for good.
TEST(Json, UnpairedSurrogateEscapesAreMalformed) {
    rapidjson::Document doc;
    for (const char* text : {R"({"a":"\udeee"})", R"({"a":"x\udc00y"})", R"({"\udfff":1})",
                             R"({"a":"\ud800"})", R"({"a":"\ud800\u0041"})"}) {
        Status st = json::parse(text, doc);
        ASSERT_FALSE(st) << text;
        EXPECT_EQ(st.code(), Errc::malformed);
    }
    // A pair is one character (U+1F600), and what is decoded encodes back to valid JSON.
    ASSERT_TRUE(json::parse(R"({"a":"\ud83d\ude00"})", doc));
    EXPECT_EQ(std::string(doc["a"].GetString()), "\xf0\x9f\x98\x80");
    auto m = decode_login_request(R"({"protocol":2,"username":"anna","password":"p","device_name":"\ud83d\ude00"})");
    ASSERT_TRUE(m);
    EXPECT_TRUE(decode_login_request(encode(m.value())));
    EXPECT_EQ(decode_login_request(R"({"protocol":2,"username":"anna","password":"p","device_name":"e\udeee"})")
                  .status().code(),
              Errc::malformed);
    EXPECT_EQ(decode_sync_request(R"({"protocol":2,"actions":[{"seq":1,"hlc":1,"type":"upsert_course","course":"c1","title":"\udeee"}]})")
                  .status().code(),
              Errc::malformed);
    // Strict UTF-8 in raw bytes too: overlong forms and encoded surrogates.
    EXPECT_FALSE(json::parse("{\"a\":\"\xc0\xaf\"}", doc));
    EXPECT_FALSE(json::parse("{\"a\":\"\xed\xa0\x80\"}", doc));
}

// Text typed on a device (a Latin-1 terminal, a paste) that is not UTF-8 is refused when the
// action is recorded: queued, the server would refuse the whole sync request as malformed,
// every time, and the outbox would never drain.
TEST(Json, TextThatIsNotUtf8IsRefusedWhenAnActionIsRecorded) {
    Action a;
    a.seq = 1;
    a.hlc = Hlc::from_parts(1795420800000ULL, 0);
    a.type = "log_deviation";
    a.fields = {{"deviation", std::string("d1")}, {"description", std::string("V\xe4ntetid")}};
    Status st = validate_action(a, "action");
    ASSERT_FALSE(st);
    EXPECT_EQ(st.code(), Errc::invalid_argument);
    EXPECT_NE(st.message().find("action.description: is not valid UTF-8"), std::string::npos) << st.to_string();
    a.fields["description"] = std::string("V\xc3\xa4ntetid");  // "Väntetid" in UTF-8
    EXPECT_TRUE(validate_action(a, "action"));
    a.type = "upsert_course";
    a.fields = {{"course", std::string("c1")}, {"organisations", StrList{"arjeplog", "\xed\xa0\x80"}}};
    EXPECT_FALSE(validate_action(a, "action"));
}
