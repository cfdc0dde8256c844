// Failed-login throttling: exponential back-off per username and per address, in the store.
#include "login_throttle.h"

#include <arpa/inet.h>

#include <algorithm>

#include "tundra/core/crypto.h"

namespace tundra::server {

int64_t block_ms(const ThrottlePolicy& p, int64_t failures) {
    int64_t over = failures - p.free_failures;
    if (over <= 0) return 0;
    int shift = static_cast<int>(std::min<int64_t>(over - 1, 40));
    int64_t cap = std::max<int64_t>(p.cap_ms, 0);
    if (p.base_ms <= 0) return 0;
    // base * 2^shift, without overflow: stop doubling at the cap.
    int64_t b = p.base_ms;
    for (int i = 0; i < shift && b < cap; ++i) b *= 2;
    return std::min(b, cap);
}

std::string user_key(std::string_view username) {
    if (username.size() <= 64) return "user:" + std::string(username);
    return "user:sha256:" + sha256_hex(username);
}

std::string address_key(std::string_view address) {
    if (address.empty()) return {};
    std::string a(address.substr(0, 64));
    unsigned char bytes[16];
    if (inet_pton(AF_INET6, a.c_str(), bytes) == 1) {
        static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::equal(kMapped, kMapped + 12, bytes)) {  // ::ffff:a.b.c.d is IPv4
            char v4[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, bytes + 12, v4, sizeof v4);
            return "addr:" + std::string(v4);
        }
        std::fill(bytes + 8, bytes + 16, 0);  // the /64
        char v6[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, bytes, v6, sizeof v6);
        return "addr:" + std::string(v6) + "/64";
    }
    return "addr:" + a;
}

Result<int64_t> blocked_for(sql::Db& db, const std::string& key, const ThrottlePolicy& p,
                            int64_t now_ms) {
    if (key.empty()) return int64_t{0};
    auto q = db.query("SELECT last_failure_ms, blocked_until_ms FROM login_throttle WHERE key = ?");
    q->bind(1, key);
    auto r = q->step();
    if (!r) return r.status();
    if (!r.value()) return int64_t{0};
    if (now_ms - q->int64(0) >= p.forget_after_ms) return int64_t{0};
    return std::max<int64_t>(0, q->int64(1) - now_ms);
}

Status record_failure(sql::Db& db, const std::string& key, const ThrottlePolicy& p,
                      int64_t now_ms) {
    if (key.empty()) return Status::ok();
    int64_t failures = 0;
    {
        auto q = db.query("SELECT failures, last_failure_ms FROM login_throttle WHERE key = ?");
        q->bind(1, key);
        auto r = q->step();
        if (!r) return r.status();
        if (r.value() && now_ms - q->int64(1) < p.forget_after_ms) failures = q->int64(0);
    }
    ++failures;
    int64_t block = block_ms(p, failures);
    auto u = db.query(
        "INSERT INTO login_throttle (key, failures, last_failure_ms, blocked_until_ms) "
        "VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET failures = excluded.failures, "
        "last_failure_ms = excluded.last_failure_ms, blocked_until_ms = excluded.blocked_until_ms");
    return u->bind(1, key).bind(2, failures).bind(3, now_ms).bind(4, block ? now_ms + block : 0).run();
}

Status forget_failures(sql::Db& db, const std::string& key) {
    auto q = db.query("DELETE FROM login_throttle WHERE key = ?");
    return q->bind(1, key).run();
}

Status purge_throttle(sql::Db& db, int64_t now_ms, int64_t older_than_ms) {
    auto q = db.query("DELETE FROM login_throttle WHERE last_failure_ms < ? AND blocked_until_ms < ?");
    return q->bind(1, now_ms - older_than_ms).bind(2, now_ms).run();
}

}  // namespace tundra::server
