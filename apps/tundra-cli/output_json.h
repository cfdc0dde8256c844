// Small helpers the CLI's renderers share (output.cc, records_output.cc): one JSON document
// built with RapidJSON, keys with typed values, and padding by display width.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tundra/core/json.h"

namespace tundra::cli {

template <class F>
std::string doc(F&& f) {
    rapidjson::StringBuffer buf;
    json::Writer w(buf);
    f(w);
    return std::string(buf.GetString(), buf.GetSize());
}

inline void kv(json::Writer& w, const char* k, const std::string& v) {
    json::put(w, k);
    json::put(w, v);
}
inline void kv_or_null(json::Writer& w, const char* k, const std::string& v) {
    json::put(w, k);
    if (v.empty()) w.Null();
    else json::put(w, v);
}
inline void kv(json::Writer& w, const char* k, int64_t v) {
    json::put(w, k);
    w.Int64(v);
}
inline void kv(json::Writer& w, const char* k, std::optional<int64_t> v) {
    json::put(w, k);
    if (v) w.Int64(*v);
    else w.Null();
}
inline void kv(json::Writer& w, const char* k, bool v) {
    json::put(w, k);
    w.Bool(v);
}

// Pads by display width (UTF-8 continuation bytes do not count); a long value (local ids
// are 27 characters) still leaves a gap.
inline std::string pad(std::string s, size_t n) {
    size_t width = 0;
    for (unsigned char c : s) width += (c & 0xC0) != 0x80;
    if (width < n) s.append(n - width, ' ');
    else s += ' ';
    return s;
}

}  // namespace tundra::cli
