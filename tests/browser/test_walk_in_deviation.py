"""The coordinator's other tasks, all offline first, then synced (issue 10, "Coordinator"):
a walk-in who is already in the register, a walk-in who is new (name, site, gender, birth
year), enrolling staff into an occasion with one seat (the second goes to the waiting list,
shown as a place in the queue), and a deviation logged (category chosen from a list) and
marked handled with the action taken. The server then holds each of them.

    /usr/bin/python3 tests/browser/test_walk_in_deviation.py
"""

import re
import unittest

import coord
import harness as h


class WalkInDeviation(unittest.TestCase):
    def test_walk_ins_enrol_staff_deviation_offline_then_sync(self):
        with h.Env() as env:
            coord.add_staff(env)
            sc = env.scenario
            d = env.browser("tablet")
            coord.sign_in(env, d, "cecilia")
            lyft, demens = sc.course_title("c-lyft"), sc.course_title("c-demens")
            coord.tap(d, re.compile("^" + lyft + r".*09:00–12:00"), role="link")
            h.heading(d, lyft)
            env.offline()

            # A walk-in who is already in the register: found by name.
            h.click(d, h.t("roster.walk_in"))
            h.heading(d, h.t("walkin.title"))
            h.run_axe(d, "walk-in: search, empty")
            h.fill(d, h.t("search.label"), "Jon")
            h.wait_text(d, h.t("search.count", count=1))
            h.run_axe(d, "walk-in: search, one hit")
            h.screenshot(d, "walk-in-search-tablet")
            h.click(d, h.t("walkin.add", name="Jonas Lind"))
            h.heading(d, lyft)
            jonas = coord.roster_row(d, "Jonas Lind")
            self.assertIn(h.t("common.pending"), jonas.text)

            # A walk-in who is new: name, site, gender and birth year.
            h.click(d, h.t("roster.walk_in"))
            h.click(d, h.t("walkin.new_button"))
            h.heading(d, h.t("walkin.new_title"))
            h.run_axe(d, "walk-in, new person: empty form")
            h.click(d, h.t("walkin.save_new"))
            h.wait_text(d, h.t("walkin.name_empty"))
            h.run_axe(d, "walk-in, new person: error shown")
            h.fill(d, h.t("walkin.name"), "Kim Sjöberg")
            h.choose(d, h.t("walkin.site"), next(o for o in option_texts(d, h.t("walkin.site"))
                                                 if o.startswith(sc.site_name("site-norr"))))
            h.find_by_role(d, "radio", h.t("gender.non_binary")).click()
            h.fill(d, h.t("walkin.birth_year"), "1991")
            h.screenshot(d, "walk-in-new-filled-tablet")
            h.click(d, h.t("walkin.save_new"))
            h.heading(d, lyft)
            kim = coord.roster_row(d, "Kim Sjöberg")
            self.assertIn(h.t("common.pending"), kim.text)
            h.wait_text(d, h.t("roster.people", count=9))

            # Enrol staff into the occasion with one seat: Dina gets it, Bo waits.
            h.click(d, h.t("roster.back"))
            coord.tap(d, re.compile("^" + demens + ".*"), role="link")
            h.heading(d, demens)
            h.click(d, h.t("roster.enrol_staff"))
            h.heading(d, h.t("enrolstaff.title"))
            h.wait_text(d, h.t("catalogue.seats_left", count=1))
            h.fill(d, h.t("search.label"), "Dina")
            h.click(d, h.t("enrolstaff.enrol", name="Dina Holm"))
            h.wait_text(d, h.t("enrolstaff.list_title", count=1))
            h.fill(d, h.t("search.label"), "Bo E")
            h.click(d, h.t("enrolstaff.enrol", name="Bo Ek"))
            h.wait_text(d, h.t("enrolstaff.list_title", count=2))
            h.run_axe(d, "enrol staff: offline, 2 pending")

            # A deviation: category from a list; then handled, saying what was done.
            h.click(d, h.t("nav.deviations"), role="link")
            h.heading(d, h.t("deviations.title"))
            h.wait_text(d, h.t("deviations.none_open"))
            h.run_axe(d, "deviations: none open")
            h.click(d, h.t("deviations.new"))
            h.heading(d, h.t("deviation.new_title"))
            h.run_axe(d, "new deviation: empty form")
            h.choose(d, h.t("deviation.category"), h.t("category.technical"))
            h.fill(d, h.t("deviation.description"), "Projektorn startade inte.")
            today_option = next(o for o in option_texts(d, h.t("deviation.occasion")) if lyft in o and "09:00" in o)
            h.choose(d, h.t("deviation.occasion"), today_option)
            h.click(d, h.t("deviation.save"))
            h.heading(d, h.t("deviations.title"))
            card = h.find_by_role_text(d, "listitem", "Projektorn startade inte.")
            self.assertIn(h.t("category.technical"), card.text)
            self.assertIn(h.t("common.pending"), card.text)
            h.run_axe(d, "deviations: one open, pending")
            h.screenshot(d, "deviations-open-pending-tablet")
            h.click(d, h.t("deviations.handle"))
            h.heading(d, h.t("deviation.handle_title"))
            h.run_axe(d, "handle deviation: form")
            h.fill(d, h.t("deviation.action_taken"), "Lånade en projektor från Syd.")
            h.click(d, h.t("deviation.handle_save"))
            h.heading(d, h.t("deviations.title"))
            h.wait_text(d, h.t("deviations.none_open"))
            h.click(d, h.t("deviations.show_handled"), role="link")
            card = h.find_by_role_text(d, "listitem", "Projektorn startade inte.")
            self.assertIn("Lånade en projektor från Syd.", card.text)
            h.run_axe(d, "deviations: handled, pending")
            h.wait_text(d, h.t("status.pending", count=6))

            # The link returns: everything goes, and the server decides the seat.
            env.online()
            coord.sync_now(d)
            coord.wait_synced(d, timeout=40)

            h.click(d, h.t("nav.today"), role="link")
            coord.tap(d, re.compile("^" + demens + ".*"), role="link")
            h.heading(d, demens)
            queue = h.find_by_role(d, "region", h.t("roster.queue", count=1))
            self.assertIn("Bo Ek", queue.text)
            self.assertIn(h.t("enrolment.queue_place", place=1), queue.text)
            h.run_axe(d, "roster: full occasion with a queue")
            h.screenshot(d, "roster-queue-tablet")

            cli = env.cli("cecilia")
            cli.run("sync")
            marks = coord.server_marks(cli, "o-today")
            self.assertEqual(marks["p-jonas"]["status"], "present")
            kim_ids = [p for p in marks if p not in {"p-anna", "p-bo", "p-dina", "p-jonas"} | {x[0] for x in coord.EXTRA_STAFF}]
            self.assertEqual(len(kim_ids), 1, marks)
            self.assertEqual(marks[kim_ids[0]]["status"], "present")
            enrols = [e for e in cli.json("enrolments") if e["occasion"] == "o-small"]
            by_person = {e["person"]: e for e in enrols}
            self.assertEqual(by_person["p-dina"]["status"], "confirmed")
            self.assertEqual(by_person["p-bo"]["status"], "waitlisted")
            devs = cli.json("deviation", "list")
            if isinstance(devs, dict):
                devs = devs.get("deviations", [])
            self.assertEqual([(x["category"], x["status"], x["action_taken"], x.get("occasion")) for x in devs],
                             [("technical", "handled", "Lånade en projektor från Syd.", "o-today")])


def option_texts(d, label):
    sel = h.field_by_label(d, label)
    return [o.text for o in sel.find_elements("tag name", "option")]


if __name__ == "__main__":
    h.main(needs_app=True, needs_cli=True)
