"""Survey and time attestation, in a real browser: Anna answers the survey due for yesterday's
occasion (three ratings as radio groups, answered with the keyboard only) and confirms last
month's time with the minutes the page prefills from her attendance; after a sync the server
holds both (tundra-server export-person).

    /usr/bin/python3 tests/browser/test_survey_attestation.py
"""

import datetime as dt
import json
import unittest

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

import harness as h
import participant_steps as steps

LAST_MONTH_MINUTES = 90


def last_month_occasion(sc: h.Scenario) -> tuple[dict, str]:
    """An occasion Anna attended last month (90 minutes, its survey long closed), so the month
    she attests has minutes to prefill. Returns (import document, month)."""
    day = sc.today.replace(day=1) - dt.timedelta(days=20)
    start, end = h.stockholm(day, 10), h.stockholm(day, 11, 30)
    doc = {
        "occasions": [{"id": "o-lastmonth", "course": "c-demens", "starts_at": h.utc_iso(start),
                       "ends_at": h.utc_iso(end), "site": "site-norr", "capacity": 10,
                       "enrolment_closes": h.utc_iso(start - dt.timedelta(days=1)),
                       "survey_closes": h.utc_iso(end + dt.timedelta(hours=1))}],
        "enrolments": [{"id": "e-lastmonth-anna", "occasion": "o-lastmonth", "person": "p-anna",
                        "status": "confirmed"}],
        "attendance": [{"occasion": "o-lastmonth", "person": "p-anna", "status": "present",
                        "minutes": LAST_MONTH_MINUTES}],
    }
    return doc, day.strftime("%Y-%m")


class SurveyAttestation(unittest.TestCase):
    def test_survey_and_attestation_reach_the_server(self):
        with h.Env() as env:
            sc = env.scenario
            doc, month = last_month_occasion(sc)
            env.server.import_doc(doc)
            title = sc.course_title("c-lyft")
            d = env.browser("tablet")
            d.get(env.app.url)
            steps.first_sign_in(d, env, "anna", "2468")
            steps.wait_synced(d, env)
            d.refresh()  # the start screen as it is after the first sync
            h.heading(d, h.t("home.title", name="Anna"))

            # The start screen: one survey to answer and one month to attest.
            surveys = h.find_by_role(d, "region", h.t("home.surveys_title"))
            self.assertIn(title, surveys.text)
            months = h.find_by_role(d, "region", h.t("home.months_title"))
            self.assertIn(h.t("home.month_summary", occasions=1, minutes=LAST_MONTH_MINUTES), months.text)
            h.axe_and_screenshots(d, "home: a survey and a month to do", "home-todo")

            # --- The survey, keyboard only ---
            h.click(d, h.t("home.survey_answer"), within=surveys)
            h.heading(d, h.t("survey.title", title=title))
            h.run_axe(d, "survey: empty")
            h.screenshot(d, "survey-empty-tablet")
            # Sent with nothing chosen: the page says which question is unanswered.
            h.click(d, h.t("survey.submit"))
            h.wait_text(d, h.t("survey.missing", question=h.t("survey.q_content")))
            self.assertEqual(h.focused(d)[0], "radio")
            h.run_axe(d, "survey: a question unanswered")

            questions = [h.t("survey.q_content"), h.t("survey.q_usefulness"), h.t("survey.q_overall")]
            wanted = {questions[0]: 4, questions[1]: 5, questions[2]: 3}
            # From the screen's heading (where the page puts focus when a screen opens), Tab
            # reaches the first radio group; Space chooses 1, arrow keys move the choice. (Not
            # from the top: the header is rebuilt at every status poll, under the keyboard.)
            heading = h.heading(d, h.t("survey.title", title=title))
            d.execute_script("arguments[0].focus()", heading)
            for _ in range(10):
                ActionChains(d).send_keys(Keys.TAB).perform()
                if steps.stable(lambda: h.focused(d))[0] == "radio":
                    break
            for q in questions:
                self.assertEqual(h.focused(d)[0], "radio", f"focus in the group '{q}'")
                actions = ActionChains(d).send_keys(Keys.SPACE)
                for _ in range(wanted[q] - 1):
                    actions.send_keys(Keys.ARROW_RIGHT)
                actions.send_keys(Keys.TAB).perform()
            for q in questions:
                group = h.find_by_role(d, "group", q)
                chosen = [n for n, el in h.all_by_role(d, "radio", within=group) if el.is_selected()]
                self.assertEqual(len(chosen), 1, f"{q}: {chosen}")
                self.assertTrue(chosen[0].startswith(str(wanted[q])), f"{q}: chose {chosen[0]!r}")
            # After the last group: the comment, then the send button.
            self.assertEqual(h.focused(d), ("textbox", h.t("survey.comment")))
            ActionChains(d).send_keys("Bra övningar på förflyttning, tack!").perform()
            ActionChains(d).send_keys(Keys.TAB).perform()
            self.assertEqual(h.focused(d), ("button", h.t("survey.submit")))
            h.run_axe(d, "survey: answered, before sending")
            h.screenshot(d, "survey-answered-tablet")
            ActionChains(d).send_keys(Keys.ENTER).perform()

            h.heading(d, h.t("home.title", name="Anna"))
            self.assertNotIn(h.t("home.surveys_title"), h.page_text(d))
            # (Online, the app syncs a few seconds after a batch of actions: the count of
            # pending actions may already be back to nothing.)

            # --- The time attestation: minutes prefilled from her attendance ---
            months = h.find_by_role(d, "region", h.t("home.months_title"))
            h.click(d, h.t("home.attest"), within=months)
            minutes = h.field_by_label(d, h.t("attest.minutes"))
            self.assertEqual(minutes.get_attribute("value"), str(LAST_MONTH_MINUTES))
            h.wait_text(d, h.t("attest.minutes_hint", minutes=LAST_MONTH_MINUTES))
            h.axe_and_screenshots(d, "attestation: prefilled", "attestation-prefilled")
            h.click(d, h.t("attest.submit"))
            h.heading(d, h.t("home.title", name="Anna"))
            self.assertNotIn(h.t("home.months_title"), h.page_text(d))
            h.wait_text(d, h.t("home.nothing"))
            h.run_axe(d, "home: nothing to do")

            # After a sync the server holds both, as she gave them.
            steps.sync_now(d)
            h.wait_text(d, h.t("status.nothing_pending"), timeout=30)
            self.assertNotIn(h.t("rejected.title"), h.page_text(d))
            held = json.loads(env.server.admin("export-person", "p-anna"))
            surveys_held = _rows(held, "survey_responses")
            self.assertEqual([(s["occasion"], s["rating_content"], s["rating_usefulness"], s["rating_overall"],
                               s["comment"]) for s in surveys_held],
                             [("o-yesterday", 4, 5, 3, "Bra övningar på förflyttning, tack!")])
            attested = _rows(held, "time_attestations")
            self.assertEqual([(a["month"], a["minutes"]) for a in attested], [(month, LAST_MONTH_MINUTES)])

            # Reopened, the month says it is attested.
            d.get(f"{env.app.url}/#/attest/{month}")
            h.wait_text(d, h.t("attest.already", minutes=LAST_MONTH_MINUTES))
            h.run_axe(d, "attestation: already attested")


def _rows(exported: dict, table: str) -> list[dict]:
    """A table's rows in `tundra-server export-person` output, wherever it nests them."""
    if table in exported:
        return exported[table]
    for v in exported.values():
        if isinstance(v, dict) and table in v:
            return v[table]
    raise AssertionError(f"no '{table}' in the export: {sorted(exported)}")


if __name__ == "__main__":
    h.main(needs_app=True, needs_cli=False)
