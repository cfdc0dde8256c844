// A staff list exported from a municipality's HR system (docs/import.md, "Staff CSV"), read
// into an import document (docs/import.md) so that it takes the import's one path: the same
// checks, all or nothing, audited. Pure: no store (identity numbers are matched through
// `lookup`).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "tundra/core/status.h"

namespace tundra::server {

// The person id already holding an identity number, if any.
using PersonalIdLookup =
    std::function<Result<std::optional<std::string>>(const std::string& personal_id)>;

// Reads the file as Swedish Excel saves it: UTF-8 (with or without BOM) or Windows-1252,
// fields separated by ';' or ',' (detected from the header line), quoted fields with "" for
// a quote, CRLF or LF. The header names are fixed (docs/import.md); gender as kvinna | man |
// icke-binär | vill ej uppge or the English codes. Each row becomes a person: matched on
// `id`, else on the identity number (an existing person keeps their id), else a new id
// derived from the identity number. People absent from the file are never touched.
// Returns the import document (JSON). Errors: invalid_argument naming the line and column
// ("line 7, kön: ...", the column named as in the file), too_large past max_rows.
Result<std::string> staff_csv_to_import(std::string_view bytes, const PersonalIdLookup& lookup,
                                        size_t max_rows = 500'000);

}  // namespace tundra::server
