#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds once, runs ctest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
# The report tests read our CSV back with Python's csv module and LibreOffice (headless).
source "$root/scripts/packages.sh"
ensure_packages python3 libreoffice-calc-nogui
# The packaging tests (tests/package/): dpkg-shlibdeps for the .deb's Depends, systemd-analyze.
ensure_packages dpkg-dev systemd
# The metrics test checks the /metrics scrape with Prometheus's promtool.
ensure_packages prometheus
# The real-browser tests (tests/browser): Chromium, chromedriver, Selenium, axe-core.
bash "$root/scripts/browser-setup.sh"
build="${TUNDRA_BUILD_DIR:-$root/build}"
cd "$build"
ctest --output-on-failure -j "$(nproc)" --timeout 600
