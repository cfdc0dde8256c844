#include "tundra/sql/rows.h"

#include <algorithm>
#include <vector>

#include "tundra/core/json.h"

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

std::string row_json(const Stmt& st, const EntitySpec& spec) {
    // A Row is a map: encode_row writes its keys in name order. Each kind's column indexes in
    // that order, worked out once.
    static const std::vector<std::vector<int>> order = [] {
        std::vector<std::vector<int>> o;
        for (auto& e : all_entities()) {
            size_t k = static_cast<size_t>(e.kind);
            if (o.size() <= k) o.resize(k + 1);
            for (int i = 0; i < static_cast<int>(e.columns.size()); ++i) o[k].push_back(i);
            std::sort(o[k].begin(), o[k].end(),
                      [&](int a, int b) { return e.columns[static_cast<size_t>(a)].name < e.columns[static_cast<size_t>(b)].name; });
        }
        return o;
    }();
    rapidjson::StringBuffer buf;
    json::Writer w(buf);
    w.StartObject();
    for (int i : order[static_cast<size_t>(spec.kind)]) {
        auto& c = spec.columns[static_cast<size_t>(i)];
        json::put(w, c.name);
        json::put_value(w, st.value(i, c.type));
    }
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
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
