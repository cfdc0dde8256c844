#!/usr/bin/env bash
# Installs what Tundra needs from Debian 12 packages (only what is missing) and builds it.
# Sourced by demo.sh and test.sh; safe to run again.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
packages=(g++ cmake ninja-build ccache pkg-config libsqlite3-dev sqlite3 libcurl4-openssl-dev
          libboost-dev rapidjson-dev libgtest-dev libcli11-dev libssl-dev zlib1g-dev
          openssl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq "${missing[@]}" > /dev/null
fi
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
