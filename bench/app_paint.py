#!/usr/bin/python3
"""The tablet app's benchmark (issue 10): time to first paint of each screen, start-up, asset size.

A program that prints figures (docs/benchmarks.md "The tablet app"), not a test. It builds two
server stores with `tundra-server demo-data`, adds a coordinator of a few sites (a replica of
about 9,000 rows) and a coordinator of many sites (about 100,000 rows), serves each with a real
`tundra-server`, signs the coordinator in on a real `tundra-app` through its JSON API, waits
for the first background sync, and then, in headless Chromium (the browser tests' flags):

- for each main screen (today's occasions, a roster, deviations, the person search of a
  walk-in) the time from the navigation (a `location.hash` change, or a page load) to the first
  paint of that screen with its data: a MutationObserver probe, put in the page before the
  navigation, notes performance.now() when the screen's h1 AND its first data row are in the
  DOM, then waits for the next animation frame and the task after it (the frame is painted);
- the page's first-contentful-paint (Performance API) on a page load;
- the same screens' JSON API calls alone (the C++ side of the cost);
- the app's start-up (launch to the first answered GET /, with the large replica in its data
  dir) and its RSS; the bytes of the served assets, raw and gzipped as sent, and the requests
  of a first load.

    /usr/bin/python3 bench/app_paint.py            # both sizes, 5 repeats
    /usr/bin/python3 bench/app_paint.py --sizes small --repeat 3

Binaries: --server-bin/--app-bin (default build/apps/...).
"""

from __future__ import annotations

import argparse
import gzip
import http.cookiejar
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "browser"))
import harness as h  # noqa: E402  (the browser tests' Chromium start-up and process handling)

PASSWORD = "bench-losen-1"
PIN = "2468"
ASSETS_DIR = ROOT / "apps" / "tundra-app" / "assets"


# ---------------------------------------------------------------------------------------------
# The two worlds


@dataclass
class Size:
    name: str
    label: str
    municipalities: int
    staff_per_site: int
    history_months: int
    marks: int
    coordinator_municipalities: int  # the coordinator has every site of the first N municipalities
    username: str = ""


SIZES = {
    # One coordinator of a municipality's 3 sites, as in the brief (about 9,000 rows).
    "small": Size("small", "coordinator's replica (~9,000 rows)", municipalities=12, staff_per_site=67,
                  history_months=12, marks=21_000, coordinator_municipalities=1, username="coord.small"),
    # A coordinator of many sites (about 100,000 rows).
    "large": Size("large", "coordinator of many sites (~100,000 rows)", municipalities=50, staff_per_site=245,
                  history_months=12, marks=100_000, coordinator_municipalities=16, username="coord.large"),
}


def run(argv: list[str], stdin: str | None = None, timeout: float = 3600) -> str:
    r = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return r.stdout


def build_store(server_bin: str, db: Path, size: Size) -> tuple[list[str], float]:
    """demo-data at this size, plus a coordinator of the first N municipalities' sites."""
    t0 = time.monotonic()
    run([server_bin, "init", "--db", str(db)])
    out = run([server_bin, "demo-data", "--db", str(db), "--municipalities", str(size.municipalities),
               "--staff-per-site", str(size.staff_per_site), "--history-months", str(size.history_months),
               "--marks", str(size.marks)])
    elapsed = time.monotonic() - t0
    print(f"  {out.strip()}")
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    orgs = [r[0] for r in con.execute("SELECT DISTINCT organisation FROM sites ORDER BY rowid")]
    mine = set(orgs[:size.coordinator_municipalities])
    sites = [r[0] for r in con.execute("SELECT id, organisation FROM sites ORDER BY rowid") if r[1] in mine]
    con.close()
    args = [server_bin, "add-user", "--db", str(db), size.username, "--role", "coordinator", "--password-stdin"]
    for s in sites:
        args += ["--site", s]
    run(args, stdin=PASSWORD + "\n")
    return sites, elapsed


def replica_counts(path: Path) -> dict[str, int]:
    """Rows per kind in a replica (the SDK's entity tables)."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    tables = ["organisations", "sites", "persons", "participations", "courses", "occasions", "enrolments",
              "attendance", "time_attestations", "survey_responses", "deviations"]
    out = {}
    for t in tables:
        try:
            out[t] = con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        except sqlite3.Error:
            pass
    con.close()
    return out


# ---------------------------------------------------------------------------------------------
# The app's JSON API with a cookie


class Api:
    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def call(self, method: str, path: str, body: object | None = None, background: bool = False,
             timeout: float = 120) -> tuple[int, bytes]:
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if background:
            headers["X-Tundra-Background"] = "1"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with self.opener.open(req, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def json(self, method: str, path: str, body: object | None = None, background: bool = False):
        status, raw = self.call(method, path, body, background)
        if status >= 300:
            raise SystemExit(f"{method} {path}: {status} {raw[:300]!r}")
        return json.loads(raw) if raw else None


def stats(xs: list[float]) -> str:
    if not xs:
        return "-"
    return f"{min(xs):8.1f} {statistics.median(xs):8.1f} {max(xs):8.1f}"


# ---------------------------------------------------------------------------------------------
# The probe: from a navigation to the first paint of a screen with its data

PROBE_JS = r"""
window.__tundraProbe = function (screenSel, rowSel, start) {
  return new Promise((resolve) => {
    let done = false;
    const check = () => {
      if (done) return;
      const s = document.querySelector('#main ' + screenSel);
      if (!s || !s.querySelector('h1') || !s.querySelector(rowSel)) return;
      done = true;
      obs.disconnect();
      const dom = performance.now();
      // The frame that shows it: its rAF callback runs before it is painted; the task after
      // the callback runs once the frame has been produced.
      requestAnimationFrame(() => {
        const raf = performance.now();
        const ch = new MessageChannel();
        ch.port1.onmessage = () => resolve({ start, dom, raf, paint: performance.now() });
        ch.port2.postMessage(0);
      });
    };
    const obs = new MutationObserver(check);
    obs.observe(document, { childList: true, subtree: true });
    check();
  });
};
"""

# Installed before any of the page's own scripts on a page load (CDP): waits for the screen the
# URL's hash names, from the navigation's start (performance.now() 0).
LOAD_PROBE_JS = PROBE_JS + r"""
(function () {
  const want = JSON.parse(sessionStorage.getItem('tundraProbeWant') || 'null');
  if (!want) return;
  window.__tundraLoad = null;
  window.__tundraProbe(want[0], want[1], 0).then((r) => { window.__tundraLoad = r; });
})();
"""

SETTLE = ".screen-settings"  # a cheap screen between two measurements of the same screen


def hash_nav(d, target_hash: str, screen: str, row: str, timeout: float = 120) -> dict:
    """Navigate with a hash change and wait for the screen with its data to be painted (ms)."""
    return d.execute_async_script("""
      const [hash, screen, row, done] = arguments;
      const start = performance.now();
      const p = window.__tundraProbe(screen, row, start);
      location.hash = hash;
      p.then(done);
    """, target_hash, screen, row)


def settle(d) -> None:
    d.execute_async_script("""
      const done = arguments[0];
      const p = window.__tundraProbe('.screen-settings', 'h2, p, form, a', performance.now());
      location.hash = '#/settings';
      p.then(done);
    """)


_loads = [0]


def page_load(d, base: str, target_hash: str, screen: str, row: str, timeout: float = 300) -> dict:
    """A page load of base/#hash (a new query string, so the browser loads the page anew; its
    assets come from the cache after an ETag check): navigation start to the screen with its
    data painted, and the page's first-contentful-paint."""
    d.execute_script("sessionStorage.setItem('tundraProbeWant', JSON.stringify(arguments[0]));", [screen, row])
    _loads[0] += 1
    d.get(f"{base}/?load={_loads[0]}{target_hash}")
    r = h.wait_until(lambda: d.execute_script("return window.__tundraLoad || null"), timeout, f"load of {target_hash}",
                     interval=0.02)
    r["fcp"] = d.execute_script(
        "const e = performance.getEntriesByName('first-contentful-paint')[0]; return e ? e.startTime : null;")
    return r


def load_requests(d) -> dict:
    """The requests of the page's load so far (Resource Timing; the document itself included)."""
    entries = d.execute_script(
        "return performance.getEntriesByType('resource').map(e => [e.name, e.transferSize, e.decodedBodySize]);")
    nav = d.execute_script(
        "const n = performance.getEntriesByType('navigation')[0]; return [n.transferSize, n.decodedBodySize];")
    assets = [e for e in entries if "/api/" not in e[0]]
    return dict(requests=1 + len(entries), asset_requests=1 + len(assets), api_requests=len(entries) - len(assets),
                transfer=nav[0] + sum(e[1] for e in assets), decoded=nav[1] + sum(e[2] for e in assets))


# ---------------------------------------------------------------------------------------------


@dataclass
class World:
    size: Size
    tmp: Path
    server: h.Process | None = None
    app: h.Process | None = None
    app_dir: Path = Path()
    url: str = ""
    person: str = ""
    counts: dict = field(default_factory=dict)


def start_app(app_bin: str, data_dir: Path, server_url: str, log: Path) -> h.Process:
    p = h.Process([app_bin, "--data-dir", str(data_dir), "--server", server_url, "--listen", "127.0.0.1:0", "--quiet"],
                  log, "tundra-app")
    p.start()
    return p


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def measure_world(args, size: Size, tmp: Path) -> dict:
    print(f"\n== {size.label}: demo-data --municipalities {size.municipalities} --staff-per-site "
          f"{size.staff_per_site} --history-months {size.history_months} --marks {size.marks}; "
          f"{size.username} coordinates the sites of {size.coordinator_municipalities} municipalit"
          f"{'y' if size.coordinator_municipalities == 1 else 'ies'}")
    res: dict = {"size": size.name}
    db = tmp / f"{size.name}.db"
    sites, import_s = build_store(args.server_bin, db, size)
    print(f"  store built in {import_s:.1f} s; {size.username}: {len(sites)} sites")
    server = h.Process([args.server_bin, "serve", "--db", str(db), "--listen", "127.0.0.1:0", "--quiet"],
                       tmp / f"{size.name}-server.log", "tundra-server")
    server_url = server.start()
    app_dir = tmp / f"{size.name}-app"
    app_dir.mkdir()
    app = start_app(args.app_bin, app_dir, server_url, tmp / f"{size.name}-app.log")
    browser = None
    try:
        api = Api(app.url)
        t0 = time.monotonic()
        signin = api.json("POST", "/api/signin", {"username": size.username, "password": PASSWORD})
        t_signin = time.monotonic() - t0
        api.json("POST", "/api/pin", {"pin": PIN})
        person = signin["person"]

        def synced():
            s = api.json("GET", "/api/status", background=True)
            return s if (not s["sync"]["running"] and s["last_sync"]) else None
        st = h.wait_until(synced, 1800, "the first sync", interval=0.05)
        t_sync = time.monotonic() - t0
        if st["sync"].get("last_error"):
            print(f"  sync error: {st['sync']['last_error']}")
        replica = app_dir / "people" / f"{person}.db"
        counts = replica_counts(replica)
        total = sum(counts.values())
        res.update(rows=total, counts=counts, signin_s=t_signin, sync_s=t_sync,
                   replica_bytes=replica.stat().st_size + sum(p.stat().st_size for p in replica.parent.glob(replica.name + "-*")))
        print(f"  sign-in {t_signin * 1000:.0f} ms; first sync done {t_sync:.2f} s after sign-in; "
              f"replica {total:,} rows, {res['replica_bytes'] / 1e6:.1f} MB:")
        print("    " + ", ".join(f"{k} {v:,}" for k, v in counts.items() if v))

        # What the screens show: today's occasions, a roster (the largest of today's, else the
        # largest recent one), open deviations.
        occ = api.json("GET", "/api/occasions")
        all_occ = [(d["date"], o) for d in occ["days"] for o in d["occasions"]]
        todays = [o for day, o in all_occ if day == occ["today"] and o["status"] != "cancelled"]
        pool = todays or [o for day, o in all_occ if o["status"] != "cancelled"]
        roster_occ = max(pool, key=lambda o: o["confirmed"] + o["waitlisted"])
        devs = api.json("GET", "/api/deviations?status=open")["deviations"]
        persons_total = api.json("GET", "/api/persons?search=")["total"]
        print(f"  /api/occasions: {len(all_occ)} occasions on {len(occ['days'])} days ({len(todays)} today); "
              f"roster {roster_occ['id']} ({roster_occ['confirmed']} confirmed, {roster_occ['waitlisted']} waitlisted); "
              f"{len(devs)} open deviations; {persons_total:,} persons")
        search_text = "an"
        screens = [
            ("today", "#/today", ".screen-today", ".occasion-link", "/api/occasions"),
            ("roster", f"#/roster/{roster_occ['id']}", ".screen-roster", ".roster li",
             f"/api/roster?occasion={urllib.request.quote(roster_occ['id'])}"),
            ("deviations", "#/deviations", ".screen-deviations", ".card-list li", "/api/deviations?status=open"),
            ("walk-in", f"#/walk-in/{roster_occ['id']}", ".screen-walkin", "input[type=search]",
             f"/api/roster?occasion={urllib.request.quote(roster_occ['id'])}"),
        ]

        # ---- the JSON API alone (the C++ side)
        print(f"\n  JSON API alone, ms (min median max of {args.repeat}), bytes:")
        api_rows = {}
        for name, path in [("status", "/api/status"), ("occasions", "/api/occasions"),
                           ("roster", screens[1][4]), ("deviations", "/api/deviations?status=open"),
                           ("persons search 'an'", f"/api/persons?search={search_text}"),
                           ("persons (no search)", "/api/persons?search=")]:
            times, nbytes = [], 0
            for _ in range(args.repeat):
                t = time.perf_counter()
                status, raw = api.call("GET", path, background=True)
                times.append((time.perf_counter() - t) * 1000)
                nbytes = len(raw)
                assert status == 200, f"{path}: {status}"
            api_rows[name] = (times, nbytes)
            print(f"    {name:24s} {stats(times)}   {nbytes:>9,} B")
        res["api"] = {k: (statistics.median(v[0]), v[1]) for k, v in api_rows.items()}

        # ---- the browser
        browser = h.new_browser("tablet")
        browser.set_script_timeout(300)
        browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": LOAD_PROBE_JS})
        # The tablet's very first load (fresh profile, empty cache): the people screen.
        browser.get(app.url + "/#/people")
        h.wait_until(lambda: browser.execute_script(
            "return !!document.querySelector('#main .screen-people .people-list li')"), 60, "the people screen", 0.02)
        cold = load_requests(browser)
        cold["fcp"] = browser.execute_script(
            "const e = performance.getEntriesByName('first-contentful-paint')[0]; return e ? e.startTime : null;")
        res["cold_load"] = cold
        print(f"\n  first load ever (fresh profile): people screen, first-contentful-paint {cold['fcp']:.0f} ms; "
              f"{cold['requests']} requests ({cold['asset_requests']} page + assets, {cold['api_requests']} API), "
              f"{cold['transfer']:,} B of page and assets on the wire ({cold['decoded']:,} B decoded)")
        # Unlock with the PIN as the PIN screen does (POST /api/unlock from the page).
        unlocked = browser.execute_async_script("""
          const [person, pin, done] = arguments;
          fetch('/api/unlock', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                body: JSON.stringify({person, pin})}).then(r => done(r.status), e => done(String(e)));
        """, person, PIN)
        assert unlocked == 200, f"unlock: {unlocked}"
        first = page_load(browser, app.url, "#/today", ".screen-today", ".occasion-link")
        warm = load_requests(browser)
        res["first_load"] = dict(paint=first["paint"], fcp=first["fcp"], **warm)
        print(f"  first load after unlocking: #/today painted with data at {first['paint']:.0f} ms, "
              f"first-contentful-paint {first['fcp']:.0f} ms; {warm['requests']} requests "
              f"({warm['asset_requests']} page + assets, {warm['api_requests']} API), {warm['transfer']:,} B "
              f"of page and assets on the wire (ETag checks)")

        print(f"\n  navigation to first paint with data, ms (min median max of {args.repeat}):")
        print(f"    {'screen':12s} {'hash change':>26s}   {'page load':>26s}   {'FCP (page load)':>26s}")
        res["screens"] = {}
        for name, hsh, screen, row, _ in screens:
            nav_ms, load_ms, fcp_ms, dom_ms = [], [], [], []
            for _ in range(args.repeat):
                settle(browser)
                r = hash_nav(browser, hsh, screen, row)
                nav_ms.append(r["paint"] - r["start"])
                dom_ms.append(r["dom"] - r["start"])
            for _ in range(args.repeat):
                r = page_load(browser, app.url, hsh, screen, row)
                load_ms.append(r["paint"])
                fcp_ms.append(r["fcp"] or 0)
            res["screens"][name] = dict(nav=statistics.median(nav_ms), load=statistics.median(load_ms),
                                        fcp=statistics.median(fcp_ms), nav_all=nav_ms, load_all=load_ms)
            print(f"    {name:12s} {stats(nav_ms)}   {stats(load_ms)}   {stats(fcp_ms)}")

        # The person search on the walk-in screen: a name typed to the hits painted (the page
        # waits 250 ms after the last keystroke before it asks).
        search_ms = []
        for _ in range(args.repeat):
            settle(browser)
            hash_nav(browser, screens[3][1], ".screen-walkin", "input[type=search]")
            r = browser.execute_async_script("""
              const [text, done] = arguments;
              const input = document.querySelector('#main .screen-walkin input[type=search]');
              const start = performance.now();
              const p = window.__tundraProbe('.screen-walkin', '.search-results li', start);
              input.value = text;
              input.dispatchEvent(new Event('input', {bubbles: true}));
              p.then(done);
            """, search_text)
            search_ms.append(r["paint"] - r["start"])
        res["search"] = statistics.median(search_ms)
        print(f"    {'search ' + repr(search_text):12s} {stats(search_ms)}   (keystroke to hits painted, "
              f"250 ms of it the page's wait for more typing)")
    finally:
        if browser:
            h.quit_browser(browser)
        app.stop()

    # ---- start-up with this replica in the data dir
    starts, first_get, rss_first, rss_later = [], [], [], []
    for _ in range(args.starts):
        t0 = time.perf_counter()
        p = h.Process([args.app_bin, "--data-dir", str(app_dir), "--server", server_url, "--listen", "127.0.0.1:0",
                       "--quiet"], tmp / f"{size.name}-app.log", "tundra-app")
        p.start()
        listening = time.perf_counter() - t0
        status = None
        while status != 200:
            try:
                with urllib.request.urlopen(p.url + "/", timeout=30) as r:
                    status = r.status
                    r.read()
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.002)
        first_get.append((time.perf_counter() - t0) * 1000)
        starts.append(listening * 1000)
        rss_first.append(rss_kb(p.proc.pid))
        time.sleep(3)  # the start-up sync of every signed-in person runs meanwhile
        rss_later.append(rss_kb(p.proc.pid))
        p.stop()
    res["startup"] = dict(listening=statistics.median(starts), first_get=statistics.median(first_get),
                          rss_first=statistics.median(rss_first), rss_later=statistics.median(rss_later))
    print(f"\n  app start-up with this replica, ms (min median max of {args.starts}): 'listening on' {stats(starts)}; "
          f"first GET / answered {stats(first_get)}")
    print(f"  RSS: {statistics.median(rss_first) / 1024:.1f} MB at the first answer, "
          f"{statistics.median(rss_later) / 1024:.1f} MB 3 s later (after its start-up sync)")
    server.stop()
    return res


def measure_assets(args, tmp: Path) -> dict:
    """Every file under assets/, fetched as a browser that takes gzip would, and without gzip."""
    srv_db = tmp / "assets.db"
    run([args.server_bin, "init", "--db", str(srv_db)])
    d = tmp / "assets-app"
    d.mkdir()
    app = start_app(args.app_bin, d, "http://127.0.0.1:9", tmp / "assets-app.log")
    try:
        rows = []
        for f in sorted(ASSETS_DIR.rglob("*")):
            if not f.is_file():
                continue
            rel = f.relative_to(ASSETS_DIR).as_posix()
            url = app.url + ("/" if rel == "index.html" else "/assets/" + rel)
            sizes = []
            for enc in ("identity", "gzip"):
                req = urllib.request.Request(url, headers={"Accept-Encoding": enc})
                with urllib.request.urlopen(req) as r:
                    body = r.read()
                    sizes.append(len(body))
                    if enc == "gzip" and r.headers.get("Content-Encoding") == "gzip":
                        assert len(gzip.decompress(body)) == sizes[0]
            rows.append((rel, *sizes))
    finally:
        app.stop()
    raw = sum(r[1] for r in rows)
    gz = sum(r[2] for r in rows)
    print(f"\n== assets served: {len(rows)} files, {raw:,} B raw, {gz:,} B as sent with gzip")
    for rel, a, b in sorted(rows, key=lambda r: -r[1])[:8]:
        print(f"    {rel:28s} {a:>8,} B  {b:>7,} B gzip")
    return dict(files=len(rows), raw=raw, gzip=gz)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server-bin", default=str(ROOT / "build" / "apps" / "tundra-server"))
    ap.add_argument("--app-bin", default=str(ROOT / "build" / "apps" / "tundra-app"))
    ap.add_argument("--sizes", default="small,large", help="small,large")
    ap.add_argument("--repeat", type=int, default=5, help="measurements per screen")
    ap.add_argument("--starts", type=int, default=5, help="app starts to time")
    ap.add_argument("--keep", action="store_true", help="keep the temp folder (stores, logs)")
    args = ap.parse_args()
    missing = h.missing_tools(h.Config(server_bin=args.server_bin, app_bin=args.app_bin), True, False)
    missing = [m for m in missing if "axe" not in m]
    if missing:
        raise SystemExit("missing: " + "; ".join(missing))
    tmp = Path(tempfile.mkdtemp(prefix="tundra-app-bench-"))
    print(f"tundra-app benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {tmp}")
    try:
        assets = measure_assets(args, tmp)
        results = [measure_world(args, SIZES[s], tmp) for s in args.sizes.split(",") if s]
        print("\n== summary (medians, ms)")
        names = list(results[0]["screens"]) if results else []
        head = f"  {'':34s}" + "".join(f"{r['size'] + ' (' + format(r['rows'], ',') + ' rows)':>28s}" for r in results)
        print(head)
        for n in names:
            print(f"  {n + ', hash change to paint':34s}" + "".join(f"{r['screens'][n]['nav']:>28.0f}" for r in results))
            print(f"  {n + ', page load to paint':34s}" + "".join(f"{r['screens'][n]['load']:>28.0f}" for r in results))
        print(f"  {'person search to hits painted':34s}" + "".join(f"{r['search']:>28.0f}" for r in results))
        print(f"  {'first sync (s)':34s}" + "".join(f"{r['sync_s']:>28.2f}" for r in results))
        print(f"  {'start-up to first GET /':34s}" + "".join(f"{r['startup']['first_get']:>28.0f}" for r in results))
        print(f"  {'RSS after start (MB)':34s}" + "".join(f"{r['startup']['rss_later'] / 1024:>28.1f}" for r in results))
        print(f"  assets: {assets['raw']:,} B raw, {assets['gzip']:,} B gzip ({assets['files']} files)")
        print(f"  load average at the end {os.getloadavg()[0]:.1f}")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
