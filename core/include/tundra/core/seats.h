// Fair seat allocation, as a pure function (docs/architecture.md, rule 4).
//
// Seats go in the order people acted: the enrolment's `acted` stamp (the device's HLC,
// clamped by the server to the device's last successful sync), ties broken by `tiebreak`.
// Until enrolment closes the allocation is recomputed from scratch, so a seat confirmed to a
// later actor passes to an earlier actor whose request arrived later; the displaced person
// becomes the head of the waitlist with reason `preempted`. After enrolment closes,
// confirmations are final and free seats go to the earliest waitlisted.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tundra/core/hlc.h"

namespace tundra {

struct SeatEntry {
    std::string id;
    Hlc acted;
    std::string tiebreak;
    std::string status;  // requested|confirmed|waitlisted (others are ignored)
    std::string reason;  // current reason, may be empty
};

struct SeatChange {
    std::string id;
    std::string status;
    std::string reason;
};

// Returns only the entries whose status or reason changes.
std::vector<SeatChange> allocate_seats(std::vector<SeatEntry> entries, int64_t capacity,
                                       bool enrolment_closed);

}  // namespace tundra
