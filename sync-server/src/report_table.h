// A report as data: named columns, rows of cells, and top-level fields; one writer for CSV
// (Swedish Excel or RFC 4180) and one for JSON, so every report is formatted the same way.
// Small-cell suppression marks cells `suppressed`: `..` in CSV, null in JSON.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "tundra/core/json.h"

namespace tundra::server {

struct Suppressed {};
struct Decimal {        // a non-integer figure (means, rates), written with `places` decimals
    double value = 0;
    int places = 2;
};
// monostate: null (JSON null, empty CSV field).
using Cell = std::variant<std::monostate, int64_t, Decimal, std::string, Suppressed>;

struct ReportTable {
    std::vector<std::string> columns;
    std::vector<std::vector<Cell>> rows;  // each as long as `columns`
    // Top-level JSON members before "rows", in order (e.g. month, as_of, min_cell). Values
    // are cells too (a string, an integer, or null).
    std::vector<std::pair<std::string, Cell>> header;
};

enum class CsvDialect { excel, rfc };
// UTF-8 with BOM, ';', CRLF, decimal comma (excel) or no BOM, ',', CRLF, decimal point (rfc);
// a header row; RFC 4180 quoting (fields with the separator, a quote, CR or LF are quoted,
// quotes doubled).
std::string write_csv(const ReportTable& t, CsvDialect dialect);
// {header..., "rows": [{column: value, ...}, ...]}
std::string write_json(const ReportTable& t);

// The pieces, for reports that add to the common shape (the ledger's corrections): one CSV
// row with its CRLF; one cell as JSON (null and suppressed: null); one row as an object of
// `columns`.
void csv_row(std::string& out, const std::vector<Cell>& row, CsvDialect dialect);
void put_cell(json::Writer& w, const Cell& c);
void put_row(json::Writer& w, const std::vector<std::string>& columns, const std::vector<Cell>& row);
// The members write_json puts in its object (header, then "rows"), for a writer that adds more.
void put_table_members(json::Writer& w, const ReportTable& t);

}  // namespace tundra::server
