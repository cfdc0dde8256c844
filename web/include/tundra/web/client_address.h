// Who is on the other end: the peer's address, or, when the peer is a reverse proxy the
// operator trusts (`serve --trusted-proxy CIDR`), the address that proxy says it served.
// X-Forwarded-For is never read from anyone else: any client can send one. Pure; no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tundra/core/status.h"

namespace tundra::web {

class TrustedProxies {
public:
    // CIDRs such as "10.0.0.0/8", "192.168.1.10" (a /32) or "fd00::/8". Errors:
    // invalid_argument naming the first bad entry.
    static Result<TrustedProxies> parse(const std::vector<std::string>& cidrs);
    // Whether `address` (textual IPv4 or IPv6) lies in one of the ranges.
    bool contains(std::string_view address) const;
    bool empty() const { return ranges_.empty(); }

private:
    struct Range {
        std::array<uint8_t, 16> net{};  // IPv4 as IPv4-mapped IPv6
        int prefix = 0;                 // bits, over the 128
    };
    std::vector<Range> ranges_;
};

// Canonical text of an IP address (an IPv4-mapped IPv6 address as plain IPv4); empty when
// `text` is not an IP address.
std::string normalize_ip(std::string_view text);

// The client's address for a request from `peer` carrying `forwarded_for` (the
// X-Forwarded-For header, possibly empty). Only when the peer is trusted is the header's
// last hop (what the proxy itself appended) used, and only if it is an IP address.
std::string client_address(std::string_view peer, std::string_view forwarded_for,
                           const TrustedProxies& trusted);

}  // namespace tundra::web
