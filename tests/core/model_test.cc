#include "tundra/core/model.h"

#include <gtest/gtest.h>

#include "tundra/core/crypto.h"
#include "tundra/core/gzip.h"

using namespace tundra;

TEST(Iso8601, ParsesCommonForms) {
    EXPECT_EQ(parse_iso8601("1970-01-01").value(), 0);
    EXPECT_EQ(parse_iso8601("1970-01-01T00:01:00Z").value(), 60000);
    EXPECT_EQ(parse_iso8601("1970-01-01T01:00:00+01:00").value(), 0);
    EXPECT_EQ(parse_iso8601("2026-11-23T09:15:30.250Z").value(), 1795425330250);
    EXPECT_EQ(format_iso8601(1795425330250), "2026-11-23T09:15:30Z");
}

TEST(Iso8601, RefusesNonsense) {
    for (auto s : {"", "2026", "2026-13-01", "2026-02-30", "2026-01-01T25:00", "2026-01-01Tfoo",
                   "2026-01-01T10:00Zjunk"})
        EXPECT_FALSE(parse_iso8601(s)) << s;
}

TEST(Model, CheckValueNamesThePathAndTheRule) {
    Column gender{"gender", ColType::text, false, &kGenders};
    Status st = check_value(gender, Value(std::string("female")), "persons[3].gender");
    ASSERT_FALSE(st);
    EXPECT_NE(st.message().find("persons[3].gender"), std::string::npos);
    EXPECT_NE(st.message().find("woman|man|non_binary|undisclosed"), std::string::npos);
    EXPECT_FALSE(check_value(gender, Value{}, "g"));
    EXPECT_TRUE(check_value(gender, Value(std::string("non_binary")), "g"));
}

TEST(Crypto, PasswordHashVerifiesOnlyTheRightPassword) {
    std::string h = hash_password("correct horse", 1000);
    EXPECT_TRUE(verify_password("correct horse", h));
    EXPECT_FALSE(verify_password("correct horsE", h));
    EXPECT_FALSE(verify_password("x", "garbage"));
    EXPECT_NE(hash_password("same", 1000), hash_password("same", 1000));  // salted
}

TEST(Gzip, RoundTripsAndRefusesBombsAndGarbage) {
    std::string text(100000, 'a');
    std::string z = gzip_compress(text);
    EXPECT_LT(z.size(), 1000u);
    EXPECT_EQ(gzip_decompress(z, 1 << 20).value(), text);
    EXPECT_EQ(gzip_decompress(z, 1000).status().code(), Errc::too_large);
    EXPECT_FALSE(gzip_decompress("not gzip", 1000));
    EXPECT_FALSE(gzip_decompress(z.substr(0, z.size() / 2), 1 << 20));
}
