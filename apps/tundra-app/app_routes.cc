// The API's routes and who may call each (app_routes.h): one table, checked in one place.
#include "app_routes.h"

namespace tundra::app {

const Route kRoutes[] = {
    // People on the tablet, signing in, unlocking.
    {"GET", "/api/people", Access::open, people},
    {"POST", "/api/signin", Access::open, sign_in},
    {"POST", "/api/unlock", Access::open, unlock},
    {"POST", "/api/unlock-password", Access::open, unlock_password},
    {"POST", "/api/pin", Access::pin_setup, set_pin},
    {"POST", "/api/lock", Access::pin_setup, lock},
    // The status bar, sync and settings: everyone unlocked.
    {"POST", "/api/keepalive", Access::unlocked, keepalive},
    {"POST", "/api/signout", Access::unlocked, sign_out},
    {"GET", "/api/status", Access::unlocked, status},
    {"POST", "/api/sync", Access::unlocked, sync_now},
    {"POST", "/api/sync/cancel", Access::unlocked, sync_cancel},
    {"POST", "/api/dismiss", Access::unlocked, dismiss},
    {"POST", "/api/changed/seen", Access::unlocked, changed_seen},
    {"POST", "/api/language", Access::unlocked, language},
    {"POST", "/api/password", Access::unlocked, password},
    // Both roles enrol (a coordinator enrols their staff).
    {"POST", "/api/enrol", Access::unlocked, enrol},
    {"POST", "/api/cancel", Access::unlocked, cancel},
    // Participants.
    {"GET", "/api/catalogue", Access::participant, catalogue},
    {"GET", "/api/enrolments", Access::participant, my_enrolments},
    {"GET", "/api/attendance", Access::participant, my_attendance},
    {"GET", "/api/todo", Access::participant, todo},
    {"POST", "/api/survey", Access::participant, survey},
    {"GET", "/api/attest", Access::participant, attest_get},
    {"POST", "/api/attest", Access::participant, attest_post},
    // Coordinators.
    {"GET", "/api/occasions", Access::staff, occasions},
    {"GET", "/api/roster", Access::staff, roster},
    {"POST", "/api/mark", Access::staff, mark},
    {"POST", "/api/walk-in", Access::staff, walk_in},
    {"GET", "/api/persons", Access::staff, persons},
    {"GET", "/api/sites", Access::staff, sites},
    {"GET", "/api/deviations", Access::staff, deviations},
    {"POST", "/api/deviation", Access::staff, log_deviation},
    {"POST", "/api/deviation/handle", Access::staff, handle_deviation},
    {nullptr, nullptr, Access::open, nullptr},
};

}  // namespace tundra::app
