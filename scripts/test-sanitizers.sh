#!/usr/bin/env bash
# The whole test suite under AddressSanitizer and UndefinedBehaviorSanitizer, in its own build
# dir (build-asan), with clang (TUNDRA_SAN_CXX=g++ for gcc): any report fails the test it
# happened in. Slow (about 3x the normal suite); CI runs the Release build only.
#   scripts/test-sanitizers.sh [ctest args...]      e.g. -R core_test  or  -j1
#   TUNDRA_SAN_CXX=g++ scripts/test-sanitizers.sh    to pick the compiler
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
packages=(cmake ninja-build ccache pkg-config libsqlite3-dev sqlite3 libcurl4-openssl-dev libboost-dev
          rapidjson-dev libgtest-dev libcli11-dev libssl-dev zlib1g-dev)
if [ -z "${TUNDRA_SAN_CXX:-}" ] || [ "${TUNDRA_SAN_CXX:-}" = clang++ ]; then packages+=(clang); else packages+=(g++); fi
source "$root/scripts/packages.sh"
ensure_packages "${packages[@]}"
build="${TUNDRA_ASAN_BUILD_DIR:-$root/build-asan}"
cxx="${TUNDRA_SAN_CXX:-clang++}"
flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
# RapidJSON 1.1's stacks do pointer arithmetic on null (scripts/ubsan-ignorelist.txt): clang
# skips that check in that header only; gcc has no ignorelist, so it skips it everywhere.
case "$cxx" in
  *clang*) flags+=" -fsanitize-ignorelist=$root/scripts/ubsan-ignorelist.txt" ;;
  *) flags+=" -fno-sanitize=pointer-overflow" ;;
esac
if [ ! -f "$build/build.ninja" ]; then
  echo "configuring $build with $cxx, ASan + UBSan"
  # -Werror: the code is warning-free under clang and gcc alike.
  CXX="$cxx" cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTUNDRA_WERROR=ON \
        -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" > /dev/null
fi
cmake --build "$build" -j "$(nproc)"
# Leaks are reported too; a process killed on purpose (crash tests) cannot leak-check.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cd "$build"
ctest --output-on-failure -j "$(nproc)" --timeout 1200 "$@"
