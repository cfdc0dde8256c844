#include "tundra/sql/rows.h"

namespace tundra::sql {

std::string column_list(const EntitySpec& spec, std::string_view alias) {
    std::string out;
    for (auto& c : spec.columns) {
        if (!out.empty()) out += ", ";
        if (!alias.empty()) out += std::string(alias) + ".";
        out += c.name;
    }
    return out;
}

Row read_row(const Stmt& st, const EntitySpec& spec) {
    Row row;
    int i = 0;
    for (auto& c : spec.columns) row.emplace(std::string(c.name), st.value(i++, c.type));
    return row;
}

Result<std::optional<Row>> load_row(Db& db, Kind kind, const std::string& id) {
    auto& spec = entity(kind);
    auto q = db.query("SELECT " + column_list(spec) + " FROM " + std::string(spec.table) + " WHERE id = ?");
    q->bind(1, id);
    auto r = q->step();
    if (!r) return r.status();
    if (!r.value()) return std::optional<Row>();
    return std::optional<Row>(read_row(*q, spec));
}

}  // namespace tundra::sql
