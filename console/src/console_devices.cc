// Devices grouped by tablet, and revoking a device or a whole tablet (remote wipe at its
// next contact), with the console user as the audit trail's actor.
#include "console_routes.h"

namespace tundra::console {

HttpResponse tablets(Call& c) {
    auto list = c.store.tablets();
    if (!list) return error_json(list.status());
    JsonOut out;
    out.begin();
    out.begin_array("tablets");
    for (auto& t : list.value()) {
        out.begin();
        out.str("install_id", t.install_id);
        out.num("last_seen_ms", t.last_seen_ms);
        out.flag("stale", t.stale);
        out.begin_array("devices");
        for (auto& d : t.devices) {
            out.begin();
            out.str("id", d.id);
            out.str("username", d.username);
            out.str("role", d.role);
            out.str("name", d.name);
            out.str("app_version", d.app_version);
            out.str("created_at", d.created_at);
            out.num("last_seen_ms", d.last_seen_ms);
            out.flag("revoked", d.revoked);
            out.flag("stale", d.stale);
            out.num("rejections", d.rejections);
            out.end();
        }
        out.end_array();
        out.end();
    }
    out.end_array();
    out.num("now_ms", c.now_ms);
    out.end();
    return ok_json(out);
}

HttpResponse revoke_device(Call& c) {
    TUNDRA_TRY_RESPONSE(empty_body(c));
    TUNDRA_TRY_RESPONSE(c.store.revoke_device(c.params[0], c.actor()));
    JsonOut out;
    out.begin();
    out.num("revoked", 1);
    out.end();
    return ok_json(out);
}

HttpResponse revoke_tablet(Call& c) {
    TUNDRA_TRY_RESPONSE(empty_body(c));
    auto n = c.store.revoke_tablet(c.params[0], c.actor());
    if (!n) return error_json(n.status());
    JsonOut out;
    out.begin();
    out.num("revoked", n.value());
    out.end();
    return ok_json(out);
}

}  // namespace tundra::console
