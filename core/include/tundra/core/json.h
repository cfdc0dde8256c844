// RapidJSON helpers for code that reads untrusted JSON (the protocol codec, the importer).
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <string_view>

#include "tundra/core/model.h"
#include "tundra/core/status.h"

namespace tundra::json {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

inline void put(Writer& w, std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
void put_value(Writer& w, const Value& v);
void put_row(Writer& w, const Row& row);

// How deep arrays and objects may nest in any JSON Tundra reads. A protocol message needs
// about 5 levels, an import document 4; the bound keeps hostile input from exhausting memory
// or the stack of anything that walks the document.
inline constexpr int kMaxDepth = 64;

// The only way Tundra reads JSON (protocol both ways, import documents, stored rows):
// iterative (no recursion, whatever the input), with UTF-8 validation, and refusing nesting
// deeper than `max_depth`. Errors are `malformed` and carry the byte offset.
Status parse(std::string_view text, rapidjson::Document& doc, int max_depth = kMaxDepth);

// The member `key` of an object (null included), or nullptr when absent. Looks up through a
// const value: RapidJSON 1.1's mutable member iterators compare ambiguously in C++20.
const rapidjson::Value* find(const rapidjson::Value& obj, const char* key);

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. Every
// text value is checked (check_value), so a device cannot queue what the server refuses.
bool valid_utf8(std::string_view text);

// Converts a JSON value into a Value. Nested objects and arrays of non-strings are refused.
Status to_value(const rapidjson::Value& j, Value& out, std::string_view path);

// Typed field readers: return malformed with the path when the type is wrong. Optional
// readers leave `out` untouched when the member is absent or null.
Status req_string(const rapidjson::Value& obj, const char* key, std::string& out,
                  std::string_view path);
Status opt_string(const rapidjson::Value& obj, const char* key, std::string& out,
                  std::string_view path);
Status req_uint(const rapidjson::Value& obj, const char* key, uint64_t& out,
                std::string_view path);
Status opt_uint(const rapidjson::Value& obj, const char* key, uint64_t& out,
                std::string_view path);
Status opt_int(const rapidjson::Value& obj, const char* key, int& out, std::string_view path);
Status opt_bool(const rapidjson::Value& obj, const char* key, bool& out, std::string_view path);
Status opt_str_list(const rapidjson::Value& obj, const char* key, StrList& out,
                    std::string_view path);

std::string join(std::string_view path, std::string_view key);
std::string index(std::string_view path, size_t i);

}  // namespace tundra::json
