"""The monthly ESF reports in the project console (issue 11), checked against an independent
computation from the seeded data (docs/reports.md's definitions, computed here, never read back
from the server):

Last month (Stockholm), in an organisation of its own (Rapportby kommun), 16 staff with a
participation (6 women, 5 men, 5 non-binary) attend two occasions with a mix of marks
(present with and without minutes, late, left early, absent, excused); a cancelled occasion
in the month, an occasion the month before, a person whose participation ended the month
before and a person with no participation attend too, and count nowhere in the month.

- the ledger: the page's persons and hours, the gender and age charts' accessible tables and
  every person's row equal the computation; the CSV downloaded by the browser equals it, and
  equals byte for byte `tundra-server report ledger --month M --organisation rapportby --as-of
  <the page's as_of>`;
- the participants report: the totals, the gender chart's table and the six-month line of
  hours (with the one month of a single participant suppressed) equal the computation, and its
  CSV equals the CLI's byte for byte;
- the admin seals the month: the page says sealed, by whom, and reports as of the seal; its
  download then equals the CLI's report of the sealed month (no --as-of) byte for byte.

    /usr/bin/python3 tests/browser/test_console_reports.py
"""

import csv
import datetime as dt
import io
import subprocess
import time
import unittest
import urllib.parse
from pathlib import Path

import console_harness as ch
import harness as h
from console_harness import t

SV_MONTHS = ["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
             "november", "december"]
ORG, ORG_NAME, SITE = "rapportby", "Rapportby kommun", "site-rapport"
GENDERS = ["woman", "man", "non_binary", "undisclosed"]
BANDS = ["under_18", "18_29", "30_54", "55_plus", "unknown"]
ATTENDED = {"present", "late", "left_early"}


def month_add(month: str, n: int) -> str:
    y, m = map(int, month.split("-"))
    k = y * 12 + m - 1 + n
    return f"{k // 12:04d}-{k % 12 + 1:02d}"


def month_day(month: str, day: int) -> dt.date:
    y, m = map(int, month.split("-"))
    return dt.date(y, m, day)


def sv_month(month: str) -> str:
    y, m = map(int, month.split("-"))
    return f"{SV_MONTHS[m - 1]} {y}"


def sv_number(v: float, decimals: int = 0) -> str:
    """Intl.NumberFormat('sv-SE') with fixed decimals: 1 234,50 (the page's fmtNumber)."""
    text = f"{v:,.{decimals}f}"
    return text.replace(",", " ").replace(".", ",")


def age_band(month: str, birth_year) -> str:
    if birth_year is None:
        return "unknown"
    age = int(month[:4]) - birth_year
    return "under_18" if age < 18 else "18_29" if age < 30 else "30_54" if age < 55 else "55_plus"


class Seed:
    """The seeded month, as a document for `tundra-server import`, and what it should report."""

    def __init__(self, month: str):
        self.month = month
        before = month_add(month, -1)

        def occ(oid, day: dt.date, start, end, **extra):
            return {"id": oid, "course": "c-rapport", "starts_at": h.utc_iso(h.stockholm(day, *start)),
                    "ends_at": h.utc_iso(h.stockholm(day, *end)), "site": SITE, "capacity": 30,
                    "enrolment_closes": h.utc_iso(h.stockholm(day - dt.timedelta(days=1), 16)), **extra}

        # (id, minutes long, month it starts in, cancelled)
        self.occasions = {
            "o-r1": (180, month, False), "o-r2": (120, month, False), "o-r3": (60, month, True), "o-r0": (90, before, False)}
        occasions = [
            occ("o-r1", month_day(month, 5), (9, 0), (12, 0)),
            occ("o-r2", month_day(month, 12), (13, 0), (15, 0)),
            occ("o-r3", month_day(month, 20), (10, 0), (11, 0), status="cancelled"),
            occ("o-r0", month_day(before, 10), (9, 0), (10, 30)),
        ]
        genders = ["woman"] * 6 + ["man"] * 5 + ["non_binary"] * 5
        self.persons = {}
        for i, g in enumerate(genders, start=1):
            self.persons[f"p-r{i:02d}"] = {"gender": g, "birth_year": 1975 + i, "participations": [(month, None)]}
        # Ended the month before; no participation at all.
        self.persons["p-r17"] = {"gender": "woman", "birth_year": 1980, "participations": [(month_add(month, -3), before)]}
        self.persons["p-r18"] = {"gender": "man", "birth_year": 1990, "participations": []}

        self.marks = []  # (occasion, person, status, minutes or None)
        for i, pid in enumerate(sorted(self.persons), start=1):
            self.marks.append(("o-r1", pid, *[("present", None), ("present", 150), ("late", 120), ("left_early", 90)][i % 4]))
            self.marks.append(("o-r2", pid, *[("absent", None), ("present", None), ("excused", None)][i % 3]))
            self.marks.append(("o-r3", pid, "present", 60))
            self.marks.append(("o-r0", pid, "present", None))

        self.document = {
            "organisations": [{"code": ORG, "name": ORG_NAME, "county": "Norrbotten"}],
            "sites": [{"id": SITE, "organisation": ORG, "name": "Äldreboendet Rapporten"}],
            "persons": [{"id": pid, "organisation": ORG, "site": SITE, "name": f"Person {pid[-2:]}",
                         "gender": p["gender"], "birth_year": p["birth_year"]} for pid, p in self.persons.items()],
            "courses": [{"id": "c-rapport", "title": "Basala hygienrutiner", "theme": "Hygien", "format": "on_site",
                         "duration_minutes": 120, "organisations": [], "published": True}],
            "occasions": occasions,
            "enrolments": [{"id": f"e-{o}-{pid}", "occasion": o, "person": pid, "status": "confirmed"}
                           for o in ("o-r1", "o-r2", "o-r0") for pid in self.persons],
            "attendance": [dict({"occasion": o, "person": pid, "status": s}, **({"minutes": m} if m is not None else {}))
                           for o, pid, s, m in self.marks],
            "participations": [dict({"person": pid, "start_month": s}, **({"end_month": e} if e else {}))
                               for pid, p in self.persons.items() for s, e in p["participations"]],
        }

    # ---- the independent computation (docs/reports.md) ----

    def participant(self, pid: str, month: str) -> bool:
        return any(s <= month and (e is None or e >= month) for s, e in self.persons[pid]["participations"])

    def minutes(self, pid: str, month: str) -> int:
        total = 0
        for o, p, status, m in self.marks:
            length, starts_in, cancelled = self.occasions[o]
            if p == pid and starts_in == month and not cancelled and status in ATTENDED:
                total += m if m is not None else length
        return total

    def ledger(self) -> dict:
        return {pid: {"gender": p["gender"], "age_band": age_band(self.month, p["birth_year"]),
                      "attended_minutes": self.minutes(pid, self.month), "start_month": p["participations"][0][0]}
                for pid, p in sorted(self.persons.items()) if self.participant(pid, self.month)}

    def participants(self, month: str) -> list[str]:
        return [pid for pid in sorted(self.persons) if self.participant(pid, month)]


def report_cli(env, name: str, month: str, as_of: str | None) -> bytes:
    argv = [env.server.bin, "report", name, "--db", str(env.server.db), "--month", month, "--organisation", ORG]
    if as_of:
        argv += ["--as-of", as_of]
    r = subprocess.run(argv, capture_output=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(argv)}: {r.stderr.decode(errors='replace')}")
    return r.stdout


def read_csv(data: bytes) -> list[dict]:
    """The excel dialect: UTF-8 with BOM, ';', CRLF, decimal comma."""
    assert data.startswith(b"\xef\xbb\xbf"), data[:20]
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def chart_table(d, chart_caption: str) -> dict:
    """{label: value} of the accessible table that follows a chart."""
    table = h.find_by_role(d, "region", t("reports.chart_table", chart=chart_caption))
    out = {}
    for _, r in h.all_by_role(d, "row", within=table):
        cells = [h._norm(c.text) for c in r.find_elements("css selector", "th, td")]
        if r.find_elements("css selector", "th[scope=col]"):
            continue
        out[cells[0]] = cells[1]
    return out


def facts(d) -> dict:
    """The page's <dl> facts: {term: description} (the report's dl and the view's)."""
    return d.execute_script("""
      const out = {};
      for (const dl of document.querySelectorAll('#main section.report dl'))
        for (const dt of dl.querySelectorAll('dt')) out[dt.textContent.trim()] = dt.nextElementSibling.textContent.replace(/\\s+/g, ' ').trim();
      return out;""")


class ConsoleReports(unittest.TestCase):
    def test_monthly_report_equals_an_independent_computation_and_the_cli(self):
        with h.Env(app=False) as env:
            month = month_add(env.scenario.today.strftime("%Y-%m"), -1)
            seed = Seed(month)
            env.server.import_doc(seed.document)
            ledger = seed.ledger()
            self.assertEqual(len(ledger), 16)
            total_minutes = sum(r["attended_minutes"] for r in ledger.values())

            downloads = env.tmp / "downloads"
            downloads.mkdir()
            d = ch.browser(env)
            d.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
            ch.sign_in(d, env, "admin")
            self.assertEqual(ch.go(d, env, "#/reports"), t("reports.title"))
            self.show(d, "ledger", month)

            # The page's numbers.
            f = facts(d)
            self.assertEqual(f[t("reports.organisation")], ORG_NAME)
            self.assertEqual(f[t("reports.seal")], t("reports.not_sealed"))
            self.assertEqual(f[t("reports.ledger_persons")], sv_number(len(ledger)))
            self.assertEqual(f[t("reports.ledger_hours")], sv_number(total_minutes / 60, 2))
            self.assertEqual(f[t("reports.ledger_corrections")], "0")
            by_gender = {g: sum(1 for r in ledger.values() if r["gender"] == g) for g in GENDERS}
            self.assertEqual(by_gender, {"woman": 6, "man": 5, "non_binary": 5, "undisclosed": 0})
            self.assertEqual(chart_table(d, t("reports.chart_gender")),
                             {t(f"gender.{g}"): sv_number(n) for g, n in by_gender.items()})
            by_band = {b: sum(1 for r in ledger.values() if r["age_band"] == b) for b in BANDS}
            self.assertEqual(chart_table(d, t("reports.chart_age")),
                             {t(f"reports.age_{b}"): sv_number(n) for b, n in by_band.items()})
            rows_table = h.find_by_role(d, "region", t("reports.ledger_caption"))
            page_rows = {}
            for _, r in h.all_by_role(d, "row", within=rows_table):
                cells = [h._norm(c.text) for c in r.find_elements("css selector", "th, td")]
                if cells[0] != t("reports.col_person"):
                    page_rows[cells[0]] = cells
            self.assertEqual(sorted(page_rows), sorted(ledger), "exactly the month's participants")
            for pid, want in ledger.items():
                cells = page_rows[pid]
                self.assertEqual(cells[1:4], [ORG_NAME, t(f"gender.{want['gender']}"), t(f"reports.age_{want['age_band']}")], pid)
                self.assertEqual(cells[4], month, pid)
                self.assertEqual(cells[6], sv_number(want["attended_minutes"]), f"{pid}'s minutes")
            h.run_axe(d, "reports: ledger of one organisation")

            # The CSV, downloaded by the browser, for the page's as_of.
            as_of = self.link_as_of(d)
            data = self.download(d, downloads, f"ledger-{month}-{ORG}.csv")
            rows = [r for r in read_csv(data) if not r["correction_for"]]
            self.assertEqual({r["person"]: (r["gender"], r["age_band"], int(r["attended_minutes"]), r["start_month"])
                              for r in rows},
                             {pid: (w["gender"], w["age_band"], w["attended_minutes"], w["start_month"])
                              for pid, w in ledger.items()})
            self.assertEqual(data, report_cli(env, "ledger", month, as_of), "the download is the CLI's report")

            # The participants report: totals, the gender split, hours per month.
            self.show(d, "participants", month)
            f = facts(d)
            self.assertEqual(f[t("reports.col_participants")], "16")
            self.assertEqual(f[t("reports.col_attendees")], "16")
            self.assertEqual(f[t("reports.col_hours")], sv_number(round(total_minutes / 60, 2), 2))
            self.assertEqual(chart_table(d, t("reports.chart_gender")),
                             {t(f"gender.{g}"): sv_number(n) for g, n in by_gender.items()})
            months = [month_add(month, k) for k in range(-5, 1)]
            line = {}
            for m in months:
                people = seed.participants(m)
                mins = sum(seed.minutes(pid, m) for pid in people)
                # 1..4 people: suppressed (min_cell 5); 0 people: 0 hours.
                line[m] = t("reports.suppressed") if 0 < len(people) < 5 else sv_number(round(mins / 60, 2), 2)
            self.assertEqual(line[month_add(month, -1)], t("reports.suppressed"), "the month with only p-r17")
            caption = t("reports.chart_hours_month", **{"from": sv_month(months[0]), "to": sv_month(month)})
            self.assertEqual(chart_table(d, caption), line)
            h.run_axe(d, "reports: participants of one organisation")
            as_of = self.link_as_of(d)
            data = self.download(d, downloads, f"participants-{month}-{ORG}.csv")
            cells = {r["gender"]: r for r in read_csv(data)
                     if r["month"] == month and r["organisation"] == "all" and r["theme"] == "all" and r["age_band"] == "all"}
            for g in GENDERS:
                people = [pid for pid, w in ledger.items() if w["gender"] == g]
                mins = sum(ledger[pid]["attended_minutes"] for pid in people)
                self.assertEqual((cells[g]["participants"], cells[g]["hours"]),
                                 (str(len(people)), f"{mins / 60:.2f}".replace(".", ",")), g)
            self.assertEqual(cells["all"]["participants"], "16")
            self.assertEqual(data, report_cli(env, "participants", month, as_of))

            # Seal the month.
            self.show(d, "ledger", month)
            h.click(d, t("reports.seal_button", month=sv_month(month)), role="button")
            dialog = h.find_by_role(d, "alertdialog", t("reports.seal_title", month=sv_month(month)))
            h.run_axe(d, "reports: seal dialog")
            h.click(d, t("reports.seal_confirm"), role="button", within=dialog)
            h.wait_until(lambda: t("reports.not_sealed") not in facts(d).get(t("reports.seal"), t("reports.not_sealed")),
                         10, "the month shown as sealed")
            ch.wait_view(d)
            sealed = facts(d)[t("reports.seal")]
            self.assertRegex(sealed, "^" + t("reports.sealed", when=".+", by="admin").replace("(", r"\(") + "$")
            self.assertEqual([n for n, _ in h.all_by_role(d, "button") if n == t("reports.seal_button", month=sv_month(month))], [],
                             "no seal button on a sealed month")
            h.run_axe(d, "reports: a sealed month")
            data = self.download(d, downloads, f"ledger-{month}-{ORG}.csv", again=True)
            self.assertEqual(data, report_cli(env, "ledger", month, None), "a sealed month reports as of its seal")
            self.assertEqual(data, report_cli(env, "ledger", month, self.link_as_of(d)))

    def show(self, d, report: str, month: str) -> None:
        """The report form as a user fills it: report, month, organisation, "Visa rapporten"."""
        h.choose(d, t("reports.report"), t(f"reports.{report}"))
        ch.set_value(d, f"{t('reports.month')} {t('common.required')}", month)
        h.choose(d, t("reports.organisation"), ORG_NAME)
        h.click(d, t("reports.show"), role="button")
        h.wait_until(lambda: f"report={report}" in d.current_url and f"organisation={ORG}" in d.current_url, 10, "the report's route")
        ch.wait_view(d)
        heading = t("reports.heading", report=t(f"reports.{report}"), month=sv_month(month))
        self.assertEqual(h.find_by_role(d, "heading", heading).get_attribute("id"), "report-title")

    def link_as_of(self, d) -> str:
        href = h.link(d, t("reports.download_csv")).get_attribute("href")
        q = urllib.parse.parse_qs(urllib.parse.urlparse(href).query)
        self.assertEqual(q["format"], ["csv"])
        self.assertEqual(q["organisation"], [ORG])
        return q["as_of"][0]

    def download(self, d, folder: Path, name: str, again: bool = False) -> bytes:
        target = folder / name
        if again and target.exists():
            target.unlink()
        h.click(d, t("reports.download_csv"), role="link")
        h.wait_until(lambda: target.exists() and not list(folder.glob("*.crdownload")), 15, f"the download {name}")
        time.sleep(0.1)
        data = target.read_bytes()
        target.unlink()
        return data


if __name__ == "__main__":
    h.main(needs_app=False, needs_cli=False)
