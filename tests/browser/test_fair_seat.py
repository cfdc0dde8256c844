"""The fair seat, in a real browser: Anna enrols with the tablet offline in the one-seat
occasion and sees her pending enrolment at once; Bo enrols later on his own device but syncs
first and gets the seat; when Anna's link returns and she syncs, the seat is hers because she
acted first, and Bo is moved to the queue: his device is told so, and on the tablet his courses
show "Plats 1 i kön" and the reason in plain Swedish.

    /usr/bin/python3 tests/browser/test_fair_seat.py
"""

import re
import unittest

import harness as h
import participant_steps as steps


def enrolment_card(d, course_title: str):
    return h.find_by_role_text(d, "listitem", course_title)


def item_text(d, course_title: str, site_name: str) -> str:
    return h.wait_until(lambda: steps.occasion_item(d, course_title, site_name).text, 10, "the occasion's text")


class FairSeat(unittest.TestCase):
    def test_offline_enrolment_keeps_the_seat_its_earlier_action_earned(self):
        with h.Env() as env:
            sc = env.scenario
            title, norr = sc.course_title("c-demens"), sc.site_name("site-norr")
            d = steps.signed_in_tablet(env, "anna", "2468", axe_prefix="first sign-in, empty tablet: ")

            steps.nav(d, "nav.catalogue")
            h.heading(d, h.t("catalogue.title"))
            self.assertIn(h.t("catalogue.seats_left", count=1), item_text(d, title, norr))
            h.run_axe(d, "catalogue: online, nothing pending")
            h.screenshot(d, "catalogue-online-tablet")

            # The tablet loses its network; Anna enrols: the page shows it pending at once.
            env.offline()
            steps.stable(lambda: h.click(d, h.t("catalogue.enrol"), within=steps.occasion_item(d, title, norr)))
            h.wait_until(lambda: h.t("common.pending") in item_text(d, title, norr), 3,
                         "the enrolment shown as pending at once")
            text = item_text(d, title, norr)
            self.assertIn(h.t("enrolment_status.requested"), text)
            self.assertNotIn(h.t("catalogue.enrol"), text)
            h.wait_text(d, h.t("status.pending", count=1), timeout=2)
            # The background sync (3 s after the action) fails: the page says it is offline.
            h.wait_text(d, h.t("status.offline"), timeout=20)
            h.run_axe(d, "catalogue: offline, 1 pending")
            h.screenshot(d, "catalogue-pending-tablet")
            h.set_viewport(d, "phone")
            h.wait_text(d, h.t("status.pending", count=1))
            h.run_axe(d, "catalogue: offline, 1 pending (phone)")
            h.screenshot(d, "catalogue-pending-phone")
            h.set_viewport(d, "tablet")

            # Bo enrols later, on his own device, and syncs first: the seat is his for now.
            bo = env.cli("bo")
            bo.run("sync", "--timeout", "10")
            bo.run("enrol", "o-small")
            bo.run("sync", "--timeout", "10")
            mine = [e for e in bo.json("enrolments") if e["occasion"] == "o-small"]
            self.assertEqual([(e["status"], e["pending"]) for e in mine], [("confirmed", False)])

            # Anna's link returns; she syncs: she acted first, so the seat is hers.
            env.online()
            steps.sync_now(d)
            h.wait_until(lambda: (lambda t: h.t("enrolment_status.confirmed") in t and h.t("common.pending") not in t)(
                item_text(d, title, norr)), 30, "Anna's enrolment confirmed and no longer pending")
            self.assertIn(h.t("catalogue.full"), item_text(d, title, norr))
            h.wait_text(d, h.t("status.nothing_pending"))
            h.wait_text(d, h.t("status.online"))
            self.assertNotIn(h.t("rejected.title"), h.page_text(d))
            h.run_axe(d, "catalogue: synced, seat confirmed")
            h.screenshot(d, "catalogue-confirmed-tablet")

            steps.nav(d, "nav.enrolments")
            h.heading(d, h.t("enrolments.title"))
            card = steps.stable(lambda: enrolment_card(d, title).text)
            self.assertIn(h.t("enrolment_status.confirmed"), card)
            self.assertNotIn(h.t("common.pending"), card)
            h.run_axe(d, "my enrolments: confirmed")
            h.screenshot(d, "enrolments-confirmed-tablet")

            # Bo's device is told: he was pre-empted, and is first in the queue.
            bo.run("sync", "--timeout", "10")
            mine = [e for e in bo.json("enrolments") if e["occasion"] == "o-small"]
            self.assertEqual([(e["status"], e["reason"]) for e in mine], [("waitlisted", "preempted")])
            changed = bo.json("todo")["changed"]
            self.assertEqual([(c["kind"], c["occasion"]) for c in changed], [("preempted", "o-small")])

            # Bo on the same tablet (his own session, in another browser): his courses show his
            # place in the queue and why, in plain Swedish; he cannot see Anna's enrolments.
            d2 = env.browser("phone")
            d2.get(env.app.url)
            h.heading(d2, h.t("people.title"))
            steps.first_sign_in(d2, env, "bo", "1357")
            steps.nav(d2, "nav.enrolments")
            h.heading(d2, h.t("enrolments.title"))
            card = steps.stable(lambda: enrolment_card(d2, title).text)
            self.assertIn(h.t("enrolment.queue_place", place=1), card)
            self.assertIn(h.t("reason.preempted"), card)
            self.assertNotIn("preempted", card)  # the code itself is never shown
            h.run_axe(d2, "my enrolments: waitlisted, pre-empted")
            steps.stable(lambda: d2.execute_script("arguments[0].scrollIntoView({block: 'center'})",
                                                   enrolment_card(d2, title)))
            h.screenshot(d2, "enrolments-waitlisted-phone")
            steps.nav(d2, "nav.catalogue")
            h.heading(d2, h.t("catalogue.title"))
            text = item_text(d2, title, norr)
            self.assertIn(h.t("enrolment.queue_place", place=1), text)
            self.assertIn(h.t("reason.preempted"), text)
            h.run_axe(d2, "catalogue: waitlisted, pre-empted (phone)")
            # Anna's page still shows her seat; nothing of Bo's.
            self.assertRegex(h.page_text(d), re.escape(h.t("enrolment_status.confirmed")))
            self.assertNotIn(sc.person_name("p-bo"), h.page_text(d))


if __name__ == "__main__":
    h.main(needs_app=True, needs_cli=True)
