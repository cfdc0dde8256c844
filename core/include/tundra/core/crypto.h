// Identifiers, token hashing and password hashing (OpenSSL).
#pragma once

#include <string>
#include <string_view>

namespace tundra {

// `bytes` random bytes from the OS CSPRNG as lowercase hex.
std::string random_hex(size_t bytes);
std::string sha256_hex(std::string_view data);

// Salted PBKDF2-HMAC-SHA256; the result encodes its parameters:
// "pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>".
inline constexpr int kDefaultKdfIterations = 100000;
std::string hash_password(std::string_view password, int iterations = kDefaultKdfIterations);
// Constant-time comparison; false for any malformed stored hash.
bool verify_password(std::string_view password, std::string_view stored);

}  // namespace tundra
