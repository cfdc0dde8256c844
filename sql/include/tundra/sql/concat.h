// Joins pieces of SQL text: what the backends' dialect hooks (sql::Db::json_text and the rest)
// build their expressions with.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace tundra::sql {

inline std::string concat(std::initializer_list<std::string_view> parts) {
    size_t n = 0;
    for (auto p : parts) n += p.size();
    std::string out;
    out.reserve(n);
    for (auto p : parts) out += p;
    return out;
}

}  // namespace tundra::sql
