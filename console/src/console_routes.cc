// The console API's routes and who may call each (console_routes.h): one table, checked in
// one place (console_handler.cc). Paths are under /console/api; "{}" is one path segment.
#include "console_routes.h"

namespace tundra::console {

const Route kRoutes[] = {
    // The signed-in user.
    {"GET", "/me", Access::staff, me},
    {"POST", "/language", Access::staff, set_language},
    // Organisations and sites.
    {"GET", "/organisations", Access::staff, organisations},
    {"POST", "/organisations", Access::admin, upsert_organisation},
    {"GET", "/sites", Access::staff, sites},
    {"POST", "/sites", Access::admin, upsert_site},
    // The catalogue: everyone reads it, admins change it.
    {"GET", "/courses", Access::staff, courses},
    {"GET", "/courses/{}", Access::staff, course},
    {"POST", "/courses", Access::admin, create_course},
    {"POST", "/courses/{}", Access::admin, update_course},
    {"GET", "/occasions", Access::staff, occasions},
    {"POST", "/occasions", Access::admin, create_occasion},
    {"POST", "/occasions/{}", Access::admin, update_occasion},
    {"POST", "/occasions/{}/cancel", Access::admin, cancel_occasion},
    // Rosters, enrolments and attendance: coordinators for their staff.
    {"GET", "/occasions/{}/roster", Access::staff, roster},
    {"POST", "/enrolments", Access::staff, enrol},
    {"POST", "/enrolments/{}/cancel", Access::staff, cancel_enrolment},
    {"POST", "/attendance", Access::staff, mark_attendance},
    // People.
    {"GET", "/persons", Access::staff, persons},
    {"GET", "/persons/{}", Access::staff, person},
    {"POST", "/persons", Access::staff, add_person},
    {"POST", "/persons/{}", Access::staff, update_person},
    {"POST", "/participations", Access::staff, upsert_participation},
    {"POST", "/persons/{}/erase", Access::admin, erase_person},
    {"GET", "/persons/{}/export", Access::admin, export_person},
    // Logins.
    {"GET", "/users", Access::admin, users},
    {"POST", "/users", Access::admin, add_user},
    {"POST", "/users/{}/password", Access::admin, set_password},
    {"POST", "/users/{}/revoke", Access::admin, revoke_user},
    // Devices, by tablet.
    {"GET", "/tablets", Access::admin, tablets},
    {"POST", "/devices/{}/revoke", Access::admin, revoke_device},
    {"POST", "/tablets/{}/revoke", Access::admin, revoke_tablet},
    // Deviations.
    {"GET", "/deviations", Access::staff, deviations},
    {"POST", "/deviations", Access::staff, log_deviation},
    // Import: the file itself is the body.
    {"POST", "/import/preview", Access::admin, import_preview, Body::upload},
    {"POST", "/import/apply", Access::admin, import_apply, Body::upload},
    // Reports, seals, audit.
    {"GET", "/reports/{}", Access::staff, report},
    {"GET", "/seals", Access::staff, seals},
    {"POST", "/seals", Access::admin, seal},
    {"GET", "/audit", Access::admin, audit},
    {nullptr, nullptr, Access::admin, nullptr},
};

}  // namespace tundra::console
