// Forms and query strings as the console reads them (application/x-www-form-urlencoded):
// %-decoding with '+' as a space, and refusing what a browser never sends from the console's
// own pages: a bad escape, invalid UTF-8, a field over the size limit, a field given twice,
// a field the form does not have.
#pragma once

#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

#include "tundra/core/status.h"

namespace tundra::console {

inline constexpr size_t kMaxFormField = 4096;  // bytes, after decoding

// A form body with only the fields named in `fields` (each at most once; any may be absent).
// Errors: invalid_argument naming the field.
Result<std::map<std::string, std::string>> parse_form(std::string_view body,
                                                      std::initializer_list<std::string_view> fields);
// The query string of `target` (any names). Errors: invalid_argument naming the parameter.
Result<std::map<std::string, std::string>> parse_query(std::string_view target);

}  // namespace tundra::console
