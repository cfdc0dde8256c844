#!/usr/bin/env python3
"""Checks a web app's message catalogues (<assets>/locale/<lang>.json): the tablet app's
(apps/tundra-app/assets) and the console's (console/assets), one ctest each.

Fails (exit 1, one line per problem) on:
  - a key present in one language but missing in another;
  - a message whose {placeholders} differ between languages;
  - an empty message or a missing translator context;
  - a key the JavaScript uses literally, t('screen.key'), or an HTML page names in
    data-i18n="screen.key", that is in no catalogue;
  - a dynamic key family the JavaScript builds, t(`reason.${code}`), that the checker does not
    know, or a value of a known family without a key: the families come from the sources the
    server and the SDK use (reason codes in core/include/tundra/core/action.h, error codes in
    core/src/status.cc plus the app server's own, enumerations in core/src/model.cc, action
    types in core/src/action.cc), so a new reason code without words fails here.
Usage: check_locales.py ASSETS_DIR [--errors CODE,...] [--family NAME=ENUM ...]
  --errors   the app server's own error codes, added to the core's (default: the tablet app's)
  --family   another family of keys from an enumeration of core/src/model.cc, e.g.
             role=Role for t(`role.${code}`) and k RoleV[]
"""
import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LANGS = ["sv", "en"]
PLACEHOLDER = re.compile(r"\{(\w+)\}")
LITERAL_KEY = re.compile(r"""\bt\(\s*(['"])([^'"]+)\1""")
# t(someVariable): a key the checker cannot see. Only i18n.js, which defines t, may do that.
COMPUTED_KEY = re.compile(r"""\bt\(\s*[^'"`\s)]""")
DYNAMIC_KEY = re.compile(r"""\b(?:t|has)\(\s*`([^`$]*)\$\{""")
# Error codes the tablet app server adds to the core's (notes: app-api.md).
APP_ERRORS = ["locked", "wrong_pin", "pin_wait", "password_needed", "admin_use_console"]
# "Changed for you" kinds are spelled out in app.js (changedText), so they are literal keys.


def read(rel):
    path = ROOT / rel
    if not path.is_file():
        raise SystemExit(f"check_locales: {rel} not found (the checker reads codes from it)")
    return path.read_text(encoding="utf-8")


def model_enum(name):
    m = re.search(r"k%sV\[\]\s*=\s*\{([^}]*)\}" % name, read("core/src/model.cc"))
    if not m:
        raise SystemExit(f"check_locales: enumeration k{name}V not found in core/src/model.cc")
    return re.findall(r'"([a-z_0-9]+)"', m.group(1))


def families(app_errors, extra):
    action_h = read("core/include/tundra/core/action.h")
    ns = action_h[action_h.index("namespace reasons {"):action_h.index("}  // namespace reasons")]
    reasons = re.findall(r'=\s*"([a-z_]+)"', ns)
    status_cc = read("core/src/status.cc")
    errors = [c for c in re.findall(r'\{"([a-z_]+)",\s*\d+,\s*(?:true|false)\}', status_cc) if c != "ok"]
    actions = re.findall(r'\{"([a-z_]+)",\s*Kind::', read("core/src/action.cc"))
    if not reasons or not errors or not actions:
        raise SystemExit("check_locales: could not read reason, error or action codes from the sources")
    fams = {
        "reason": reasons + ["unknown"],
        "error": errors + app_errors,
        "action": actions + ["unknown"],
        "attendance_status": model_enum("AttStatus"),
        "enrolment_status": model_enum("EnrStatus"),
        "occasion_status": model_enum("OccStatus"),
        "deviation_status": model_enum("DevStatus"),
        "category": model_enum("DevCategory"),
        "gender": model_enum("Gender"),
        "format": model_enum("Format"),
    }
    for name, enum in extra:
        fams[name] = model_enum(enum)
    return fams


DATA_I18N = re.compile(r'data-i18n="([^"]+)"')


def parse(argv):
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("assets")
    ap.add_argument("--errors", default=",".join(APP_ERRORS))
    ap.add_argument("--family", action="append", default=[])
    try:
        ns = ap.parse_args(argv[1:])
    except SystemExit:
        return None
    extra = []
    for f in ns.family:
        name, _, enum = f.partition("=")
        if not name or not enum:
            return None
        extra.append((name, enum))
    return Path(ns.assets), [e for e in ns.errors.split(",") if e], extra


def main(argv):
    parsed = parse(argv)
    if parsed is None:
        print(__doc__)
        return 2
    assets, app_errors, extra_families = parsed
    problems = []
    cats = {}
    for lang in LANGS:
        path = assets / "locale" / f"{lang}.json"
        try:
            cats[lang] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            problems.append(f"{path}: cannot read: {e}")
            continue
        for key, entry in cats[lang].items():
            if not re.fullmatch(r"[a-z_0-9]+\.[a-z_0-9.]+", key):
                problems.append(f"{lang}: key '{key}' is not 'screen.key'")
            if not isinstance(entry, dict) or not isinstance(entry.get("message"), str):
                problems.append(f"{lang}: '{key}' has no message")
                continue
            if not entry["message"].strip():
                problems.append(f"{lang}: '{key}' has an empty message")
            if not isinstance(entry.get("context"), str) or not entry["context"].strip():
                problems.append(f"{lang}: '{key}' has no context for translators")
    if len(cats) == len(LANGS):
        all_keys = set().union(*(set(c) for c in cats.values()))
        for key in sorted(all_keys):
            for lang in LANGS:
                if key not in cats[lang]:
                    problems.append(f"{lang}: key '{key}' is missing")
            entries = [cats[lang].get(key) for lang in LANGS]
            if all(isinstance(e, dict) and isinstance(e.get("message"), str) for e in entries):
                sets = [set(PLACEHOLDER.findall(e["message"])) for e in entries]
                if any(s != sets[0] for s in sets):
                    detail = ", ".join(f"{lang} {sorted(s)}" for lang, s in zip(LANGS, sets))
                    problems.append(f"'{key}': placeholders differ ({detail})")
    known = set().union(*(set(c) for c in cats.values())) if cats else set()

    fams = families(app_errors, extra_families)
    used_families = set()
    js_files = sorted(assets.rglob("*.js"))
    if not js_files:
        problems.append(f"{assets}: no JavaScript files found")
    for js in js_files:
        text = js.read_text(encoding="utf-8")
        rel = js.relative_to(assets)
        for m in LITERAL_KEY.finditer(text):
            key = m.group(2)
            if key not in known:
                line = text.count("\n", 0, m.start()) + 1
                problems.append(f"{rel}:{line}: t('{key}') is in no catalogue")
        if rel.name != "i18n.js":
            for m in COMPUTED_KEY.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                problems.append(f"{rel}:{line}: t() with a computed key: write t('screen.key') or t(`family.${{code}}`)")
        for m in DYNAMIC_KEY.finditer(text):
            prefix = m.group(1)  # "reason." for t(`reason.${code}`)
            fam = prefix[:-1] if prefix.endswith(".") else prefix
            used_families.add(fam)
            if fam not in fams:
                line = text.count("\n", 0, m.start()) + 1
                problems.append(f"{rel}:{line}: dynamic key family '{fam}.*' is unknown to the checker (spell the keys out, or add the family here)")
    for page in sorted(assets.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        for m in DATA_I18N.finditer(text):
            if m.group(1) not in known:
                line = text.count("\n", 0, m.start()) + 1
                problems.append(f"{page.relative_to(assets)}:{line}: data-i18n=\"{m.group(1)}\" is in no catalogue")
    for fam, values in fams.items():
        for v in values:
            key = f"{fam}.{v}"
            if key not in known:
                problems.append(f"'{key}' is missing (every {fam} code needs words)")

    for p in problems:
        print(p)
    if problems:
        print(f"check_locales: {len(problems)} problem(s)")
        return 1
    print(f"check_locales: {len(known)} keys in {len(LANGS)} languages, all present and consistent")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
