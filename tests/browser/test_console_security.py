"""The project console's protections (issue 11), against the real `tundra-server` and Chromium:

- CSRF on signing in: a POST /console/login without the form's token, or with a token that is
  not the cookie's, is 403 and signs nobody in (no cookie, no session in the store); the same
  request with the token signs in (so the token is all that differed); in the browser, a form
  whose token was changed shows "the form expired";
- CSRF on changes: an API change without X-CSRF-Token, or with a wrong one, is 403 and changes
  nothing; logging out without the session's token is refused and the session goes on;
- another site's page (another origin on this machine, which even gets the SameSite=Strict
  cookie, and a cross-site name) that auto-submits forms and fetches to /console/logout and
  to the API changes nothing and signs nobody out;
- expiry: a session idle for 30 minutes, or 12 hours old (its times moved back in the store
  file, as the server has no option for shorter limits), ends: the next view goes to the
  sign-in page saying it expired, the cookie no longer works;
- signing out ends the session (the old cookie is refused afterwards); a wrong password and an
  unknown user get the same one generic message; a participant is refused; too many failures
  are throttled with the seconds to wait; axe-core finds 0 violations in each sign-in state.

    /usr/bin/python3 tests/browser/test_console_security.py
"""

import hashlib
import http.client
import json
import re
import sqlite3
import tempfile
import time
import unittest
import urllib.parse
from pathlib import Path

import console_harness as ch
import harness as h
from console_harness import t

EVIL = "evil.example"


class Raw:
    """Requests with exactly the headers given (no cookie jar, no redirects followed)."""

    def __init__(self, env):
        self.port = env.server.port

    def request(self, method: str, path: str, headers: dict | None = None, body: bytes | str | None = None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            hdrs = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
            if isinstance(body, str):
                body = body.encode()
            c.request(method, path, body=body, headers=hdrs)
            r = c.getresponse()
            return r.status, r.getheaders(), r.read().decode(errors="replace")
        finally:
            c.close()

    def login_form(self) -> tuple[str, str]:
        """(csrf cookie, the form's csrf field) of a fresh sign-in page."""
        status, headers, body = self.request("GET", "/console/login")
        assert status == 200, status
        cookie = set_cookie(headers, "tundra_console_csrf")
        field = re.search(r'name="csrf" value="([^"]*)"', body).group(1)
        return cookie, field

    def login(self, fields: dict, csrf_cookie: str | None):
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if csrf_cookie is not None:
            headers["Cookie"] = f"tundra_console_csrf={csrf_cookie}"
        return self.request("POST", "/console/login", headers, urllib.parse.urlencode(fields))


def access_lines(log: str) -> list[dict]:
    """The server's access log records (JSON lines, category http.access)."""
    out = []
    for line in log.splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if isinstance(r, dict) and r.get("category") == "http.access":
            out.append(r)
    return out


def set_cookie(headers, name: str) -> str | None:
    for k, v in headers:
        if k.lower() == "set-cookie" and v.startswith(name + "="):
            return v.split(";", 1)[0].split("=", 1)[1]
    return None


class ConsoleSecurity(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = h.Env(app=False)
        cls.raw = Raw(cls.env)

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    # ---- helpers ----

    def db(self):
        con = sqlite3.connect(self.env.server.db, timeout=10)
        con.execute("PRAGMA busy_timeout = 10000")
        return con

    def sessions(self, username: str) -> int:
        with self.db() as con:
            return con.execute("SELECT count(*) FROM console_sessions WHERE username = ?", (username,)).fetchone()[0]

    def browser_token(self, d) -> str:
        return next(c["value"] for c in d.get_cookies() if c["name"] == "tundra_console")

    def api(self, token: str, method: str, path: str, body: str | None = None, headers: dict | None = None):
        hdrs = {"Cookie": f"tundra_console={token}", **(headers or {})}
        if body is not None:
            hdrs.setdefault("Content-Type", "application/json")
        return self.raw.request(method, "/console/api" + path, hdrs, body)

    def csrf_of(self, token: str) -> str:
        status, _, body = self.api(token, "GET", "/me")
        self.assertEqual(status, 200, body)
        return re.search(r'"csrf":"([0-9a-f]+)"', body).group(1)

    def course_count(self, token: str, title: str) -> int:
        status, _, body = self.api(token, "GET", "/courses?q=" + urllib.parse.quote(title))
        self.assertEqual(status, 200, body)
        return int(re.search(r'"total":(\d+)', body).group(1))

    def wait_login_page(self, d, message_key: str, lang: str = "sv") -> None:
        h.wait_until(lambda: "/console/login" in d.current_url, 10, "the sign-in page")
        h.wait_until(lambda: d.execute_script("return document.querySelector('h1').textContent") == t("login.title", lang),
                     10, "the sign-in page's words")
        h.wait_text(d, t(message_key, lang))

    # ---- CSRF ----

    def test_1_sign_in_needs_the_forms_token(self):
        admin = self.env.user("admin")
        before = self.sessions("admin")
        creds = {"username": "admin", "password": admin.password}
        cookie, field = self.raw.login_form()
        self.assertTrue(cookie and field and cookie == field, "double submit: the cookie and the field are one token")
        for name, fields, jar in (("no token at all", creds, None),
                                  ("no field", creds, cookie),
                                  ("no cookie", {**creds, "csrf": field}, None),
                                  ("a wrong field", {**creds, "csrf": "0" * len(field)}, cookie),
                                  ("another page's token", {**creds, "csrf": self.raw.login_form()[1]}, cookie)):
            status, headers, body = self.raw.login(fields, jar)
            self.assertEqual(status, 403, name)
            self.assertIn('data-error="expired"', body, name)
            self.assertIsNone(set_cookie(headers, "tundra_console"), f"{name}: a session cookie was set")
            self.assertEqual(self.sessions("admin"), before, f"{name}: a session was made")
        # The same request with the page's token signs in: the token was the only difference.
        status, headers, _ = self.raw.login({**creds, "csrf": field}, cookie)
        self.assertEqual(status, 303)
        self.assertEqual(dict((k.lower(), v) for k, v in headers)["location"], "/console/")
        token = set_cookie(headers, "tundra_console")
        self.assertTrue(token)
        self.assertEqual(self.sessions("admin"), before + 1)
        cookie_line = next(v for k, v in headers if k.lower() == "set-cookie" and v.startswith("tundra_console="))
        for attr in ("Path=/console", "HttpOnly", "SameSite=Strict"):
            self.assertIn(attr, cookie_line)
        self.assertEqual(self.api(token, "GET", "/me")[0], 200)

        # In the browser: a form whose token was tampered with says the form expired.
        d = self.env.browser((1280, 900))
        ch.login_page(d, self.env)
        d.execute_script("document.querySelector('input[name=csrf]').value = 'forged'")
        h.fill(d, t("login.username"), "admin")
        h.fill(d, t("login.password"), admin.password)
        h.click(d, t("login.submit"), role="button")
        self.wait_login_page(d, "login.error_expired")
        self.assertNotIn("tundra_console", {c["name"] for c in d.get_cookies()})
        h.run_axe(d, "sign-in: the form expired")

    def test_2_api_changes_need_the_csrf_header(self):
        d = self.env.browser((1280, 900))
        ch.sign_in(d, self.env, "admin")
        token = self.browser_token(d)
        csrf = self.csrf_of(token)
        title = "Kurs utan token"
        body = '{"title": "%s", "format": "on_site", "organisations": [], "published": true}' % title
        for name, headers in (("no header", {}), ("a wrong header", {"X-CSRF-Token": "0" * len(csrf)}),
                              ("an empty header", {"X-CSRF-Token": ""})):
            status, _, answer = self.api(token, "POST", "/courses", body, headers)
            self.assertEqual(status, 403, f"{name}: {answer}")
            self.assertIn('"code":"csrf"', answer)
        # Also as a form would send it (no JSON, no header).
        status, _, _ = self.api(token, "POST", "/courses", "title=x", {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 403)
        status, _, _ = self.api(token, "POST", "/seals", '{"month": "2020-01"}')
        self.assertEqual(status, 403)
        self.assertEqual(self.course_count(token, title), 0, "a course was made without the token")
        self.assertNotIn("2020-01", self.api(token, "GET", "/seals")[2])
        # With the token it works (the header was the only difference).
        status, _, answer = self.api(token, "POST", "/courses", body, {"X-CSRF-Token": csrf})
        self.assertEqual(status, 200, answer)
        self.assertEqual(self.course_count(token, title), 1)

        # Logging out needs the session's token too; without it the session goes on.
        for form in ("", "csrf=" + "0" * len(csrf)):
            status, _, _ = self.raw.request("POST", "/console/logout", {
                "Cookie": f"tundra_console={token}", "Content-Type": "application/x-www-form-urlencoded"}, form)
            self.assertEqual(status, 403, form)
        self.assertEqual(self.api(token, "GET", "/me")[0], 200, "the session ended without its token")
        ch.go(d, self.env, "#/people")
        h.wait_text(d, "Anna Berg")

    def test_3_another_sites_page_changes_nothing(self):
        d = self.env.browser((1280, 900), args=[f"--host-resolver-rules=MAP {EVIL} 127.0.0.1"])
        ch.sign_in(d, self.env, "admin")
        token = self.browser_token(d)
        csrf = self.csrf_of(token)
        site_dir = Path(tempfile.mkdtemp(prefix="tundra-evil-", dir=self.env.tmp))
        (site_dir / "index.html").write_text(EVIL_PAGE, encoding="utf-8")
        site = h.StaticSite(site_dir)
        try:
            server = self.env.server.url
            port = site.url.rsplit(":", 1)[1]
            # Another origin on this machine (same site: the Strict cookie goes along), then a
            # cross-site name for the same page.
            for origin in (site.url, f"http://{EVIL}:{port}"):
                log_before = self.env.server.log.read_text(errors="replace")
                d.get(f"{origin}/index.html?console={urllib.parse.quote(server)}&guess={csrf[:8]}")
                h.wait_until(lambda: d.execute_script("return document.title") == "done", 15, f"the page at {origin} to finish")
                results = d.execute_script("return window.results")
                self.assertTrue(all(v in ("opaque", "blocked") for v in results.values()), f"{origin}: {results}")
                # Every request reached the server and was refused.
                log = self.env.server.log.read_text(errors="replace")[len(log_before):]
                posts = [(r["route"], r["status"]) for r in access_lines(log)
                         if r["method"] == "POST" and r["route"].startswith("/console/")]
                self.assertEqual({route for route, _ in posts}, {"/console/logout", "/console/api/courses", "/console/api/seals"},
                                 f"{origin}: the requests that reached the server: {posts}")
                self.assertEqual({status for _, status in posts}, {403}, f"{origin}: {posts}")
                # Nothing changed: still signed in, no course, nothing sealed.
                self.assertEqual(self.api(token, "GET", "/me")[0], 200, f"{origin} signed the admin out")
                self.assertEqual(self.course_count(token, "Evil course"), 0)
                self.assertNotIn("2020-02", self.api(token, "GET", "/seals")[2])
                self.assertIn("tundra_console", {c["name"] for c in self.console_cookies(d)})
        finally:
            site.close()
        d.get(ch.base(self.env) + "/#/catalogue")
        ch.wait_view(d)
        h.wait_text(d, "Förflyttningsteknik")

    def console_cookies(self, d):
        """The browser's cookies for the console's origin (read from a page there)."""
        d.get(self.env.server.url + "/console/assets/icon.svg")
        return d.get_cookies()

    # ---- sessions ----

    def move_session(self, token: str, seen_back_ms: int = 0, created_back_ms: int = 0) -> None:
        """Moves a session's last use and start back in the store file (sha-256 of the token)."""
        digest = hashlib.sha256(token.encode()).hexdigest()
        with self.db() as con:
            n = con.execute("UPDATE console_sessions SET seen_ms = seen_ms - ?, created_ms = created_ms - ? "
                            "WHERE token_hash = ?", (seen_back_ms, created_back_ms, digest)).rowcount
        self.assertEqual(n, 1, "the session's row in the store")

    def test_4_idle_and_old_sessions_expire(self):
        # 30 minutes idle: the next view goes to the sign-in page, which says it expired.
        d = self.env.browser((1280, 900))
        ch.sign_in(d, self.env, "admin")
        ch.go(d, self.env, "#/catalogue")
        token = self.browser_token(d)
        self.move_session(token, seen_back_ms=30 * 60_000 + 1000, created_back_ms=30 * 60_000 + 1000)
        d.execute_script("location.hash = '#/people'")
        self.wait_login_page(d, "login.error_expired")
        self.assertIn("e=expired", d.current_url)
        h.run_axe(d, "sign-in: the session expired")
        self.assertEqual(self.api(token, "GET", "/me")[0], 401, "an idle session still works")
        self.assertEqual(self.raw.request("GET", "/console/", {"Cookie": f"tundra_console={token}"})[0], 303)

        # 29 minutes idle is still fine; 12 hours after signing in it is over however busy.
        ch.sign_in(d, self.env, "admin")
        token = self.browser_token(d)
        self.move_session(token, seen_back_ms=29 * 60_000, created_back_ms=29 * 60_000)
        self.assertEqual(self.api(token, "GET", "/me")[0], 200, "29 minutes idle ended the session")
        self.move_session(token, created_back_ms=12 * 3600_000)  # the /me above made seen_ms now
        d.get(ch.base(self.env) + "/#/people")
        h.wait_until(lambda: "/console/login" in d.current_url, 10, "the sign-in page after 12 hours")
        self.assertNotIn("tundra_console", {c["name"] for c in d.get_cookies()}, "the ended session's cookie is cleared")
        self.assertEqual(self.api(token, "GET", "/me")[0], 401, "a 12-hour-old session still works")

    def test_5_signing_out_ends_the_session(self):
        d = self.env.browser((1280, 900))
        ch.sign_in(d, self.env, "admin")
        token = self.browser_token(d)
        before = self.sessions("admin")
        h.click(d, t("header.sign_out"), role="button")
        self.wait_login_page(d, "login.signed_out")
        self.assertEqual(h.find_by_role_text(d, "status", t("login.signed_out")).get_attribute("id"), "login-error")
        h.run_axe(d, "sign-in: signed out")
        self.assertEqual(self.sessions("admin"), before - 1)
        self.assertNotIn("tundra_console", {c["name"] for c in d.get_cookies()})
        # The old cookie, kept by someone, no longer works anywhere.
        self.assertEqual(self.api(token, "GET", "/me")[0], 401)
        status, headers, _ = self.raw.request("GET", "/console/", {"Cookie": f"tundra_console={token}"})
        self.assertEqual(status, 303)
        # An ended session's cookie, whatever ended it: the sign-in page says the session ended.
        self.assertEqual(dict((k.lower(), v) for k, v in headers)["location"], "/console/login?e=expired")
        d.add_cookie({"name": "tundra_console", "value": token, "path": "/console"})
        d.get(ch.base(self.env) + "/")
        h.wait_until(lambda: "/console/login" in d.current_url, 10, "the sign-in page for the old cookie")

    def test_6_sign_in_failures(self):
        d = self.env.browser((1280, 900))
        # A wrong password and a user that does not exist: the same 401 and one message.
        ch.sign_in(d, self.env, "admin", password="not-the-password", expect_shell=False)
        self.wait_login_page(d, "login.error_credentials")
        self.assertEqual(h.field_by_label(d, t("login.password")).get_attribute("aria-describedby"), "login-error")
        h.run_axe(d, "sign-in: wrong password")
        wrong = h.page_text(d)
        cookie, field = self.raw.login_form()
        s1, _, b1 = self.raw.login({"username": "admin", "password": "x" * 12, "csrf": field}, cookie)
        cookie, field = self.raw.login_form()
        s2, _, b2 = self.raw.login({"username": "nobody-here", "password": "x" * 12, "csrf": field}, cookie)
        self.assertEqual((s1, s2), (401, 401))
        strip = lambda b: re.sub(r'value="[0-9a-f]+"', "", b)  # noqa: E731 (the fresh csrf differs)
        self.assertEqual(strip(b1), strip(b2), "an unknown user is told the same as a wrong password")
        login = self.env.user("admin")
        d.delete_all_cookies()
        ch.login_page(d, self.env)
        h.fill(d, t("login.username"), "nobody-here")
        h.fill(d, t("login.password"), login.password)
        h.click(d, t("login.submit"), role="button")
        self.wait_login_page(d, "login.error_credentials")
        self.assertEqual(h.page_text(d), wrong)

        # A participant's right password: refused, no session.
        anna = self.env.user("anna")
        ch.sign_in(d, self.env, "anna", expect_shell=False)
        self.wait_login_page(d, "login.error_forbidden")
        self.assertNotIn("tundra_console", {c["name"] for c in d.get_cookies()})
        self.assertEqual(self.sessions("anna"), 0)
        h.run_axe(d, "sign-in: a participant")
        cookie, field = self.raw.login_form()
        self.assertEqual(self.raw.login({"username": "anna", "password": anna.password, "csrf": field}, cookie)[0], 403)

        # Too many failures for one user: throttled, with the seconds to wait.
        # Each failure past the free ones doubles the wait (1 s, 2 s, 4 s, ...): fail until
        # the wait is long enough for a person to see it in the browser.
        throttled = 0
        for _ in range(20):
            cookie, field = self.raw.login_form()
            status, headers, _ = self.raw.login({"username": "cecilia", "password": "wrong-wrong", "csrf": field}, cookie)
            if status == 401:
                continue
            self.assertEqual(status, 429)
            throttled += 1
            retry = int(dict((k.lower(), v) for k, v in headers)["retry-after"])
            self.assertGreaterEqual(retry, 1)
            if retry >= 6:
                break
            time.sleep(retry)
        self.assertGreaterEqual(throttled, 2, "never throttled")
        cecilia = self.env.user("cecilia")
        ch.login_page(d, self.env)
        h.fill(d, t("login.username"), "cecilia")
        h.fill(d, t("login.password"), cecilia.password)  # even the right password waits
        h.click(d, t("login.submit"), role="button")
        h.wait_until(lambda: "/console/login" in d.current_url, 10, "the sign-in page")
        text = h.wait_text(d, re.compile(t("login.error_throttled_wait", seconds="XX").replace("XX", r"\d+")))
        wait = int(re.search(t("login.error_throttled_wait", seconds="XX").replace("XX", r"(\d+)"), text).group(1))
        self.assertGreaterEqual(wait, 1)
        self.assertEqual(self.sessions("cecilia"), 0)
        h.run_axe(d, "sign-in: throttled")
        # After the wait, the right password works.
        time.sleep(wait + 0.5)
        ch.sign_in(d, self.env, "cecilia")
        self.assertEqual(self.sessions("cecilia"), 1)


# Another site's page: forms that submit themselves (into frames, so all of them go) and
# fetches, to sign the admin out, make a course and seal a month.
EVIL_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A page</title></head>
<body><h1>A page</h1>
<iframe name="f1" title="one"></iframe><iframe name="f2" title="two"></iframe><iframe name="f3" title="three"></iframe>
<script>
const q = new URLSearchParams(location.search);
const c = q.get('console');
window.results = {};
function form(action, target, fields, enctype) {
  const f = document.createElement('form');
  f.method = 'post'; f.action = c + action; f.target = target;
  if (enctype) f.enctype = enctype;
  for (const [k, v] of Object.entries(fields)) {
    const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i);
  }
  document.body.appendChild(f);
  f.submit();
}
async function attempt(name, fn) {
  try { const r = await fn(); window.results[name] = r.type === 'opaque' ? 'opaque' : r.status; }
  catch (e) { window.results[name] = 'blocked'; }
}
(async () => {
  form('/console/logout', 'f1', {csrf: q.get('guess')});
  form('/console/api/courses', 'f2', {'{"title": "Evil course", "organisations": [], "x": "': '"}'}, 'text/plain');
  form('/console/api/seals', 'f3', {'{"month": "2020-02", "x": "': '"}'}, 'text/plain');
  await attempt('course', () => fetch(c + '/console/api/courses', {method: 'POST', mode: 'no-cors', credentials: 'include',
    headers: {'Content-Type': 'text/plain'}, body: JSON.stringify({title: 'Evil course', organisations: []})}));
  await attempt('logout', () => fetch(c + '/console/logout', {method: 'POST', mode: 'no-cors', credentials: 'include',
    headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'csrf=x'}));
  await attempt('read_me', () => fetch(c + '/console/api/me', {credentials: 'include'}));
  await new Promise((r) => setTimeout(r, 1500));
  document.title = 'done';
})();
</script></body></html>
"""


if __name__ == "__main__":
    h.main(needs_app=False, needs_cli=False)
