// A staff list exported from a municipality's HR system (docs/import.md, "Staff CSV"), read
// into an import document (docs/import.md) so that it takes the import's one path: the same
// checks, all or nothing, audited. Pure: no store (stored persons are found through
// `lookup`).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "tundra/core/model.h"
#include "tundra/core/status.h"

namespace tundra::server {

// How a staff CSV row names a stored person.
enum class PersonKey { id, personal_id };
// The stored person with this id (PersonKey::id) or holding this identity number
// (PersonKey::personal_id, given as YYYYMMDD-XXXX; not a provisional walk-in), if any: the
// columns of the import document's persons section (id, organisation, site, name, gender,
// birth_year as int64_t, profession, education_level, employment_status, personal_id), SQL
// NULL as std::monostate (a missing key reads as null). SqlStore::person_for_import.
using PersonLookup = std::function<Result<std::optional<Row>>(PersonKey by, const std::string& key)>;

// Reads the file as Swedish Excel saves it: UTF-8 (with or without BOM) or Windows-1252,
// fields separated by ';' or ',' (detected from the header line), quoted fields with "" for
// a quote, CRLF or LF. The header names are fixed (docs/import.md); gender as kvinna | man |
// icke-binär | vill ej uppge or the English codes. Each row becomes a person: matched on
// `id`, else on the identity number (an existing person keeps their id), else a new id
// derived from the identity number. People absent from the file are never touched. For a
// stored person a column the file does not have, or an empty cell, keeps the stored value
// (organisation: when the row names no site; site: unless the row names another
// organisation); for a new person it is null.
// Returns the import document (JSON). Errors: invalid_argument naming the line and column
// ("line 7, kön: ...", the column named as in the file), too_large past max_rows.
Result<std::string> staff_csv_to_import(std::string_view bytes, const PersonLookup& lookup,
                                        size_t max_rows = 500'000);

// An error of the import (or preview) of the document staff_csv_to_import made from `bytes`,
// in the file's terms: "persons[3].site: refers to unknown site 'x'" becomes "line 5,
// arbetsplats: refers to unknown site 'x'" (the row's line, the column as the file names
// it). Any other error is returned as it is.
Status staff_csv_error(std::string_view bytes, const Status& import_error);

}  // namespace tundra::server
