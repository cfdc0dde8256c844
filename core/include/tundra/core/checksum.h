// The scope checksum (protocol v2, `verify`): a count and an order-independent hash of the
// (kind, id, version) of every row a user may see. Device and server compute it the same way;
// equal checksums mean the replica holds exactly the server's rows at the same versions
// (as PowerSync's bucket checksums do). Not thread-safe; cheap to copy.
#pragma once

#include <cstdint>
#include <string_view>

#include "tundra/core/protocol.h"

namespace tundra {

class ChecksumBuilder {
public:
    // Each row once. The hash is the sum (mod 2^64) of the first 8 bytes, big-endian, of
    // SHA-256("<kind>\n<id>\n<version in decimal>"), so rows may come in any order.
    void add(std::string_view kind, std::string_view id, uint64_t version);
    ScopeChecksum result() const;

private:
    uint64_t count_ = 0;
    uint64_t sum_ = 0;
};

}  // namespace tundra
