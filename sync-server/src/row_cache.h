// The rows a pull sends, kept encoded (docs/architecture.md, "Row cache"). Every write gives a
// row a new version, so a row's JSON at one (kind, id, version) never changes: a round that
// sends it to the hundredth device of the day copies its text instead of reading every column
// into values and writing them out again. Filled only from committed reads (the read pool's
// snapshots): a version handed out inside a write transaction that then rolls back may come
// back with other content. Bounded in bytes, least recently used out first; one per process,
// shared by the readers.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "tundra/core/model.h"

namespace tundra::server {

class RowCache {
public:
    explicit RowCache(size_t max_bytes) : max_bytes_(max_bytes) {}

    // The row's JSON object, or null when it is not here.
    std::shared_ptr<const std::string> find(Kind kind, std::string_view id, uint64_t version);
    // Keeps `json` as the row at (kind, id, version) and returns it (shared).
    std::shared_ptr<const std::string> insert(Kind kind, std::string_view id, uint64_t version,
                                              std::string json);

    struct Stats {
        uint64_t hits = 0, misses = 0, entries = 0, bytes = 0;
    };
    Stats stats() const;

private:
    // Looked up without building a string: a version is almost always enough to tell rows
    // apart, so the hash is the version's and the kind's, and equality checks the id too.
    struct Key {
        uint64_t version;
        Kind kind;
        std::string id;
    };
    struct KeyView {
        uint64_t version;
        Kind kind;
        std::string_view id;
    };
    struct Hash {
        using is_transparent = void;
        size_t operator()(const KeyView& k) const noexcept;
        size_t operator()(const Key& k) const noexcept { return (*this)(KeyView{k.version, k.kind, k.id}); }
    };
    struct Equal {
        using is_transparent = void;
        template <class A, class B>
        bool operator()(const A& a, const B& b) const noexcept {
            return a.version == b.version && a.kind == b.kind && std::string_view(a.id) == std::string_view(b.id);
        }
    };
    struct Entry {
        Key key;
        std::shared_ptr<const std::string> json;
        size_t cost() const;
    };
    mutable std::mutex mu_;
    std::list<Entry> lru_;  // most recently used first
    std::unordered_map<Key, std::list<Entry>::iterator, Hash, Equal> index_;
    size_t bytes_ = 0;
    const size_t max_bytes_;
    uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace tundra::server
