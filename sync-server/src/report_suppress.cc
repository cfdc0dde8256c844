// Small-cell suppression: primary, then secondary until no group reveals a suppressed cell.
#include "report_suppress.h"

#include <utility>

namespace tundra::server {

size_t Suppression::add_cell(int64_t people, std::vector<int64_t> also) {
    CellInfo c;
    c.counts.push_back(people);
    for (int64_t n : also) c.counts.push_back(n);
    for (int64_t n : c.counts) c.primary = c.primary || small(n);
    c.suppressed = c.primary;
    cells_.push_back(std::move(c));
    return cells_.size() - 1;
}

void Suppression::add_group(size_t total, std::vector<size_t> parts, bool people_add_up) {
    groups_.push_back({total, std::move(parts), people_add_up});
}

void Suppression::link(size_t from, size_t to) { links_.emplace_back(from, to); }

bool Suppression::suppress_smallest_part_or_total(const Group& g) {
    // The smallest shown part that has people: suppressing a part of 0 people protects
    // nothing (a reader may know it is empty); ties go to the earlier cell (deterministic).
    size_t best = cells_.size();
    for (size_t p : g.parts) {
        const CellInfo& c = cells_[p];
        if (c.suppressed || c.counts[0] == 0) continue;
        if (best == cells_.size() || c.counts[0] < cells_[best].counts[0]) best = p;
    }
    if (best == cells_.size()) {
        if (cells_[g.total].suppressed) return false;  // nothing left to hide it with
        best = g.total;
    }
    cells_[best].suppressed = true;
    return true;
}

bool Suppression::protect(const Group& g) {
    size_t hidden = cells_[g.total].suppressed ? 1 : 0;
    for (size_t p : g.parts) hidden += cells_[p].suppressed ? 1 : 0;
    if (hidden == 1) return suppress_smallest_part_or_total(g);
    if (hidden == 0 || !g.people_add_up || cells_[g.total].suppressed) return false;
    // The total is shown: total minus the shown parts is the sum of the suppressed parts,
    // itself a cell of people that must not be small.
    const size_t n = cells_[g.total].counts.size();
    for (size_t k = 0; k < n; ++k) {
        int64_t sum = 0;
        for (size_t p : g.parts)
            if (cells_[p].suppressed && k < cells_[p].counts.size()) sum += cells_[p].counts[k];
        if (small(sum)) return suppress_smallest_part_or_total(g);
    }
    return false;
}

void Suppression::run() {
    for (bool changed = true; changed;) {
        changed = false;
        for (const Group& g : groups_) changed = protect(g) || changed;
        for (auto [from, to] : links_) {
            if (cells_[from].suppressed && !cells_[to].suppressed) {
                cells_[to].suppressed = true;
                changed = true;
            }
        }
    }
}

}  // namespace tundra::server
