"""A rejected action, in a real browser: while Anna's tablet is offline the coordinator's office
closes the enrolment of an occasion early; Anna, who cannot know, enrols; when the link
returns the server refuses it. Every screen then says so in plain Swedish (the catalogue's
words for the reason code, never the server's English message), and Anna dismisses it.

    /usr/bin/python3 tests/browser/test_rejected_dismiss.py
"""

import datetime as dt
import re
import unittest

import harness as h
import participant_steps as steps


def rejected_group(d):
    return h.find_by_role(d, "region", h.t("rejected.title"))


def live_text(d) -> str:
    """What the page's polite live region (role=status, aria-live) says to a screen reader."""
    return d.execute_script(
        "return [...document.querySelectorAll('[role=status][aria-live]')].map(e => e.textContent).join(' ')")


class RejectedDismiss(unittest.TestCase):
    def test_a_refused_enrolment_is_explained_and_dismissed(self):
        with h.Env() as env:
            sc = env.scenario
            title, syd = sc.course_title("c-demens"), sc.site_name("site-syd")
            d = steps.signed_in_tablet(env, "anna", "2468")

            # Offline. Meanwhile enrolment to the Syd occasion is closed early on the server.
            env.offline()
            later = dict(sc.occasion("o-later"))
            later["enrolment_closes"] = h.utc_iso(dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5))
            env.server.import_doc({"occasions": [later]})

            steps.enrol_in_catalogue(d, title, syd)
            h.wait_text(d, h.t("status.pending", count=1))

            # The link returns; the sync brings the refusal.
            env.online()
            steps.sync_now(d)
            group = h.wait_until(lambda: rejected_group(d), 30, "the rejected action to be shown")
            notice = h.find_by_role_text(d, "listitem", title, within=group)
            expected = h.t("rejected.item", action=h.t("action.enrol"), title=title)
            self.assertIn(expected, h.page_text(d))
            self.assertIn(h.t("reason.enrolment_closed"), notice.text)
            text = h.page_text(d)
            # Plain words only: no reason code, no English from the server.
            for english in ("enrolment_closed", "enrolment", "closed", "rejected", "occasion"):
                self.assertNotIn(english, text.lower())
            h.wait_text(d, h.t("status.nothing_pending"))
            h.run_axe(d, "catalogue: 1 rejected")
            h.screenshot(d, "catalogue-rejected-tablet")
            # The occasion itself says so too: not admitted, and why.
            text = h.wait_until(lambda: steps.occasion_item(d, title, syd).text, 10, "the occasion's text")
            self.assertIn(h.t("enrolment_status.rejected"), text)
            self.assertIn(h.t("reason.enrolment_closed"), text)
            self.assertNotIn(h.t("catalogue.enrol"), text)

            # Every screen shows it, until it is dismissed.
            steps.nav(d, "nav.enrolments")
            h.heading(d, h.t("enrolments.title"))
            rejected_group(d)
            h.run_axe(d, "my enrolments: 1 rejected")
            h.set_viewport(d, "phone")
            steps.nav(d, "nav.home")
            h.heading(d, h.t("home.title", name="Anna"))
            rejected_group(d)
            h.run_axe(d, "home: 1 rejected (phone)")
            h.screenshot(d, "home-rejected-phone")
            h.set_viewport(d, "tablet")

            # The dismiss button says what it removes (described by the notice's text).
            described = steps.stable(lambda: d.execute_script(
                "return arguments[0].getAttribute('aria-describedby').split(' ')"
                ".map(id => document.getElementById(id).textContent).join(' ')",
                h.button(d, h.t("rejected.dismiss"), within=rejected_group(d))))
            self.assertIn(h.t("reason.enrolment_closed"), described)
            steps.stable(lambda: h.button(d, h.t("rejected.dismiss"), within=rejected_group(d)).click())
            h.wait_no_text(d, h.t("rejected.title"))
            h.wait_until(lambda: h.t("rejected.dismissed") in live_text(d), 5, "the screen reader told it is dismissed")
            self.assertEqual(h.focused(d), ("heading", h.t("home.title", name="Anna")))
            h.run_axe(d, "home: rejected dismissed")
            # It stays dismissed: after a reload, and after another sync.
            d.refresh()
            h.heading(d, h.t("home.title", name="Anna"))
            steps.sync_now(d)
            steps.wait_synced(d, env)
            self.assertNotIn(h.t("rejected.title"), h.page_text(d))
            self.assertEqual(steps.api_status(d, env)["rejected"], [])
            # The server never took her enrolment.
            self.assertNotRegex(env.server.admin("export-person", "p-anna"), re.compile(r'"occasion":\s*"o-later"'))


if __name__ == "__main__":
    h.main(needs_app=True, needs_cli=False)
