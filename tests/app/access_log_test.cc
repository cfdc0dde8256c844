// The access log's line format and the client address behind trusted proxies: pure
// functions, tested without a network (the listener's use of them: tests/e2e/listener_test.cc).
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "tundra/web/access_log.h"
#include "tundra/web/client_address.h"

using namespace tundra;
using namespace tundra::web;

TEST(AccessLog, LineIsOneJsonObjectWithEveryField) {
    AccessRecord r{.time_ms = 1795420800123ULL,
                   .address = "192.0.2.7",
                   .user = "åsa",
                   .device = "d-1",
                   .method = "POST",
                   .route = "/v1/sync?token=secret&password=hunter2",
                   .status = 200,
                   .bytes = 1234,
                   .duration_ms = 12.3456};
    std::string line = access_log_line(r);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    rapidjson::Document d;
    d.Parse(line.c_str());
    ASSERT_FALSE(d.HasParseError()) << line;
    EXPECT_STREQ(d["time"].GetString(), "2026-11-23T08:00:00.123Z");
    EXPECT_STREQ(d["category"].GetString(), "http.access");
    EXPECT_STREQ(d["address"].GetString(), "192.0.2.7");
    EXPECT_STREQ(d["user"].GetString(), "åsa");
    EXPECT_STREQ(d["device"].GetString(), "d-1");
    EXPECT_STREQ(d["method"].GetString(), "POST");
    EXPECT_STREQ(d["route"].GetString(), "/v1/sync");
    EXPECT_EQ(d["status"].GetInt(), 200);
    EXPECT_EQ(d["bytes"].GetUint64(), 1234u);
    EXPECT_NEAR(d["duration_ms"].GetDouble(), 12.346, 1e-9);
    EXPECT_EQ(line.find("secret"), std::string::npos);
    EXPECT_EQ(line.find("hunter2"), std::string::npos);
}

TEST(AccessLog, HostileTargetsStayOneValidLine) {
    AccessRecord r{.method = "GET\r\n", .route = "/a\"b\\c\r\n{\"x\xff\xfe" + std::string(5000, 'z')};
    std::string line = access_log_line(r);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_EQ(line.find('\r'), std::string::npos);
    EXPECT_LT(line.size(), 600u);
    rapidjson::Document d;
    d.Parse<rapidjson::kParseValidateEncodingFlag>(line.c_str());
    ASSERT_FALSE(d.HasParseError()) << line;
    EXPECT_EQ(std::string(d["route"].GetString()).substr(0, 7), "/a\"b\\c?");
}

TEST(AccessLog, EventLineIsJson) {
    rapidjson::Document d;
    std::string line = event_log_line(0, "connection_limit", "limit \"10\" reached");
    d.Parse(line.c_str());
    ASSERT_FALSE(d.HasParseError()) << line;
    EXPECT_STREQ(d["time"].GetString(), "1970-01-01T00:00:00.000Z");
    EXPECT_STREQ(d["event"].GetString(), "connection_limit");
    EXPECT_STREQ(d["message"].GetString(), "limit \"10\" reached");
}

TEST(ClientAddress, RangesMatchIPv4AndIPv6) {
    auto t = TrustedProxies::parse({"10.0.0.0/8", "192.168.1.10", "fd00::/8", "172.16.0.0/12"});
    ASSERT_TRUE(t) << t.status().to_string();
    EXPECT_TRUE(t->contains("10.1.2.3"));
    EXPECT_TRUE(t->contains("::ffff:10.1.2.3"));  // IPv4-mapped, as a dual-stack socket reports it
    EXPECT_TRUE(t->contains("192.168.1.10"));
    EXPECT_FALSE(t->contains("192.168.1.11"));
    EXPECT_TRUE(t->contains("172.31.255.255"));
    EXPECT_FALSE(t->contains("172.32.0.0"));
    EXPECT_TRUE(t->contains("fd12::1"));
    EXPECT_FALSE(t->contains("fe80::1"));
    EXPECT_FALSE(t->contains("11.0.0.1"));
    EXPECT_FALSE(t->contains("not an address"));
    EXPECT_FALSE(t->contains(""));
    for (const char* bad : {"10.0.0.0/33", "10.0.0.0/", "10.0.0/8", "fd00::/129", "example.org", "10.0.0.0/8x", ""}) {
        EXPECT_FALSE(TrustedProxies::parse({bad})) << bad;
    }
}

TEST(ClientAddress, ForwardedForIsIgnoredFromAnUntrustedPeer) {
    auto none = TrustedProxies::parse({});
    ASSERT_TRUE(none);
    EXPECT_EQ(client_address("203.0.113.5", "198.51.100.1", none.value()), "203.0.113.5");
    auto t = TrustedProxies::parse({"10.0.0.0/8"});
    ASSERT_TRUE(t);
    EXPECT_EQ(client_address("203.0.113.5", "198.51.100.1", t.value()), "203.0.113.5");
    EXPECT_EQ(client_address("::ffff:203.0.113.5", "", t.value()), "203.0.113.5");
}

TEST(ClientAddress, ForwardedForLastHopIsHonouredFromATrustedPeer) {
    auto t = TrustedProxies::parse({"10.0.0.0/8"});
    ASSERT_TRUE(t);
    EXPECT_EQ(client_address("10.0.0.2", "198.51.100.1", t.value()), "198.51.100.1");
    // The client may send its own X-Forwarded-For; the proxy appends what it saw: the last
    // hop is the only one the proxy vouches for.
    EXPECT_EQ(client_address("10.0.0.2", "1.2.3.4, 198.51.100.1", t.value()), "198.51.100.1");
    EXPECT_EQ(client_address("10.0.0.2", "1.2.3.4,2001:db8::7 ", t.value()), "2001:db8::7");
    // A last hop that is not an address is not believed: the proxy's own address is used.
    EXPECT_EQ(client_address("10.0.0.2", "198.51.100.1, evil", t.value()), "10.0.0.2");
    EXPECT_EQ(client_address("10.0.0.2", "", t.value()), "10.0.0.2");
}
