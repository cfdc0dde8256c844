"""The browser-test harness works, before any app exists: a real seeded tundra-server seen in
headless Chromium, the link cut and restored, the server restarted on its port, axe-core
passing a good page and catching a bad one, screenshots, and lookups by role and name.

    /usr/bin/python3 tests/browser/test_harness_smoke.py --server-bin build/apps/tundra-server \
        --cli-bin build/apps/tundra
"""

import json
import re
import tempfile
import unittest
from pathlib import Path

import harness as h

GOOD = """<!doctype html>
<html lang="sv">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kurser – Tundra</title>
<style>
  body { font: 18px/1.5 sans-serif; margin: 0; color: #1a1a1a; background: #fff; }
  main { padding: 16px; max-width: 40rem; }
  button, input { font: inherit; min-height: 48px; min-width: 48px; }
  button { background: #0b5394; color: #fff; border: 0; border-radius: 6px; padding: 0 20px; }
  button:focus-visible, input:focus-visible { outline: 3px solid #e69138; outline-offset: 2px; }
</style></head>
<body>
<header><p>Tundra</p></header>
<main>
  <h1>Kurser</h1>
  <form id="f">
    <label for="q">Sök kurs</label>
    <input id="q" name="q" autocomplete="off">
    <button type="submit">Sök</button>
  </form>
  <p role="status" id="out"></p>
  <ul>
    <li><h2>Förflyttningsteknik</h2><p>Platser kvar: 3</p>
      <button type="button" data-course="Förflyttningsteknik">Anmäl mig</button></li>
    <li><h2>Bemötande vid demens</h2><p>Platser kvar: 1</p>
      <button type="button" data-course="Bemötande vid demens">Anmäl mig</button></li>
  </ul>
</main>
<script>
for (const b of document.querySelectorAll('button[data-course]'))
  b.addEventListener('click', () => {
    document.getElementById('out').textContent = 'Du är anmäld till ' + b.dataset.course + ' (väntar på synk)';
  });
document.getElementById('f').addEventListener('submit', e => {
  e.preventDefault();
  document.getElementById('out').textContent = 'Du sökte på: ' + document.getElementById('q').value;
});
</script>
</body></html>
"""

# Each line breaks one WCAG A/AA rule axe checks: no lang, an image without alt text, a field
# without a label, grey on white text, a button with no name; and a 20x20 px button.
BAD = """<!doctype html>
<html>
<head><meta charset="utf-8"><title>Dålig sida</title></head>
<body>
<main>
  <h1>Dålig sida</h1>
  <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
  <input type="text" name="q">
  <p style="color:#bbbbbb;background:#ffffff">Svår att läsa</p>
  <button style="width:20px;height:20px;padding:0"></button>
</main>
</body></html>
"""


class HarnessSmoke(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = h.Env(app=False)
        cls.site_dir = Path(tempfile.mkdtemp(prefix="tundra-site-"))
        (cls.site_dir / "good.html").write_text(GOOD, encoding="utf-8")
        (cls.site_dir / "bad.html").write_text(BAD, encoding="utf-8")
        cls.site = h.StaticSite(cls.site_dir)
        cls.d = cls.env.browser("tablet")

    @classmethod
    def tearDownClass(cls):
        cls.site.close()
        cls.env.close()

    def setUp(self):
        h.set_viewport(self.d, "tablet")

    def test_seeded_server_answers_in_the_browser(self):
        self.d.get(self.env.server.url + "/healthz")
        body = json.loads(self.d.find_element("tag name", "body").text)
        self.assertEqual(body["status"], "ok")
        self.assertEqual(self.env.server.healthz()["status"], "ok")
        # The raw JSON client the app's security tests use, with the browser's cookies.
        api = h.ApiSession(self.env.server.url, self.d)
        status, headers, body = api.get("/healthz")
        self.assertEqual((status, body["status"]), (200, "ok"))
        self.assertIn("application/json", headers.get("Content-Type", ""))
        status, _, body = api.post("/v1/login", {"username": "anna", "password": "wrong-password"})
        self.assertEqual((status, body["error"]["code"]), (401, "unauthorized"))

    def test_scenario_is_what_a_participant_syncs_through_the_link(self):
        sc = self.env.scenario
        anna = h.CliClient(self.env.cfg, self.env.tmp, sc.users["anna"])
        anna.login(self.env.link.url)
        anna.run("sync", "--timeout", "10")
        courses = anna.run("courses").stdout
        self.assertIn(sc.course_title("c-lyft"), courses)
        self.assertIn(sc.course_title("c-demens"), courses)
        self.assertNotIn(sc.course_title("c-other"), courses, "a course open only to another municipality")
        mine = anna.run("enrolments").stdout
        self.assertIn("e-today-anna", mine)
        self.assertNotIn("e-today-bo", mine, "a participant sees only her own enrolments")
        # The capacity-1 occasion of the fair-seat flow, and today/yesterday in Stockholm time.
        small = sc.occasion("o-small")
        self.assertEqual(small["capacity"], 1)
        self.assertEqual(h.dt.datetime.fromisoformat(sc.occasion("o-today")["starts_at"].replace("Z", "+00:00"))
                         .astimezone(h.STOCKHOLM).date(), sc.today)
        self.assertEqual(h.dt.datetime.fromisoformat(sc.occasion("o-yesterday")["starts_at"].replace("Z", "+00:00"))
                         .astimezone(h.STOCKHOLM).date(), sc.yesterday)

        # The link drops: anna's sync fails while the server stays up for everyone else.
        self.env.offline()
        failed = anna.run("sync", "--timeout", "1", check=False)
        self.assertNotEqual(failed.returncode, 0, failed.stdout + failed.stderr)
        self.assertEqual(self.env.server.healthz()["status"], "ok")
        cecilia = self.env.cli("cecilia")  # straight to the server
        cecilia.run("sync", "--timeout", "10")
        self.assertIn("Dina Holm", cecilia.run("enrolments").stdout)
        # ... and comes back on the same port.
        port = self.env.link.port
        self.env.online()
        self.assertEqual(self.env.link.port, port)
        anna.run("sync", "--timeout", "10")

    def test_server_restarts_on_the_same_port_with_the_same_store(self):
        url = self.env.server.url
        self.env.restart_server()
        self.assertEqual(self.env.server.url, url)
        self.assertEqual(self.env.server.healthz()["status"], "ok")
        bo = self.env.cli("bo")
        bo.run("sync", "--timeout", "10")
        self.assertIn("e-today-bo", bo.run("enrolments").stdout)

    def test_axe_passes_a_good_page_on_tablet_and_phone(self):
        self.d.get(self.site.url + "/good.html")
        self.assertEqual(h.run_axe(self.d, "smoke: good page, tablet"), [])
        shot = h.screenshot(self.d, "smoke-good-tablet")
        self.assertEqual(h.png_size(shot), (800, 1280))
        h.set_viewport(self.d, "phone")
        self.d.get(self.site.url + "/good.html")
        self.assertEqual(self.d.execute_script("return [innerWidth, innerHeight]"), [390, 844])
        self.assertEqual(h.run_axe(self.d, "smoke: good page, phone"), [])
        self.assertEqual(h.horizontal_overflow(self.d), 0)
        self.assertEqual(h.small_targets(self.d), [])
        shot = h.screenshot(self.d, "smoke-good-phone")
        self.assertEqual(h.png_size(shot), (390, 844))

    def test_axe_reports_each_violation_of_a_bad_page(self):
        self.d.get(self.site.url + "/bad.html")
        found = {v["id"] for v in h.run_axe(self.d, "smoke: bad page", expect_clean=False)}
        for rule in ("html-has-lang", "image-alt", "label", "color-contrast", "button-name"):
            self.assertIn(rule, found)
        with self.assertRaises(AssertionError) as caught:
            h.run_axe(self.d, "smoke: bad page, asserted")
        msg = str(caught.exception)
        self.assertIn("state 'smoke: bad page, asserted'", msg)
        self.assertRegex(msg, r"- image-alt \(critical\)")
        self.assertIn('<input type="text" name="q">', msg)
        small = h.small_targets(self.d)
        self.assertIn('button "" 20x20', small)
        self.assertTrue(any(t.startswith('input ""') for t in small), small)  # 21 px high

    def test_a_user_finds_things_by_label_and_text(self):
        self.d.get(self.site.url + "/good.html")
        h.heading(self.d, "Kurser")
        h.fill(self.d, "Sök kurs", "demens")
        h.click(self.d, "Sök")
        h.wait_text(self.d, "Du sökte på: demens")
        # Two courses, each with its own "Anmäl mig": say which one, as a user does by looking.
        with self.assertRaisesRegex(AssertionError, "2 elements"):
            h.click(self.d, "Anmäl mig", timeout=0.5)
        course = h.find_by_role_text(self.d, "listitem", "Bemötande vid demens")
        h.click(self.d, "Anmäl mig", within=course)
        self.assertEqual(h.find_by_role_text(self.d, "status", re.compile("anmäld")).text,
                         "Du är anmäld till Bemötande vid demens (väntar på synk)")
        # Keyboard only: the focus order is the reading order.
        self.assertEqual(h.tab_through(self.d, 4, from_start=True),
                         [("textbox", "Sök kurs"), ("button", "Sök"), ("button", "Anmäl mig"),
                          ("button", "Anmäl mig")])
        # A missing control fails with what is there instead.
        with self.assertRaises(AssertionError) as caught:
            h.button(self.d, "Avanmäl mig", timeout=0.5)
        self.assertIn("button 'Anmäl mig'", str(caught.exception))

    def test_200_percent_zoom_reflows(self):
        h.set_viewport(self.d, "tablet", zoom=2.0)
        self.d.get(self.site.url + "/good.html")
        self.assertEqual(self.d.execute_script("return innerWidth"), 400)
        self.assertEqual(h.horizontal_overflow(self.d), 0)
        shot = h.screenshot(self.d, "smoke-good-tablet-200")
        self.assertEqual(h.png_size(shot), (800, 1280))


if __name__ == "__main__":
    h.main(needs_app=False, needs_cli=True)
