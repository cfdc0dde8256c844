#include "tundra/core/seats.h"

#include <algorithm>

#include "tundra/core/action.h"

namespace tundra {
namespace {
bool competes(const SeatEntry& e) {
    return e.status == "requested" || e.status == "confirmed" || e.status == "waitlisted";
}

// Seat order: when people acted, then the tie-break, then the id (total, so every server
// and every run decides alike).
void sort_by_seat_order(std::vector<SeatEntry>& entries) {
    std::sort(entries.begin(), entries.end(), [](const SeatEntry& a, const SeatEntry& b) {
        if (a.acted != b.acted) return a.acted < b.acted;
        if (a.tiebreak != b.tiebreak) return a.tiebreak < b.tiebreak;
        return a.id < b.id;
    });
}

// `decided` holds each entry's new status and reason, in seat order: positions follow, and
// the entries that change anything are returned.
std::vector<SeatChange> changes_of(const std::vector<SeatEntry>& sorted,
                                   const std::vector<SeatChange>& decided) {
    std::vector<SeatChange> changes;
    int64_t place = 0;
    for (size_t i = 0; i < sorted.size(); ++i) {
        const SeatEntry& e = sorted[i];
        SeatChange c = decided[i];
        if (c.status == "waitlisted") c.position = ++place;
        if (c.status != e.status || c.reason != e.reason || c.position != e.position)
            changes.push_back(std::move(c));
    }
    return changes;
}
}  // namespace

std::vector<SeatChange> allocate_seats(std::vector<SeatEntry> entries, int64_t capacity,
                                       bool closed) {
    sort_by_seat_order(entries);
    if (capacity < 0) capacity = 0;

    std::vector<SeatChange> decided;
    decided.reserve(entries.size());
    for (auto& e : entries) decided.push_back({e.id, e.status, e.reason});
    auto decide = [&](size_t i, bool seat) {
        const SeatEntry& e = entries[i];
        std::string status = seat ? "confirmed" : "waitlisted";
        std::string reason = e.reason;
        if (e.status == "requested") {
            reason = seat ? "" : std::string(reasons::kWaitlisted);
        } else if (e.status == "confirmed" && !seat) {
            reason = std::string(reasons::kPreempted);
        } else if (e.status == "waitlisted" && seat) {
            reason = std::string(reasons::kPromoted);
        }
        decided[i] = {e.id, status, reason};
    };

    if (!closed) {
        int64_t n = 0;
        for (size_t i = 0; i < entries.size(); ++i)
            if (competes(entries[i])) decide(i, n++ < capacity);
        return changes_of(entries, decided);
    }
    int64_t confirmed = 0;
    for (auto& e : entries)
        if (e.status == "confirmed") ++confirmed;
    int64_t free = capacity - confirmed;
    for (size_t i = 0; i < entries.size(); ++i) {
        if (!competes(entries[i]) || entries[i].status == "confirmed") continue;
        decide(i, free > 0);
        if (free > 0) --free;
    }
    return changes_of(entries, decided);
}

std::vector<SeatChange> number_waitlist(std::vector<SeatEntry> entries) {
    sort_by_seat_order(entries);
    std::vector<SeatChange> kept;
    kept.reserve(entries.size());
    for (auto& e : entries) kept.push_back({e.id, e.status, e.reason});
    return changes_of(entries, kept);
}

}  // namespace tundra
