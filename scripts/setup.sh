#!/usr/bin/env bash
# Installs what Tundra needs from Debian 12 packages (only what is missing) and builds it.
# Sourced by demo.sh and test.sh; safe to run again.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
packages=(g++ cmake ninja-build ccache pkg-config libsqlite3-dev sqlite3 libcurl4-openssl-dev
          libboost-dev rapidjson-dev libgtest-dev libcli11-dev libssl-dev zlib1g-dev
          openssl postgresql-15 libpq-dev)
source "$root/scripts/packages.sh"
ensure_packages "${packages[@]}"
build="${TUNDRA_BUILD_DIR:-$root/build}"
# CI builds what ships (Release) and fails on any warning; a developer's build keeps debug info.
if [ "${CI:-}" = "true" ]; then
  build_type=Release werror=ON
else
  build_type=RelWithDebInfo werror=OFF
fi
cached() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" 2>/dev/null; }
if [ ! -f "$build/build.ninja" ] || [ "$(cached CMAKE_BUILD_TYPE)" != "$build_type" ] ||
   [ "$(cached TUNDRA_WERROR)" != "$werror" ]; then
  echo "configuring $build: $build_type, TUNDRA_WERROR=$werror"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" \
        -DTUNDRA_WERROR="$werror" > /dev/null
fi
cmake --build "$build" -j "$(nproc)"
