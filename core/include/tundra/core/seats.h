// Fair seat allocation, as a pure function (docs/architecture.md, rule 4).
//
// Seats go in the order people acted: the enrolment's `acted` stamp (the device's HLC,
// clamped by the server to the device's last successful sync), ties broken by `tiebreak`.
// Until enrolment closes the allocation is recomputed from scratch, so a seat confirmed to a
// later actor passes to an earlier actor whose request arrived later; the displaced person
// becomes the head of the waitlist with reason `preempted`. After enrolment closes,
// confirmations are final and free seats go to the earliest waitlisted.
//
// The waitlist is numbered in the same order: each waitlisted entry's 1-based position is
// decided here, with its status, so that a position can never disagree with the seats.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tundra/core/hlc.h"

namespace tundra {

struct SeatEntry {
    std::string id;
    Hlc acted;
    std::string tiebreak;
    std::string status;  // requested|confirmed|waitlisted compete for seats; others only lose
                         // any waitlist position they hold
    std::string reason;  // current reason, may be empty
    std::optional<int64_t> position = {};  // current place on the waitlist, if any
};

struct SeatChange {
    std::string id;
    std::string status;
    std::string reason;
    std::optional<int64_t> position = {};  // 1-based place on the waitlist; none unless waitlisted
};

// Decides every entry's status and waitlist position; returns only the entries whose status,
// reason or position changes.
std::vector<SeatChange> allocate_seats(std::vector<SeatEntry> entries, int64_t capacity,
                                       bool enrolment_closed);

// Numbers the waitlist as the statuses stand (an import's statuses are facts, not decided
// here); returns only the entries whose position changes.
std::vector<SeatChange> number_waitlist(std::vector<SeatEntry> entries);

}  // namespace tundra
