#include "tundra/core/status.h"

#include <array>

namespace tundra {
namespace {
constexpr std::array<ErrcInfo, 19> kTable = {{
    {"ok", 200, false},
    {"invalid_argument", 400, false},
    {"malformed", 400, false},
    {"unauthorized", 401, false},
    {"forbidden", 403, false},
    {"not_found", 404, false},
    {"conflict", 409, false},
    {"too_large", 413, false},
    {"unsupported_version", 426, false},
    {"storage", 503, true},
    {"busy", 503, true},
    {"network", 0, true},
    {"timeout", 0, true},
    {"overloaded", 503, true},
    {"server_error", 500, true},
    {"internal", 500, false},
    {"rate_limited", 429, false},
    {"revoked", 401, false},
    {"cancelled", 0, false},
}};
}  // namespace

const ErrcInfo& errc_info(Errc code) {
    auto i = static_cast<size_t>(code);
    return i < kTable.size() ? kTable[i] : kTable[static_cast<size_t>(Errc::internal)];
}

Errc errc_from_wire(std::string_view name) {
    for (size_t i = 0; i < kTable.size(); ++i)
        if (kTable[i].wire_name == name) return static_cast<Errc>(i);
    return Errc::internal;
}

std::string Status::to_string() const {
    if (is_ok()) return "ok";
    return std::string(errc_info(code_).wire_name) + ": " + message_;
}

}  // namespace tundra
