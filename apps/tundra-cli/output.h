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

// The programme's records (records_output.cc).
std::string suggestion_json(const client::AttestSuggestion& s);
std::string suggestion_text(const client::AttestSuggestion& s);
std::string attested_json(const std::string& id, const client::AttestSuggestion& s, int64_t minutes);
std::string attested_text(const std::string& id, const client::AttestSuggestion& s, int64_t minutes);
std::string deviations_json(const std::vector<client::DeviationView>& v);
std::string deviations_text(const std::vector<client::DeviationView>& v);
std::string todo_json(const client::TodoView& t);
std::string todo_text(const client::TodoView& t);

}  // namespace tundra::cli
