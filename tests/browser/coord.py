"""Steps the coordinator tests share (test_roster_offline, test_walk_in_deviation,
test_accessibility): first sign-in on the tablet with a PIN, more staff at Hemtjänst Norr,
and reading what the server holds through the coordinator's own second device (the CLI)."""

from __future__ import annotations

import re

import harness as h

PIN = "2468"

# More staff at Hemtjänst Norr, confirmed on today's occasion (a roster of seven), and one who
# is not enrolled anywhere (a walk-in who is already in the register).
EXTRA_STAFF = [
    ("p-fia", "Fia Gran", "woman", 1985),
    ("p-gustav", "Gustav Ström", "man", 1970),
    ("p-hanna", "Hanna Åkesson", "woman", 1999),
    ("p-ivar", "Ivar Öberg", "man", 1964),
]
NOT_ENROLLED = ("p-jonas", "Jonas Lind", "man", 1990)


def add_staff(env) -> None:
    """Imports EXTRA_STAFF (confirmed on o-today) and NOT_ENROLLED into the running server."""
    persons = [{"id": pid, "organisation": "testby", "site": "site-norr", "name": name, "gender": g,
                "birth_year": y} for pid, name, g, y in EXTRA_STAFF + [NOT_ENROLLED]]
    enrolments = [{"id": f"e-today-{pid[2:]}", "occasion": "o-today", "person": pid, "status": "confirmed"}
                  for pid, *_ in EXTRA_STAFF]
    env.server.import_doc({"persons": persons, "enrolments": enrolments})


def sign_in(env, d, username: str, pin: str = PIN) -> None:
    """The first sign-in of `username` on this tablet (needs the link): password, then a new
    PIN, and the person's start screen with the first sync done."""
    u = env.user(username)
    d.get(env.app.url)
    h.heading(d, h.t("signin.title"), timeout=10)
    h.fill(d, h.t("signin.username"), u.username)
    h.fill(d, h.t("signin.password"), u.password)
    h.click(d, h.t("signin.submit"))
    h.heading(d, h.t("setpin.title"), timeout=20)
    h.fill(d, h.t("setpin.first"), pin)
    h.fill(d, h.t("setpin.second"), pin)
    h.click(d, h.t("setpin.submit"))
    start = h.t("today.title") if u.role == "coordinator" else h.t("home.title", name=u.name.split()[0])
    h.heading(d, start, timeout=15)
    wait_synced(d)


def wait_synced(d, timeout: float = 30) -> None:
    """Until the status bar says the last sync succeeded and nothing is pending."""
    h.wait_text(d, h.t("status.last_sync", time="").strip(), timeout=timeout)
    h.wait_text(d, h.t("status.nothing_pending"), timeout=timeout)


def status_bar(d):
    """The status panel every screen shows (a region named "Synk")."""
    return h.find_by_role(d, "region", h.t("status.label"))


def sync_now(d) -> None:
    """Taps "Synka nu"; when a sync is already running (retrying the link), lets it go on."""
    from selenium.common.exceptions import StaleElementReferenceException
    # The status panel re-renders as a background sync ends: the panel found a moment ago may be
    # the old one, gone from the page (stale, or with no buttons left in it). Look again.
    for attempt in range(3):
        try:
            btn = h.find_by_role(d, "button", re.compile(f"^({re.escape(h.t('status.sync_now'))}|{re.escape(h.t('status.cancel_sync'))})$"),
                                 within=status_bar(d), timeout=2.0 if attempt < 2 else 5.0)
            if h._norm(btn.accessible_name) == h.t("status.sync_now"):
                btn.click()
            return
        except (StaleElementReferenceException, AssertionError):
            if attempt == 2:
                raise


def occasion_link(d, env, occasion_id: str):
    """The link to an occasion's roster on the coordinator's start screen (its name begins with
    the course title)."""
    title = env.scenario.course_title(env.scenario.occasion(occasion_id)["course"])
    links = [el for name, el in h.all_by_role(d, "link") if name.startswith(title)]
    return links


def roster_row(d, name: str):
    """One person's row on the roster (a list item showing the name)."""
    return h.find_by_role_text(d, "listitem", name)


def server_marks(cli, occasion: str) -> dict[str, dict]:
    """person -> {status, minutes} as the server holds them, read by a fresh sync of the
    coordinator's second device (the reference CLI)."""
    cli.run("sync")
    rows = cli.json("attendance", "list", occasion)
    if isinstance(rows, dict):
        rows = rows.get("marks") or rows.get("attendance") or rows.get("rows") or []
    return {r["person"]: r for r in rows}


def tap(d, name, **kw) -> None:
    """h.click, tried again when the view re-rendered between finding and clicking (a screen
    re-renders when a background sync changes its rows)."""
    h.wait_until(lambda: h.click(d, name, **kw) or True, 10, f"a click on {name!r}")
