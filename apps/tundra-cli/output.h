// Rendering of SDK views for the CLI: one JSON document with --json, plain text otherwise.
#pragma once

#include <string>
#include <vector>

#include "tundra/client/client.h"

namespace tundra::cli {

std::string courses_json(const std::vector<client::CourseView>& v);
std::string enrolments_json(const std::vector<client::EnrolmentView>& v);
std::string attendance_json(const std::vector<client::AttendanceView>& v);
std::string status_json(const client::StatusView& v);
std::string sync_json(const client::SyncReport& r);
std::string verify_json(const client::VerifyReport& v);

std::string courses_text(const std::vector<client::CourseView>& v);
std::string enrolments_text(const std::vector<client::EnrolmentView>& v);
std::string attendance_text(const std::vector<client::AttendanceView>& v);
std::string status_text(const client::StatusView& v);
std::string sync_text(const client::SyncReport& r);
std::string verify_text(const client::VerifyReport& v);

}  // namespace tundra::cli
