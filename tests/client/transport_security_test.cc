// Where the libcurl transport may send a password in clear (issue 8, finding 6): https://
// anywhere; http:// only to loopback unless the login allowed it. Pure policy, and the real
// transport refusing before anything leaves the machine.
#include <gtest/gtest.h>

#include <chrono>

#include "tundra/client/transport.h"

using namespace tundra;
using namespace tundra::client;

TEST(TransportSecurity, PlainHttpOnlyToLoopbackUnlessAllowed) {
    for (const char* ok : {"https://tundra.example.org", "https://192.0.2.1:8443", "http://127.0.0.1:8080",
                           "http://127.8.9.10", "http://[::1]:8080", "http://localhost:8080",
                           "http://LocalHost", "HTTP://127.0.0.1:1"}) {
        EXPECT_TRUE(check_transport_security(ok, false)) << ok;
    }
    for (const char* far : {"http://192.0.2.1:8080", "http://example.org", "http://127.0.0.1.example.org",
                            "http://localhost.example.org", "http://[::2]", "http://[::ffff:10.0.0.1]",
                            "http://user:pw@10.0.0.1/", "http://0.0.0.0:8080", "http://128.0.0.1"}) {
        Status st = check_transport_security(far, false);
        EXPECT_EQ(st.code(), Errc::invalid_argument) << far;
        EXPECT_NE(st.message().find("--allow-insecure-http"), std::string::npos) << st.message();
        EXPECT_TRUE(check_transport_security(far, true)) << far;
    }
    for (const char* other : {"ftp://example.org", "file:///etc/passwd", "gopher://x", "not a url"}) {
        EXPECT_EQ(check_transport_security(other, true).code(), Errc::invalid_argument) << other;
    }
}

TEST(TransportSecurity, TheCurlTransportRefusesBeforeConnecting) {
    // TEST-NET-1 is never routed: a connection attempt would hang until the timeout.
    auto t = make_curl_transport("http://192.0.2.1:9");
    auto t0 = std::chrono::steady_clock::now();
    auto r = t->post("/v1/login", "{}", {}, std::chrono::milliseconds(5000));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().code(), Errc::invalid_argument) << r.status().to_string();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500));
    CurlOptions allowed;
    allowed.allow_insecure_http = true;
    auto u = make_curl_transport("http://192.0.2.1:9", allowed);
    auto r2 = u->post("/v1/login", "{}", {}, std::chrono::milliseconds(300));
    ASSERT_FALSE(r2);
    EXPECT_NE(r2.status().code(), Errc::invalid_argument) << r2.status().to_string();
}
