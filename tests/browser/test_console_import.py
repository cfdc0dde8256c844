"""Importing a staff CSV in the project console (issue 11), in a real browser against the real
`tundra-server`:

- the admin uploads a staff list as Swedish Excel saves it (Windows-1252, `;`, CRLF, Swedish
  headers and gender words); the preview lists exactly the two new people (their ids derived
  from the personnummer, as docs/import.md says, and their values) and Erik Lund, matched by
  his personnummer although the file gives no id, as changed, with each changed field's value
  before → after; applying it (after the confirmation) shows the counts; the people list and
  Erik's page show the result;
- a file with a bad row (line 3: an unknown gender word) shows the error with its line number
  and changes nothing: its good row is not added, by the preview nor by applying it anyway.

    /usr/bin/python3 tests/browser/test_console_import.py
"""

import hashlib
import json
import unittest
import urllib.error
import urllib.request

import console_harness as ch
import harness as h
from console_harness import t

HEADER = "id;personnummer;namn;kön;födelseår;arbetsplats;yrke;utbildning;anställning"


def personnummer(date: str, serial: str) -> str:
    """YYYYMMDD-XXX plus the Luhn check digit of YYMMDDXXX."""
    digits = date[2:] + serial
    total = 0
    for i, ch_ in enumerate(digits):
        v = int(ch_) * (2 if i % 2 == 0 else 1)
        total += v - 9 if v > 9 else v
    return f"{date}-{serial}{(10 - total % 10) % 10}"


def derived_id(pnr: str) -> str:
    return "p-" + hashlib.sha256(("tundra staff csv personnummer:" + pnr).encode()).hexdigest()[:16]


def excel_csv(path, lines: list[str]) -> None:
    """As Swedish Excel's "CSV (semikolonavgränsad)": Windows-1252, CRLF."""
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


def raw_post(s: h.ApiSession, path: str, data: bytes, csrf: str):
    """POST a file's bytes as the page uploads it, with the browser's session cookie."""
    req = urllib.request.Request(s.base + path, data=data, method="POST", headers={
        "X-CSRF-Token": csrf, "Content-Type": "text/csv",
        "Cookie": "; ".join(f"{k}={v}" for k, v in s.browser_cookies.items())})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read())


class ConsoleImport(unittest.TestCase):
    def test_staff_csv_preview_apply_and_a_bad_file(self):
        with h.Env(app=False) as env:
            erik_pnr = personnummer("19880412", "123")
            asa_pnr = personnummer("19950823", "456")
            kim_pnr = personnummer("20010130", "789")
            # Erik Lund is in the register with his personnummer (Hemtjänst Syd, no profession).
            erik = dict(next(p for p in env.scenario.document["persons"] if p["id"] == "p-erik"))
            erik["personal_id"] = erik_pnr
            env.server.import_doc({"persons": [erik]})
            asa_id, kim_id = derived_id(asa_pnr), derived_id(kim_pnr)

            good = env.tmp / "personal-2026.csv"
            excel_csv(good, [
                HEADER,
                f";{erik_pnr};Erik Lund;man;;site-norr;Undersköterska;gymnasial;anställd",
                f";{asa_pnr};Åsa Ängström;kvinna;;site-syd;Vårdbiträde;förgymnasial;anställd",
                f';{kim_pnr};Kim Sjöberg;icke-binär;2001;site-norr;"Sjuksköterska; natt";eftergymnasial;anställd',
            ])
            self.assertIn(b"\xc5sa \xc4ngstr\xf6m", good.read_bytes(), "the file is Windows-1252")

            d = ch.browser(env)
            ch.sign_in(d, env, "admin")
            self.assertEqual(ch.go(d, env, "#/import"), t("import.title"))
            self.upload(d, good)
            h.wait_text(d, t("import.preview_title"))
            h.run_axe(d, "import: preview of a staff CSV")
            facts = h.page_text(d)
            self.assertIn(f"{t('import.format')} {t('import.format_csv')}", facts)
            self.assertIn(f"{t('import.added')} 2", facts)
            self.assertIn(f"{t('import.changed')} 1", facts)

            added = self.change_rows(d, t("import.added_caption"))
            self.assertEqual({r[0] for r in added}, {f"{t('import.kind_person')} {asa_id}", f"{t('import.kind_person')} {kim_id}"})
            asa = {f: (b, a) for row, f, b, a in added if row.endswith(asa_id)}
            kim = {f: (b, a) for row, f, b, a in added if row.endswith(kim_id)}
            empty = t("import.empty_value")
            for want, got in (({"name": "Åsa Ängström", "gender": "woman", "birth_year": "1995", "site": "site-syd",
                                "organisation": "testby", "personal_id": asa_pnr, "profession": "Vårdbiträde",
                                "education_level": "isced_0_2", "employment_status": "employed"}, asa),
                              ({"name": "Kim Sjöberg", "gender": "non_binary", "birth_year": "2001", "site": "site-norr",
                                "personal_id": kim_pnr, "profession": "Sjuksköterska; natt",
                                "education_level": "isced_5_8"}, kim)):
                for name, value in want.items():
                    self.assertEqual(got.get(name), (empty, value), f"{name} of a new person: {got}")

            changed = self.change_rows(d, t("import.changed_caption"))
            self.assertEqual({r[0] for r in changed}, {f"{t('import.kind_person')} p-erik"}, "Erik matched by personnummer")
            self.assertEqual({f: (b, a) for _, f, b, a in changed}, {
                "site": ("site-syd", "site-norr"),
                "profession": (empty, "Undersköterska"),
                "education_level": (empty, "isced_3_4"),
                "employment_status": (empty, "employed"),
            }, "exactly Erik's changed fields, before → after")

            # Nothing is written by the preview.
            ch.go(d, env, "#/people?q=Sj%C3%B6berg")
            h.wait_text(d, t("people.none_found"))

            # Apply: the confirmation says how many; then the counts.
            ch.go(d, env, "#/import")
            self.upload(d, good)
            h.wait_text(d, t("import.preview_title"))
            h.click(d, t("import.apply"), role="button")
            dialog = h.find_by_role(d, "alertdialog", t("import.apply_title"))
            self.assertIn(t("import.apply_text", added=2, changed=1), h._norm(dialog.text))
            h.click(d, t("import.apply_confirm"), role="button", within=dialog)
            done = h.find_by_role(d, "region", t("import.done_title"), timeout=15)
            self.assertIn(f"3 {t('import.n_persons')}", h._norm(done.text))

            # The people list and Erik's page show it.
            ch.go(d, env, "#/people?site=site-norr")
            table = h.find_by_role(d, "region", t("people.caption"))
            names = {h._norm(r.text).split(" Testby")[0] for _, r in h.all_by_role(d, "row", within=table)}
            self.assertTrue({"Erik Lund", "Kim Sjöberg", "Anna Berg"} <= names, names)
            self.assertNotIn("Åsa Ängström", names)
            row = h.find_by_role_text(d, "row", "Kim Sjöberg", within=table)
            self.assertIn(f"Hemtjänst Norr {t('gender.non_binary')} 2001", h._norm(row.text))
            ch.go(d, env, "#/person/p-erik")
            h.wait_text(d, "Erik Lund")
            self.assertIn(f"{t('person.site')} Hemtjänst Norr", h.page_text(d))
            self.assertEqual(h.field_by_label(d, t("person.profession")).get_attribute("value"), "Undersköterska")
            ch.go(d, env, f"#/person/{asa_id}")
            h.wait_text(d, "Åsa Ängström")
            self.assertIn(f"{t('person.site')} Hemtjänst Syd", h.page_text(d))

            # A bad file: line 2 is fine, line 3 has a gender word the reader does not know.
            bad = env.tmp / "personal-fel.csv"
            nils_pnr = personnummer("19700101", "234")
            excel_csv(bad, [
                HEADER,
                f";{nils_pnr};Nils Nyberg;man;;site-syd;Kock;;",
                f";{personnummer('19820505', '345')};Märta Ek;kvinnlig;;site-syd;Kock;;",
            ])
            ch.go(d, env, "#/import")
            self.upload(d, bad)
            alert = h.find_by_role_text(d, "alert", t("import.bad_file"))
            detail = h._norm(alert.text)
            self.assertIn("line 3", detail)
            self.assertIn("kön", detail)
            self.assertIn("kvinnlig", detail)
            self.assertEqual([n for n, _ in h.all_by_role(d, "button") if n == t("import.apply")], [], "no way to apply it")
            h.run_axe(d, "import: a bad file")
            # Applying it anyway (the API, with the page's session) is refused the same way.
            s = h.ApiSession(env.server.url, d)
            me = s.get("/console/api/me")[2]
            status, _, body = raw_post(s, "/console/api/import/apply?digest=" + "0" * 64, bad.read_bytes(), me["csrf"])
            self.assertEqual(status, 400, body)
            self.assertIn("line 3", body["error"]["message"])
            ch.go(d, env, "#/people?q=Nyberg")
            h.wait_text(d, t("people.none_found"))
            ch.go(d, env, "#/people?q=M%C3%A4rta")
            h.wait_text(d, t("people.none_found"))

    def upload(self, d, path) -> None:
        # A file input: found by its label, then given the file as a user picks one.
        f = d.find_element("css selector", "input[type=file]")
        self.assertEqual(h._norm(f.accessible_name).split(" (")[0], t("import.file"))
        f.send_keys(str(path))
        h.click(d, t("import.preview"), role="button")

    def change_rows(self, d, caption: str) -> list[tuple[str, str, str, str]]:
        """(row, field, before, after) of each line of the preview table with this caption."""
        table = h.find_by_role(d, "region", caption)
        out = []
        for _, r in h.all_by_role(d, "row", within=table):
            cells = [h._norm(c.text) for c in r.find_elements("css selector", "th, td")]
            if cells[0] == t("import.col_row"):
                continue
            out.append(tuple(cells))
        return out


if __name__ == "__main__":
    h.main(needs_app=False, needs_cli=False)
