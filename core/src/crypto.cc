#include "tundra/core/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <stdexcept>
#include <vector>

namespace tundra {
namespace {
std::string hex(const unsigned char* p, size_t n) {
    static const char* kDigits = "0123456789abcdef";
    std::string out(n * 2, '0');
    for (size_t i = 0; i < n; ++i) {
        out[2 * i] = kDigits[p[i] >> 4];
        out[2 * i + 1] = kDigits[p[i] & 15];
    }
    return out;
}

std::string pbkdf2(std::string_view password, std::string_view salt, int iterations) {
    unsigned char out[32];
    PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                      reinterpret_cast<const unsigned char*>(salt.data()),
                      static_cast<int>(salt.size()), iterations, EVP_sha256(), sizeof out, out);
    return hex(out, sizeof out);
}
}  // namespace

std::string random_hex(size_t bytes) {
    std::vector<unsigned char> buf(bytes);
    if (RAND_bytes(buf.data(), static_cast<int>(bytes)) != 1)
        throw std::runtime_error("RAND_bytes failed");  // a bug-level failure of the OS RNG
    return hex(buf.data(), bytes);
}

std::string sha256_hex(std::string_view data) {
    unsigned char out[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
    return hex(out, sizeof out);
}

std::string hash_password(std::string_view password, int iterations) {
    std::string salt = random_hex(16);
    return "pbkdf2-sha256$" + std::to_string(iterations) + "$" + salt + "$" +
           pbkdf2(password, salt, iterations);
}

bool verify_password(std::string_view password, std::string_view stored) {
    // pbkdf2-sha256$iter$salt$hash
    auto p1 = stored.find('$');
    auto p2 = stored.find('$', p1 + 1);
    auto p3 = stored.find('$', p2 + 1);
    if (p1 == std::string_view::npos || p2 == std::string_view::npos ||
        p3 == std::string_view::npos || stored.substr(0, p1) != "pbkdf2-sha256")
        return false;
    int iterations = 0;
    for (char c : stored.substr(p1 + 1, p2 - p1 - 1)) {
        if (c < '0' || c > '9' || iterations > 10'000'000) return false;
        iterations = iterations * 10 + (c - '0');
    }
    if (iterations <= 0) return false;
    std::string expect(stored.substr(p3 + 1));
    std::string got = pbkdf2(password, stored.substr(p2 + 1, p3 - p2 - 1), iterations);
    return got.size() == expect.size() &&
           CRYPTO_memcmp(got.data(), expect.data(), got.size()) == 0;
}

}  // namespace tundra
