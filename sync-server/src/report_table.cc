// Report tables as CSV (Swedish Excel or RFC 4180) and JSON: one writer each, so every report
// is formatted alike (docs/reports.md, "Formats").
#include "report_table.h"

#include <cmath>
#include <cstdio>

#include "tundra/core/json.h"

namespace tundra::server {
namespace {

std::string decimal_text(const Decimal& d, char point) {
    char buf[64];
    int places = d.places < 0 ? 0 : (d.places > 9 ? 9 : d.places);
    double v = d.value;
    if (!std::isfinite(v)) v = 0;
    std::snprintf(buf, sizeof buf, "%.*f", places, v);
    std::string s = buf;
    if (s == "-0" || s.find_first_not_of("-0.") == std::string::npos) s.erase(0, s[0] == '-');
    if (point != '.')
        for (auto& c : s)
            if (c == '.') c = point;
    return s;
}

void csv_field(std::string& out, std::string_view text, char sep) {
    bool quote = text.find_first_of(std::string{sep, '"', '\r', '\n'}) != std::string_view::npos;
    if (!quote) {
        out.append(text);
        return;
    }
    out.push_back('"');
    for (char c : text) {
        if (c == '"') out.push_back('"');
        out.push_back(c);
    }
    out.push_back('"');
}

void csv_cell(std::string& out, const Cell& c, char sep, char point) {
    if (auto* i = std::get_if<int64_t>(&c)) out += std::to_string(*i);
    else if (auto* d = std::get_if<Decimal>(&c)) csv_field(out, decimal_text(*d, point), sep);
    else if (auto* s = std::get_if<std::string>(&c)) csv_field(out, *s, sep);
    else if (std::holds_alternative<Suppressed>(c)) out += "..";
    // monostate: an empty field
}

}  // namespace

void csv_row(std::string& out, const std::vector<Cell>& row, CsvDialect dialect) {
    char sep = dialect == CsvDialect::excel ? ';' : ',';
    char point = dialect == CsvDialect::excel ? ',' : '.';
    for (size_t i = 0; i < row.size(); ++i) {
        if (i) out.push_back(sep);
        csv_cell(out, row[i], sep, point);
    }
    out += "\r\n";
}

std::string write_csv(const ReportTable& t, CsvDialect dialect) {
    std::string out;
    out.reserve(64 + t.rows.size() * 16 * (t.columns.size() + 1));
    if (dialect == CsvDialect::excel) out += "\xEF\xBB\xBF";  // UTF-8 BOM: Excel reads UTF-8
    std::vector<Cell> header(t.columns.begin(), t.columns.end());
    csv_row(out, header, dialect);
    for (auto& r : t.rows) csv_row(out, r, dialect);
    return out;
}

void put_cell(json::Writer& w, const Cell& c) {
    if (auto* i = std::get_if<int64_t>(&c)) w.Int64(*i);
    else if (auto* d = std::get_if<Decimal>(&c)) {
        // Written with its decimals as a JSON number (not through a double's shortest form),
        // so CSV and JSON show the same figure.
        std::string s = decimal_text(*d, '.');
        w.RawValue(s.data(), s.size(), rapidjson::kNumberType);
    } else if (auto* s = std::get_if<std::string>(&c)) json::put(w, *s);
    else w.Null();  // null and suppressed
}

void put_row(json::Writer& w, const std::vector<std::string>& columns, const std::vector<Cell>& row) {
    w.StartObject();
    for (size_t i = 0; i < columns.size() && i < row.size(); ++i) {
        json::put(w, columns[i]);
        put_cell(w, row[i]);
    }
    w.EndObject();
}

void put_table_members(json::Writer& w, const ReportTable& t) {
    for (auto& [k, v] : t.header) {
        json::put(w, k);
        put_cell(w, v);
    }
    w.Key("rows");
    w.StartArray();
    for (auto& r : t.rows) put_row(w, t.columns, r);
    w.EndArray();
}

std::string write_json(const ReportTable& t) {
    rapidjson::StringBuffer buf;
    json::Writer w(buf);
    w.StartObject();
    put_table_members(w, t);
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace tundra::server
