// Small-cell suppression for the aggregated reports (docs/reports.md, "Suppression"): a cell
// describing 1..min_cell-1 people is suppressed with every figure derived from those people
// (primary), and further cells are suppressed until no suppressed value can be recovered by
// differences within a declared group (secondary, also called complementary).
//
// A report declares its cells (each with the counts of people its figures rest on), the groups
// of cells whose figures add up (a total and its parts: an organisation's total and its gender
// cells), and links between cells whose figures may coincide; `run()` then decides. Pure and
// deterministic: the same declarations give the same suppressed set. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tundra::server {

class Suppression {
public:
    explicit Suppression(int min_cell) : min_cell_(min_cell) {}

    // A cell whose figures describe `people` people (its size: the smaller of two cells is
    // the one sacrificed for secondary suppression) and rest on the further counts `also`
    // (e.g. the attendees an hours figure comes from). Returns its index (0, 1, ...).
    size_t add_cell(int64_t people, std::vector<int64_t> also = {});

    // `total`'s figures are the sum of `parts`' figures. When `people_add_up`, the counts
    // of people add up too (a person is in exactly one part), so the people of the suppressed
    // parts, revealed as a sum by difference from a shown total, must not be a small cell
    // either. Parts and total must be distinct cells of this Suppression.
    void add_group(size_t total, std::vector<size_t> parts, bool people_add_up = true);

    // Whenever `from` is suppressed, suppress `to` too (figures that can be equal, e.g. a
    // course's attended enrolments and completed persons when each person has one occasion).
    void link(size_t from, size_t to);

    // Primary then secondary suppression, iterated until stable:
    // - primary: a cell with any count in 1..min_cell-1 (a count of 0 is shown);
    // - in a group with exactly one suppressed member, suppress its smallest shown part with
    //   people (the total if there is none);
    // - in a people_add_up group whose total is shown, if the suppressed parts together hold
    //   1..min_cell-1 people (by any count), suppress the smallest shown part with people (the
    //   total if there is none);
    // - links.
    void run();

    bool suppressed(size_t cell) const { return cells_[cell].suppressed; }
    bool primary(size_t cell) const { return cells_[cell].primary; }
    size_t size() const { return cells_.size(); }
    int min_cell() const { return min_cell_; }

private:
    struct CellInfo {
        std::vector<int64_t> counts;  // counts[0]: people
        bool primary = false, suppressed = false;
    };
    struct Group {
        size_t total;
        std::vector<size_t> parts;
        bool people_add_up;
    };
    bool small(int64_t n) const { return n >= 1 && n < min_cell_; }
    bool protect(const Group& g);  // one secondary step on g; true if it suppressed a cell
    bool suppress_smallest_part_or_total(const Group& g);

    int min_cell_;
    std::vector<CellInfo> cells_;
    std::vector<Group> groups_;
    std::vector<std::pair<size_t, size_t>> links_;
};

}  // namespace tundra::server
