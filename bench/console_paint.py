#!/usr/bin/python3
"""The project console's benchmark in a real browser (issue 11): report pages painted, asset size.

A program that prints figures (docs/benchmarks.md "The project console"), not a test. It serves
a store built by `tundra-bench console --db PATH --keep` (the demo project of the reports bench)
with the real `tundra-server serve`, signs the demo admin in through the console's sign-in form
in Debian's headless Chromium (the browser tests' flags, tests/browser/harness.py, 1280x900),
and measures:

- **page load -> data painted**: a page load of /console/?load=N#/reports?report=R&month=M
  [&organisation=O] (the shell and its modules from the cache after an ETag check, the JSON
  anew); a probe put in the page before its scripts (CDP) notes performance.now() when the view
  is rendered (<main aria-busy="false">) with the report's heading (#report-title) in it, then
  waits for the next animation frame and the task after it (the frame is painted); the clock
  starts at the navigation's start (performance.now() 0). Also first-contentful-paint.
- **hash change -> data painted**: the same from a `location.hash` change (modules cached).
- the report's JSON over HTTP alone (urllib, gzip accepted as the browser does).
- **assets**: every file under console/assets as served (raw and as sent with gzip), and the
  requests and bytes of a first load on a fresh profile (the sign-in page, then the reports
  page after signing in) and of a reload (ETag revalidation).

    build/bench/tundra-bench console --db /tmp/c1.db --keep      # builds the store once
    /usr/bin/python3 bench/console_paint.py --db /tmp/c1.db      # 5 repeats
"""

from __future__ import annotations

import argparse
import gzip
import http.cookiejar
import os
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "browser"))
import harness as h  # noqa: E402  (the browser tests' Chromium start-up and process handling)

ASSETS_DIR = ROOT / "console" / "assets"
REPORTS = ["ledger", "participants", "attendance", "surveys", "deviations"]

PROBE_JS = r"""
window.__consoleProbe = function (start) {
  return new Promise((resolve) => {
    let done = false;
    const check = () => {
      if (done) return;
      const m = document.getElementById('main');
      if (!m || m.getAttribute('aria-busy') !== 'false' || !m.querySelector('#report-title')) return;
      done = true;
      obs.disconnect();
      const dom = performance.now();
      requestAnimationFrame(() => {
        const ch = new MessageChannel();
        ch.port1.onmessage = () => resolve({ start, dom, paint: performance.now(),
                                             rows: m.querySelectorAll('tbody tr').length });
        ch.port2.postMessage(0);
      });
    };
    const obs = new MutationObserver(check);
    obs.observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['aria-busy'] });
    check();
  });
};
(function () {
  if (!sessionStorage.getItem('consoleProbeLoad')) return;
  window.__consoleLoad = null;
  window.__consoleProbe(0).then((r) => { window.__consoleLoad = r; });
})();
"""


def stats(xs: list[float]) -> str:
    if not xs:
        return "-"
    return f"{min(xs):8.0f} {statistics.median(xs):8.0f} {max(xs):8.0f}"


def load_requests(d) -> dict:
    """The requests of the page's load so far (Resource Timing; the document itself included)."""
    entries = d.execute_script(
        "return performance.getEntriesByType('resource').map(e => [e.name, e.transferSize, e.decodedBodySize]);")
    nav = d.execute_script(
        "const n = performance.getEntriesByType('navigation')[0]; return [n.transferSize, n.decodedBodySize];")
    assets = [e for e in entries if "/console/api/" not in e[0]]
    apis = [e for e in entries if "/console/api/" in e[0]]
    return dict(requests=1 + len(entries), asset_requests=1 + len(assets), api_requests=len(apis),
                transfer=nav[0] + sum(e[1] for e in assets), decoded=nav[1] + sum(e[2] for e in assets),
                api_transfer=sum(e[1] for e in apis), api_decoded=sum(e[2] for e in apis))


def measure_assets(base: str, cookie: str) -> dict:
    """Every file under console/assets as served, without and with gzip."""
    rows = []
    for f in sorted(ASSETS_DIR.rglob("*")):
        if not f.is_file():
            continue
        rel = f.relative_to(ASSETS_DIR).as_posix()
        url = {"index.html": base + "/", "login.html": base + "/login"}.get(rel, base + "/assets/" + rel)
        sizes = []
        for enc in ("identity", "gzip"):
            req = urllib.request.Request(url, headers={"Accept-Encoding": enc, "Cookie": cookie})
            with urllib.request.urlopen(req) as r:
                body = r.read()
                sizes.append(len(body))
                if enc == "gzip" and r.headers.get("Content-Encoding") == "gzip":
                    assert len(gzip.decompress(body)) == sizes[0], rel
        rows.append((rel, *sizes))
    raw = sum(r[1] for r in rows)
    gz = sum(r[2] for r in rows)
    print(f"\n== console assets served: {len(rows)} files, {raw:,} B raw, {gz:,} B as sent with gzip "
          f"(index.html and login.html as served: the shell, the filled-in sign-in form)")
    for rel, a, b in sorted(rows, key=lambda r: -r[1])[:8]:
        print(f"    {rel:28s} {a:>8,} B  {b:>7,} B gzip")
    return dict(files=len(rows), raw=raw, gzip=gz)


def sign_in_http(base: str, username: str, password: str) -> str:
    """The sign-in form over HTTP (for urllib): the session cookie header."""
    jar = http.cookiejar.CookieJar()
    op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None
    op.add_handler(NoRedirect())
    with op.open(base + "/login") as r:
        page = r.read().decode()
    csrf = re.search(r'name="csrf" value="([^"]*)"', page).group(1)
    body = urllib.parse.urlencode({"username": username, "password": password, "csrf": csrf}).encode()
    origin = re.match(r"(https?://[^/]+)", base).group(1)
    req = urllib.request.Request(base + "/login", data=body, method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": origin})
    try:
        op.open(req)
    except urllib.error.HTTPError as e:
        if e.code != 303:
            raise
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar if c.name == "tundra_console")
    assert cookie, "no session cookie after signing in"
    return cookie


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, help="a store built by `tundra-bench console --db PATH --keep`")
    ap.add_argument("--server-bin", default=str(ROOT / "build" / "apps" / "tundra-server"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--reports", default=",".join(REPORTS))
    ap.add_argument("--username", default="admin")
    ap.add_argument("--password", default="tundra-admin")
    ap.add_argument("--organisation", default="arjeplog", help="the one organisation's pages (its id)")
    ap.add_argument("--http-repeat", type=int, default=1, help="repeats of the JSON-over-HTTP figures")
    ap.add_argument("--no-hash", action="store_true", help="page loads only (no hash-change figures)")
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args()
    missing = h.missing_tools(h.Config(server_bin=args.server_bin), False, False)
    missing = [m for m in missing if "axe" not in m and "tundra-app" not in m]
    if missing:
        raise SystemExit("missing: " + "; ".join(missing))
    con = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("persons", "occasions", "attendance", "report_facts")}
    org = args.organisation
    if not con.execute("SELECT 1 FROM organisations WHERE id = ?", (org,)).fetchone():
        org = con.execute("SELECT id FROM organisations ORDER BY id LIMIT 1").fetchone()[0]
    con.close()
    tmp = Path(tempfile.mkdtemp(prefix="tundra-console-bench-"))
    print(f"console paint benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; store {args.db}: "
          + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    server = h.Process([args.server_bin, "serve", "--db", args.db, "--listen", "127.0.0.1:0", "--quiet"],
                       tmp / "server.log", "tundra-server")
    url = server.start()
    base = url + "/console"
    d = None
    try:
        cookie = sign_in_http(base, args.username, args.password)
        assets = measure_assets(base, cookie)

        # The month the page shows by default: the last full one (Stockholm).
        now = time.gmtime(time.time() + 3600)
        y, m = now.tm_year, now.tm_mon - 1
        if m == 0:
            y, m = y - 1, 12
        month = f"{y}-{m:02d}"

        # ---- the report JSON over HTTP alone (as the page asks, gzip accepted)
        print(f"\n== the report's JSON over HTTP alone (month {month}), ms (min median max of "
              f"{args.http_repeat}), bytes as sent / decoded")
        reports = [r for r in args.reports.split(",") if r]
        for name in reports:
            for o in (org, ""):
                q = {"format": "json"}
                if name == "participants":
                    k = y * 12 + (m - 1) - 5
                    q.update({"from": f"{k // 12}-{k % 12 + 1:02d}", "to": month})
                else:
                    q["month"] = month
                if o:
                    q["organisation"] = o
                target = f"{base}/api/reports/{name}?{urllib.parse.urlencode(q)}"
                times, sent, decoded = [], 0, 0
                for _ in range(args.http_repeat):
                    req = urllib.request.Request(target, headers={"Cookie": cookie, "Accept-Encoding": "gzip"})
                    t0 = time.perf_counter()
                    with urllib.request.urlopen(req, timeout=args.timeout) as r:
                        raw = r.read()
                        enc = r.headers.get("Content-Encoding")
                    times.append((time.perf_counter() - t0) * 1000)
                    sent = len(raw)
                    decoded = len(gzip.decompress(raw)) if enc == "gzip" else len(raw)
                print(f"    {name + (', ' + o if o else ', all organisations'):34s} {stats(times)}   "
                      f"{sent:>10,} B / {decoded:>10,} B")

        # ---- the browser: a first load on a fresh profile
        d = h.new_browser((1280, 900))
        d.set_script_timeout(args.timeout)
        d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PROBE_JS})
        d.get(base + "/login")
        h.wait_until(lambda: d.execute_script("return !!document.getElementById('username')"), 30, "the sign-in page")
        first_login = load_requests(d)
        d.find_element("id", "username").send_keys(args.username)
        d.find_element("id", "password").send_keys(args.password)
        d.execute_script("sessionStorage.setItem('consoleProbeLoad', '1');")
        d.execute_script("location.hash = ''; document.getElementById('login-form').requestSubmit();")
        h.wait_until(lambda: "/console/" in d.current_url and "/login" not in d.current_url, 30, "the shell")
        # The shell shows its home route; the reports page is then a hash change.
        h.wait_until(lambda: d.execute_script(
            "const m = document.getElementById('main'); return m && m.getAttribute('aria-busy') === 'false' "
            "&& !!m.querySelector('h1');"), args.timeout, "the home view")
        first_shell = load_requests(d)
        print(f"\n== first load on a fresh profile: sign-in page {first_login['requests']} requests, "
              f"{first_login['transfer']:,} B on the wire ({first_login['decoded']:,} B decoded); the shell after "
              f"signing in (its home view): {first_shell['asset_requests']} page + asset requests, "
              f"{first_shell['transfer']:,} B ({first_shell['decoded']:,} B decoded), {first_shell['api_requests']} API "
              f"requests")

        loads = [0]

        def page_load(hsh: str) -> dict:
            d.execute_script("sessionStorage.setItem('consoleProbeLoad', '1');")
            loads[0] += 1
            d.get(f"{base}/?load={loads[0]}{hsh}")
            r = h.wait_until(lambda: d.execute_script("return window.__consoleLoad || null"), args.timeout,
                             f"load of {hsh}", interval=0.02)
            r["fcp"] = d.execute_script(
                "const e = performance.getEntriesByName('first-contentful-paint')[0]; return e ? e.startTime : null;")
            r["net"] = load_requests(d)
            return r

        def hash_nav(hsh: str) -> dict:
            # Away first (the import view asks nothing), then to the report.
            d.execute_script("location.hash = '#/import';")
            h.wait_until(lambda: d.execute_script(
                "const m = document.getElementById('main'); return location.hash === '#/import' && "
                "m.getAttribute('aria-busy') === 'false';"), 30, "the import view")
            return d.execute_async_script("""
              const [hash, done] = arguments;
              const start = performance.now();
              const p = window.__consoleProbe(start);
              location.hash = hash;
              p.then(done);
            """, hsh)

        # A reload of the reports page (ETag revalidation of the shell and modules).
        first_report = page_load(f"#/reports?report=ledger&month={month}&organisation={org}")
        reload = page_load(f"#/reports?report=ledger&month={month}&organisation={org}")
        for label, r in (("first load of the reports page (modules not yet cached)", first_report),
                         ("a reload of it (ETag checks)", reload)):
            n = r["net"]
            print(f"   {label}: {n['requests']} requests ({n['asset_requests']} page + assets, {n['api_requests']} "
                  f"API); page + assets {n['transfer']:,} B on the wire ({n['decoded']:,} B decoded); API "
                  f"{n['api_transfer']:,} B on the wire ({n['api_decoded']:,} B decoded)")

        print(f"\n== reports page, navigation to data painted, ms (min median max of {args.repeat}), as {args.username}")
        print(f"    {'page':34s} {'page load':>26s}   {'FCP (page load)':>26s}   {'hash change':>26s}  rows")
        summary = []
        for name in reports:
            for o in (org, ""):
                hsh = f"#/reports?report={name}&month={month}" + (f"&organisation={o}" if o else "")
                load_ms, fcp_ms, nav_ms = [], [], []
                rows = 0
                for _ in range(args.repeat):
                    r = page_load(hsh)
                    load_ms.append(r["paint"])
                    fcp_ms.append(r["fcp"] or 0)
                    rows = r["rows"]
                if not args.no_hash:
                    for _ in range(args.repeat):
                        r = hash_nav(hsh)
                        nav_ms.append(r["paint"] - r["start"])
                label = name + (", " + o if o else ", all organisations")
                print(f"    {label:34s} {stats(load_ms)}   {stats(fcp_ms)}   {stats(nav_ms)}  {rows:,}")
                summary.append((label, statistics.median(load_ms), statistics.median(nav_ms) if nav_ms else None))
        print("\n== summary (medians, ms)")
        for label, load, nav in summary:
            print(f"    {label:34s} page load {load:8.0f}" + (f"   hash change {nav:8.0f}" if nav is not None else ""))
        print(f"  assets: {assets['files']} files, {assets['raw']:,} B raw, {assets['gzip']:,} B gzip")
        print(f"  load average at the end {os.getloadavg()[0]:.1f}")
    finally:
        if d:
            h.quit_browser(d)
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
