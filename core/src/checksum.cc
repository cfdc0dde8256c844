// The scope checksum; see checksum.h.
#include "tundra/core/checksum.h"

#include <openssl/sha.h>

#include <cstdio>
#include <string>

namespace tundra {

void ChecksumBuilder::add(std::string_view kind, std::string_view id, uint64_t version) {
    std::string text;
    text.reserve(kind.size() + id.size() + 24);
    text.append(kind).append("\n").append(id).append("\n").append(std::to_string(version));
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | digest[i];
    sum_ += v;
    ++count_;
}

ScopeChecksum ChecksumBuilder::result() const {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(sum_));
    return ScopeChecksum{count_, hex};
}

}  // namespace tundra
