#include "tundra/core/seats.h"

#include <algorithm>

#include "tundra/core/action.h"

namespace tundra {

std::vector<SeatChange> allocate_seats(std::vector<SeatEntry> entries, int64_t capacity,
                                       bool closed) {
    std::erase_if(entries, [](const SeatEntry& e) {
        return e.status != "requested" && e.status != "confirmed" && e.status != "waitlisted";
    });
    std::sort(entries.begin(), entries.end(), [](const SeatEntry& a, const SeatEntry& b) {
        if (a.acted != b.acted) return a.acted < b.acted;
        if (a.tiebreak != b.tiebreak) return a.tiebreak < b.tiebreak;
        return a.id < b.id;
    });
    if (capacity < 0) capacity = 0;

    std::vector<SeatChange> changes;
    auto decide = [&](const SeatEntry& e, bool seat) {
        std::string status = seat ? "confirmed" : "waitlisted";
        std::string reason = e.reason;
        if (e.status == "requested") {
            reason = seat ? "" : std::string(reasons::kWaitlisted);
        } else if (e.status == "confirmed" && !seat) {
            reason = std::string(reasons::kPreempted);
        } else if (e.status == "waitlisted" && seat) {
            reason = std::string(reasons::kPromoted);
        }
        if (status != e.status || reason != e.reason) changes.push_back({e.id, status, reason});
    };

    if (!closed) {
        int64_t n = 0;
        for (auto& e : entries) decide(e, n++ < capacity);
        return changes;
    }
    int64_t confirmed = 0;
    for (auto& e : entries)
        if (e.status == "confirmed") ++confirmed;
    int64_t free = capacity - confirmed;
    for (auto& e : entries) {
        if (e.status == "confirmed") continue;
        decide(e, free > 0);
        if (free > 0) --free;
    }
    return changes;
}

}  // namespace tundra
