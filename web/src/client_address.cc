// The client's address behind trusted proxies (client_address.h).
#include "tundra/web/client_address.h"

#include <arpa/inet.h>

#include <cstring>
#include <optional>

namespace tundra::web {
namespace {
// IPv4 becomes IPv4-mapped IPv6 (::ffff:a.b.c.d), so one comparison serves both.
std::optional<std::array<uint8_t, 16>> parse_ip(std::string_view text) {
    if (text.size() > 64) return std::nullopt;
    std::string s(text);
    std::array<uint8_t, 16> out{};
    in_addr v4{};
    if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
        out[10] = out[11] = 0xff;
        std::memcpy(out.data() + 12, &v4, 4);
        return out;
    }
    in6_addr v6{};
    if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
        std::memcpy(out.data(), &v6, 16);
        return out;
    }
    return std::nullopt;
}

bool is_v4_mapped(const std::array<uint8_t, 16>& a) {
    for (int i = 0; i < 10; ++i)
        if (a[i] != 0) return false;
    return a[10] == 0xff && a[11] == 0xff;
}

bool in_prefix(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& net, int bits) {
    for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
        uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
        if ((a[i] & mask) != (net[i] & mask)) return false;
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}
}  // namespace

std::string normalize_ip(std::string_view text) {
    auto a = parse_ip(trim(text));
    if (!a) return {};
    char buf[INET6_ADDRSTRLEN] = {};
    if (is_v4_mapped(*a)) inet_ntop(AF_INET, a->data() + 12, buf, sizeof buf);
    else inet_ntop(AF_INET6, a->data(), buf, sizeof buf);
    return buf;
}

Result<TrustedProxies> TrustedProxies::parse(const std::vector<std::string>& cidrs) {
    TrustedProxies out;
    for (auto& c : cidrs) {
        auto bad = [&] {
            return Result<TrustedProxies>(Errc::invalid_argument,
                                          "bad --trusted-proxy '" + c +
                                              "': expected an IP address or CIDR such as 10.0.0.0/8");
        };
        auto slash = c.find('/');
        auto ip = parse_ip(std::string_view(c).substr(0, slash));
        if (!ip) return bad();
        int max = is_v4_mapped(*ip) ? 32 : 128;
        int bits = max;
        if (slash != std::string::npos) {
            std::string p = c.substr(slash + 1);
            if (p.empty() || p.size() > 3 || p.find_first_not_of("0123456789") != std::string::npos)
                return bad();
            bits = std::stoi(p);
            if (bits > max) return bad();
        }
        out.ranges_.push_back(Range{*ip, bits + (max == 32 ? 96 : 0)});
    }
    return out;
}

bool TrustedProxies::contains(std::string_view address) const {
    auto a = parse_ip(trim(address));
    if (!a) return false;
    for (auto& r : ranges_)
        if (in_prefix(*a, r.net, r.prefix)) return true;
    return false;
}

std::string client_address(std::string_view peer, std::string_view forwarded_for,
                           const TrustedProxies& trusted) {
    std::string self = normalize_ip(peer);
    if (self.empty()) self = std::string(peer.substr(0, 64));
    if (forwarded_for.empty() || !trusted.contains(peer)) return self;
    auto comma = forwarded_for.rfind(',');
    std::string_view last =
        comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1);
    std::string hop = normalize_ip(last);
    return hop.empty() ? self : hop;
}

}  // namespace tundra::web
