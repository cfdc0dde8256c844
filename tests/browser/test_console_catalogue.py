"""The project console's catalogue end to end (issue 11), against the real `tundra-server`, the
real CLI `tundra` as a participant's device, and Chromium:

- an admin signs in through the sign-in form, creates a course targeted at Testby kommun (not
  published yet) and schedules an occasion at Hemtjänst Norr (1 seat, an enrolment window);
  anna's device (a Testby participant) syncs and does NOT see it; the admin publishes it and
  anna's next sync shows the course and the occasion with the times, place and seats the
  admin entered; a published course targeted at Annanby kommun only never reaches her;
- the admin enrols Dina from the occasion page: the roster shows her confirmed; Bo and Erik,
  enrolled beyond the one seat, are on the waitlist at places 1 and 2, and anna's device
  counts them too.

    /usr/bin/python3 tests/browser/test_console_catalogue.py
"""

import datetime as dt
import re
import unittest

import console_harness as ch
import harness as h
from console_harness import t


def req(key: str) -> str:
    """A required field's accessible name: its label and "(obligatoriskt)"."""
    return f"{t(key)} {t('common.required')}"


def utc(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(dt.timezone.utc)


def anna_courses(anna) -> dict:
    anna.run("sync")
    return {c["title"]: c for c in anna.json("courses")}


class ConsoleCatalogue(unittest.TestCase):
    def test_admin_publishes_a_course_the_device_sees_and_fills_it(self):
        with h.Env(app=False) as env:
            sc = env.scenario
            anna = env.cli("anna")
            title = "Palliativ vård i hemtjänsten"
            other_title = "Dokumentation för Annanby"
            self.assertNotIn(title, anna_courses(anna))

            d = ch.browser(env)
            ch.sign_in(d, env, "admin")  # the form: username, password, "Logga in"
            self.assertTrue(d.current_url.startswith(ch.base(env) + "/"), d.current_url)
            self.assertIn("tundra_console", {c["name"] for c in d.get_cookies()})

            # A course for Annanby only, published: never in a Testby participant's catalogue.
            ch.go(d, env, "#/course/new")
            h.fill(d, req("course.title_label"), other_title)
            h.click(d, "Annanby kommun", role="checkbox")
            h.click(d, t("course.published_check"), role="checkbox")
            h.click(d, t("course.create"), role="button")
            h.wait_until(lambda: re.search(r"#/course/c-[0-9a-f]{16}$", d.current_url), 10, "the Annanby course's page")
            ch.wait_view(d)

            # The course for Testby, not published yet.
            ch.go(d, env, "#/course/new")
            h.fill(d, req("course.title_label"), title)
            h.fill(d, t("course.description"), "Att ge god vård i livets slutskede.")
            h.fill(d, t("course.theme"), "Palliativ vård")
            h.fill(d, t("course.duration"), "150")
            h.click(d, "Testby kommun", role="checkbox")
            self.assertFalse(h.field_by_label(d, t("course.published_check")).is_selected())
            h.click(d, t("course.create"), role="button")
            m = h.wait_until(lambda: re.search(r"#/course/(c-[0-9a-f]{16})$", d.current_url), 10, "the new course's page")
            course_id = m.group(1)
            self.assertEqual(ch.wait_view(d), title)
            h.wait_text(d, t("course.unpublished"))
            h.wait_text(d, t("course.no_occasions"))

            # An occasion in ten days, 09:00-11:30 Stockholm time, one seat, enrolment open
            # from today 00:00 to the day before at 16:00.
            day = sc.today + dt.timedelta(days=10)
            closes = day - dt.timedelta(days=1)
            ch.set_value(d, req("occasion.day"), day.isoformat())
            ch.set_value(d, req("occasion.start_time"), "09:00")
            ch.set_value(d, req("occasion.end_time"), "11:30")
            h.choose(d, t("occasion.site"), "Hemtjänst Norr (Testby kommun)")
            h.fill(d, req("occasion.capacity"), "1")
            ch.set_value(d, t("occasion.opens_day"), sc.today.isoformat())
            ch.set_value(d, t("occasion.opens_time"), "00:00")
            ch.set_value(d, req("occasion.closes_day"), closes.isoformat())
            ch.set_value(d, req("occasion.closes_time"), "16:00")
            h.click(d, t("occasion.create"), role="button")
            occ_link = h.wait_until(lambda: d.find_elements("css selector", "a[href^='#/occasion/o-']"), 10,
                                    "the new occasion in the course's schedule")[0]
            occasion_id = occ_link.get_attribute("href").split("#/occasion/")[1]
            self.assertRegex(occasion_id, r"^o-[0-9a-f]{16}$")
            row = h.find_by_role_text(d, "row", "Hemtjänst Norr")
            self.assertIn("09:00–11:30", h._norm(row.text))
            self.assertIn(t("occasion.places_text", confirmed=0, capacity=1), h._norm(row.text))

            # Not published: anna's device does not get it.
            seen = anna_courses(anna)
            self.assertNotIn(title, seen)
            self.assertFalse(any(o["id"] == occasion_id for c in seen.values() for o in c["occasions"]))

            # Publish it.
            h.click(d, t("course.published_check"), role="checkbox")
            h.click(d, t("course.save"), role="button")
            h.wait_until(lambda: t("course.unpublished") not in h.page_text(d), 10, "the badge to say published")

            # anna's device syncs: the course and its occasion as the admin entered them.
            seen = anna_courses(anna)
            self.assertIn(title, seen, f"anna's catalogue: {sorted(seen)}")
            self.assertNotIn(other_title, seen, "a course for Annanby only reached a Testby participant")
            course = seen[title]
            self.assertEqual(course["id"], course_id)
            self.assertTrue(course["published"])
            self.assertEqual(course["theme"], "Palliativ vård")
            [occ] = course["occasions"]
            self.assertEqual(occ["id"], occasion_id)
            self.assertEqual(utc(occ["starts_at"]), h.stockholm(day, 9, 0).astimezone(dt.timezone.utc))
            self.assertEqual(utc(occ["ends_at"]), h.stockholm(day, 11, 30).astimezone(dt.timezone.utc))
            self.assertEqual(utc(occ["enrolment_closes"]), h.stockholm(closes, 16, 0).astimezone(dt.timezone.utc))
            self.assertEqual(occ["site"], "site-norr")
            self.assertEqual((occ["capacity"], occ["seats_left"], occ["status"]), (1, 1, "planned"))
            text = anna.run("courses").stdout
            self.assertIn(title, text)
            self.assertIn(occasion_id, text)
            self.assertIn("1/1 seats left", text)

            # The roster: Dina gets the one seat; Bo and Erik go to the waitlist in order.
            occ_link = h.link(d, re.compile("09:00–11:30"))
            occ_link.click()
            h.wait_until(lambda: d.current_url.endswith(f"#/occasion/{occasion_id}"), 10, "the occasion's page")
            ch.wait_view(d)
            h.wait_text(d, t("roster.empty"))
            h.wait_text(d, t("roster.waitlist_empty"))
            for name in ("Dina Holm", "Bo Ek", "Erik Lund"):
                self.enrol(d, name)
            row = h.find_by_role_text(d, "row", "Dina Holm")
            self.assertIn(t("enrolment_status.confirmed"), h._norm(row.text))
            self.assertEqual(len([r for _, r in h.all_by_role(d, "row") if "Bo Ek" in r.text or "Erik Lund" in r.text]), 0,
                             "the waitlisted are not on the roster")
            waitlist = d.find_element("css selector", "ol.waitlist")
            items = [h._norm(li.text) for _, li in h.all_by_role(d, "listitem", within=waitlist)]
            self.assertEqual(len(items), 2, items)
            self.assertTrue(items[0].startswith(t("roster.waitlist_item", name="Bo Ek", position=1)), items)
            self.assertTrue(items[1].startswith(t("roster.waitlist_item", name="Erik Lund", position=2)), items)
            self.assertIn(t("occasion.places_text", confirmed=1, capacity=1), h.page_text(d))

            # The same numbers on anna's device.
            occ = anna_courses(anna)[title]["occasions"][0]
            self.assertEqual((occ["confirmed"], occ["waitlisted"], occ["seats_left"]), (1, 2, 0))
            self.assertIn("0/1 seats left, 2 waitlisted", anna.run("courses").stdout)

    def enrol(self, d, name: str) -> None:
        form = h.find_by_role(d, "search", t("roster.enrol_title"))
        h.fill(d, t("roster.enrol_search"), name.split()[0], within=form)
        h.click(d, t("common.search"), role="button", within=form)
        h.click(d, f"{t('roster.enrol')} {name}", role="button")
        # The page renders again with the person on the roster or the waitlist.
        enrol_buttons = lambda: [n for n, _ in h.all_by_role(d, "button") if n.startswith(t("roster.enrol") + " ")]  # noqa: E731
        h.wait_until(lambda: name in d.find_element("id", "main").text and not enrol_buttons(), 10, f"{name} enrolled")
        ch.wait_view(d)


if __name__ == "__main__":
    h.main(needs_app=False, needs_cli=True)
