"""The app's guard against other web pages, against the real running tundra-app: any page the
tablet's browser opens can send requests to 127.0.0.1, so a foreign Host (DNS rebinding) is
refused, a POST from another origin is refused and changes nothing, no answer carries CORS
headers, the session cookie is HttpOnly and SameSite=Strict (and invisible to the page's
scripts), the API answers 401 without it, and PIN guesses are throttled (per person, and
across the tablet).

    /usr/bin/python3 tests/browser/test_app_security.py
"""

import http.client
import json
import tempfile
import unittest
from pathlib import Path

import harness as h
import participant_steps as steps

ANNA_PIN, BO_PIN = "2468", "1357"
EVIL = "evil.example"


def raw(env, method: str, path: str, headers: dict, body: bytes | None = None) -> tuple[int, list, bytes]:
    """One request with exactly these headers (http.client sends no Host of its own here):
    (status, [(name, value)...] as sent, body)."""
    c = http.client.HTTPConnection("127.0.0.1", env.app.port, timeout=10)
    try:
        c.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for k, v in headers.items():
            c.putheader(k, v)
        if body is not None:
            c.putheader("Content-Length", str(len(body)))
        c.endheaders(body)
        r = c.getresponse()
        return r.status, r.getheaders(), r.read()
    finally:
        c.close()


# A page of another site (127.0.0.1 on another port: the same *site*, so the browser even sends
# the SameSite=Strict cookie with it) that tries to act for whoever is signed in on the app.
EVIL_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A page</title></head>
<body><h1>A page</h1><output id="out"></output>
<script>
const app = new URLSearchParams(location.search).get('app');
const results = {};
async function attempt(name, fn) {
  try { const r = await fn(); results[name] = r.type === 'opaque' ? 'opaque' : r.status; }
  catch (e) { results[name] = 'blocked'; }
}
(async () => {
  const body = JSON.stringify({occasion: 'o-small'});
  await attempt('enrol_no_cors', () => fetch(app + '/api/enrol', {method: 'POST', mode: 'no-cors',
    credentials: 'include', headers: {'Content-Type': 'text/plain'}, body}));
  await attempt('enrol_json', () => fetch(app + '/api/enrol', {method: 'POST', credentials: 'include',
    headers: {'Content-Type': 'application/json'}, body}));
  await attempt('read_status', () => fetch(app + '/api/status', {credentials: 'include'}));
  await attempt('read_people', () => fetch(app + '/api/people'));
  document.getElementById('out').textContent = JSON.stringify(results);
})();
</script></body></html>
"""


class AppSecurity(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = h.Env()
        cls.d = cls.env.browser("tablet")
        cls.d.get(cls.env.app.url)
        steps.first_sign_in(cls.d, cls.env, "anna", ANNA_PIN)
        steps.wait_synced(cls.d, cls.env)
        code, _, body = cls.env.app.api("GET", "/api/people")
        assert code == 200, body
        cls.anna = next(p["id"] for p in body["people"] if p["username"] == "anna")

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def host(self) -> str:
        return f"127.0.0.1:{self.env.app.port}"

    def assert_nothing_happened(self):
        s = self.env.app.session(self.d)
        code, _, status = s.get("/api/status", headers={"X-Tundra-Background": "1"})
        self.assertEqual((code, status["pending"]), (200, 0), status)
        code, _, cat = s.get("/api/catalogue", headers={"X-Tundra-Background": "1"})
        mine = [o["mine"] for c in cat["courses"] for o in c["occasions"] if o["id"] == "o-small"]
        self.assertEqual(mine, [None])

    def test_1_a_foreign_host_is_refused(self):
        port = self.env.app.port
        for path in ("/", "/api/people", "/assets/app.js"):
            code, headers, body = raw(self.env, "GET", path, {"Host": f"{EVIL}:{port}"})
            self.assertIn(code, (403, 421), path)
            self.assertNotIn(b"Anna", body)
            self.assertNotIn(b"<script", body)
        # Another port on this machine is another server, and no Host at all is refused too.
        self.assertIn(raw(self.env, "GET", "/api/people", {"Host": f"127.0.0.1:{port + 1}"})[0], (403, 421))
        self.assertIn(raw(self.env, "GET", "/api/people", {})[0], (400, 403, 421))
        # This server under its own names answers.
        for name in (f"127.0.0.1:{port}", f"localhost:{port}"):
            self.assertEqual(raw(self.env, "GET", "/api/people", {"Host": name})[0], 200, name)

        # DNS rebinding in a real browser: evil.example resolves to 127.0.0.1, so its page is
        # served by the app's port; the app refuses to answer under that name.
        d2 = self.env.browser("tablet", args=[f"--host-resolver-rules=MAP {EVIL} 127.0.0.1"])
        d2.get(f"http://{EVIL}:{port}/")
        text = h.page_text(d2)
        self.assertNotIn(h.t("people.title"), text)
        self.assertNotIn(h.t("signin.title"), text)
        d2.get(f"http://{EVIL}:{port}/api/people")
        self.assertNotIn("Anna", h.page_text(d2))

    def test_2_a_post_from_another_origin_is_refused_and_changes_nothing(self):
        s = self.env.app.session(self.d)  # Anna's unlocked session cookie
        for origin in (f"http://{EVIL}", f"http://127.0.0.1:{self.env.app.port + 1}", "null",
                       f"https://127.0.0.1:{self.env.app.port}"):
            code, _, body = s.post("/api/enrol", {"occasion": "o-small"}, headers={"Origin": origin})
            self.assertEqual(code, 403, f"{origin}: {body}")
            code, _, body = s.post("/api/lock", {}, headers={"Origin": origin})
            self.assertEqual(code, 403, f"{origin}: {body}")
        self.assert_nothing_happened()  # not enrolled, and the session was not locked

        # In the browser: a page of another origin tries, with the cookie the browser holds.
        folder = Path(tempfile.mkdtemp(prefix="tundra-evil-"))
        (folder / "evil.html").write_text(EVIL_PAGE, encoding="utf-8")
        site = h.StaticSite(folder)
        try:
            self.d.get(f"{site.url}/evil.html?app={self.env.app.url}")
            out = h.wait_until(lambda: self.d.execute_script("return document.getElementById('out').textContent"),
                               10, "the other page's attempts")
        finally:
            site.close()
        results = json.loads(out)
        # It cannot read anything, and its writes do not happen (their answers are opaque to it).
        self.assertEqual(results["read_status"], "blocked", results)
        self.assertEqual(results["read_people"], "blocked", results)
        self.assertIn(results["enrol_json"], ("blocked",), results)  # preflight: no CORS headers
        self.assertIn(results["enrol_no_cors"], ("opaque", "blocked"), results)
        self.assert_nothing_happened()
        self.d.get(self.env.app.url)
        steps.wait_start_screen(self.d, self.env.user("anna"))

    def test_3_no_answer_carries_cors_headers(self):
        s = self.env.app.session(self.d)
        answers = [
            raw(self.env, "GET", "/", {"Host": self.host(), "Origin": f"http://{EVIL}"}),
            raw(self.env, "GET", "/assets/app.js", {"Host": self.host()}),
            raw(self.env, "GET", "/assets/nope.js", {"Host": self.host()}),
            raw(self.env, "GET", "/api/people", {"Host": self.host(), "Origin": f"http://{self.host()}"}),
            raw(self.env, "GET", "/api/status", {"Host": self.host()}),
            raw(self.env, "OPTIONS", "/api/enrol", {"Host": self.host(), "Origin": f"http://{EVIL}",
                                                    "Access-Control-Request-Method": "POST",
                                                    "Access-Control-Request-Headers": "content-type"}),
            raw(self.env, "OPTIONS", "/api/enrol", {"Host": self.host(), "Origin": f"http://{self.host()}",
                                                    "Access-Control-Request-Method": "POST"}),
            raw(self.env, "POST", "/api/unlock", {"Host": self.host(), "Content-Type": "application/json"},
                b'{"person": "x", "pin": "1234"}'),
        ]
        for path, kw in (("/api/status", {}), ("/api/catalogue", {}), ("/api/enrolments", {})):
            code, headers, _ = s.get(path, headers={"X-Tundra-Background": "1", "Origin": f"http://{EVIL}"})
            answers.append((code, list(headers.items()), b""))
        for code, headers, _ in answers:
            cors = [(k, v) for k, v in headers if k.lower().startswith("access-control-")]
            self.assertEqual(cors, [], f"answer {code}")
        # The refused preflight tells a browser nothing it could use.
        self.assertNotEqual(answers[5][0], 200)

    def test_4_the_session_cookie_is_httponly_and_samesite_strict(self):
        body = json.dumps({"person": self.anna, "pin": ANNA_PIN}).encode()
        code, headers, _ = raw(self.env, "POST", "/api/unlock",
                               {"Host": self.host(), "Origin": f"http://{self.host()}",
                                "Content-Type": "application/json"}, body)
        self.assertEqual(code, 200)
        cookies = [v for k, v in headers if k.lower() == "set-cookie"]
        self.assertEqual(len(cookies), 1, cookies)
        attrs = [a.strip().lower() for a in cookies[0].split(";")]
        self.assertTrue(attrs[0].startswith("tundra_app="), cookies)
        self.assertGreater(len(attrs[0]), len("tundra_app=") + 20)  # an unguessable token
        self.assertIn("httponly", attrs)
        self.assertIn("samesite=strict", attrs)
        self.assertIn("path=/", attrs)
        self.assertFalse(any(a.startswith("domain=") for a in attrs), cookies)
        # In the browser: held, but not visible to the page's scripts.
        self.d.get(self.env.app.url)
        steps.wait_start_screen(self.d, self.env.user("anna"))
        jar = {c["name"]: c for c in self.d.get_cookies()}
        self.assertIn("tundra_app", jar)
        self.assertTrue(jar["tundra_app"]["httpOnly"])
        self.assertEqual(jar["tundra_app"]["sameSite"], "Strict")
        self.assertNotIn("tundra_app", self.d.execute_script("return document.cookie"))
        self.assertNotIn(jar["tundra_app"]["value"], self.d.execute_script("return document.cookie"))

    def test_5_the_api_answers_401_without_the_cookie(self):
        for method, path, body in (("GET", "/api/status", None), ("GET", "/api/catalogue", None),
                                   ("GET", "/api/enrolments", None), ("GET", "/api/todo", None),
                                   ("POST", "/api/enrol", {"occasion": "o-small"}), ("POST", "/api/sync", {}),
                                   ("POST", "/api/pin", {"pin": "1111"}), ("POST", "/api/language", {"language": "en"})):
            code, _, answer = self.env.app.api(method, path, body)
            self.assertEqual((code, answer["error"]["code"]), (401, "locked"), f"{method} {path}: {answer}")
            # A made-up cookie is no better.
            code, _, answer = self.env.app.api(method, path, body, headers={"Cookie": "tundra_app=" + "a" * 43})
            self.assertEqual(code, 401, f"{method} {path} with a made-up cookie")
        self.assert_nothing_happened()
        # The people screen is public (names only, to choose from).
        code, _, answer = self.env.app.api("GET", "/api/people")
        self.assertEqual(code, 200)

    def test_6_pin_guesses_are_throttled(self):
        # Bo signs in on the tablet (through the API, as the page does) and sets his PIN.
        bo_session = self.env.app.session()
        code, _, answer = bo_session.post("/api/signin", {"username": "bo", "password": self.env.user("bo").password})
        self.assertEqual(code, 200, answer)
        bo = answer["person"]
        self.assertIn(bo_session.post("/api/pin", {"pin": BO_PIN})[0], (200, 204))
        # Five wrong guesses are counted and told; the fifth starts a wait.
        for n in range(1, 6):
            code, _, answer = self.env.app.api("POST", "/api/unlock", {"person": bo, "pin": f"{n:04d}"})
            self.assertEqual((code, answer["error"]["code"], answer["error"]["failures"]), (401, "wrong_pin", n))
        self.assertEqual(answer["error"]["retry_after_s"], 30)
        # During the wait no guess is even checked: the right PIN is refused as well.
        code, _, answer = self.env.app.api("POST", "/api/unlock", {"person": bo, "pin": BO_PIN})
        self.assertEqual((code, answer["error"]["code"]), (429, "pin_wait"), answer)
        self.assertTrue(0 < answer["error"]["retry_after_s"] <= 30)
        # Across the tablet: whoever tries many PINs in a minute (here, for Bo) slows everyone;
        # even Anna's right PIN waits.
        tries = 0
        while tries < 40:
            tries += 1
            code, _, answer = self.env.app.api("POST", "/api/unlock", {"person": self.anna, "pin": ANNA_PIN})
            if code == 429:
                break
            self.assertEqual(code, 200, answer)
            self.env.app.api("POST", "/api/unlock", {"person": bo, "pin": "9999"})
        self.assertEqual((code, answer["error"]["code"]), (429, "pin_wait"), f"after {tries} rounds: {answer}")
        self.assertTrue(0 < answer["error"]["retry_after_s"] <= 60, answer)
        self.assertLess(tries, 40)


if __name__ == "__main__":
    h.main(needs_app=True, needs_cli=False)
