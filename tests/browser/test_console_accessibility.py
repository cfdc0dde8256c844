"""WCAG 2.1 AA across the project console (issue 11), as an admin and as a coordinator.

Every page state in SCREENS is checked by axe-core (0 violations for wcag2a, wcag2aa, wcag21a,
wcag21aa) at desktop (1280x900) and phone (390x844) size, with no control under 44x44 px, no
horizontal scrolling at either size nor at 200% zoom, and every field named; the main pages
also in English. Keyboard only: the skip link comes first and moves to the content, Tab
reaches the header and every navigation item with a visible focus, and a dialog keeps the
focus. Screenshots of the main pages go to $TUNDRA_SCREENSHOT_DIR (docs/img/console). SCREENS
is the table in docs/console.md ("## Pages and states"): the last case fails when they differ.

    /usr/bin/python3 tests/browser/test_console_accessibility.py
"""

import datetime as dt
import json
import sys
import time
import unittest

import console_harness as ch
import harness as h
from console_harness import t

SCREENS = [
    ("Sign-in", "/console/login", ["empty", "wrong password", "English"]),
    ("Catalogue", "#/catalogue", ["courses", "search without hits", "English"]),
    ("Course", "#/course/:id", ["new, title missing", "created, no occasions", "with an occasion"]),
    ("Occasion", "#/occasion/:id", ["roster", "enrol search", "roster and waitlist", "cancel dialog"]),
    ("Occasions (coordinator)", "#/occasions", ["their sites"]),
    ("People", "#/people", ["admin", "coordinator"]),
    ("Person", "#/person/:id", ["details", "erase dialog"]),
    ("Users", "#/users", ["list", "password too short"]),
    ("Devices", "#/devices", ["a tablet"]),
    ("Import", "#/import", ["choose a file", "bad file", "preview"]),
    ("Reports", "#/reports", ["ledger", "participants", "attendance", "surveys", "deviations",
                              "participants, a project year", "attendance, a project year", "English", "coordinator"]),
    ("Deviations", "#/deviations", ["none", "one open"]),
    ("Print: attendance list", "#/print/attendance/:occasion", ["participants"]),
    ("Print: certificate", "#/print/certificate/:occasion/:person", ["one participant"]),
    ("Session warning", "(any page)", ["dialog"]),
]
SHOTS = {("Catalogue", "courses"): "catalogue", ("Occasion", "roster and waitlist"): "occasion-roster",
         ("Devices", "a tablet"): "devices", ("Import", "preview"): "import-preview",
         ("Reports", "participants, a project year"): "reports-participants",
         ("Reports", "attendance, a project year"): "reports-attendance",
         ("Print: attendance list", "participants"): "print-attendance", ("Sign-in", "empty"): "login",
         ("People", "coordinator"): "people-coordinator", ("Session warning", "dialog"): "session-warning"}
STATES_HEADING = "## Pages and states"
DOCS = h.ROOT / "docs" / "console.md"


def states_table() -> str:
    lines = ["| page | route | states (each checked by axe-core) |", "|---|---|---|"]
    for screen, route, states in SCREENS:
        lines.append(f"| {screen} | `{route}` | {'; '.join(states)} |")
    return "\n".join(lines) + "\n"


class ConsoleAccessibility(unittest.TestCase):
    checked: set = set()

    @classmethod
    def setUpClass(cls):
        cls.env = h.Env(app=False)
        # anna's own device: a tablet on the devices page.
        cls.env.cli("anna")
        cls.d = ch.browser(cls.env)

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def check(self, screen, state, lang="sv", d=None):
        assert any(s == screen and state in st for s, _, st in SCREENS), f"not in SCREENS: {screen}: {state}"
        d = d or self.d
        self.assertEqual(d.execute_script("return document.documentElement.lang"), lang, f"{screen}: {state}")
        shot = SHOTS.get((screen, state))
        scroll = ".chart-figure" if screen == "Reports" else None
        ch.check_page(d, f"{screen}: {state}", {"desktop": f"{shot}-desktop", "phone": f"{shot}-phone"} if shot else None, scroll)
        self.checked.add((screen, state))

    def sign_in(self, username, lang="sv"):
        self.d.delete_all_cookies()
        ch.sign_in(self.d, self.env, username, lang=lang)

    # ---- admin ----

    def test_1_sign_in_page(self):
        d = self.d
        d.delete_all_cookies()
        ch.login_page(d, self.env)
        self.check("Sign-in", "empty")
        ch.sign_in(d, self.env, "admin", password="not-the-password", expect_shell=False)
        h.wait_text(d, t("login.error_credentials"))
        # The message is tied to the password field and read out (role=alert).
        self.assertEqual(d.execute_script("return document.getElementById('login-error').getAttribute('role')"), "alert")
        self.check("Sign-in", "wrong password")
        ch.login_page(d, self.env, "en")
        self.check("Sign-in", "English", lang="en")

    def test_2_catalogue_and_course(self):
        d = self.d
        self.sign_in("admin")
        self.assertEqual(ch.go(d, self.env, "#/catalogue"), t("catalogue.title"))
        h.wait_text(d, "Förflyttningsteknik")
        self.check("Catalogue", "courses")
        ch.go(d, self.env, "#/catalogue?q=zzzz-ingen-kurs")
        h.wait_text(d, t("catalogue.none_found"))
        self.check("Catalogue", "search without hits")
        ch.go(d, self.env, "#/course/new")
        h.click(d, t("course.create"), role="button")
        h.wait_text(d, t("course.need_title"))
        title = h.field_by_label(d, t("course.title_label") + " " + t("common.required"))
        self.assertEqual(title.get_attribute("aria-invalid"), "true")
        self.assertIn("-err", title.get_attribute("aria-describedby"))
        self.assertEqual(h.focused(d)[1], t("course.title_label") + " " + t("common.required"), "focus on the field in error")
        self.check("Course", "new, title missing")
        title.send_keys("Palliativ vård")
        h.click(d, t("course.create"), role="button")
        h.wait_until(lambda: "#/course/c-" in d.current_url, 10, "the new course's page")
        ch.wait_view(d)
        h.wait_text(d, t("course.no_occasions"))
        self.check("Course", "created, no occasions")
        day = (self.env.scenario.today + dt.timedelta(days=40)).isoformat()
        self.set_date(t("occasion.day") + " " + t("common.required"), day)
        self.set_time(t("occasion.start_time") + " " + t("common.required"), "09:00")
        self.set_time(t("occasion.end_time") + " " + t("common.required"), "11:30")
        self.set_date(t("occasion.closes_day") + " " + t("common.required"), day)
        h.choose(d, t("occasion.site"), "Hemtjänst Norr (Testby kommun)")
        h.click(d, t("occasion.create"), role="button")
        h.wait_until(lambda: d.find_elements("css selector", "a[href^='#/occasion/']"), 10, "the new occasion in the list")
        self.check("Course", "with an occasion")

    def set_date(self, label, value):
        # Date and time inputs have no ARIA role to find them by: their <label>'s text does.
        found = self.d.execute_script(
            "const l = [...document.querySelectorAll('label')].find(x => x.textContent.trim() === arguments[0]);"
            "const f = l && document.getElementById(l.htmlFor); if (f) f.value = arguments[1]; return !!f;", label, value)
        self.assertTrue(found, f"no field labelled {label!r}")

    def set_time(self, label, value):
        self.set_date(label, value)

    def test_3_occasion_roster(self):
        d = self.d
        self.sign_in("admin")
        ch.go(d, self.env, "#/occasion/o-today")
        h.wait_text(d, "Dina Holm")
        self.check("Occasion", "roster")
        # o-small has one seat: anna gets it, bo is waitlisted.
        ch.go(d, self.env, "#/occasion/o-small")
        for name in ("Anna Berg", "Bo Ek"):
            h.fill(d, t("roster.enrol_search"), name.split()[0])
            self.click_last(t("common.search"))
            h.wait_until(lambda: d.find_elements("css selector", ".result-row"), 10, "search results")
            if name == "Anna Berg":
                self.check("Occasion", "enrol search")
            self.click_last(f"{t('roster.enrol')} {name}")
            h.wait_until(lambda n=name: n in d.find_element("id", "main").text and not d.find_elements("css selector", ".result-row"),
                         10, f"{name} on the roster")
            ch.wait_view(d)
        h.wait_text(d, t("roster.waitlist_item", name="Bo Ek", position=1))
        self.check("Occasion", "roster and waitlist")
        h.click(d, t("occasion.cancel"), role="button")
        h.wait_text(d, t("occasion.cancel_title"))
        self.assertEqual(h.focused(d)[1], t("common.cancel"))
        self.check("Occasion", "cancel dialog")
        h.click(d, t("common.cancel"), role="button")
        # Print pages
        ch.go(d, self.env, "#/print/attendance/o-today")
        h.wait_text(d, t("print.attendance_title"))
        self.assertIsNone(d.execute_script("const n = document.getElementById('nav'); return n.hidden ? null : 'shown'"))
        self.check("Print: attendance list", "participants")
        ch.go(d, self.env, "#/print/certificate/o-yesterday/p-anna")
        h.wait_text(d, "Anna Berg")
        self.check("Print: certificate", "one participant")

    def click_last(self, name):
        """The last button of that name (the search of the enrol form, after the header's)."""
        matches = [e for n, e in h.all_by_role(self.d, "button") if h._norm(n) == h._norm(name)]
        self.assertTrue(matches, f"no button '{name}'")
        matches[-1].click()

    def test_4_people_users_devices(self):
        d = self.d
        self.sign_in("admin")
        ch.go(d, self.env, "#/people")
        h.wait_text(d, "Erik Lund")
        self.check("People", "admin")
        ch.go(d, self.env, "#/person/p-anna")
        h.wait_text(d, t("person.participations"))
        self.check("Person", "details")
        h.click(d, t("person.erase"), role="button")
        h.wait_text(d, t("person.erase_title"))
        self.check("Person", "erase dialog")
        h.click(d, t("common.cancel"), role="button")
        ch.go(d, self.env, "#/users")
        h.wait_text(d, "cecilia")
        self.check("Users", "list")
        h.fill(d, t("users.new_password") + " " + t("common.required"), "short")
        h.click(d, t("users.set_password"), role="button")
        h.wait_text(d, t("users.password_short"))
        self.check("Users", "password too short")
        ch.go(d, self.env, "#/devices")
        h.wait_text(d, "anna")
        self.check("Devices", "a tablet")

    def test_5_import(self):
        d = self.d
        self.sign_in("admin")
        ch.go(d, self.env, "#/import")
        self.check("Import", "choose a file")
        bad = self.env.tmp / "bad.json"
        bad.write_text('{"persons": [{"id": "p-x", "gender": 5}', encoding="utf-8")
        self.file_input().send_keys(str(bad))
        h.click(d, t("import.preview"), role="button")
        h.wait_text(d, t("import.bad_file"))
        self.check("Import", "bad file")
        good = self.env.tmp / "staff.json"
        good.write_text(json.dumps({"persons": [
            {"id": "p-nils", "organisation": "testby", "site": "site-syd", "name": "Nils Ö", "gender": "man", "birth_year": 1990},
            {"id": "p-erik", "organisation": "testby", "site": "site-norr", "name": "Erik Lund", "gender": "man", "birth_year": 1988}]},
            ensure_ascii=False), encoding="utf-8")
        self.file_input().send_keys(str(good))
        h.click(d, t("import.preview"), role="button")
        h.wait_text(d, t("import.preview_title"))
        h.wait_text(d, "Nils Ö")
        self.check("Import", "preview")

    def file_input(self):
        # A file input's role is a button ("Choose file"); the label names it for axe and readers.
        return self.d.find_element("css selector", "input[type=file]")

    def test_6_reports_and_deviations(self):
        d = self.d
        self.sign_in("admin")
        ch.go(d, self.env, "#/deviations")
        h.wait_text(d, t("deviations.empty"))
        self.check("Deviations", "none")
        h.fill(d, t("deviations.description") + " " + t("common.required"), "Projektorn gick sönder.")
        h.click(d, t("deviations.log"), role="button")
        h.wait_text(d, "Projektorn gick sönder.")
        self.check("Deviations", "one open")
        month = self.env.scenario.today.strftime("%Y-%m")
        for name in ("ledger", "participants", "attendance", "surveys", "deviations"):
            self.show_report(name, month)
            self.check("Reports", name)
        # A project year (scripts/demo.sh's data): charts with bars, big tables.
        self.env.server.admin("demo-data", "--data", str(h.ROOT / "data"))
        # The demo data brings its own admin login: the scenario's password again.
        self.env.server.admin("set-password", "admin", "--password-stdin", stdin=self.env.user("admin").password + "\n")
        self.sign_in("admin")  # a new password ends the console session too
        first = self.env.scenario.today.replace(day=1)
        demo_month = (first - dt.timedelta(days=32)).strftime("%Y-%m")
        for name in ("participants", "attendance"):
            self.show_report(name, demo_month)
            self.assertTrue(d.find_elements("css selector", "svg.chart rect.chart-bar"), f"bars in the {name} chart")
            self.check("Reports", f"{name}, a project year")

    def show_report(self, name, month):
        d = self.d
        t0 = time.monotonic()
        ch.go(self.d, self.env, f"#/reports?report={name}&month={month}", timeout=30)
        print(f"[console] report {name} {month}: {time.monotonic() - t0:.1f} s", file=sys.stderr)
        h.wait_until(lambda: d.find_elements("id", "report-title"), 10, f"the {name} report")
        self.assertFalse(d.find_elements("css selector", "section.report .error-box"), f"{name}: {h.page_text(d)[:400]}")

    def test_7_english(self):
        d = self.d
        self.sign_in("admin")
        ch.go(d, self.env, "#/catalogue")
        h.choose(d, t("header.language"), "English")
        h.wait_until(lambda: d.execute_script("return document.documentElement.lang") == "en", 10, "English")
        h.wait_until(lambda: ch.wait_view(d) == t("catalogue.title", "en"), 10, "the catalogue in English")
        self.check("Catalogue", "English", lang="en")
        month = self.env.scenario.today.strftime("%Y-%m")
        ch.go(d, self.env, f"#/reports?report=participants&month={month}")
        h.wait_until(lambda: d.find_elements("id", "report-title"), 10, "the report")
        self.check("Reports", "English", lang="en")
        # The choice is kept by the server: a new page load is still English.
        d.refresh()
        ch.wait_view(d)
        self.assertEqual(d.execute_script("return document.documentElement.lang"), "en")
        h.choose(d, t("header.language", "en"), "Svenska")
        h.wait_until(lambda: d.execute_script("return document.documentElement.lang") == "sv", 10, "Swedish again")

    def test_8_keyboard_and_session_warning(self):
        d = self.d
        self.sign_in("admin")
        ch.go(d, self.env, "#/people")
        first = h.tab_through(d, 1, from_start=True)[0]
        self.assertEqual(first, ("link", t("app.skip")))
        self.assertTrue(ch.focus_ring(d), "the skip link shows its focus")
        seen = h.tab_through(d, 14)
        names = [n for _, n in seen]
        for key in ("nav.catalogue", "nav.people", "nav.users", "nav.devices", "nav.import", "nav.reports", "nav.deviations"):
            self.assertIn(t(key), names, f"Tab reaches {t(key)}: {seen}")
        self.assertIn(t("header.sign_out"), names)
        # Skip link → the content.
        h.tab_through(d, 1, from_start=True)
        from selenium.webdriver.common.keys import Keys
        d.switch_to.active_element.send_keys(Keys.ENTER)
        h.wait_until(lambda: d.execute_script("return document.activeElement.id === 'main' || "
                                              "document.getElementById('main').contains(document.activeElement)"), 5, "focus in main")
        # Idle: the warning says so two minutes before the session ends, with the focus on "stay
        # signed in" and the page behind it inert. The tab's idle period is shortened to 125 s
        # (sessionStorage, docs/console.md) so the warning comes after 5 s.
        d.execute_script("sessionStorage.setItem('tundra.console.idle_ms', '125000')")
        d.refresh()
        ch.wait_view(d)
        h.wait_until(lambda: d.execute_script("return !!document.querySelector('[data-role=session-warning]')"), 15, "the session warning")
        self.assertEqual(h.focused(d)[1], t("session.stay"))
        self.assertTrue(d.execute_script("return document.getElementById('main').inert"), "the page behind the dialog is inert")
        self.check("Session warning", "dialog")
        h.click(d, t("session.stay"), role="button")
        h.wait_until(lambda: not d.execute_script("return !!document.querySelector('[data-role=session-warning]')"), 10, "the warning closed")
        d.execute_script("sessionStorage.removeItem('tundra.console.idle_ms')")

    # ---- coordinator ----

    def test_9_coordinator(self):
        d = self.d
        self.sign_in("cecilia")
        nav = [n for n, _ in h.all_by_role(d, "link", within=d.find_element("id", "nav"))]
        self.assertNotIn(t("nav.catalogue"), nav)
        self.assertNotIn(t("nav.users"), nav)
        self.assertIn(t("nav.occasions"), nav)
        ch.go(d, self.env, "#/occasions")
        h.wait_text(d, "Förflyttningsteknik")
        self.check("Occasions (coordinator)", "their sites")
        ch.go(d, self.env, "#/people")
        h.wait_text(d, "Anna Berg")
        self.assertNotIn("Erik Lund", h.page_text(d))  # Syd is not her site
        self.check("People", "coordinator")
        month = self.env.scenario.today.strftime("%Y-%m")
        ch.go(d, self.env, f"#/reports?report=participants&month={month}")
        h.wait_until(lambda: d.find_elements("id", "report-title"), 10, "the report")
        self.check("Reports", "coordinator")

    def test_z_every_state_checked_and_documented(self):
        expected = {(s, st) for s, _, states in SCREENS for st in states}
        self.assertEqual(expected - self.checked, set(), "states in SCREENS never checked")
        docs = DOCS.read_text(encoding="utf-8")
        self.assertIn(states_table(), docs, f"docs/console.md's table differs from SCREENS; it should be:\n{states_table()}")


if __name__ == "__main__":
    h.main(needs_app=False, needs_cli=True)
