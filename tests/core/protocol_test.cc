#include "tundra/core/protocol.h"
#include "tundra/core/checksum.h"

#include <gtest/gtest.h>

using namespace tundra;

TEST(Protocol, SyncRequestRoundTrips) {
    SyncRequest r;
    r.cursor = "42";
    r.limit = 100;
    Action a;
    a.seq = 7;
    a.hlc = Hlc::from_parts(1000, 2);
    a.type = "enrol";
    a.fields = {{"enrolment", std::string("e1")}, {"occasion", std::string("o1")},
                {"person", std::string("p1")}};
    r.actions.push_back(a);
    auto d = decode_sync_request(encode(r));
    ASSERT_TRUE(d) << d.status().to_string();
    EXPECT_EQ(d->cursor, "42");
    EXPECT_EQ(d->limit, 100);
    ASSERT_EQ(d->actions.size(), 1u);
    EXPECT_EQ(d->actions[0].seq, 7u);
    EXPECT_EQ(d->actions[0].hlc, a.hlc);
    EXPECT_EQ(d->actions[0].target_id(), "e1");
}

TEST(Protocol, SyncResponseRoundTrips) {
    SyncResponse r;
    r.cursor = "9";
    r.more = true;
    r.server_hlc = 123;
    r.outcomes.push_back({3, OutcomeResult::adjusted, "waitlisted", "full", "waitlisted"});
    Change c;
    c.kind = Kind::site;
    c.id = "s1";
    c.version = 9;
    c.row = {{"id", std::string("s1")}, {"organisation", std::string("arjeplog")},
             {"name", std::string("Hemtjänst Arjeplog")}};
    r.changes.push_back(c);
    auto d = decode_sync_response(encode(r));
    ASSERT_TRUE(d) << d.status().to_string();
    EXPECT_TRUE(d->more);
    EXPECT_EQ(d->outcomes[0].reason, "waitlisted");
    EXPECT_EQ(d->changes[0].row, c.row);
    EXPECT_FALSE(d->checksum);
}

// Rows kept encoded (the server's row cache) go out as the same bytes as rows given as
// values, whatever sits around them: several in a row, mixed with values and deletions.
TEST(Protocol, RowsKeptEncodedAreWrittenAsTheirValues) {
    SyncResponse as_values, as_json;
    for (auto* r : {&as_values, &as_json}) {
        r->cursor = "c";
        r->server_hlc = 5;
        r->remaining = 3;
    }
    for (int i = 0; i < 4; ++i) {
        Change c;
        c.kind = Kind::site;
        c.id = "s" + std::to_string(i);
        c.version = 10 + static_cast<uint64_t>(i);
        c.deleted = i == 3;
        if (!c.deleted)
            c.row = {{"id", c.id}, {"organisation", std::string("arjeplog")},
                     {"name", std::string("Hemtjänst \"Norr\" ") + std::to_string(i)}};
        as_values.changes.push_back(c);
        if (i % 2 == 0 && !c.deleted) {
            c.row_json = std::make_shared<const std::string>(encode_row(c.row));
            c.row.clear();
        }
        as_json.changes.push_back(c);
    }
    std::string want = encode(as_values);
    EXPECT_EQ(encode(as_json), want);
    auto d = decode_sync_response(want);
    ASSERT_TRUE(d) << d.status().to_string();
    ASSERT_EQ(d->changes.size(), 4u);
    EXPECT_EQ(d->changes[2].row, as_values.changes[2].row);
    EXPECT_TRUE(d->changes[3].deleted);
}

TEST(Protocol, V2FieldsRoundTripAndV1StillDecodes) {
    SyncResponse r;
    r.cursor = "x";
    r.last_seq = 41;
    r.checksum = ScopeChecksum{12, "00ff00ff00ff00ff"};
    auto d = decode_sync_response(encode(r));
    ASSERT_TRUE(d) << d.status().to_string();
    EXPECT_EQ(d->last_seq, 41u);
    ASSERT_TRUE(d->checksum);
    EXPECT_EQ(*d->checksum, *r.checksum);
    SyncRequest q;
    q.verify = true;
    auto dq = decode_sync_request(encode(q));
    ASSERT_TRUE(dq);
    EXPECT_TRUE(dq->verify);
    EXPECT_EQ(dq->protocol, kProtocolVersion);
    LoginResponse l;
    l.token = "t";
    l.device_id = "d";
    l.last_seq = 7;
    auto dl = decode_login_response(encode(l));
    ASSERT_TRUE(dl);
    EXPECT_EQ(dl->last_seq, 7u);
    auto v1 = decode_sync_request(R"({"protocol":1,"cursor":""})");
    ASSERT_TRUE(v1);
    EXPECT_EQ(v1->protocol, 1);
}

TEST(Protocol, UntrustedInputGetsClearErrors) {
    struct Case {
        const char* json;
        Errc code;
        const char* mentions;
    } cases[] = {
        {"", Errc::malformed, "byte 0"},
        {"[1,2]", Errc::malformed, "object"},
        {"{\"protocol\":3}", Errc::unsupported_version, "version 3"},
        {"{\"protocol\":0}", Errc::unsupported_version, "version 0"},
        {"{\"protocol\":\"1\"}", Errc::malformed, "protocol"},
        {"{\"protocol\":1,\"actions\":{}}", Errc::malformed, "actions"},
        {"{\"protocol\":1,\"actions\":[{\"seq\":1,\"hlc\":1,\"type\":\"fly\"}]}", Errc::malformed, "unknown action"},
        {"{\"protocol\":1,\"actions\":[{\"seq\":1,\"hlc\":1,\"type\":\"enrol\",\"enrolment\":\"e\",\"occasion\":5,\"person\":\"p\"}]}",
         Errc::malformed, "actions[0].occasion"},
        {"{\"protocol\":1,\"actions\":[{\"seq\":1,\"hlc\":1,\"type\":\"enrol\",\"enrolment\":\"e\",\"occasion\":\"o\"}]}",
         Errc::malformed, "actions[0].person"},
        {"{\"protocol\":1,\"actions\":[{\"seq\":2,\"hlc\":1,\"type\":\"cancel_enrolment\",\"enrolment\":\"e\"},"
         "{\"seq\":2,\"hlc\":1,\"type\":\"cancel_enrolment\",\"enrolment\":\"e\"}]}",
         Errc::malformed, "increase"},
        {"{\"protocol\":1,\"limit\":-1}", Errc::malformed, "limit"},
        {"{\"protocol\":1,\"cursor\":\"\xff\"}", Errc::malformed, "encoding"},
        {"{\"protocol\":1} trailing", Errc::malformed, "byte"},
    };
    for (auto& c : cases) {
        auto d = decode_sync_request(c.json);
        ASSERT_FALSE(d) << c.json;
        EXPECT_EQ(d.status().code(), c.code) << c.json << " -> " << d.status().to_string();
        EXPECT_NE(d.status().message().find(c.mentions), std::string::npos)
            << c.json << " -> " << d.status().to_string();
    }
}

TEST(Protocol, ErrorBodyCarriesWireNameAndRetryability) {
    auto e = decode_error(encode(ErrorBody{Errc::overloaded, "busy"}));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, Errc::overloaded);
    EXPECT_TRUE(errc_info(Errc::overloaded).retryable);
    EXPECT_FALSE(errc_info(Errc::unauthorized).retryable);
}

TEST(Checksum, IsOrderIndependentAndSeesEveryField) {
    ChecksumBuilder a, b, c, d;
    a.add("course", "c1", 3);
    a.add("occasion", "o1", 9);
    b.add("occasion", "o1", 9);
    b.add("course", "c1", 3);
    EXPECT_EQ(a.result(), b.result());
    EXPECT_EQ(a.result().count, 2u);
    EXPECT_EQ(a.result().hash.size(), 16u);
    c.add("course", "c1", 4);  // another version
    c.add("occasion", "o1", 9);
    EXPECT_NE(a.result(), c.result());
    d.add("course", "c1", 3);  // a row missing
    EXPECT_NE(a.result(), d.result());
    EXPECT_EQ(ChecksumBuilder().result(), (ScopeChecksum{0, "0000000000000000"}));
}
