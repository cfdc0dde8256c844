// Form and query parsing (console_form.h).
#include "console_form.h"

#include <algorithm>

#include "tundra/core/json.h"
#include "tundra/web/http.h"

namespace tundra::console {
namespace {
Result<std::map<std::string, std::string>> parse_pairs(std::string_view text, std::string_view what,
                                                       const std::initializer_list<std::string_view>* fields) {
    std::map<std::string, std::string> out;
    while (!text.empty()) {
        auto amp = text.find('&');
        std::string_view pair = text.substr(0, amp);
        text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
        if (pair.empty()) continue;
        auto eq = pair.find('=');
        std::string key, value;
        if (!web::percent_decode(pair.substr(0, eq), key, true) || !json::valid_utf8(key) || key.size() > 100)
            return Status(Errc::invalid_argument, std::string(what) + ": a bad field name");
        if (eq != std::string_view::npos && !web::percent_decode(pair.substr(eq + 1), value, true))
            return Status(Errc::invalid_argument, key + ": bad %-encoding");
        if (!json::valid_utf8(value)) return Status(Errc::invalid_argument, key + ": not UTF-8");
        if (value.size() > kMaxFormField) return Status(Errc::invalid_argument, key + ": too long");
        if (fields && std::find(fields->begin(), fields->end(), key) == fields->end())
            return Status(Errc::invalid_argument, key + ": not a field of this form");
        if (!out.emplace(key, std::move(value)).second)
            return Status(Errc::invalid_argument, key + ": given twice");
    }
    return out;
}
}  // namespace

Result<std::map<std::string, std::string>> parse_form(std::string_view body,
                                                      std::initializer_list<std::string_view> fields) {
    return parse_pairs(body, "form", &fields);
}

Result<std::map<std::string, std::string>> parse_query(std::string_view target) {
    auto q = target.find('?');
    if (q == std::string_view::npos) return std::map<std::string, std::string>();
    return parse_pairs(target.substr(q + 1), "query", nullptr);
}

}  // namespace tundra::console
