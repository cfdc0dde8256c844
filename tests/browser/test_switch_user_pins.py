"""The shared tablet, in a real browser: two people sign in for the first time (the server is
needed) and each sets a PIN; switching person takes two taps (switch, then the other's name)
and a PIN; a wrong PIN says so, and after 5 wrong ones the wait is shown; the password unlocks
offline instead; each person's language is remembered; nobody sees the other's enrolments.
(The idle lock: test_idle_lock.py.)

    /usr/bin/python3 tests/browser/test_switch_user_pins.py
"""

import re
import unittest

import harness as h
import participant_steps as steps

ANNA_PIN, BO_PIN = "2468", "1357"


class SharedTablet(unittest.TestCase):
    """One tablet, shared by Anna and Bo; the tests run in order (1_, 2_, ...)."""

    @classmethod
    def setUpClass(cls):
        cls.env = h.Env()
        cls.d = cls.env.browser("tablet")

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def setUp(self):
        self.env.online()
        h.set_viewport(self.d, "tablet")

    def test_1_first_sign_in_of_two_people_each_with_a_pin(self):
        d, env = self.d, self.env
        d.get(env.app.url)
        # An empty tablet opens on the sign-in screen; a wrong password says so.
        h.heading(d, h.t("signin.title"))
        h.run_axe(d, "sign-in: empty tablet")
        h.screenshot(d, "signin-empty-tablet")
        h.fill(d, h.t("signin.username"), "anna")
        h.fill(d, h.t("signin.password"), "not-her-password")
        h.click(d, h.t("signin.submit"))
        h.wait_text(d, h.t("signin.wrong"))
        self.assertEqual(h.focused(d), ("textbox", h.t("signin.username")))
        h.run_axe(d, "sign-in: wrong password")
        # A PIN must be 4-6 digits, typed the same twice.
        h.fill(d, h.t("signin.username"), "anna")
        h.fill(d, h.t("signin.password"), env.user("anna").password)
        h.click(d, h.t("signin.submit"))
        h.heading(d, h.t("setpin.title"), timeout=15)
        h.run_axe(d, "set PIN: empty")
        h.screenshot(d, "setpin-empty-tablet")
        h.fill(d, h.t("setpin.first"), "12")
        h.fill(d, h.t("setpin.second"), "12")
        h.click(d, h.t("setpin.submit"))
        h.wait_text(d, h.t("setpin.bad_format"))
        h.fill(d, h.t("setpin.first"), ANNA_PIN)
        h.fill(d, h.t("setpin.second"), "2469")
        h.click(d, h.t("setpin.submit"))
        h.wait_text(d, h.t("setpin.mismatch"))
        h.run_axe(d, "set PIN: mismatch")
        h.fill(d, h.t("setpin.first"), ANNA_PIN)
        h.fill(d, h.t("setpin.second"), ANNA_PIN)
        h.click(d, h.t("setpin.submit"))
        steps.wait_start_screen(d, env.user("anna"))
        steps.wait_synced(d, env)

        # Anna reads English: her choice, in settings.
        steps.nav(d, "nav.settings")
        h.heading(d, h.t("settings.title"))
        h.run_axe(d, "settings: Swedish")
        h.click(d, h.t("settings.lang_en"))
        h.heading(d, h.t("settings.title", "en"))
        self.assertEqual(d.execute_script("return document.documentElement.lang"), "en")
        h.run_axe(d, "settings: English")

        # Switch: the people screen, in the tablet's language; Bo is new here.
        steps.switch_person(d, "en")
        self.assertEqual(d.execute_script("return document.documentElement.lang"), "sv")
        people = [n for n, _ in h.all_by_role(d, "link") if env.user("anna").name in n]
        self.assertEqual(len(people), 1, people)
        h.run_axe(d, "people: one person")
        h.screenshot(d, "people-one-tablet")
        steps.first_sign_in(d, env, "bo", BO_PIN)
        steps.wait_synced(d, env)
        self.assertEqual(d.execute_script("return document.documentElement.lang"), "sv")

    def test_2_switching_takes_two_taps_and_a_pin_and_keeps_each_language(self):
        d, env = self.d, self.env
        steps.wait_start_screen(d, env.user("bo"))
        steps.nav(d, "nav.catalogue")
        h.heading(d, h.t("catalogue.title"))
        # Tap 1: switch (in the header of every screen). Tap 2: the other person's name.
        steps.switch_person(d)
        h.axe_and_screenshots(d, "people: two people", "people-two")
        steps.tap_person(d, env, "anna")
        h.heading(d, h.t("pin.title", name=env.user("anna").name))
        h.axe_and_screenshots(d, "PIN pad: empty", "pinpad-empty")
        # The keyboard works too: the PIN field, typed, Enter.
        field = h.field_by_label(d, h.t("pin.label"))
        field.send_keys(ANNA_PIN + "\n")
        # Anna's own language comes back with her.
        steps.wait_start_screen(d, env.user("anna"), "en")
        self.assertEqual(d.execute_script("return document.documentElement.lang"), "en")
        steps.switch_person(d, "en")
        steps.unlock_with_pin(d, env, "bo", BO_PIN)
        self.assertEqual(d.execute_script("return document.documentElement.lang"), "sv")

    def test_3_a_person_sees_only_their_own_enrolments(self):
        d, env = self.d, self.env
        steps.wait_start_screen(d, env.user("bo"))
        steps.nav(d, "nav.enrolments")
        h.heading(d, h.t("enrolments.title"))
        cards = h.all_by_role(d, "listitem", within=h.find_by_role(d, "main", re.compile("")))
        texts = [el.text for _, el in cards]
        self.assertEqual(len(texts), 1, texts)  # o-today only: Anna's yesterday is not his
        self.assertIn(env.scenario.course_title("c-lyft"), texts[0])
        # (Whether his card stands under "Tidigare" depends on the hour: o-today ends at 12:00
        # Swedish time; the one card above is what proves Anna's are not shown.)
        # His session cannot act for Anna, nor read hers.
        s = env.app.session(d)
        code, _, body = s.post("/api/enrol", {"occasion": "o-small", "person": "p-anna"})
        self.assertIn(code, (403, 404), body)  # not hers to see: as if she were not there
        code, _, body = s.get("/api/enrolments")
        self.assertEqual(code, 200)
        self.assertEqual([e["occasion"] for e in body["enrolments"]], ["o-today"])
        code, _, body = s.get("/api/status")
        self.assertEqual(body["pending"], 0)

    def test_4_wrong_pins_are_told_then_waited_then_the_password_unlocks_offline(self):
        d, env = self.d, self.env
        steps.switch_person(d)
        steps.tap_person(d, env, "anna")
        h.heading(d, h.t("pin.title", name=env.user("anna").name))
        steps.type_pin_on_pad(d, "0000")
        h.wait_text(d, h.t("pin.wrong", failures=1))
        h.run_axe(d, "PIN pad: wrong PIN")
        h.screenshot(d, "pinpad-wrong-tablet")
        for n in range(2, 6):
            steps.type_pin_on_pad(d, "0000")
            h.wait_text(d, h.t("pin.wrong", failures=n))
        # The fifth wrong PIN starts a wait: it is shown at once, and the keys rest meanwhile.
        h.wait_text(d, re.compile(re.escape(h.t("pin.wait_left", seconds=30)).replace("30", r"(2\d|30)")), timeout=3)
        pad = h.find_by_role(d, "group", h.t("pin.pad_label"))
        self.assertTrue(all(not el.is_enabled() for _, el in h.all_by_role(d, "button", within=pad)))
        self.assertFalse(h.field_by_label(d, h.t("pin.label")).is_enabled())
        h.run_axe(d, "PIN pad: wait after 5 wrong")
        h.screenshot(d, "pinpad-wait-tablet")
        # Even the right PIN is refused during the wait (the API, as a script would try it).
        person = _person_id(env, "anna")
        code, _, body = env.app.api("POST", "/api/unlock", {"person": person, "pin": ANNA_PIN})
        self.assertEqual((code, body["error"]["code"]), (429, "pin_wait"), body)
        self.assertGreater(body["error"]["retry_after_s"], 0)

        # Offline, Anna's password opens the app instead (checked on the tablet).
        env.offline()
        h.click(d, h.t("pin.forgot"))
        h.heading(d, h.t("password.title", name=env.user("anna").name))
        h.run_axe(d, "password unlock: empty")
        h.fill(d, h.t("password.label"), "wrong-password")
        h.click(d, h.t("password.unlock"))
        h.wait_text(d, h.t("password.wrong"))
        h.run_axe(d, "password unlock: wrong")
        h.fill(d, h.t("password.label"), env.user("anna").password)
        h.click(d, h.t("password.unlock"))
        steps.wait_start_screen(d, env.user("anna"), "en")
        # ... and the count of wrong PINs starts again: her PIN works at the next switch.
        steps.switch_person(d, "en")
        steps.unlock_with_pin(d, env, "anna", ANNA_PIN, "en")
        env.online()


def _person_id(env, username: str) -> str:
    code, _, body = env.app.api("GET", "/api/people")
    assert code == 200, body
    return next(p["id"] for p in body["people"] if p["username"] == username)


if __name__ == "__main__":
    h.main(needs_app=True, needs_cli=False)
