"""Real-browser end-to-end tests of the tablet app: the shared harness (tests/browser/README.md).

Each test file is a small unittest module that ends with `harness.main(...)`. The harness runs
the real programs and a real browser, nothing stands in for them:

- `SyncServer`: a real `tundra-server` on 127.0.0.1 (port 0), its own store in a temp folder,
  seeded with `Scenario` through `tundra-server import`; it can be stopped and started again on
  the same port with the same store.
- `Link`: a TCP relay between the app and the sync server that the test cuts and restores
  (`down()` / `up()`), so one person's tablet goes offline while the server and other clients
  (`CliClient`, the reference CLI `tundra`) go on.
- `App`: a real `tundra-app --data-dir DIR --server URL --listen 127.0.0.1:0`.
- `Browser`: Debian's Chromium, headless, through chromedriver and Selenium, with an exact
  viewport of a 10" tablet (800x1280) or a phone (390x844).
- `run_axe`: axe-core (npm, pinned in package-lock.json) on the current page, tags wcag2a,
  wcag2aa, wcag21a, wcag21aa; `screenshot`; lookups by role and accessible name, as a user (and
  a screen reader) finds things, never by CSS ids.

Run under Debian's /usr/bin/python3 (python3-selenium installs there). Missing tools make a
test skip (exit 77, ctest SKIP_RETURN_CODE) on a developer's machine, and fail under CI=true.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import json
import os
import re
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
import zoneinfo
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SKIP = 77  # ctest SKIP_RETURN_CODE
STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
VIEWPORTS = {"tablet": (800, 1280), "phone": (390, 844)}
START_TIMEOUT_S = 15.0


# ---------------------------------------------------------------------------------------------
# Configuration: binaries from argv (CMake passes $<TARGET_FILE:...>) or the environment.


@dataclass
class Config:
    server_bin: str = ""
    app_bin: str = ""
    cli_bin: str = ""
    screenshot_dir: str = ""  # TUNDRA_SCREENSHOT_DIR: e.g. docs/img/app; empty = a temp folder
    keep_tmp: bool = False  # TUNDRA_KEEP_TMP=1: keep stores, logs and screenshots for a look


_config = Config()


def config() -> Config:
    return _config


def _default_bin(*parts: str) -> str:
    p = ROOT.joinpath("build", *parts)
    return str(p) if p.exists() else ""


def parse_args(argv: list[str]) -> tuple[Config, list[str]]:
    """Our options; the rest goes to unittest (e.g. a test name, -v)."""
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--server-bin", default=os.environ.get("TUNDRA_SERVER_BIN") or _default_bin("apps", "tundra-server"))
    ap.add_argument("--app-bin", default=os.environ.get("TUNDRA_APP_BIN") or _default_bin("apps", "tundra-app"))
    ap.add_argument("--cli-bin", default=os.environ.get("TUNDRA_CLI_BIN") or _default_bin("apps", "tundra"))
    ns, rest = ap.parse_known_args(argv)
    cfg = Config(
        server_bin=ns.server_bin,
        app_bin=ns.app_bin,
        cli_bin=ns.cli_bin,
        screenshot_dir=os.environ.get("TUNDRA_SCREENSHOT_DIR", ""),
        keep_tmp=os.environ.get("TUNDRA_KEEP_TMP", "") not in ("", "0"),
    )
    return cfg, rest


def missing_tools(cfg: Config, needs_app: bool, needs_cli: bool) -> list[str]:
    """What this test needs and this machine lacks, each with how to get it."""
    missing = []
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(f"{CHROMIUM} (apt-get install chromium; or bash scripts/browser-setup.sh)")
    if not os.access(CHROMEDRIVER, os.X_OK):
        missing.append(f"{CHROMEDRIVER} (apt-get install chromium-driver)")
    try:
        import selenium  # noqa: F401 (is it there?)
        del selenium
    except ImportError:
        missing.append(f"selenium for {sys.executable} (apt-get install python3-selenium; run the tests with /usr/bin/python3)")
    if not AXE_JS.exists():
        missing.append(f"{AXE_JS} (bash scripts/browser-setup.sh runs npm ci in tests/browser)")
    for name, flag, path, needed in (("tundra-server", "--server-bin", cfg.server_bin, True),
                                     ("tundra-app", "--app-bin", cfg.app_bin, needs_app),
                                     ("tundra (the CLI)", "--cli-bin", cfg.cli_bin, needs_cli)):
        if needed and not (path and os.access(path, os.X_OK)):
            missing.append(f"the {name} binary (got '{path}': build it, or pass {flag})")
    return missing


class _Result(unittest.TextTestResult):
    """On a failure: keep the temp folder, save a screenshot of every open browser and print
    the tails of the server and app logs, so a CI failure can be read without a rerun."""

    def _dump(self, test: unittest.TestCase) -> None:
        _state["failed"] = True
        for env in list(_live_envs):
            env.dump_for_failure(test.id())

    def addFailure(self, test, err):  # noqa: N802 (unittest's name)
        self._dump(test)
        super().addFailure(test, err)

    def addError(self, test, err):  # noqa: N802
        self._dump(test)
        super().addError(test, err)


_state = {"failed": False}
_live_envs: list["Env"] = []


def main(needs_app: bool = True, needs_cli: bool = False) -> None:
    """Entry point of a test file: checks the tools, then runs its unittest cases.

    Exit codes: 0 passed, 1 failed, 77 skipped (tools missing and CI is not "true")."""
    global _config
    _config, rest = parse_args(sys.argv[1:])
    missing = missing_tools(_config, needs_app, needs_cli)
    if missing:
        lines = "\n  ".join(missing)
        if os.environ.get("CI") == "true":
            print(f"FAIL: the browser tests need (CI=true, so this is a failure, not a skip):\n  {lines}")
            sys.exit(1)
        print(f"SKIP: the browser tests need:\n  {lines}")
        sys.exit(SKIP)
    runner = unittest.TextTestRunner(verbosity=2, resultclass=_Result)
    prog = unittest.main(argv=[sys.argv[0]] + rest, testRunner=runner, exit=False)
    result = prog.result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.testsRun == 0:
        print("FAIL: no test ran")
        sys.exit(1)
    sys.exit(0)


# ---------------------------------------------------------------------------------------------
# Processes


def wait_until(cond: Callable[[], object], timeout: float = 10.0, what: str = "condition", interval: float = 0.05):
    """Polls `cond` until it returns something truthy (returned); AssertionError naming `what`
    after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while True:
        try:
            v = cond()
            if v:
                return v
        except Exception as e:  # keep polling; report the last error if it never comes true
            last_exc = e
        if time.monotonic() >= deadline:
            extra = f" (last error: {last_exc!r})" if last_exc else ""
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{extra}")
        time.sleep(interval)


class Process:
    """A child process whose first stdout line is `listening on http://HOST:PORT`.

    stderr goes to `log` (appended across restarts); the rest of stdout is drained into it too,
    so a chatty program never blocks on a full pipe."""

    def __init__(self, argv: list[str], log: Path, name: str, env: dict | None = None):
        self.argv, self.log, self.name, self.env = argv, log, name, env
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> str:
        assert self.proc is None, f"{self.name} already running"
        logf = open(self.log, "ab")
        logf.write(f"--- {time.strftime('%H:%M:%S')} start: {' '.join(self.argv)}\n".encode())
        logf.flush()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=logf,
                                     env=self.env, start_new_session=True)
        logf.close()
        line = self._first_line()
        m = re.match(r"listening on (https?://[^\s]+)", line)
        if not m:
            self.stop()
            raise RuntimeError(f"{self.name}: expected 'listening on URL', got {line!r}; log:\n{tail(self.log)}")
        self.url = m.group(1).rstrip("/")
        threading.Thread(target=self._drain, args=(self.proc.stdout,), daemon=True).start()
        return self.url

    def _first_line(self) -> str:
        assert self.proc and self.proc.stdout
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        buf = b""
        deadline = time.monotonic() + START_TIMEOUT_S
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                self.stop()
                raise RuntimeError(f"{self.name}: no 'listening on' line within {START_TIMEOUT_S:.0f} s; log:\n{tail(self.log)}")
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                code = self.proc.wait()
                self.proc = None
                raise RuntimeError(f"{self.name} exited ({code}) before listening; stdout {buf!r}; log:\n{tail(self.log)}")
            buf += chunk
        sel.close()
        first, _, rest = buf.partition(b"\n")
        if rest:
            with open(self.log, "ab") as f:
                f.write(rest)
        return first.decode(errors="replace").strip()

    def _drain(self, pipe) -> None:
        with open(self.log, "ab") as f:
            for chunk in iter(lambda: pipe.read1(4096), b""):
                f.write(chunk)
                f.flush()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int | None:
        """SIGTERM (or `sig`, e.g. SIGKILL for a crash), then wait; SIGKILL after `timeout`."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode
        self.proc = None
        return code


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def http(method: str, url: str, body: object | None = None, headers: dict | None = None,
         timeout: float = 10.0) -> tuple[int, dict, object]:
    """One HTTP request (JSON body when `body` is not None). Returns (status, headers, parsed
    JSON or text). Never raises for an HTTP error status: tests check the status."""
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, rh, raw = r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        status, rh, raw = e.code, dict(e.headers), e.read()
    text = raw.decode(errors="replace")
    try:
        return status, rh, json.loads(text)
    except ValueError:
        return status, rh, text


# ---------------------------------------------------------------------------------------------
# The scenario every flow starts from (Europe/Stockholm days, made for "now").


@dataclass
class User:
    username: str
    password: str
    role: str
    person: str | None = None
    name: str = ""


@dataclass
class Scenario:
    """A small municipality: two sites, four staff, logins for anna and bo (participants),
    cecilia (coordinator of Hemtjänst Norr) and admin. Occasions today and yesterday at Norr
    (Stockholm days), one with a single seat (the fair-seat flow), one later at Syd, and one
    course open to another municipality only (never in anna's catalogue).

    - o-today (Förflyttningsteknik, today 09:00-12:00): anna, bo, dina confirmed, unmarked
      (the coordinator's roster).
    - o-yesterday (Förflyttningsteknik, yesterday 13:00-15:00): anna and dina confirmed and
      marked present (anna's survey is due).
    - o-small (Bemötande vid demens, in 7 days, capacity 1, enrolment closes in 6 days): no one
      enrolled yet.
    - o-later (Bemötande vid demens, Syd, in 14 days, capacity 20).
    - o-other (Digital dokumentation, course open to Annanby only).
    - anna's ESF participation started last month (her time attestation is due).
    """

    now: dt.datetime
    today: dt.date
    yesterday: dt.date
    users: dict[str, User]
    document: dict = field(repr=False, default_factory=dict)

    def course_title(self, course_id: str) -> str:
        return next(c["title"] for c in self.document["courses"] if c["id"] == course_id)

    def occasion(self, occasion_id: str) -> dict:
        return next(o for o in self.document["occasions"] if o["id"] == occasion_id)

    def person_name(self, person_id: str) -> str:
        return next(p["name"] for p in self.document["persons"] if p["id"] == person_id)

    def site_name(self, site_id: str) -> str:
        return next(s["name"] for s in self.document["sites"] if s["id"] == site_id)


def utc_iso(local: dt.datetime) -> str:
    return local.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def stockholm(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=STOCKHOLM)


def make_scenario(now: dt.datetime | None = None) -> Scenario:
    now = now or dt.datetime.now(dt.timezone.utc)
    today = now.astimezone(STOCKHOLM).date()
    yesterday = today - dt.timedelta(days=1)
    in7, in6, in14 = (today + dt.timedelta(days=n) for n in (7, 6, 14))
    first_of_month = today.replace(day=1)
    last_month = (first_of_month - dt.timedelta(days=1)).strftime("%Y-%m")
    users = {
        "anna": User("anna", "anna-losen-1", "participant", "p-anna", "Anna Berg"),
        "bo": User("bo", "bo-losen-22", "participant", "p-bo", "Bo Ek"),
        "cecilia": User("cecilia", "cecilia-losen-3", "coordinator", None, "Cecilia Nyström"),
        "admin": User("admin", "admin-losen-4", "admin", None, "admin"),
    }

    def occ(oid, course, day, start, end, site, capacity, closes, **extra):
        return {"id": oid, "course": course, "starts_at": utc_iso(stockholm(day, *start)),
                "ends_at": utc_iso(stockholm(day, *end)), "site": site, "capacity": capacity,
                "enrolment_closes": utc_iso(closes), **extra}

    doc = {
        "organisations": [
            {"code": "testby", "name": "Testby kommun", "county": "Norrbotten"},
            {"code": "annanby", "name": "Annanby kommun", "county": "Västerbotten"},
        ],
        "sites": [
            {"id": "site-norr", "organisation": "testby", "name": "Hemtjänst Norr"},
            {"id": "site-syd", "organisation": "testby", "name": "Hemtjänst Syd"},
        ],
        "persons": [
            {"id": "p-anna", "organisation": "testby", "site": "site-norr", "name": "Anna Berg",
             "gender": "woman", "birth_year": 1980, "profession": "undersköterska"},
            {"id": "p-bo", "organisation": "testby", "site": "site-norr", "name": "Bo Ek",
             "gender": "man", "birth_year": 1975, "profession": "vårdbiträde"},
            {"id": "p-dina", "organisation": "testby", "site": "site-norr", "name": "Dina Holm",
             "gender": "woman", "birth_year": 1992, "profession": "undersköterska"},
            {"id": "p-erik", "organisation": "testby", "site": "site-syd", "name": "Erik Lund",
             "gender": "man", "birth_year": 1988},
        ],
        "users": [
            {"username": "anna", "password": users["anna"].password, "role": "participant", "person": "p-anna"},
            {"username": "bo", "password": users["bo"].password, "role": "participant", "person": "p-bo"},
            {"username": "cecilia", "password": users["cecilia"].password, "role": "coordinator",
             "sites": ["site-norr"]},
            {"username": "admin", "password": users["admin"].password, "role": "admin"},
        ],
        "courses": [
            {"id": "c-lyft", "title": "Förflyttningsteknik", "description": "Säkra lyft och förflyttningar.",
             "theme": "Arbetsmiljö", "format": "on_site", "provider": "Testby kommun",
             "duration_minutes": 180, "organisations": [], "published": True},
            {"id": "c-demens", "title": "Bemötande vid demens", "description": "Att möta personer med demens.",
             "theme": "Demens", "format": "workshop", "provider": "Demenscentrum",
             "duration_minutes": 120, "organisations": ["testby"], "published": True},
            {"id": "c-other", "title": "Digital dokumentation", "theme": "Digitalisering",
             "format": "live_online", "organisations": ["annanby"], "published": True},
        ],
        "occasions": [
            occ("o-today", "c-lyft", today, (9, 0), (12, 0), "site-norr", 10, stockholm(today, 8)),
            occ("o-yesterday", "c-lyft", yesterday, (13, 0), (15, 0), "site-norr", 10, stockholm(yesterday, 12)),
            occ("o-small", "c-demens", in7, (10, 0), (12, 0), "site-norr", 1, stockholm(in6, 16)),
            occ("o-later", "c-demens", in14, (13, 0), (15, 0), "site-syd", 20, stockholm(in14 - dt.timedelta(days=1), 16)),
            {"id": "o-other", "course": "c-other", "starts_at": utc_iso(stockholm(in7, 9)),
             "ends_at": utc_iso(stockholm(in7, 10)), "online_link": "https://meet.example.org/o-other",
             "capacity": 30, "enrolment_closes": utc_iso(stockholm(in6, 16))},
        ],
        "enrolments": [
            {"id": "e-today-anna", "occasion": "o-today", "person": "p-anna", "status": "confirmed"},
            {"id": "e-today-bo", "occasion": "o-today", "person": "p-bo", "status": "confirmed"},
            {"id": "e-today-dina", "occasion": "o-today", "person": "p-dina", "status": "confirmed"},
            {"id": "e-yday-anna", "occasion": "o-yesterday", "person": "p-anna", "status": "confirmed"},
            {"id": "e-yday-dina", "occasion": "o-yesterday", "person": "p-dina", "status": "confirmed"},
        ],
        "attendance": [
            {"occasion": "o-yesterday", "person": "p-anna", "status": "present", "minutes": 120},
            {"occasion": "o-yesterday", "person": "p-dina", "status": "present", "minutes": 120},
        ],
        "participations": [
            {"person": "p-anna", "start_month": last_month},
        ],
    }
    return Scenario(now=now, today=today, yesterday=yesterday, users=users, document=doc)


# ---------------------------------------------------------------------------------------------
# The sync server and the link to it


class SyncServer:
    """A real tundra-server with its own store (`db`) in `workdir`."""

    def __init__(self, cfg: Config, workdir: Path):
        self.bin = cfg.server_bin
        self.db = workdir / "server.db"
        self.log = workdir / "server.log"
        self.port = 0
        self.process: Process | None = None
        self.url = ""

    def admin(self, *args: str, stdin: str | None = None) -> str:
        """A `tundra-server` admin subcommand on this store (e.g. "revoke-user", "anna");
        returns stdout; AssertionError with stderr when it fails."""
        sub, *rest = args
        r = subprocess.run([self.bin, sub, "--db", str(self.db), *rest], input=stdin, capture_output=True, text=True,
                           timeout=60)
        if r.returncode != 0:
            raise AssertionError(f"tundra-server {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
        return r.stdout

    def init(self) -> None:
        if not self.db.exists():
            self.admin("init")

    def import_doc(self, document: dict) -> str:
        """`tundra-server import` of a JSON document; works while the server runs (re-imports
        update: e.g. cancel an occasion with {"occasions": [{..., "status": "cancelled"}]})."""
        path = self.db.parent / f"import-{time.monotonic_ns()}.json"
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        return self.admin("import", str(path))

    def add_user(self, username: str, password: str, role: str, person: str | None = None,
                 sites: Iterable[str] = ()) -> None:
        args = ["add-user", username, "--role", role, "--password-stdin"]
        if person:
            args += ["--person", person]
        for s in sites:
            args += ["--site", s]
        self.admin(*args, stdin=password + "\n")

    def start(self) -> str:
        """Serves on 127.0.0.1: port 0 the first time, then the same port again."""
        self.process = Process([self.bin, "serve", "--db", str(self.db), "--listen", f"127.0.0.1:{self.port}"],
                               self.log, "tundra-server")
        deadline = time.monotonic() + 10
        while True:
            try:
                self.url = self.process.start()
                break
            except RuntimeError:
                # The same port can stay taken for a moment after a stop; anything else is fatal.
                if self.port == 0 or time.monotonic() > deadline or "address" not in tail(self.log, 3).lower():
                    raise
                self.process = Process(self.process.argv, self.log, "tundra-server")
                time.sleep(0.2)
        self.port = port_of(self.url)
        return self.url

    def stop(self, crash: bool = False) -> int | None:
        """SIGTERM (or SIGKILL with crash=True): the link drops for every client."""
        if not self.process:
            return None
        code = self.process.stop(signal.SIGKILL if crash else signal.SIGTERM)
        self.process = None
        return code

    @property
    def running(self) -> bool:
        return bool(self.process and self.process.running)

    def healthz(self) -> dict:
        status, _, body = http("GET", self.url + "/healthz")
        assert status == 200, f"/healthz answered {status}: {body}"
        return body


class Link:
    """A TCP relay on 127.0.0.1 in front of the sync server: the app is given `url`, and the
    test cuts the link with `down()` (open connections are closed, new ones refused, as when a
    tablet loses its network) and restores it with `up()` (same port). The server stays up, so
    other clients sync meanwhile."""

    def __init__(self, target_url: str):
        self.target = ("127.0.0.1", port_of(target_url))
        self.port = 0
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def is_up(self) -> bool:
        return self._listener is not None

    def up(self) -> None:
        if self._listener:
            return
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(64)
        self.port = s.getsockname()[1]
        self._listener = s
        threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def down(self) -> None:
        with self._lock:
            s, self._listener = self._listener, None
            conns, self._conns = self._conns, []
        if s:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()

    def retarget(self, server_url: str) -> None:
        """After the server moved to another port (it normally keeps its port on restart)."""
        self.target = ("127.0.0.1", port_of(server_url))

    def _accept(self, s: socket.socket) -> None:
        while True:
            try:
                client, _ = s.accept()
            except OSError:
                return  # down()
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()  # the server itself is down: the app sees the connection drop
                continue
            with self._lock:
                if self._listener is not s:
                    client.close()
                    upstream.close()
                    return
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            with self._lock:
                for sock in (src, dst):
                    if sock in self._conns:
                        self._conns.remove(sock)
                        sock.close()


class CliClient:
    """Another person's device: the reference CLI `tundra` with its own replica, talking to the
    server directly (not through the app's Link)."""

    def __init__(self, cfg: Config, workdir: Path, user: User):
        assert cfg.cli_bin, "this test needs --cli-bin (harness.main(needs_cli=True))"
        self.bin, self.user = cfg.cli_bin, user
        self.replica = workdir / f"cli-{user.username}.db"

    def run(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        r = subprocess.run([self.bin, "--replica", str(self.replica), *args], input=stdin, capture_output=True,
                           text=True, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError(f"tundra {' '.join(args)} failed ({r.returncode}): {r.stdout}{r.stderr}")
        return r

    def login(self, server_url: str) -> None:
        self.run("login", "--server", server_url, "--username", self.user.username, "--password-stdin",
                 stdin=self.user.password + "\n")

    def json(self, *args: str) -> object:
        return json.loads(self.run("--json", *args).stdout)


# ---------------------------------------------------------------------------------------------
# The app


class App:
    """A real tundra-app: `--data-dir` (kept across restarts), `--server` (normally the Link's
    URL), `--listen 127.0.0.1:0` the first time and the same port after a restart (the page's
    origin, and so its cookies, stay the same)."""

    def __init__(self, cfg: Config, workdir: Path, server_url: str, extra: Iterable[str] = ()):
        self.bin = cfg.app_bin
        self.data_dir = workdir / "app-data"
        self.data_dir.mkdir(exist_ok=True)
        self.log = workdir / "app.log"
        self.server_url = server_url
        self.extra = list(extra)
        self.port = 0
        self.process: Process | None = None
        self.url = ""

    def start(self) -> str:
        argv = [self.bin, "--data-dir", str(self.data_dir), "--server", self.server_url,
                "--listen", f"127.0.0.1:{self.port}", *self.extra]
        self.process = Process(argv, self.log, "tundra-app")
        self.url = self.process.start()
        self.port = port_of(self.url)
        return self.url

    def stop(self, crash: bool = False) -> int | None:
        if not self.process:
            return None
        code = self.process.stop(signal.SIGKILL if crash else signal.SIGTERM)
        self.process = None
        return code

    def api(self, method: str, path: str, body: object | None = None, headers: dict | None = None):
        """A raw request to the app's JSON API (no cookie): for the security checks."""
        return http(method, self.url + path, body, headers)

    def session(self, driver=None) -> "ApiSession":
        """The JSON API with a cookie jar; given a browser, it starts with that browser's
        cookies (e.g. the unlocked session, to check what a request without Origin may do)."""
        return ApiSession(self.url, driver)


class ApiSession:
    def __init__(self, base_url: str, driver=None):
        import http.cookiejar
        self.base = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.browser_cookies = {c["name"]: c["value"] for c in driver.get_cookies()} if driver else {}

    def request(self, method: str, path: str, body: object | None = None, headers: dict | None = None,
                timeout: float = 10.0) -> tuple[int, dict, object]:
        hdrs = dict(headers or {})
        if self.browser_cookies:
            hdrs.setdefault("Cookie", "; ".join(f"{k}={v}" for k, v in self.browser_cookies.items()))
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=hdrs)
        try:
            with self.opener.open(req, timeout=timeout) as r:
                status, rh, raw = r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            status, rh, raw = e.code, dict(e.headers), e.read()
        text = raw.decode(errors="replace")
        try:
            return status, rh, json.loads(text)
        except ValueError:
            return status, rh, text

    def get(self, path: str, **kw):
        return self.request("GET", path, **kw)

    def post(self, path: str, body: object | None = None, **kw):
        return self.request("POST", path, body if body is not None else {}, **kw)


# ---------------------------------------------------------------------------------------------
# The browser


def new_browser(viewport: str | tuple[int, int] = "tablet", lang: str = "sv-SE", args: Iterable[str] = ()):
    """Headless Debian Chromium with a fresh profile and an exact viewport ("tablet" 800x1280,
    "phone" 390x844 as a mobile device, or (width, height)). The caller quits it (Env does)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="tundra-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-quic", "--no-default-browser-check", "--disable-extensions",
              "--force-device-scale-factor=1", f"--lang={lang}", f"--user-data-dir={profile}",
              "--window-size=800,1280", *args):
        opts.add_argument(a)
    opts.add_experimental_option("prefs", {"intl.accept_languages": f"{lang},{lang.split('-')[0]}"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver._tundra_profile = profile  # removed by quit_browser
    driver.set_script_timeout(30)
    set_viewport(driver, viewport)
    return driver


def set_viewport(driver, viewport: str | tuple[int, int], zoom: float = 1.0) -> None:
    """Exact CSS viewport (headless windows have a minimum width, so use device emulation).
    zoom=2.0 is the page at 200% browser zoom: a viewport of half the CSS pixels, drawn at
    twice the density (WCAG 1.4.4 / 1.4.10)."""
    w, h = VIEWPORTS[viewport] if isinstance(viewport, str) else viewport
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": int(w / zoom), "height": int(h / zoom), "deviceScaleFactor": zoom,
        "mobile": viewport == "phone"})
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": viewport == "phone"})


def quit_browser(driver) -> None:
    try:
        driver.quit()
    finally:
        shutil.rmtree(getattr(driver, "_tundra_profile", ""), ignore_errors=True)


def run_axe(driver, state_name: str, expect_clean: bool = True) -> list[dict]:
    """axe-core on the current page for the WCAG 2.0/2.1 A and AA rules. Returns the violations;
    with expect_clean (the default) an AssertionError lists each one (rule, impact, targets,
    HTML) under `state_name` (a state listed in docs/app.md, e.g. "catalogue, offline, 2
    pending"). Each state checked is appended to $TUNDRA_AXE_STATES_FILE when set."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(AXE_JS.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})"
        ".then(r => done({violations: r.violations, url: r.url}), e => done({error: String(e)}));",
        AXE_TAGS)
    if "error" in result:
        raise AssertionError(f"axe-core failed on '{state_name}': {result['error']}")
    violations = result["violations"]
    if states_file := os.environ.get("TUNDRA_AXE_STATES_FILE"):
        with open(states_file, "a", encoding="utf-8") as f:
            f.write(f"{state_name}\t{len(violations)}\n")
    if expect_clean and violations:
        raise AssertionError(f"axe: {len(violations)} WCAG violation(s) in state '{state_name}' "
                             f"({result.get('url')}):\n{format_violations(violations)}")
    return violations


def format_violations(violations: list[dict]) -> str:
    out = []
    for v in violations:
        out.append(f"- {v['id']} ({v.get('impact')}): {v.get('help')} [{v.get('helpUrl', '')}]")
        for n in v.get("nodes", [])[:10]:
            html = re.sub(r"\s+", " ", n.get("html", ""))[:200]
            out.append(f"    at {', '.join(' '.join(t) if isinstance(t, list) else t for t in n.get('target', []))}: {html}")
            if summary := n.get("failureSummary"):
                lines = summary.splitlines()
                out += ["      " + ln for ln in lines[:4]] + (["      ..."] if len(lines) > 4 else [])
        if len(v.get("nodes", [])) > 10:
            out.append(f"    ... and {len(v['nodes']) - 10} more")
    return "\n".join(out)


_tmp_screens: list[str] = []


def _drop_tmp_screens() -> None:
    for d in _tmp_screens:
        if _state["failed"] or _config.keep_tmp:
            print(f"[harness] screenshots kept in {d}", file=sys.stderr)
        else:
            shutil.rmtree(d, ignore_errors=True)


def screenshot_dir() -> Path:
    """$TUNDRA_SCREENSHOT_DIR, else a temp folder removed at exit (kept after a failure or with
    TUNDRA_KEEP_TMP=1)."""
    if _config.screenshot_dir:
        d = Path(_config.screenshot_dir)
    else:
        if not _tmp_screens:
            _tmp_screens.append(tempfile.mkdtemp(prefix="tundra-screens-"))
            atexit.register(_drop_tmp_screens)
        d = Path(_tmp_screens[0])
    d.mkdir(parents=True, exist_ok=True)
    return d


def screenshot(driver, name: str) -> Path:
    """The viewport as `<name>.png` in $TUNDRA_SCREENSHOT_DIR (e.g. docs/img/app), else in a
    temp folder; returns the path (checked to be a PNG)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")
    path = screenshot_dir() / f"{safe}.png"
    if not driver.save_screenshot(str(path)):
        raise AssertionError(f"screenshot {name} failed")
    assert png_size(path)[0] > 0, f"{path} is not a PNG"
    return path


def axe_and_screenshots(driver, state_name: str, shot: str) -> None:
    """axe and a screenshot of the screen as it is, at tablet width and then at phone width
    (`<shot>-tablet.png`, `<shot>-phone.png`); back at tablet width after."""
    run_axe(driver, state_name)
    screenshot(driver, f"{shot}-tablet")
    set_viewport(driver, "phone")
    run_axe(driver, f"{state_name} (phone)")
    screenshot(driver, f"{shot}-phone")
    set_viewport(driver, "tablet")


def png_size(path: Path) -> tuple[int, int]:
    head = Path(path).read_bytes()[:24]
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return (0, 0)
    return struct.unpack(">II", head[16:24])


# --- finding things as a user does: by role and accessible name ------------------------------

# Elements that can carry each role natively; [role=...] is always added.
_ROLE_CSS = {
    "button": "button, input[type=button], input[type=submit], input[type=reset], summary",
    "link": "a[href]",
    "textbox": "input:not([type]), input[type=text], input[type=email], input[type=password], input[type=tel], input[type=url], textarea",
    "searchbox": "input[type=search]",
    "spinbutton": "input[type=number]",
    "checkbox": "input[type=checkbox]",
    "radio": "input[type=radio]",
    "combobox": "select, input[list]",
    "listbox": "select[multiple]",
    "slider": "input[type=range]",
    "heading": "h1, h2, h3, h4, h5, h6",
    "dialog": "dialog",
    "navigation": "nav",
    "main": "main",
    "banner": "header",
    "region": "section[aria-label], section[aria-labelledby]",
    "form": "form",
    "list": "ul, ol",
    "listitem": "li",
    "table": "table",
    "row": "tr",
    "cell": "td",
    "columnheader": "th",
    "progressbar": "progress",
    "status": "output",
    "alert": "",
    "article": "article",
    "group": "fieldset, details",
    "img": "img[alt]",
}
_FIELD_ROLES = ("textbox", "searchbox", "spinbutton", "combobox", "listbox", "checkbox", "radio", "slider")


def _norm(s: str | None) -> str:
    return re.sub(r"\s+", " ", s or "").strip()


def _candidates(scope, role: str):
    css = _ROLE_CSS.get(role, "")
    css = f"{css}, [role~={role}]" if css else f"[role~={role}]"
    return scope.find_elements("css selector", css)


def _names(driver, roles: Iterable[str], within=None) -> list[tuple[str, str, object]]:
    out = []
    for role in roles:
        for el in _candidates(within or driver, role):
            try:
                if el.aria_role != role and role not in (el.get_attribute("role") or "").split():
                    continue
                if not el.is_displayed() and role not in ("radio", "checkbox"):
                    continue
                out.append((role, _norm(el.accessible_name), el))
            except Exception:  # went stale while we looked: the page re-rendered
                continue
    return out


def _matcher(want: str | re.Pattern, exact: bool) -> Callable[[str], bool]:
    if isinstance(want, re.Pattern):
        return lambda s: bool(want.search(s))
    if exact:
        return lambda s: s == _norm(want)
    return lambda s: _norm(want).lower() in s.lower()


def _find(driver, roles: list[str], what: str, want, key: Callable[[str, object], str], exact: bool,
          timeout: float, within):
    match = _matcher(want, exact)
    seen: list[tuple[str, str]] = []

    def look():
        nonlocal seen
        found = []
        for r, n, el in _names(driver, roles, within):
            try:
                found.append((r, key(n, el), el))
            except Exception:  # went stale while we looked (the status bar re-renders each poll)
                continue
        seen = [(r, k) for r, k, _ in found]
        hits = [el for _, k, el in found if match(k)]
        return hits[0] if len(hits) == 1 else (hits or None)

    label = f"{'/'.join(roles)} {what} {want!r}" + (" within the given element" if within else "")
    try:
        got = wait_until(look, timeout, label)
    except AssertionError:
        have = sorted({f"{r} {k[:80]!r}" for r, k in seen})
        raise AssertionError(f"no {label} on {driver.current_url}; there are: {', '.join(have) or 'none'}") from None
    if isinstance(got, list):
        raise AssertionError(f"{len(got)} elements: {label}; say which (a longer name, or within=)")
    return got


def find_by_role(driver, role: str | Iterable[str], name: str | re.Pattern, timeout: float = 5.0,
                 exact: bool = True, within=None):
    """The one visible element with this role (or any of these roles) and accessible name, as
    the browser's accessibility tree computes it (what a screen reader announces). `name`: a
    string (whitespace-normalised; exact, or a substring with exact=False) or a regex. Waits up
    to `timeout`; the error lists the names that were there. `within`: only inside this element
    (e.g. the roster row of one person: `within=find_by_role_text(d, "row", "Dina Holm")`)."""
    roles = [role] if isinstance(role, str) else list(role)
    return _find(driver, roles, "named", name, lambda n, el: n, exact, timeout, within)


def find_by_role_text(driver, role: str | Iterable[str], text: str | re.Pattern, timeout: float = 5.0,
                      within=None):
    """The one visible element with this role whose visible text contains `text` (or matches the
    regex): for roles named by their author, not their content, e.g. a live region
    ("status", "alert"), a "row" or "listitem" that mentions a person, an "article"."""
    roles = [role] if isinstance(role, str) else list(role)
    return _find(driver, roles, "showing", text, lambda n, el: _norm(el.text), False, timeout, within)


def all_by_role(driver, role: str, within=None) -> list[tuple[str, object]]:
    """Every visible element with this role: [(accessible name, element)]."""
    return [(n, el) for _, n, el in _names(driver, [role], within)]


def button(driver, name, **kw):
    return find_by_role(driver, "button", name, **kw)


def link(driver, name, **kw):
    return find_by_role(driver, "link", name, **kw)


def heading(driver, name, **kw):
    return find_by_role(driver, "heading", name, **kw)


def field_by_label(driver, label, **kw):
    """A form control by its label (accessible name): text fields, selects, checkboxes..."""
    return find_by_role(driver, _FIELD_ROLES, label, **kw)


def click(driver, name, role: str | Iterable[str] = ("button", "link"), **kw) -> None:
    """Clicks the button (or link) a user would read as `name` (found again if the page
    re-rendered it between finding and clicking)."""
    from selenium.common.exceptions import StaleElementReferenceException
    for attempt in range(3):
        try:
            find_by_role(driver, role, name, **kw).click()
            return
        except StaleElementReferenceException:
            if attempt == 2:
                raise


def click_in(driver, name, role: str, text: str | re.Pattern, timeout: float = 10.0) -> None:
    """Clicks the button (or link) `name` inside the element of `role` that shows `text` (a
    list item, a row), both looked up afresh until found together: a screen that re-renders
    between finding the item and finding the button in it (a background refresh) leaves the
    first lookup holding an item no longer on the page."""
    def once():
        item = find_by_role_text(driver, role, text, timeout=0.5)
        find_by_role(driver, ("button", "link"), name, timeout=0.5, within=item).click()
        return True
    wait_until(once, timeout, f"{name!r} in the {role} showing {text!r}")


def fill(driver, label, text: str, **kw) -> None:
    """Types `text` into the field labelled `label`, replacing what was there."""
    el = field_by_label(driver, label, **kw)
    el.clear()
    el.send_keys(text)


def choose(driver, label, option_text: str, **kw) -> None:
    """Picks the option shown as `option_text` in the <select> labelled `label`."""
    from selenium.webdriver.support.select import Select
    Select(field_by_label(driver, label, **kw)).select_by_visible_text(option_text)


LOCALE_DIR = ROOT / "apps" / "tundra-app" / "assets" / "locale"
_catalogues: dict[str, dict] = {}


def t(key: str, lang: str = "sv", **params) -> str:
    """The app's own text for a catalogue key (apps/tundra-app/assets/locale/<lang>.json), with
    {placeholders} filled in: tests look for what the user reads, without copying the strings.
    h.click(d, h.t("signin.submit")); h.wait_text(d, h.t("pin.wrong", failures=1))."""
    if lang not in _catalogues:
        path = LOCALE_DIR / f"{lang}.json"
        _catalogues[lang] = json.loads(path.read_text(encoding="utf-8"))
    entry = _catalogues[lang].get(key)
    if entry is None:
        raise KeyError(f"no key '{key}' in {LOCALE_DIR / (lang + '.json')}")
    message = entry["message"] if isinstance(entry, dict) else entry
    return re.sub(r"\{(\w+)\}", lambda m: number(params[m.group(1)], lang) if m.group(1) in params else m.group(0),
                  message)


def number(v: object, lang: str = "sv") -> str:
    """A number as the page shows it (Intl sv-SE / en-GB): 1 234,5 / 1,234.5. The page's
    non-breaking space compares equal after page_text/wait_text normalise whitespace."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    text = f"{v:,}" if isinstance(v, int) else f"{v:,.3f}".rstrip("0").rstrip(".")
    return text.replace(",", " ").replace(".", ",") if lang == "sv" else text


def page_text(driver) -> str:
    return _norm(driver.find_element("tag name", "body").text)


def wait_text(driver, text: str | re.Pattern, timeout: float = 10.0) -> str:
    """Waits until the visible page text contains `text` (or matches the regex); returns it."""
    def has():
        t = page_text(driver)
        ok = text.search(t) if isinstance(text, re.Pattern) else _norm(text) in t
        return t if ok else None
    try:
        return wait_until(has, timeout, f"text {text!r}")
    except AssertionError:
        raise AssertionError(f"text {text!r} did not appear on {driver.current_url} within {timeout:.0f} s; "
                             f"the page shows: {page_text(driver)[:1500]}") from None


def wait_no_text(driver, text: str, timeout: float = 10.0) -> None:
    wait_until(lambda: _norm(text) not in page_text(driver), timeout, f"text {text!r} to go away")


def focused(driver) -> tuple[str, str]:
    """(role, accessible name) of the element that has keyboard focus."""
    el = driver.switch_to.active_element
    return el.aria_role, _norm(el.accessible_name)


def focus_start(driver) -> None:
    """Moves the keyboard's starting point to the top of the page (as after a page load)."""
    driver.execute_script(
        "const b = document.body; b.tabIndex = -1; b.focus({preventScroll: true}); b.removeAttribute('tabindex');")


def tab_through(driver, count: int, from_start: bool = False) -> list[tuple[str, str]]:
    """Presses Tab `count` times from where focus is (from the top of the page with
    from_start); the (role, name) focused after each: the keyboard-only focus order."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    if from_start:
        focus_start(driver)
    out = []
    for _ in range(count):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        out.append(focused(driver))
    return out


def horizontal_overflow(driver) -> int:
    """CSS pixels the page is wider than the viewport (0 = reflows, WCAG 1.4.10)."""
    return int(driver.execute_script(
        "return Math.max(0, document.documentElement.scrollWidth - document.documentElement.clientWidth)"))


def small_targets(driver, minimum: int = 44) -> list[str]:
    """Visible controls smaller than minimum x minimum CSS pixels (the issue's touch targets),
    described for an assertion message. Inline links inside running text are exempt."""
    return driver.execute_script("""
      const min = arguments[0], out = [];
      const sel = 'button, a[href], input:not([type=hidden]), select, textarea, summary, [role=button], [role=link], [role=checkbox], [role=radio], [role=tab], [tabindex]:not([tabindex="-1"])';
      for (const el of document.querySelectorAll(sel)) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0 || getComputedStyle(el).visibility === 'hidden') continue;
        if (el.tagName === 'A' && getComputedStyle(el).display === 'inline' && el.parentElement &&
            el.parentElement.textContent.trim().length > el.textContent.trim().length) continue;
        if (r.width < min || r.height < min)
          out.push(`${el.tagName.toLowerCase()} "${(el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 40)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
      }
      return out;""", minimum)


# ---------------------------------------------------------------------------------------------
# A static site (for the harness's own checks, and pages made up in a test)


class StaticSite:
    """Serves a folder on 127.0.0.1:0 from a thread."""

    def __init__(self, folder: Path):
        handler = lambda *a, **kw: _QuietHandler(*a, directory=str(folder), **kw)  # noqa: E731
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


# ---------------------------------------------------------------------------------------------
# Everything together


class Env:
    """One test environment in its own temp folder: the seeded sync server, the link, the app
    (app=True) and browsers (`browser()`); `close()` (or `with`) stops them all.

        env = Env(app=True)           # server seeded with make_scenario(), link up, app started
        d = env.browser("tablet")
        d.get(env.app.url)
    """

    def __init__(self, app: bool = True, scenario: Scenario | None = None, app_args: Iterable[str] = ()):
        self.cfg = _config
        self.tmp = Path(tempfile.mkdtemp(prefix="tundra-browser-"))
        self.browsers: list = []
        self.server = SyncServer(self.cfg, self.tmp)
        self.link: Link | None = None
        self.app: App | None = None
        self.scenario = scenario or make_scenario()
        _live_envs.append(self)
        try:
            self.server.init()
            self.server.import_doc(self.scenario.document)
            self.server.start()
            self.link = Link(self.server.url)
            if app:
                self.app = App(self.cfg, self.tmp, self.link.url, app_args)
                self.app.start()
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> "Env":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            _state["failed"] = True
            self.dump_for_failure("with-block")
        self.close()

    def browser(self, viewport: str | tuple[int, int] = "tablet", lang: str = "sv-SE", args: Iterable[str] = ()):
        """A new browser (closed by close()); `args`: more Chromium switches, e.g.
        "--host-resolver-rules=MAP evil.example 127.0.0.1" for a DNS-rebinding page."""
        d = new_browser(viewport, lang, args)
        self.browsers.append(d)
        return d

    def user(self, username: str) -> User:
        return self.scenario.users[username]

    def cli(self, username: str, login: bool = True) -> CliClient:
        """`username`'s own device (the reference CLI), logged in straight to the server."""
        c = CliClient(self.cfg, self.tmp, self.user(username))
        if login:
            c.login(self.server.url)
        return c

    def offline(self) -> None:
        """This tablet loses its link (the server and other clients go on)."""
        assert self.link
        self.link.down()

    def online(self) -> None:
        assert self.link
        self.link.up()

    def restart_server(self, crash: bool = False) -> None:
        """The sync server stops and comes back on the same port with the same store."""
        self.server.stop(crash=crash)
        self.server.start()
        if self.link:
            self.link.retarget(self.server.url)

    def dump_for_failure(self, test_id: str) -> None:
        for i, d in enumerate(self.browsers):
            try:
                path = self.tmp / f"FAILED-{re.sub(r'[^A-Za-z0-9._-]+', '-', test_id)}-{i}.png"
                d.save_screenshot(str(path))
                print(f"\n[harness] screenshot of browser {i} ({d.current_url}): {path}", file=sys.stderr)
            except Exception as e:  # the browser may be what broke
                print(f"\n[harness] no screenshot of browser {i}: {e}", file=sys.stderr)
        for name, log in (("tundra-server", self.server.log), ("tundra-app", self.tmp / "app.log")):
            if log.exists():
                print(f"[harness] last lines of the {name} log ({log}):\n{tail(log)}", file=sys.stderr)
        print(f"[harness] kept {self.tmp}", file=sys.stderr)

    def close(self) -> None:
        for d in self.browsers:
            try:
                quit_browser(d)
            except Exception:
                pass
        self.browsers = []
        if self.app:
            self.app.stop()
        if self.link:
            self.link.down()
        self.server.stop()
        if self in _live_envs:
            _live_envs.remove(self)
        if not (_state["failed"] or self.cfg.keep_tmp):
            shutil.rmtree(self.tmp, ignore_errors=True)
