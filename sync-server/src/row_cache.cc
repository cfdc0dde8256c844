#include "row_cache.h"

#include "tundra/core/mix.h"

namespace tundra::server {

namespace {
// What an entry costs beyond its text: the key twice (list and index), nodes, the shared count.
constexpr size_t kEntryOverhead = 160;
}

size_t RowCache::Hash::operator()(const KeyView& k) const noexcept {
    // splitmix64's finaliser over the version and the kind.
    return static_cast<size_t>(mix64(k.version * 16 + static_cast<uint64_t>(k.kind)));
}

size_t RowCache::Entry::cost() const { return json->size() + 2 * key.id.size() + kEntryOverhead; }

std::shared_ptr<const std::string> RowCache::find(Kind kind, std::string_view id, uint64_t version) {
    std::lock_guard lock(mu_);
    auto it = index_.find(KeyView{version, kind, id});
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
    Entry e{Key{version, kind, std::string(id)}, std::make_shared<const std::string>(std::move(json))};
    size_t cost = e.cost();
    if (cost > max_bytes_) return e.json;
    std::lock_guard lock(mu_);
    if (auto it = index_.find(KeyView{version, kind, id}); it != index_.end()) return it->second->json;  // another reader's
    while (!lru_.empty() && bytes_ + cost > max_bytes_) {
        auto& last = lru_.back();
        bytes_ -= last.cost();
        index_.erase(last.key);
        lru_.pop_back();
    }
    auto shared = e.json;
    lru_.push_front(std::move(e));
    index_.emplace(lru_.front().key, lru_.begin());
    bytes_ += cost;
    return shared;
}

RowCache::Stats RowCache::stats() const {
    std::lock_guard lock(mu_);
    return Stats{.hits = hits_, .misses = misses_, .entries = index_.size(), .bytes = bytes_};
}

}  // namespace tundra::server
