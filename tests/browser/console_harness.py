"""Shared helpers for the console's real-browser tests (docs/console.md): the console is served
by the real `tundra-server serve` of a harness `Env` (no app needed) at /console/.

- `t(key, lang)`: the console's words from console/assets/locale/<lang>.json, so tests find
  controls by what a user reads.
- `sign_in(d, env, username)`: the sign-in form as a user fills it; waits for the shell.
- `go(d, env, route)`: a hash route (e.g. "#/people"), waits until the view has rendered
  (<main aria-busy="false"> and its h1).
- `check_page(d, name)`: axe-core (wcag2a/aa, wcag21a/aa) with 0 violations, no control under
  44x44 px, no horizontal scrolling at desktop (1280x900) and phone (390x844) size, at 200%
  zoom nor at 320 CSS px, every field named; returns to the desktop size.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import harness as h

ASSETS = h.ROOT / "console" / "assets"
VIEWPORTS = {"desktop": (1280, 900), "phone": (390, 844)}
_catalogues: dict[str, dict] = {}


def t(key: str, lang: str = "sv", **params) -> str:
    if lang not in _catalogues:
        _catalogues[lang] = json.loads((ASSETS / "locale" / f"{lang}.json").read_text(encoding="utf-8"))
    msg = _catalogues[lang][key]["message"]
    return re.sub(r"\{(\w+)\}", lambda m: str(params.get(m.group(1), m.group(0))), msg)


def base(env) -> str:
    return env.server.url + "/console"


def set_size(d, name: str, zoom: float = 1.0) -> None:
    w, hgt = VIEWPORTS[name]
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": int(w / zoom), "height": int(hgt / zoom), "deviceScaleFactor": zoom, "mobile": name == "phone"})


def browser(env, size: str = "desktop"):
    d = env.browser((1280, 900))
    set_size(d, size)
    return d


def wait_view(d, timeout: float = 10.0) -> str:
    """Waits for the current view; returns its h1 text."""
    def ready():
        return d.execute_script("""
          const m = document.getElementById('main');
          if (!m || m.getAttribute('aria-busy') !== 'false') return null;
          const h = m.querySelector('h1');
          return h ? h.textContent : null;""")
    return h.wait_until(ready, timeout, "the console view to render")


def login_page(d, env, lang: str | None = None) -> None:
    d.get(base(env) + "/login" + (f"?lang={lang}" if lang else ""))
    h.wait_until(lambda: d.execute_script("return document.title.includes('Tundra') && "
                                          "!!document.querySelector('[data-i18n]') && "
                                          "document.querySelector('label[for=username]').textContent !== ''"),
                 10, "the sign-in page")
    h.wait_until(lambda: d.execute_script(
        "return document.querySelector('h1').textContent") == t("login.title", lang or "sv"), 10, "the sign-in page's words")


def sign_in(d, env, username: str, password: str | None = None, lang: str = "sv", expect_shell: bool = True) -> None:
    login_page(d, env, lang if lang != "sv" else None)
    user = env.user(username)
    h.fill(d, t("login.username", lang), username)
    h.fill(d, t("login.password", lang), password if password is not None else user.password)
    h.click(d, t("login.submit", lang), role="button")
    if expect_shell:
        h.wait_until(lambda: "/console/" in d.current_url and d.execute_script(
            "return !!document.querySelector('#nav a')"), 10, "the console shell after signing in")
        wait_view(d)


def go(d, env, route: str, timeout: float = 10.0) -> str:
    if not d.current_url.startswith(base(env) + "/"):
        d.get(base(env) + "/" + route)
    else:
        d.execute_script("if (location.hash !== arguments[0]) {"
                         "  document.getElementById('main').setAttribute('aria-busy', 'true'); location.hash = arguments[0]; }", route)
    return wait_view(d, timeout)


def fields_without_name(d) -> list[str]:
    return d.execute_script("""
      const out = [];
      for (const f of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
        if (!f.getClientRects().length) continue;
        const named = (f.labels && f.labels.length && [...f.labels].some(l => l.textContent.trim())) || f.getAttribute('aria-label');
        if (!named) out.push(f.outerHTML.slice(0, 120));
      }
      return out;""")


def check_page(d, name: str, shots: dict | None = None, scroll_to: str | None = None) -> None:
    """Every check of one page state at both sizes (and 200% zoom); `shots`: {size: file name}
    for screenshots (docs/img/console when TUNDRA_SCREENSHOT_DIR says so), taken at the top of
    the page or with the element `scroll_to` (CSS) at the top."""
    for size in VIEWPORTS:
        set_size(d, size)
        label = f"{name} [{size}]"
        h.run_axe(d, label)
        small = h.small_targets(d)
        assert not small, f"targets under 44 px in {label}: {small}"
        over = h.horizontal_overflow(d)
        assert over == 0, f"horizontal scrolling ({over} px) in {label}"
        unnamed = fields_without_name(d)
        assert not unnamed, f"fields without a name in {label}: {unnamed}"
        if shots and size in shots:
            d.execute_script("const e = arguments[0] && document.querySelector(arguments[0]);"
                             "if (e) e.scrollIntoView(); else window.scrollTo(0, 0);", scroll_to)
            h.screenshot(d, shots[size])
    set_size(d, "desktop", zoom=2.0)
    over = h.horizontal_overflow(d)
    assert over == 0, f"horizontal scrolling ({over} px) at 200% zoom in {name}"
    # WCAG 1.4.10: 320 CSS px wide (a 1280 px window at 400%).
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 320, "height": 640, "deviceScaleFactor": 1, "mobile": True})
    over = h.horizontal_overflow(d)
    assert over == 0, f"horizontal scrolling ({over} px) at 320 CSS px in {name}"
    set_size(d, "desktop")


def focus_ring(d) -> bool:
    """Whether the focused element shows a focus indicator (outline or box-shadow)."""
    return d.execute_script("""
      const e = document.activeElement; if (!e || e === document.body) return false;
      const s = getComputedStyle(e);
      return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== 'none';""")
