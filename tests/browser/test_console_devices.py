"""Devices in the project console (issue 11): revoking a device wipes it on its next contact.

anna and bo sign in on one shared tablet (the CLI `tundra`, each with a replica of their own
and the tablet's one install id, as the tablet app shares it) and sync. The admin's devices
page shows that tablet once, by its install id, with both users and when each last synced.
The admin revokes anna's device after the confirmation: the page says it is revoked; anna's
next sync is refused as revoked and her replica is wiped (no courses, no enrolments left),
while bo on the same tablet syncs on.

    /usr/bin/python3 tests/browser/test_console_devices.py
"""

import unittest

import console_harness as ch
import harness as h
from console_harness import t


class ConsoleDevices(unittest.TestCase):
    def test_revoke_a_device_and_it_is_wiped_on_its_next_sync(self):
        with h.Env(app=False) as env:
            anna = env.cli("anna")
            anna.run("sync")
            # bo signs in on the same tablet: the SDK keeps the install id next to the replica.
            install_file = anna.replica.with_name(anna.replica.name + ".install-id")
            install_id = install_file.read_text().strip()
            self.assertTrue(install_id, "the CLI's device has an install id")
            bo = env.cli("bo", login=False)
            bo.replica.with_name(bo.replica.name + ".install-id").write_text(install_id + "\n")
            bo.login(env.server.url)
            bo.run("sync")
            # What anna's replica holds before: the catalogue and her enrolments.
            self.assertIn("Förflyttningsteknik", [c["title"] for c in anna.json("courses")])
            self.assertEqual({e["id"] for e in anna.json("enrolments")} >= {"e-today-anna", "e-yday-anna"}, True)

            d = ch.browser(env)
            ch.sign_in(d, env, "admin")
            self.assertEqual(ch.go(d, env, "#/devices"), t("devices.title"))
            tablet = h.find_by_role(d, "region", t("devices.tablet", id=install_id))
            self.assertEqual(h.heading(d, t("devices.tablet", id=install_id), within=tablet).tag_name, "h2")
            table = h.find_by_role(d, "region", t("devices.caption", name=t("devices.tablet", id=install_id)), within=tablet)
            rows = [h._norm(r.text) for _, r in h.all_by_role(d, "row", within=table)]
            anna_row = h.find_by_role_text(d, "row", "anna (", within=table)
            bo_row = h.find_by_role_text(d, "row", "bo (", within=table)
            self.assertEqual(len(rows), 3, f"a header row and one row each for anna and bo: {rows}")
            for row in (anna_row, bo_row):
                text = h._norm(row.text)
                self.assertIn(t("role.participant"), text)
                self.assertIn(f"({t('common.today')})", text, "last sync today")
            self.assertIn(t("devices.last_sync", when=""), h._norm(tablet.text))
            h.run_axe(d, "devices: one tablet, two users")

            # Revoke anna's device: a confirmation first.
            h.click(d, f"{t('devices.revoke')} {t('devices.of_user', user='anna')}", role="button")
            dialog = h.find_by_role(d, "alertdialog", t("devices.revoke_title"))
            self.assertIn(t("devices.revoke_text", user="anna"), h._norm(dialog.text))
            h.run_axe(d, "devices: revoke dialog")
            h.click(d, t("devices.revoke_confirm"), role="button", within=dialog)
            h.wait_until(lambda: t("devices.revoked") in h._norm(
                h.find_by_role_text(d, "row", "anna (").text), 10, "anna's device shown as revoked")
            ch.wait_view(d)
            bo_row = h.find_by_role_text(d, "row", "bo (")
            self.assertNotIn(t("devices.revoked"), h._norm(bo_row.text))
            h.button(d, f"{t('devices.revoke')} {t('devices.of_user', user='bo')}")  # bo's is still there

            # anna's next contact: refused as revoked, and her synced data is gone.
            r = anna.run("sync", check=False)
            self.assertNotEqual(r.returncode, 0, f"a revoked device's sync succeeded: {r.stdout}{r.stderr}")
            self.assertIn("revoked", (r.stdout + r.stderr).lower())
            self.assertEqual(anna.json("courses"), [], "the revoked device still lists courses")
            self.assertEqual(anna.json("enrolments"), [], "the revoked device still lists enrolments")
            self.assertIn("no courses in this replica", anna.run("courses").stdout)
            again = anna.run("sync", check=False)
            self.assertNotEqual(again.returncode, 0, "a wiped, revoked device synced again")
            # bo, on the same tablet, syncs on.
            bo.run("sync")
            self.assertIn("Förflyttningsteknik", [c["title"] for c in bo.json("courses")])


if __name__ == "__main__":
    h.main(needs_app=False, needs_cli=True)
