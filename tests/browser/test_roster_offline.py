"""The coordinator marks a whole roster offline and syncs (issue 10, "Tested in a real browser").

Cecilia (coordinator of Hemtjänst Norr) signs in on the tablet, opens today's occasion (today
first, then the days just past, in Stockholm days), loses the link, marks seven people with one
tap each (present, absent, late, left early, excused, and "Alla närvarande" for the rest; minutes
prefilled from the occasion's length), sees what waits for the sync, gets the link back, syncs,
and her second device (the reference CLI) reads every mark from the server.

    /usr/bin/python3 tests/browser/test_roster_offline.py
"""

import re
import unittest

import coord
import harness as h


class RosterOffline(unittest.TestCase):
    def test_whole_roster_offline_then_sync(self):
        with h.Env() as env:
            coord.add_staff(env)
            sc = env.scenario
            d = env.browser("tablet")
            coord.sign_in(env, d, "cecilia")

            # Today first, then the days just past: two sections in that order, each with its
            # occasion (Stockholm days, as the page formats them).
            sections = [n for n, _ in h.all_by_role(d, "region")]
            today_name = next(n for n in sections if n.startswith(h.t("today.today", day="").rstrip()))
            self.assertLess(sections.index(today_name), sections.index(h.t("today.recent")), sections)
            today_sec = h.find_by_role(d, "region", today_name)
            recent_sec = h.find_by_role(d, "region", h.t("today.recent"))
            title = sc.course_title("c-lyft")
            h.find_by_role(d, "link", re.compile("^" + title + r".*09:00–12:00"), within=today_sec)
            h.find_by_role(d, "link", re.compile("^" + title + r".*13:00–15:00"), within=recent_sec)
            self.assertIn(h.t("today.marked", marked=0, confirmed=7), today_sec.text)
            h.run_axe(d, "today: online, synced")

            coord.tap(d, re.compile("^" + title + r".*09:00–12:00"), role="link")
            h.heading(d, title)
            h.wait_text(d, h.t("roster.summary", marked=0, confirmed=7, minutes=180))

            env.offline()
            # Minutes are prefilled from the occasion's length (09:00-12:00: 180).
            for name in ("Anna Berg", "Bo Ek", "Dina Holm", "Fia Gran", "Gustav Ström", "Hanna Åkesson", "Ivar Öberg"):
                minutes = h.field_by_label(d, h.t("roster.minutes_for", name=name))
                self.assertEqual(minutes.get_attribute("value"), "180", name)

            def tap(name, status_key, minutes=None):
                if minutes is not None:
                    h.fill(d, h.t("roster.minutes_for", name=name), str(minutes))
                row = coord.roster_row(d, name)
                h.click(d, h.t(f"attendance_status.{status_key}"), within=row)
                h.wait_until(lambda: h.find_by_role(d, "button", h.t(f"attendance_status.{status_key}"),
                                                    within=coord.roster_row(d, name))
                             .get_attribute("aria-pressed") == "true", 10, f"{name} marked {status_key}")

            tap("Anna Berg", "present")
            tap("Bo Ek", "absent")
            tap("Dina Holm", "late", minutes=150)
            tap("Fia Gran", "left_early", minutes=100)
            tap("Gustav Ström", "excused")
            h.wait_text(d, h.t("status.pending", count=5))
            h.run_axe(d, "roster: offline, 5 of 7 marked, pending")

            # The rest in one tap.
            h.click(d, h.t("roster.all_present", count=2))
            h.wait_text(d, h.t("roster.summary", marked=7, confirmed=7, minutes=180))
            h.wait_text(d, h.t("status.pending", count=7))
            for name in ("Hanna Åkesson", "Ivar Öberg"):
                row = coord.roster_row(d, name)
                self.assertEqual(h.button(d, h.t("attendance_status.present"), within=row).get_attribute("aria-pressed"), "true")
                self.assertIn(h.t("common.pending"), row.text)
            # The failed background sync tells the coordinator she is offline, and that her
            # marks are kept here.
            h.wait_text(d, h.t("status.offline"), timeout=20)
            self.assertFalse(h.button(d, h.t("roster.all_present", count=0)).is_enabled())
            h.run_axe(d, "roster: offline, all marked, 7 pending")
            h.screenshot(d, "roster-offline-marked-tablet")

            env.online()
            coord.sync_now(d)
            coord.wait_synced(d, timeout=30)
            h.wait_no_text(d, h.t("common.pending"), timeout=15)
            h.run_axe(d, "roster: synced, all marked")

            cli = env.cli("cecilia")
            marks = coord.server_marks(cli, "o-today")
            want = {"p-anna": ("present", 180), "p-bo": ("absent", 0), "p-dina": ("late", 150),
                    "p-fia": ("left_early", 100), "p-gustav": ("excused", 0), "p-hanna": ("present", 180),
                    "p-ivar": ("present", 180)}
            got = {p: (m["status"], m["minutes"]) for p, m in marks.items()}
            self.assertEqual(got, want)
            self.assertTrue(all(not m["pending"] for m in marks.values()))
            self.assertEqual(cli.json("status")["pending"], 0)

            # Back on the start screen: the count follows.
            h.click(d, h.t("roster.back"))
            h.wait_text(d, h.t("today.marked", marked=7, confirmed=7))


if __name__ == "__main__":
    h.main(needs_app=True, needs_cli=True)
