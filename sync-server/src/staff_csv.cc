// The staff CSV of a municipality's HR system → an import document's `persons` section
// (docs/import.md, "Staff CSV"). Pure: decoding, the CSV grammar, the fixed header names, the
// value vocabularies and the identity number are checked here, with the line and column named;
// everything else (references, erased persons, limits of the document) by import_json.
#include "tundra/server/staff_csv.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <limits>
#include <map>
#include <vector>

#include "tundra/core/crypto.h"

namespace tundra::server {
namespace {

// ---- decoding -------------------------------------------------------------------------------

// Length of the valid UTF-8 sequence at `s[i]` (overlongs, surrogates and > U+10FFFF refused),
// or 0.
size_t utf8_len(std::string_view s, size_t i) {
    auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = b(i);
    if (c < 0x80) return 1;
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (n == 0 || c > 0xF4 || i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k)
        if ((b(i + k) & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;  // overlong
    if (c == 0xED && b(i + 1) >= 0xA0) return 0;  // surrogate
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;  // overlong
    if (c == 0xF4 && b(i + 1) >= 0x90) return 0;  // past U+10FFFF
    return n;
}

bool valid_utf8(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        size_t n = utf8_len(s, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

void put_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// Windows-1252 0x80-0x9F (0 = undefined); the rest of the upper half is Latin-1.
constexpr uint16_t kCp1252[32] = {0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                  0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,
                                  0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                  0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

Status bad_line(size_t line, const std::string& what) {
    return Status(Errc::invalid_argument, "line " + std::to_string(line) + ": " + what);
}

std::string hex_byte(unsigned char c) {
    const char* d = "0123456789ABCDEF";
    return std::string("0x") + d[c >> 4] + d[c & 15];
}

// UTF-8 (a BOM dropped) or, when the bytes are not UTF-8, Windows-1252. Control characters
// other than tab, CR and LF are refused (a UTF-16 file, a binary file).
Result<std::string> decode(std::string_view bytes) {
    if (bytes.size() >= 2 && ((bytes[0] == '\xFF' && bytes[1] == '\xFE') || (bytes[0] == '\xFE' && bytes[1] == '\xFF')))
        return Result<std::string>(Errc::invalid_argument,
                                   "the file is UTF-16: save it as CSV (UTF-8 or Windows-1252)");
    if (bytes.substr(0, 3) == "\xEF\xBB\xBF") bytes.remove_prefix(3);
    std::string out;
    if (valid_utf8(bytes)) {
        out.assign(bytes);
    } else {
        out.reserve(bytes.size() + bytes.size() / 8);
        size_t line = 1;
        for (unsigned char c : bytes) {
            if (c == '\n') ++line;
            if (c < 0x80) {
                out += static_cast<char>(c);
            } else if (c < 0xA0) {
                if (kCp1252[c - 0x80] == 0)
                    return bad_line(line, "byte " + hex_byte(c) + " is neither UTF-8 nor Windows-1252");
                put_utf8(out, kCp1252[c - 0x80]);
            } else {
                put_utf8(out, c);
            }
        }
    }
    size_t line = 1;
    for (unsigned char c : out) {
        if (c == '\n') ++line;
        else if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7F)
            return bad_line(line, "control character " + hex_byte(c) + " (not a CSV text file?)");
    }
    return out;
}

// ---- the CSV grammar (RFC 4180) -------------------------------------------------------------

struct Record {
    size_t line = 0;  // where it starts (1-based)
    std::vector<std::string> fields;
};

// Splits `text` into records. Blank lines are skipped; a quoted field may hold the
// delimiter, newlines and "" for a quote.
Status split(const std::string& text, char delim, std::vector<Record>& out, size_t max_records) {
    size_t i = 0, line = 1, n = text.size();
    while (i < n) {
        Record rec;
        rec.line = line;
        std::string field;
        bool end_of_record = false;
        while (!end_of_record) {
            field.clear();
            if (i < n && text[i] == '"') {
                size_t start_line = line;
                ++i;
                for (;;) {
                    if (i >= n) return bad_line(start_line, "a quoted field never ends (a \" is missing)");
                    char c = text[i++];
                    if (c == '"') {
                        if (i < n && text[i] == '"') {
                            field += '"';
                            ++i;
                            continue;
                        }
                        break;
                    }
                    if (c == '\n') ++line;
                    field += c;
                }
                // Only blanks may follow the closing quote.
                while (i < n && (text[i] == ' ' || text[i] == '\t')) ++i;
                if (i < n && text[i] != delim && text[i] != '\r' && text[i] != '\n')
                    return bad_line(line, "text after a closing quote (write \"\" for a quote inside a field)");
            } else {
                while (i < n && text[i] != delim && text[i] != '\r' && text[i] != '\n') field += text[i++];
            }
            rec.fields.push_back(field);
            if (i < n && text[i] == delim) {
                ++i;
                continue;
            }
            if (i < n && text[i] == '\r') ++i;
            if (i < n && text[i] == '\n') {
                ++i;
                ++line;
            }
            end_of_record = true;
        }
        bool blank = true;
        for (auto& f : rec.fields)
            if (f.find_first_not_of(" \t") != std::string::npos) blank = false;
        if (blank) continue;
        if (out.size() >= max_records)
            return Status(Errc::too_large, "more than " + std::to_string(max_records - 1) + " rows");
        out.push_back(std::move(rec));
    }
    return Status::ok();
}

std::string trim(std::string_view s) {
    size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    size_t e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

// Lower case for ASCII and the Latin-1 letters (Å Ä Ö É ...), enough for the fixed words.
std::string lower(std::string_view s) {
    std::string out(s);
    for (size_t i = 0; i < out.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(out[i]);
        if (c >= 'A' && c <= 'Z') {
            out[i] = static_cast<char>(c + 32);
        } else if (c == 0xC3 && i + 1 < out.size()) {
            unsigned char d = static_cast<unsigned char>(out[i + 1]);
            if (d >= 0x80 && d <= 0x9E && d != 0x97) out[i + 1] = static_cast<char>(d + 0x20);
            ++i;
        }
    }
    return out;
}

// ---- columns --------------------------------------------------------------------------------

enum Col { c_id, c_pnr, c_name, c_gender, c_birth, c_org, c_site, c_prof, c_edu, c_emp, c_count };
struct ColName {
    Col col;
    const char* sv;
    const char* en;
};
const ColName kCols[] = {{c_id, "id", "id"},
                         {c_pnr, "personnummer", "personal_id"},
                         {c_name, "namn", "name"},
                         {c_gender, "kön", "gender"},
                         {c_birth, "födelseår", "birth_year"},
                         {c_org, "organisation", "organisation"},
                         {c_site, "arbetsplats", "site"},
                         {c_prof, "yrke", "profession"},
                         {c_edu, "utbildning", "education_level"},
                         {c_emp, "anställning", "employment_status"}};

struct Word {
    const char* in;
    const char* code;
};
const Word kGenderWords[] = {{"kvinna", "woman"},           {"man", "man"},
                             {"icke-binär", "non_binary"},  {"icke binär", "non_binary"},
                             {"vill ej uppge", "undisclosed"}, {"woman", "woman"},
                             {"non_binary", "non_binary"},  {"undisclosed", "undisclosed"}};
const Word kEducationWords[] = {{"förgymnasial", "isced_0_2"},   {"gymnasial", "isced_3_4"},
                                {"eftergymnasial", "isced_5_8"}, {"isced_0_2", "isced_0_2"},
                                {"isced_3_4", "isced_3_4"},       {"isced_5_8", "isced_5_8"}};
const Word kEmploymentWords[] = {{"anställd", "employed"},
                                 {"egenföretagare", "self_employed"},
                                 {"arbetslös", "unemployed"},
                                 {"utanför arbetskraften", "inactive"},
                                 {"employed", "employed"},
                                 {"self_employed", "self_employed"},
                                 {"unemployed", "unemployed"},
                                 {"inactive", "inactive"}};

template <size_t N>
const char* word(const Word (&words)[N], const std::string& value) {
    std::string v = lower(value);
    for (auto& w : words)
        if (v == w.in) return w.code;
    return nullptr;
}

// ---- identity numbers -----------------------------------------------------------------------

int current_year() {
    auto days = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
    return static_cast<int>(std::chrono::year_month_day(days).year());
}

bool digits(std::string_view s) {
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return !s.empty();
}

// A personnummer (or samordningsnummer: day + 60) as YYYYMMDD-XXXX, or the reason it is not.
struct Pnr {
    std::string normal;
    int year = 0;
    std::string error;
};
Pnr parse_pnr(const std::string& raw) {
    std::string s;
    for (char c : raw)
        if (c != ' ') s += c;
    char sep = 0;
    if (s.size() == 13 || s.size() == 11) {
        sep = s[s.size() - 5];
        if (sep != '-' && sep != '+') return {{}, 0, "write it as YYYYMMDD-XXXX or YYMMDD-XXXX"};
        s.erase(s.size() - 5, 1);
    }
    if ((s.size() != 12 && s.size() != 10) || !digits(s))
        return {{}, 0, "write it as YYYYMMDD-XXXX or YYMMDD-XXXX"};
    int year;
    if (s.size() == 12) {
        if (sep == '+') return {{}, 0, "'+' belongs only to the short form YYMMDD+XXXX"};
        year = std::stoi(s.substr(0, 4));
    } else {
        // The short form: the latest year with these two digits that is not in the future;
        // '+' (written from the year someone turns 100) a century earlier.
        int now = current_year(), yy = std::stoi(s.substr(0, 2));
        year = now - ((now % 100 - yy + 100) % 100);
        if (sep == '+') year -= 100;
        s = std::to_string(year / 100) + s;
    }
    int month = std::stoi(s.substr(4, 2)), day = std::stoi(s.substr(6, 2));
    if (day > 60) day -= 60;  // samordningsnummer
    static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1] || (month == 2 && day == 29 && !leap))
        return {{}, 0, "no such date"};
    if (year > current_year() || year < 1850) return {{}, 0, "the birth date is not possible"};
    // Luhn over YYMMDDNNN: the tenth digit checks them.
    int sum = 0;
    for (int k = 0; k < 9; ++k) {
        int d = (s[2 + k] - '0') * (k % 2 == 0 ? 2 : 1);
        sum += d > 9 ? d - 9 : d;
    }
    if ((10 - sum % 10) % 10 != s[11] - '0') return {{}, 0, "the check digit is wrong"};
    return {s.substr(0, 8) + "-" + s.substr(8), year, {}};
}

size_t utf8_chars(std::string_view s) {
    size_t n = 0;
    for (char c : s)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
    return n;
}

// The delimiter: whichever of ';' and ',' the header line holds more of, outside quotes.
Result<char> delimiter(const std::string& t) {
    size_t semis = 0, commas = 0;
    bool quoted = false;
    for (char c : t) {
        if (c == '"') quoted = !quoted;
        else if (!quoted && c == '\n') {
            if (semis + commas > 0) break;
        } else if (!quoted && c == ';') ++semis;
        else if (!quoted && c == ',') ++commas;
    }
    if (t.find_first_not_of(" \t\r\n") == std::string::npos)
        return Result<char>(Errc::invalid_argument, "the file is empty");
    if (semis + commas == 0)
        return Result<char>(Errc::invalid_argument, "line 1: the header has no ';' or ',' between column names");
    return semis >= commas ? ';' : ',';
}

}  // namespace

Status staff_csv_error(std::string_view bytes, const Status& import_error) {
    // "persons[<i>].<field>: <what>"
    const std::string& m = import_error.message();
    const std::string prefix = "persons[";
    size_t close = m.find(']');
    if (m.compare(0, prefix.size(), prefix) != 0 || close == std::string::npos || close == prefix.size() ||
        !digits(std::string_view(m).substr(prefix.size(), close - prefix.size())) || close - prefix.size() > 9)
        return import_error;
    size_t row = std::stoul(m.substr(prefix.size(), close - prefix.size()));
    std::string field, what;
    size_t colon = m.find(": ", close);
    if (colon == std::string::npos) return import_error;
    if (m.size() > close + 1 && m[close + 1] == '.') field = m.substr(close + 2, colon - close - 2);
    what = m.substr(colon + 2);
    auto text = decode(bytes);
    if (!text) return import_error;
    auto delim = delimiter(text.value());
    if (!delim) return import_error;
    std::vector<Record> recs;
    if (!split(text.value(), delim.value(), recs, std::numeric_limits<size_t>::max() - 1) || row + 1 >= recs.size())
        return import_error;
    // The column as the file names it (none when the file has no such column, e.g. an
    // organisation taken from the site).
    std::string column;
    for (auto& c : kCols) {
        if (field != c.en) continue;
        for (auto& h : recs.front().fields) {
            std::string l = lower(trim(h));
            if (l == c.sv || l == c.en) column = trim(h);
        }
    }
    return Status(import_error.code(), "line " + std::to_string(recs[row + 1].line) +
                                           (column.empty() ? "" : ", " + column) + ": " + what);
}

Result<std::string> staff_csv_to_import(std::string_view bytes, const PersonLookup& lookup,
                                        size_t max_rows) {
    auto text = decode(bytes);
    if (!text) return text.status();
    const std::string& t = text.value();
    auto delim_found = delimiter(t);
    if (!delim_found) return delim_found.status();
    char delim = delim_found.value();

    std::vector<Record> recs;
    if (Status st = split(t, delim, recs, max_rows + 1); !st) return st;
    // Only delimiters and blanks: no header at all.
    if (recs.empty()) return Result<std::string>(Errc::invalid_argument, "the file is empty");

    // ---- the header ----
    const Record& head = recs.front();
    std::vector<int> col_of(head.fields.size(), -1);  // field index -> Col
    std::string names[c_count];                       // the column's name as the file has it
    std::vector<std::string> unknown;
    for (size_t f = 0; f < head.fields.size(); ++f) {
        std::string h = trim(head.fields[f]);
        if (h.empty()) continue;  // Excel's trailing empty columns
        std::string l = lower(h);
        int found = -1;
        for (auto& c : kCols)
            if (l == c.sv || l == c.en) found = c.col;
        if (found < 0) {
            unknown.push_back("'" + h + "'");
            continue;
        }
        if (!names[found].empty())
            return bad_line(head.line, "columns '" + names[found] + "' and '" + h + "' are the same column");
        names[found] = h;
        col_of[f] = found;
    }
    if (!unknown.empty()) {
        std::string list;
        for (auto& u : unknown) list += (list.empty() ? "" : ", ") + u;
        return bad_line(head.line, "unknown column" + std::string(unknown.size() > 1 ? "s " : " ") + list +
                                       " (docs/import.md, Staff CSV)");
    }
    auto missing = [&](const char* what) { return bad_line(head.line, std::string("a column ") + what + " is required"); };
    if (names[c_name].empty()) return missing("namn (name)");
    if (names[c_gender].empty()) return missing("kön (gender)");
    if (names[c_site].empty() && names[c_org].empty()) return missing("arbetsplats (site) or organisation");
    if (names[c_id].empty() && names[c_pnr].empty()) return missing("id or personnummer (personal_id)");
    if (recs.size() > max_rows + 1)
        return Result<std::string>(Errc::too_large, "more than " + std::to_string(max_rows) + " rows");

    // ---- the rows ----
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("persons");
    w.StartArray();
    std::map<std::string, size_t> id_line, pnr_line;
    int this_year = current_year();
    for (size_t r = 1; r < recs.size(); ++r) {
        const Record& rec = recs[r];
        std::string v[c_count];
        for (size_t f = 0; f < rec.fields.size(); ++f) {
            std::string value = trim(rec.fields[f]);
            if (f >= col_of.size() || col_of[f] < 0) {
                if (!value.empty())
                    return bad_line(rec.line, "a value in column " + std::to_string(f + 1) + ", which has no name in the header");
                continue;
            }
            v[col_of[f]] = std::move(value);
        }
        auto bad = [&](Col c, const std::string& what) {
            return Status(Errc::invalid_argument,
                          "line " + std::to_string(rec.line) + ", " + names[c] + ": " + what);
        };
        for (int c = 0; c < c_count; ++c) {
            size_t limit = c == c_id || c == c_org || c == c_site ? 100 : 4000;
            if ((c == c_id || c == c_org || c == c_site ? v[c].size() : utf8_chars(v[c])) > limit)
                return bad(static_cast<Col>(c), "longer than " + std::to_string(limit) +
                                                     (limit == 100 ? " bytes" : " characters"));
        }
        if (v[c_name].empty()) return bad(c_name, "is empty");
        if (v[c_gender].empty()) return bad(c_gender, "is empty");
        const char* gender = word(kGenderWords, v[c_gender]);
        if (!gender)
            return bad(c_gender, "'" + v[c_gender] + "' is not kvinna, man, icke-binär or vill ej uppge");
        Pnr pnr;
        if (!v[c_pnr].empty()) {
            pnr = parse_pnr(v[c_pnr]);
            if (!pnr.error.empty()) return bad(c_pnr, "'" + v[c_pnr] + "': " + pnr.error);
        }
        if (v[c_id].empty() && pnr.normal.empty())
            return bad(names[c_id].empty() ? c_pnr : c_id, "is empty (give id or personnummer)");
        std::optional<int64_t> birth;
        if (!v[c_birth].empty()) {
            if (v[c_birth].size() != 4 || !digits(v[c_birth]) || std::stoi(v[c_birth]) < 1900 ||
                std::stoi(v[c_birth]) > this_year)
                return bad(c_birth, "'" + v[c_birth] + "' is not a year between 1900 and " + std::to_string(this_year));
            birth = std::stoi(v[c_birth]);
            if (!pnr.normal.empty() && *birth != pnr.year)
                return bad(c_birth, v[c_birth] + " does not match the personnummer (" + std::to_string(pnr.year) + ")");
        } else if (!pnr.normal.empty()) {
            birth = pnr.year;
        }
        const char* edu = nullptr;
        if (!v[c_edu].empty() && !(edu = word(kEducationWords, v[c_edu])))
            return bad(c_edu, "'" + v[c_edu] + "' is not förgymnasial, gymnasial or eftergymnasial");
        const char* emp = nullptr;
        if (!v[c_emp].empty() && !(emp = word(kEmploymentWords, v[c_emp])))
            return bad(c_emp, "'" + v[c_emp] + "' is not anställd, egenföretagare, arbetslös or utanför arbetskraften");

        // The person: by id, else the one holding the identity number, else a new id that
        // follows from the number (so a preview and its apply agree).
        std::optional<Row> holder;
        if (!pnr.normal.empty()) {
            auto found = lookup(PersonKey::personal_id, pnr.normal);
            if (!found) return found.status();
            holder = std::move(found.value());
        }
        std::string holder_id = holder && get_str(*holder, "id") ? *get_str(*holder, "id") : std::string();
        std::string id = v[c_id];
        std::optional<Row> stored;  // the person as the store has them, if any
        if (!id.empty()) {
            if (holder && holder_id != id)
                return bad(c_pnr, "belongs to person '" + holder_id + "', not '" + id + "'");
            if (holder) {
                stored = std::move(holder);
            } else {
                auto found = lookup(PersonKey::id, id);
                if (!found) return found.status();
                stored = std::move(found.value());
            }
        } else if (holder) {
            id = holder_id;
            stored = std::move(holder);
        } else {
            id = "p-" + sha256_hex("tundra staff csv personnummer:" + pnr.normal).substr(0, 16);
        }

        // What the row does not say (no such column, or an empty cell) keeps the stored value.
        auto kept = [&](const char* key) {
            const std::string* got = stored ? get_str(*stored, key) : nullptr;
            return got ? *got : std::string();
        };
        std::string org = v[c_org], site = v[c_site];
        if (org.empty() && site.empty()) {
            org = kept("organisation");
            site = kept("site");
        } else if (site.empty() && org == kept("organisation")) {
            site = kept("site");  // a row naming a site without organisation takes the site's
        }
        if (site.empty() && org.empty()) return bad(names[c_site].empty() ? c_org : c_site, "is empty");
        if (!birth && stored) birth = get_int(*stored, "birth_year");
        std::string profession = v[c_prof].empty() ? kept("profession") : v[c_prof];
        std::string education = edu ? std::string(edu) : kept("education_level");
        std::string employment = emp ? std::string(emp) : kept("employment_status");
        std::string personal_id = pnr.normal.empty() ? kept("personal_id") : pnr.normal;

        Col id_col = v[c_id].empty() ? c_pnr : c_id;
        if (auto [it, fresh] = id_line.emplace(id, rec.line); !fresh)
            return bad(id_col, "the same person as on line " + std::to_string(it->second) + " ('" + id + "')");
        if (!pnr.normal.empty())
            if (auto [it, fresh] = pnr_line.emplace(pnr.normal, rec.line); !fresh)
                return bad(c_pnr, "the same personnummer as on line " + std::to_string(it->second));

        w.StartObject();
        auto str = [&](const char* key, const std::string& value) {
            if (value.empty()) return;
            w.Key(key);
            w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
        };
        str("id", id);
        str("organisation", org);
        str("site", site);
        str("name", v[c_name]);
        str("gender", gender);
        if (birth) {
            w.Key("birth_year");
            w.Int64(*birth);
        }
        str("profession", profession);
        str("education_level", education);
        str("employment_status", employment);
        str("personal_id", personal_id);
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace tundra::server
