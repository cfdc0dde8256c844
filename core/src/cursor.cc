// The signed pull cursor; see cursor.h.
#include "tundra/core/cursor.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <vector>

namespace tundra {
namespace {
std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> parts;
    for (size_t p; (p = s.find(sep)) != std::string_view::npos; s.remove_prefix(p + 1))
        parts.push_back(s.substr(0, p));
    parts.push_back(s);
    return parts;
}

bool number(std::string_view s, uint64_t& out) {
    if (s.empty() || s.size() > 20) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

bool hex_digits(std::string_view s) {
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

Result<DecodedCursor> not_ours() {
    return Result<DecodedCursor>(Errc::malformed, "cursor: not a cursor this server issued");
}

constexpr size_t kMacHex = 16;

// The fields the c2 and c3 forms share, once the signature is checked.
Result<DecodedCursor> decode_fields(std::string_view phase, std::string_view after,
                                    std::string_view v0, std::string_view t0_text,
                                    std::string_view scope) {
    DecodedCursor d;
    if (phase.size() != 1 || scope.size() > 64 || !hex_digits(scope)) return not_ours();
    char ph = phase[0];
    if (ph != 'i' && ph != 'p' && ph != 'n') return not_ours();
    uint64_t t0 = 0;
    if (!number(after, d.cursor.after) || !number(v0, d.cursor.v0) || !number(t0_text, t0))
        return not_ours();
    d.cursor.phase = static_cast<SyncCursor::Phase>(ph);
    d.cursor.t0 = static_cast<int64_t>(t0);
    d.cursor.scope = std::string(scope);
    return d;
}
}  // namespace

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
    static const char* kHex = "0123456789abcdef";
    std::string s;
    s.reserve(len * 2);
    for (unsigned int i = 0; i < len; ++i) {
        s += kHex[out[i] >> 4];
        s += kHex[out[i] & 15];
    }
    return s;
}

std::string encode_cursor(const SyncCursor& c, std::string_view key) {
    std::string body = "c3." + std::string(1, static_cast<char>(c.phase)) + "." +
                       std::to_string(c.after) + "." + std::to_string(c.v0) + "." +
                       std::to_string(c.t0) + "." +
                       (c.remaining == SyncCursor::kUnknown ? std::string() : std::to_string(c.remaining)) +
                       "." + c.epoch + "." + c.scope;
    return body + "." + hmac_sha256_hex(key, body).substr(0, kMacHex);
}

Result<DecodedCursor> decode_cursor(std::string_view text, std::string_view key) {
    DecodedCursor d;
    if (text.empty()) {
        d.empty = true;
        return d;
    }
    if (text.size() > 256) return not_ours();
    auto parts = split(text, '.');
    if (parts[0] == "c3") {
        // c3.<phase>.<after>.<v0>.<t0>.<remaining>.<epoch>.<scope>.<mac>
        if (parts.size() != 9 || parts[7].size() > 64 || !hex_digits(parts[7]) ||
            parts[6].size() > 32 || !hex_digits(parts[6]))
            return not_ours();
        uint64_t remaining = SyncCursor::kUnknown;
        if (!parts[5].empty() && (!number(parts[5], remaining) || remaining == SyncCursor::kUnknown))
            return not_ours();
        // The rest is the c2 form's: drop the two new fields and check the same way.
        std::string body(text.substr(0, text.size() - kMacHex - 1));
        std::string mac = hmac_sha256_hex(key, body).substr(0, kMacHex);
        if (parts[8].size() != kMacHex || CRYPTO_memcmp(mac.data(), parts[8].data(), kMacHex) != 0)
            return not_ours();
        auto d3 = decode_fields(parts[1], parts[2], parts[3], parts[4], parts[7]);
        if (!d3) return d3;
        d3.value().cursor.remaining = remaining;
        d3.value().cursor.epoch = std::string(parts[6]);
        return d3;
    }
    if (parts[0] == "c2") {
        if (parts.size() != 7 || parts[1].size() != 1 || parts[6].size() != kMacHex ||
            parts[5].size() > 64 || !hex_digits(parts[5]))
            return not_ours();
        std::string_view body = text.substr(0, text.size() - kMacHex - 1);
        std::string mac = hmac_sha256_hex(key, body).substr(0, kMacHex);
        if (CRYPTO_memcmp(mac.data(), parts[6].data(), kMacHex) != 0) return not_ours();
        return decode_fields(parts[1], parts[2], parts[3], parts[4], parts[5]);
    }
    // Protocol v1 servers issued "<after>" and "<p|n>.<after>.<v0>.<t0>", unsigned.
    uint64_t n = 0;
    if (parts.size() == 1 && number(parts[0], n)) {
        d.legacy = true;
        return d;
    }
    if (parts.size() == 4 && (parts[0] == "p" || parts[0] == "n") && number(parts[1], n) &&
        number(parts[2], n) && number(parts[3], n)) {
        d.legacy = true;
        return d;
    }
    return not_ours();
}

}  // namespace tundra
