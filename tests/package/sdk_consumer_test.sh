#!/usr/bin/env bash
# Package.SdkConsumer: `cmake --install` into a temp prefix, then a consumer project
# (tests/package/consumer) configured with find_package(Tundra) against that prefix alone,
# built and run: the installed headers, static libraries and CMake config are enough.
#   sdk_consumer_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build="$1" src="$(cd "$2" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

prefix="$tmp/prefix"
cmake --install "$build" --prefix "$prefix" > "$tmp/install.log" || { cat "$tmp/install.log"; fail "cmake --install"; }

# The layout docs/operations.md promises.
for f in bin/tundra-server bin/tundra bin/tundra-app include/tundra/client/client.h \
         include/tundra/core/status.h share/tundra/data/municipalities.csv \
         etc/default/tundra-server lib/systemd/system/tundra-server.service; do
  [ -e "$prefix/$f" ] || fail "$f is not installed"
done
[ -x "$prefix/bin/tundra-server" ] || fail "bin/tundra-server is not executable"
config="$(find "$prefix" -name TundraConfig.cmake)"
[ -n "$config" ] || fail "no TundraConfig.cmake under $prefix"
[ -f "$(dirname "$config")/TundraConfigVersion.cmake" ] || fail "no TundraConfigVersion.cmake"
# The test-only header stays out of the SDK.
[ ! -e "$prefix/include/tundra/client/test_hooks.h" ] || fail "test_hooks.h is installed"

# The installed server finds its demo data beside it (share/tundra/data).
"$prefix/bin/tundra-server" init --db "$tmp/s.db" > /dev/null || fail "installed tundra-server init"
demo="$(env -u TUNDRA_DATA "$prefix/bin/tundra-server" demo-data --db "$tmp/s.db")" ||
  fail "installed tundra-server demo-data"
case "$demo" in *"$prefix/share/tundra/data"*) ;; *) fail "demo-data did not use the installed data: $demo" ;; esac

# The consumer: only the prefix on the search path.
launcher=()
command -v ccache > /dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$src/tests/package/consumer" -B "$tmp/consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
      -DCMAKE_PREFIX_PATH="$prefix" "${launcher[@]}" > "$tmp/configure.log" 2>&1 ||
  { cat "$tmp/configure.log"; fail "configuring the consumer with find_package(Tundra)"; }
grep -q "Tundra_DIR:PATH=$prefix/" "$tmp/consumer/CMakeCache.txt" ||
  fail "find_package(Tundra) found something other than $prefix: $(grep Tundra_DIR "$tmp/consumer/CMakeCache.txt")"
cmake --build "$tmp/consumer" > "$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; fail "building the consumer"; }
# Nothing of the source tree on the compile line.
[ -f "$tmp/consumer/compile_commands.json" ] || fail "no compile_commands.json"
if grep -qF -e "-I$src" -e "-isystem $src" -e "-I $src" "$tmp/consumer/compile_commands.json"; then
  fail "the consumer compiled against the source tree"
fi

out="$("$tmp/consumer/tundra-consumer" "$tmp/replica.db" 1)" || fail "the consumer failed: $out"
echo "$out"
grep -qx "logged_in=no pending=0" <<< "$out" || fail "unexpected status line"
grep -q "^login: network: " <<< "$out" || fail "login to a closed port should be a network error"
[ "$(stat -c %a "$tmp/replica.db")" = 600 ] || fail "the replica is not 0600"
echo "ok: installed to $prefix, consumer built with find_package(Tundra) and ran"
