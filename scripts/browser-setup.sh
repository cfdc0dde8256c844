#!/usr/bin/env bash
# What the real-browser tests (tests/browser) need: Debian's chromium, chromium-driver and
# python3-selenium (the tests run under /usr/bin/python3, which that package installs into),
# Node and npm, and the npm packages pinned by tests/browser/package-lock.json (axe-core).
# Called by scripts/test.sh; safe to run again. Offline-safe: `npm ci` runs only when
# tests/browser/node_modules was not installed from the current lockfile.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/packages.sh"
ensure_packages chromium chromium-driver python3-selenium
# Node: Debian's nodejs and npm, unless a Node that bundles npm is already installed (NodeSource's
# nodejs package conflicts with Debian's npm).
command -v node > /dev/null || ensure_packages nodejs
command -v npm > /dev/null || ensure_packages npm

dir="$root/tests/browser"
stamp="$dir/node_modules/.tundra-lockfile.sha256"
want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$dir/node_modules/axe-core/axe.min.js" ]; then
  :  # already installed from this lockfile
else
  echo "browser tests: npm ci in tests/browser"
  (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
  echo "$want" > "$stamp"
fi
