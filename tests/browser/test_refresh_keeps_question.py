"""A screen refreshed behind a question: Anna asks to cancel an enrolment on "Mina kurser" just as
a sync lands and the screen is being fetched again. The question ("Vill du avboka?") must stay
until she answers it, and once she has, the screen shows what the sync brought without another
change having to come first. (CI saw the question vanish under the test's finger: the refresh
had been decided before the tap and replaced the screen after it.)

    /usr/bin/python3 tests/browser/test_refresh_keeps_question.py
"""

import time
import unittest

import harness as h
import participant_steps as steps

# Holds the page's next fetches of /api/enrolments until the test opens the gate, and counts them.
GATE_JS = """
const real = window.fetch.bind(window);
let open;
const gate = new Promise((r) => { open = r; });
window.__gate = { held: 0, served: 0, open: () => open() };
window.fetch = async (input, init) => {
  const url = String((input && input.url) || input);
  if (!url.includes('/api/enrolments')) return real(input, init);
  window.__gate.held++;
  await gate;
  const res = await real(input, init);
  window.__gate.served++;
  return res;
};
"""


class RefreshKeepsQuestion(unittest.TestCase):
    def test_a_refresh_landing_after_the_tap_leaves_the_question(self):
        with h.Env() as env:
            sc = env.scenario
            title, syd = sc.course_title("c-demens"), sc.site_name("site-syd")
            d = steps.signed_in_tablet(env, "anna", "2468")

            # Offline, Anna enrols: "My courses" lists it, waiting for a sync.
            env.offline()
            steps.enrol_in_catalogue(d, title, syd)
            h.wait_text(d, h.t("status.pending", count=1))
            steps.nav(d, "nav.enrolments")
            h.heading(d, h.t("enrolments.title"))
            item = lambda: h.find_by_role_text(d, "listitem", title)  # noqa: E731
            h.wait_until(lambda: h.t("common.pending") in item().text, 10, "the enrolment waiting for a sync")

            # The link returns and the sync lands (the app retries on its own within seconds; no
            # tap, so that the header is not in play): the screen's refresh is held in flight.
            d.execute_script(GATE_JS)
            env.online()
            h.wait_until(lambda: d.execute_script("return window.__gate.held") >= 1, 30,
                         "the screen to be fetched again after the sync")
            # Anna taps "Avboka" on the screen still shown; then the refresh arrives.
            h.click_in(d, h.t("enrolments.cancel"), "listitem", title)
            h.button(d, h.t("enrolments.cancel_yes"))
            d.execute_script("window.__gate.open()")
            h.wait_until(lambda: d.execute_script("return window.__gate.served") >= 1, 10, "the held fetch")
            time.sleep(1.0)  # the refresh's render runs right after its fetch
            yes = h.button(d, h.t("enrolments.cancel_yes"), timeout=0.5)
            self.assertTrue(yes.is_displayed(), "the question is still asked")
            self.assertEqual(d.switch_to.active_element, yes, "focus stays on the question's answer")
            h.axe_and_screenshots(d, "my courses: the question kept over a refresh", "enrolments-question-kept")

            # She says no: the screen then shows what the sync brought (no longer pending).
            h.click(d, h.t("enrolments.cancel_no"))
            h.wait_until(lambda: h.t("common.pending") not in item().text, 10,
                         "the synced enrolment once the question was answered")
            h.button(d, h.t("enrolments.cancel"), within=item())
            h.run_axe(d, "my courses: refreshed after a question")


if __name__ == "__main__":
    h.main()
