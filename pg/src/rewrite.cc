// `?`, `?N` and `:name` → `$n` (tundra/pg/db.h), with SQLite's numbering: a `?` takes the
// highest number so far plus one, `?N` takes N, a `:name` its earlier number or a new one.
#include <algorithm>
#include <cctype>
#include <string>

#include "tundra/pg/db.h"

namespace tundra::pg {
namespace {
bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool ident_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
}

bool is_write_keyword(std::string w) {
    for (auto& c : w) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    static const char* const kWords[] = {"INSERT", "UPDATE", "DELETE", "CREATE",
                                         "ALTER",  "DROP",   "TRUNCATE", "MERGE"};
    for (auto* k : kWords)
        if (w == k) return true;
    return false;
}
// The end of a quoted run that opened before `j` with `quote` ('...' literals, "..." names):
// a doubled quote stays inside; with `backslash` (E'...') a backslash escapes the next byte.
// An unterminated run ends at the end of the text.
size_t end_of_quoted(std::string_view s, size_t j, char quote, bool backslash) {
    size_t n = s.size();
    while (j < n) {
        if (backslash && s[j] == '\\') {
            j += 2;
            continue;
        }
        if (s[j] == quote) {
            if (j + 1 < n && s[j + 1] == quote) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        ++j;
    }
    return n;
}
}  // namespace

Rewritten rewrite(std::string_view s) {
    Rewritten out;
    out.sql.reserve(s.size() + 8);
    size_t i = 0, n = s.size();
    auto copy_until = [&](size_t end) {
        out.sql.append(s.substr(i, end - i));
        i = end;
    };
    while (i < n) {
        char c = s[i];
        // String literals: '...' with '' inside; E'...' also with backslash escapes.
        if (c == '\'' || ((c == 'E' || c == 'e') && i + 1 < n && s[i + 1] == '\'' &&
                          (i == 0 || !ident_char(s[i - 1])))) {
            bool backslash = c != '\'';
            copy_until(std::min(end_of_quoted(s, i + (backslash ? 2 : 1), '\'', backslash), n));
            continue;
        }
        // Quoted identifiers: "..." with "" inside.
        if (c == '"') {
            copy_until(std::min(end_of_quoted(s, i + 1, '"', false), n));
            continue;
        }
        // Comments: -- to the end of the line; /* ... */ (nested, as PostgreSQL has them).
        if (c == '-' && i + 1 < n && s[i + 1] == '-') {
            size_t j = s.find('\n', i);
            copy_until(j == std::string_view::npos ? n : j);
            continue;
        }
        if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            size_t j = i + 2;
            int depth = 1;
            while (j < n && depth > 0) {
                if (s[j] == '/' && j + 1 < n && s[j + 1] == '*') ++depth, j += 2;
                else if (s[j] == '*' && j + 1 < n && s[j + 1] == '/') --depth, j += 2;
                else ++j;
            }
            copy_until(j);
            continue;
        }
        // Dollar quotes: $$...$$ or $tag$...$tag$ ($1 is a parameter already numbered).
        if (c == '$' && (i == 0 || !ident_char(s[i - 1]))) {
            size_t j = i + 1;
            if (j < n && ident_start(s[j]))
                while (j < n && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
            if (j < n && s[j] == '$') {
                std::string_view tag = s.substr(i, j - i + 1);
                size_t end = s.find(tag, j + 1);
                copy_until(end == std::string_view::npos ? n : end + tag.size());
                continue;
            }
        }
        // Parameters.
        if (c == '?') {
            size_t j = i + 1;
            int num = 0;
            while (j < n && std::isdigit(static_cast<unsigned char>(s[j]))) num = num * 10 + (s[j++] - '0');
            if (j == i + 1) num = out.params + 1;
            out.params = std::max(out.params, num);
            out.sql += "$" + std::to_string(num);
            i = j;
            continue;
        }
        if (c == ':') {
            if (i + 1 < n && s[i + 1] == ':') {  // a cast: x::bigint
                copy_until(i + 2);
                continue;
            }
            if (i + 1 < n && ident_start(s[i + 1])) {
                size_t j = i + 1;
                while (j < n && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
                std::string name(s.substr(i, j - i));
                int num = 0;
                for (auto& [k, v] : out.names)
                    if (k == name) num = v;
                if (num == 0) {
                    num = ++out.params;
                    out.names.emplace_back(name, num);
                }
                out.sql += "$" + std::to_string(num);
                i = j;
                continue;
            }
        }
        if (ident_start(c) && (i == 0 || !ident_char(s[i - 1]))) {
            size_t j = i + 1;
            while (j < n && ident_char(s[j])) ++j;
            if (!out.writes && is_write_keyword(std::string(s.substr(i, j - i)))) out.writes = true;
            copy_until(j);
            continue;
        }
        out.sql += c;
        ++i;
    }
    return out;
}

}  // namespace tundra::pg
