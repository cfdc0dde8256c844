// The Client facade, recording: each action is checked against the replica, then recorded
// with its overlay in one transaction (Replica::record), pending until a sync.
#include "client_internal.h"

namespace tundra::client {
// Local ids are unique without coordination and without the seq, which a restored or
// rolled-back replica may issue again.
std::string new_id(const char* prefix, const ReplicaMeta& m) {
    std::string dev = m.device_id.size() > 4 ? m.device_id.substr(4, 8) : m.device_id;
    return std::string(prefix) + "-" + dev + "-" + random_hex(16);
}

Result<ReplicaMeta> ClientCore::signed_in(std::string_view admins_only) {
    ReplicaMeta m = replica->load_meta();
    TUNDRA_TRY(require_login(m));
    if (!admins_only.empty() && m.role != "admin")
        return Status(Errc::forbidden, "only admins " + std::string(admins_only));
    return m;
}

Result<std::string> Client::enrol(const std::string& occasion, const std::string& person) {
    return impl_->locked([&]() -> Result<std::string> {
        auto& I = *impl_;
        auto session = I.signed_in();
        if (!session) return session.status();
        const ReplicaMeta& m = session.value();
        std::string who = person.empty() ? m.person : person;
        if (who.empty())
            return Status(Errc::invalid_argument, "say whom to enrol: --person ID");
        TUNDRA_TRY(I.need(Kind::occasion, occasion));
        TUNDRA_TRY(I.need(Kind::person, who));
        return I.record("enrol", Row{{"enrolment", new_id("e", m)}, {"occasion", occasion}, {"person", who}});
    });
}

Result<std::string> Client::cancel(const std::string& enrolment) {
    return impl_->locked([&]() -> Result<std::string> {
        auto& I = *impl_;
        TUNDRA_TRY(I.signed_in().status());
        TUNDRA_TRY(I.need(Kind::enrolment, enrolment));
        return I.record("cancel_enrolment", Row{{"enrolment", enrolment}});
    });
}

Result<std::string> Client::mark_attendance(const std::string& occasion, const std::string& person,
                                            const std::string& status, std::optional<int64_t> minutes) {
    return impl_->locked([&]() -> Result<std::string> {
        auto& I = *impl_;
        auto session = I.signed_in();
        if (!session) return session.status();
        const ReplicaMeta& m = session.value();
        if (!kAttendanceStatuses.contains(status))
            return Status(Errc::invalid_argument,
                          "status must be one of " + kAttendanceStatuses.list());
        if (minutes && (*minutes < 0 || *minutes > 1440))
            return Status(Errc::invalid_argument, "minutes must be between 0 and 1440");
        TUNDRA_TRY(I.need(Kind::occasion, occasion));
        TUNDRA_TRY(I.need(Kind::person, person));
        Row f{{"mark", new_id("m", m)}, {"occasion", occasion}, {"person", person}, {"status", status}};
        if (minutes) f["minutes"] = *minutes;
        return I.record("mark_attendance", std::move(f));
    });
}

Result<WalkInReceipt> Client::walk_in(const std::string& occasion, const std::string& person,
                                      const std::string& status, std::optional<int64_t> minutes) {
    return impl_->locked([&]() -> Result<WalkInReceipt> {
        auto& I = *impl_;
        auto session = I.signed_in();
        if (!session) return session.status();
        const ReplicaMeta& m = session.value();
        if (m.role == "participant")
            return Status(Errc::forbidden, "only coordinators and admins record walk-ins");
        if (!kAttendanceStatuses.contains(status))
            return Status(Errc::invalid_argument,
                          "status must be one of " + kAttendanceStatuses.list());
        if (minutes && (*minutes < 0 || *minutes > 1440))
            return Status(Errc::invalid_argument, "minutes must be between 0 and 1440");
        TUNDRA_TRY(I.need(Kind::occasion, occasion));
        TUNDRA_TRY(I.need(Kind::person, person));
        WalkInReceipt out{new_id("e", m), new_id("m", m)};
        Row f{{"enrolment", out.enrolment}, {"mark", out.mark}, {"occasion", occasion},
              {"person", person}, {"status", status}};
        if (minutes) f["minutes"] = *minutes;
        auto id = I.record("walk_in", std::move(f));
        if (!id) return id.status();
        return out;
    });
}

Result<std::string> Client::upsert_course(const CourseInput& in) {
    return impl_->locked([&]() -> Result<std::string> {
        auto& I = *impl_;
        auto session = I.signed_in("edit courses");
        if (!session) return session.status();
        const ReplicaMeta& m = session.value();
        Row f{{"course", in.id.empty() ? new_id("c", m) : in.id}};
        auto exists = I.exists(Kind::course, *get_str(f, "course"));
        if (!exists) return exists.status();
        if (!exists.value() && (!in.title || !in.format))
            return Status(Errc::invalid_argument, "a new course needs --title and --format");
        if (in.title) f["title"] = *in.title;
        if (in.description) f["description"] = *in.description;
        if (in.theme) f["theme"] = *in.theme;
        if (in.format) f["format"] = *in.format;
        if (in.provider) f["provider"] = *in.provider;
        if (in.duration_minutes) f["duration_minutes"] = *in.duration_minutes;
        if (in.organisations) f["organisations"] = *in.organisations;
        if (in.published) f["published"] = *in.published;
        if (in.organisations)
            for (auto& o : *in.organisations) TUNDRA_TRY(I.need(Kind::organisation, o));
        return I.record("upsert_course", std::move(f));
    });
}

Result<std::string> Client::upsert_occasion(const OccasionInput& in) {
    return impl_->locked([&]() -> Result<std::string> {
        auto& I = *impl_;
        auto session = I.signed_in("edit occasions");
        if (!session) return session.status();
        const ReplicaMeta& m = session.value();
        Row f{{"occasion", in.id.empty() ? new_id("o", m) : in.id}};
        auto exists = I.exists(Kind::occasion, *get_str(f, "occasion"));
        if (!exists) return exists.status();
        if (!exists.value() && (!in.course || !in.starts_at || !in.ends_at || !in.capacity || !in.enrolment_closes))
            return Status(Errc::invalid_argument,
                          "a new occasion needs --course, --starts-at, --ends-at, --capacity and --enrolment-closes");
        if (in.course) {
            TUNDRA_TRY(I.need(Kind::course, *in.course));
            f["course"] = *in.course;
        }
        for (auto [key, val] : {std::pair{"starts_at", &in.starts_at}, {"ends_at", &in.ends_at},
                                {"enrolment_opens", &in.enrolment_opens},
                                {"enrolment_closes", &in.enrolment_closes}}) {
            if (!*val) continue;
            auto t = parse_iso8601(**val);
            if (!t) return Status(Errc::invalid_argument, std::string(key) + ": " + t.status().message());
            f[key] = format_iso8601(t.value());
        }
        if (in.site) {
            TUNDRA_TRY(I.need(Kind::site, *in.site));
            f["site"] = *in.site;
        }
        if (in.online_link) f["online_link"] = *in.online_link;
        if (in.status) f["status"] = *in.status;
        if (in.capacity) {
            if (*in.capacity < 0) return Status(Errc::invalid_argument, "capacity must not be negative");
            f["capacity"] = *in.capacity;
        }
        return I.record("upsert_occasion", std::move(f));
    });
}

Result<std::string> Client::update_person(const PersonInput& in) {
    return impl_->locked([&]() -> Result<std::string> {
        auto& I = *impl_;
        TUNDRA_TRY(I.signed_in().status());
        TUNDRA_TRY(I.need(Kind::person, in.id));
        Row f{{"person", in.id}};
        if (in.name) f["name"] = *in.name;
        if (in.site) f["site"] = *in.site;
        if (in.profession) f["profession"] = *in.profession;
        if (in.education_level) f["education_level"] = *in.education_level;
        if (in.employment_status) f["employment_status"] = *in.employment_status;
        auto a = Action{1, Hlc{1}, "update_person", f};
        TUNDRA_TRY(validate_action(a, "person"));
        return I.record("update_person", std::move(f));
    });
}

Result<std::string> Client::delete_occasion(const std::string& occasion) {
    return impl_->locked([&]() -> Result<std::string> {
        auto& I = *impl_;
        TUNDRA_TRY(I.signed_in("delete occasions").status());
        TUNDRA_TRY(I.need(Kind::occasion, occasion));
        return I.record("delete_occasion", Row{{"occasion", occasion}});
    });
}

}  // namespace tundra::client
