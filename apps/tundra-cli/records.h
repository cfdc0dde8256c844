// The CLI's commands for the programme's own records: survey, attest, deviation, participation,
// todo and seen (records.cc). main.cc adds them to the app and runs the one given.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

#include "tundra/client/client.h"

namespace tundra::cli {

struct RecordCommands {
    CLI::App* survey = nullptr;
    CLI::App* attest = nullptr;
    CLI::App* deviation_log = nullptr;
    CLI::App* deviation_handle = nullptr;
    CLI::App* deviation_list = nullptr;
    CLI::App* participation_start = nullptr;
    CLI::App* participation_end = nullptr;
    CLI::App* todo = nullptr;
    CLI::App* seen = nullptr;

    client::SurveyInput survey_in;
    std::string comment;
    std::string month;
    std::optional<int64_t> minutes;
    client::DeviationInput deviation_in;
    std::string occasion, deviation_id, action_taken, person;
    client::DeviationFilter filter;
    bool mark_seen = false;
};

void add_record_commands(CLI::App& app, RecordCommands& c);
// Runs the command of this group that was given: its exit code; nullopt when none was.
std::optional<int> run_record_commands(RecordCommands& c, client::Client& cl, bool as_json);

}  // namespace tundra::cli
