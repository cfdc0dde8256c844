#include "row_cache.h"

namespace tundra::server {

namespace {
// What an entry costs beyond its text: the key twice (list and index), nodes, the shared count.
constexpr size_t kEntryOverhead = 160;
}

std::string RowCache::key(Kind kind, std::string_view id, uint64_t version) {
    std::string k;
    k.reserve(id.size() + 24);
    k += static_cast<char>('a' + static_cast<int>(kind));
    k += std::to_string(version);
    k += ':';
    k += id;
    return k;
}

std::shared_ptr<const std::string> RowCache::find(Kind kind, std::string_view id, uint64_t version) {
    auto k = key(kind, id, version);
    std::lock_guard lock(mu_);
    auto it = index_.find(k);
    if (it == index_.end()) {
        ++misses_;
        return nullptr;
    }
    ++hits_;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->json;
}

std::shared_ptr<const std::string> RowCache::insert(Kind kind, std::string_view id, uint64_t version,
                                                    std::string json) {
    auto shared = std::make_shared<const std::string>(std::move(json));
    auto k = key(kind, id, version);
    size_t cost = shared->size() + 2 * k.size() + kEntryOverhead;
    if (cost > max_bytes_) return shared;
    std::lock_guard lock(mu_);
    if (auto it = index_.find(k); it != index_.end()) return it->second->json;  // another reader's
    while (!lru_.empty() && bytes_ + cost > max_bytes_) {
        auto& last = lru_.back();
        bytes_ -= last.json->size() + 2 * last.key.size() + kEntryOverhead;
        index_.erase(last.key);
        lru_.pop_back();
    }
    lru_.push_front(Entry{k, shared});
    index_.emplace(std::move(k), lru_.begin());
    bytes_ += cost;
    return shared;
}

RowCache::Stats RowCache::stats() const {
    std::lock_guard lock(mu_);
    return Stats{.hits = hits_, .misses = misses_, .entries = index_.size(), .bytes = bytes_};
}

}  // namespace tundra::server
