#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/) with clang, ASan and UBSan in build-fuzz and runs
# each for its share of SECONDS (default 60 in all). Installs clang and libclang-rt-14-dev
# when missing. A crash stops the run: the input is saved as build-fuzz/fuzz-crash-<target>-*
# (see docs/fuzzing.md for reproducing it and for long runs).
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"
shift || true
packages=(clang libclang-rt-14-dev cmake ninja-build libsqlite3-dev libcurl4-openssl-dev libboost-dev
          rapidjson-dev libssl-dev zlib1g-dev libgtest-dev libcli11-dev)
source "$root/scripts/packages.sh"
ensure_packages "${packages[@]}"
build="${TUNDRA_FUZZ_BUILD_DIR:-$root/build-fuzz}"
if [ ! -f "$build/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DTUNDRA_FUZZ=ON > /dev/null
fi
# Only the harnesses and the libraries under them (core, sqlite, server; no Beast, no client).
cmake --build "$build" --target fuzzers -j "$(nproc)"
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(login_request sync_request login_response sync_response import cursor gzip staff_csv)
share=$(( seconds / ${#targets[@]} ))
[ "$share" -lt 1 ] && share=1
echo "fuzzing ${#targets[@]} targets, ${share} s each"
for t in "${targets[@]}"; do
  found="$build/fuzz-corpus/$t"
  mkdir -p "$found"
  log="$build/fuzz-$t.log"
  # A single input running over 10 s is a hang; the RSS limit catches memory bombs.
  set +e
  "$build/fuzz/fuzz_$t" -max_total_time="$share" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$build/fuzz-crash-$t-" "$found" "$root/fuzz/corpus/$t" > "$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  echo "fuzz_$t: ${runs:-?} runs in ${share} s, exit $rc"
  if [ "$rc" -ne 0 ]; then
    tail -n 40 "$log"
    echo "fuzz_$t found a crash: $(ls "$build"/fuzz-crash-"$t"-* 2>/dev/null | head -1)"
    exit 1
  fi
done
echo "fuzzing: no crash in ${seconds} s"
