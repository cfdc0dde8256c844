"""Steps the participant and shared-tablet flow tests share: signing in on the tablet for the
first time, unlocking with a PIN, switching person. Each step drives the page as a person
does, by the app's own words (h.t) and the accessible names of its controls."""

from __future__ import annotations

import re

import harness as h


def first_sign_in(d, env, username: str, pin: str, axe_prefix: str = "") -> None:
    """`username` signs in on this tablet for the first time (the server is needed) and sets
    `pin`; ends on the person's start screen. From an empty tablet the app opens on the
    sign-in screen; with people on it, from the people screen through "new person"."""
    user = env.user(username)
    if not d.current_url.startswith(env.app.url):
        d.get(env.app.url)
    h.heading(d, re.compile(f"^({re.escape(h.t('signin.title'))}|{re.escape(h.t('people.title'))})$"))
    if _has_heading(d, h.t("people.title")):
        h.click(d, h.t("people.new_person"))
    h.heading(d, h.t("signin.title"))
    if axe_prefix:
        h.run_axe(d, f"{axe_prefix}sign-in")
    h.fill(d, h.t("signin.username"), user.username)
    h.fill(d, h.t("signin.password"), user.password)
    h.click(d, h.t("signin.submit"))
    h.heading(d, h.t("setpin.title"), timeout=15)
    if axe_prefix:
        h.run_axe(d, f"{axe_prefix}set PIN")
    h.fill(d, h.t("setpin.first"), pin)
    h.fill(d, h.t("setpin.second"), pin)
    h.click(d, h.t("setpin.submit"))
    wait_start_screen(d, user)


def wait_start_screen(d, user: h.User, lang: str = "sv") -> None:
    if user.role == "coordinator":
        h.heading(d, h.t("today.title", lang), timeout=15)
    else:
        h.heading(d, h.t("home.title", lang, name=user.name.split(" ")[0]), timeout=15)


def _has_heading(d, name: str) -> bool:
    return any(n == name for n, _ in h.all_by_role(d, "heading"))


def switch_person(d, lang: str = "sv") -> None:
    """The first of the two taps, from any screen: "Byt person" in the header (in the
    language of the person signed in); the people screen follows, in the tablet's language."""
    h.click(d, h.t("settings.switch_person", lang), within=h.find_by_role(d, "banner", re.compile("")))
    h.heading(d, h.t("people.title"))


def tap_person(d, env, username: str) -> None:
    """The second tap: the person's name on the people screen."""
    h.click(d, env.user(username).name, role="link", exact=False)


def unlock_with_pin(d, env, username: str, pin: str, lang: str = "sv") -> None:
    """On the people screen: tap the person's name, type the PIN on the pad's keys, OK."""
    user = env.user(username)
    tap_person(d, env, username)
    h.heading(d, h.t("pin.title", name=user.name))
    type_pin_on_pad(d, pin)
    wait_start_screen(d, user, lang)


def type_pin_on_pad(d, pin: str) -> None:
    pad = h.find_by_role(d, "group", h.t("pin.pad_label"))
    for digit in pin:
        h.click(d, digit, role="button", within=pad)
    h.click(d, h.t("pin.ok"), role="button", within=pad)


def signed_in_tablet(env, username: str, pin: str, axe_prefix: str = ""):
    """A tablet-sized browser on the app where `username` has just signed in for the first time
    and the first sync is done: the start of most participant stories."""
    d = env.browser("tablet")
    d.get(env.app.url)
    first_sign_in(d, env, username, pin, axe_prefix=axe_prefix)
    wait_synced(d, env)
    return d


def enrol_in_catalogue(d, course_title: str, site_name: str) -> None:
    """To the catalogue by the menu, and "Anmäl mig" on the occasion at `site_name`."""
    nav(d, "nav.catalogue")
    h.heading(d, h.t("catalogue.title"))
    stable(lambda: h.click(d, h.t("catalogue.enrol"), within=occasion_item(d, course_title, site_name)))


def nav(d, key: str, lang: str = "sv") -> None:
    """A tap on the main menu (the start screen has links of the same names)."""
    stable(lambda: h.click(d, h.t(key, lang), within=h.find_by_role(d, "navigation", h.t("nav.label", lang))))


def occasion_item(d, course_title: str, site_name: str):
    """The catalogue's list item of one occasion: inside the course's section, the one at
    `site_name` (looked up afresh until found: the list re-renders when the replica changes)."""
    def look():
        course = h.find_by_role(d, "region", course_title, timeout=0.5)
        return h.find_by_role_text(d, "listitem", site_name, within=course, timeout=0.5)
    return h.wait_until(look, 10, f"the occasion of {course_title} at {site_name}")


def status_section(d):
    """The sync panel every screen shows (a region named "Synk")."""
    return h.find_by_role(d, "region", h.t("status.label"))


def stable(fn, timeout: float = 5.0):
    """Runs `fn` (a lookup and an action on what it found) again when the page re-rendered
    between the two: the header is rebuilt at every status poll (every few seconds)."""
    from selenium.common.exceptions import StaleElementReferenceException

    def once():
        try:
            return (fn(),)
        except StaleElementReferenceException:
            return None
    return h.wait_until(once, timeout, "a lookup that the page's re-rendering kept making stale")[0]


def sync_now(d) -> None:
    """"Synka nu"; when a sync is already running (its button is "Avbryt" then), nothing:
    the running sync retries on its own within seconds (the SDK's back-off, at most 8 s)."""
    def tap():
        names = [n for n, _ in h.all_by_role(d, "button", within=status_section(d))]
        if h.t("status.sync_now") in names:
            h.click(d, h.t("status.sync_now"), within=status_section(d))
            return True
        return h.t("status.cancel_sync") in names
    h.wait_until(lambda: stable(tap), 5, "the sync panel's button")


def api_status(d, env) -> dict:
    """GET /api/status with the browser's session cookie (what the page itself polls)."""
    code, _, body = env.app.session(d).get("/api/status", headers={"X-Tundra-Background": "1"})
    assert code == 200, f"/api/status answered {code}: {body}"
    return body


def wait_synced(d, env, timeout: float = 30.0) -> dict:
    """Until this person's replica has nothing pending and no sync is running."""
    return h.wait_until(lambda: (lambda s: s if s["pending"] == 0 and not s["sync"]["running"] and s["last_sync"] else None)(
        api_status(d, env)), timeout, "the app to finish syncing with nothing pending")
