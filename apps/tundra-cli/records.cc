// The CLI's commands for the programme's own records (records.h). Local checks are the SDK's:
// the CLI passes what was typed and prints the SDK's error as it is.
#include "records.h"

#include <iostream>

#include "output.h"

namespace tundra::cli {
namespace {
int fail(const Status& st) {
    std::cerr << "error: " << st.to_string() << "\n";
    return 1;
}
}  // namespace

void add_record_commands(CLI::App& app, RecordCommands& c) {
    c.survey = app.add_subcommand("survey", "participants: answer the survey of an occasion you attended");
    c.survey->add_option("occasion", c.survey_in.occasion)->required();
    c.survey->add_option("--content", c.survey_in.content, "1-5: the content")->required();
    c.survey->add_option("--usefulness", c.survey_in.usefulness, "1-5: useful in your work")->required();
    c.survey->add_option("--overall", c.survey_in.overall, "1-5: overall")->required();
    c.survey->add_option("--comment", c.comment, "free text");

    c.attest = app.add_subcommand(
        "attest", "participants: confirm a month's minutes in project activities (without MINUTES: "
                  "the minutes your attendance marks suggest)");
    c.attest->add_option("month", c.month, "YYYY-MM (Swedish time)")->required();
    c.attest->add_option("minutes", c.minutes, "minutes to attest");

    auto* dev = app.add_subcommand("deviation", "coordinators, admins: the deviation log");
    dev->require_subcommand(1);
    c.deviation_log = dev->add_subcommand("log", "log a deviation");
    c.deviation_log->add_option("--organisation", c.deviation_in.organisation, "organisation code")->required();
    c.deviation_log->add_option("--category", c.deviation_in.category,
                                "cancelled_session|technical|attendance|content|accessibility|other")
        ->required();
    c.deviation_log->add_option("--description", c.deviation_in.description, "what happened")->required();
    c.deviation_log->add_option("--occasion", c.occasion, "the occasion it concerns");
    c.deviation_handle = dev->add_subcommand("handle", "mark a deviation handled");
    c.deviation_handle->add_option("deviation", c.deviation_id)->required();
    c.deviation_handle->add_option("--action-taken", c.action_taken, "what was done")->required();
    c.deviation_list = dev->add_subcommand("list", "the deviation log in this replica");
    c.deviation_list->add_option("--status", c.filter.status, "open|handled");
    c.deviation_list->add_option("--organisation", c.filter.organisation, "organisation code");
    c.deviation_list->add_option("--category", c.filter.category, "a category");

    auto* part = app.add_subcommand("participation", "coordinators, admins: a person's project participation");
    part->require_subcommand(1);
    c.participation_start = part->add_subcommand("start", "the participation starts in a month");
    c.participation_start->add_option("person", c.person)->required();
    c.participation_start->add_option("month", c.month, "YYYY-MM")->required();
    c.participation_end = part->add_subcommand("end", "the person's open participation ends in a month");
    c.participation_end->add_option("person", c.person)->required();
    c.participation_end->add_option("month", c.month, "YYYY-MM")->required();

    c.todo = app.add_subcommand("todo", "what is still unanswered: surveys, months to attest, changes for "
                                        "you, open deviations (offline)");
    c.todo->add_flag("--seen", c.mark_seen, "mark the \"changed for you\" notices seen");
    c.seen = app.add_subcommand("seen", "mark the \"changed for you\" notices seen (as `todo --seen`)");
}

std::optional<int> run_record_commands(RecordCommands& c, client::Client& cl, bool as_json) {
    auto print = [&](const std::string& json, const std::string& text) {
        std::cout << (as_json ? json + "\n" : text);
        return 0;
    };
    auto recorded = [&](const char* key, const Result<std::string>& id, const std::string& what) {
        if (!id) return fail(id.status());
        return print(std::string("{\"") + key + "\":\"" + id.value() + "\",\"pending\":true}",
                     what + " " + id.value() + " recorded (pending until `tundra sync`)\n");
    };
    if (*c.survey) {
        if (!c.comment.empty()) c.survey_in.comment = c.comment;
        return recorded("response", cl.submit_survey(c.survey_in), "survey answer");
    }
    if (*c.attest) {
        auto s = cl.attest_suggestion(c.month);
        if (!s) return fail(s.status());
        if (!c.minutes) return print(suggestion_json(s.value()), suggestion_text(s.value()));
        auto id = cl.attest(c.month, *c.minutes);
        if (!id) return fail(id.status());
        return print(attested_json(id.value(), s.value(), *c.minutes),
                     attested_text(id.value(), s.value(), *c.minutes));
    }
    if (*c.deviation_log) {
        if (!c.occasion.empty()) c.deviation_in.occasion = c.occasion;
        return recorded("deviation", cl.log_deviation(c.deviation_in), "deviation");
    }
    if (*c.deviation_handle)
        return recorded("deviation", cl.handle_deviation(c.deviation_id, c.action_taken), "handling of deviation");
    if (*c.deviation_list) {
        auto v = cl.deviations(c.filter);
        if (!v) return fail(v.status());
        return print(deviations_json(v.value()), deviations_text(v.value()));
    }
    if (*c.participation_start)
        return recorded("participation", cl.start_participation(c.person, c.month),
                        "start of " + c.person + "'s participation");
    if (*c.participation_end)
        return recorded("participation", cl.end_participation(c.person, c.month),
                        "end of " + c.person + "'s participation");
    if ((*c.todo && c.mark_seen) || *c.seen) {
        auto n = cl.mark_notices_seen();
        if (!n) return fail(n.status());
        return print("{\"seen\":" + std::to_string(n.value()) + "}",
                     std::to_string(n.value()) + " change(s) marked seen\n");
    }
    if (*c.todo) {
        auto t = cl.todo();
        if (!t) return fail(t.status());
        return print(todo_json(t.value()), todo_text(t.value()));
    }
    return std::nullopt;
}

}  // namespace tundra::cli
