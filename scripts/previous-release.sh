#!/usr/bin/env bash
# Builds the previous release's `tundra` CLI and `tundra-server` from this repository's git
# history, for the upgrade tests (tests/upgrade/, docs/operations.md#install-and-upgrade), and
# prints the folder that holds them (the last line of stdout).
#
#   scripts/previous-release.sh [COMMIT]      (default: the previous release, below)
#
# The binaries are cached per commit under $TUNDRA_PREVIOUS_CACHE (default
# ~/.cache/tundra-previous/<commit>/bin), so a machine builds them once; later runs print the
# folder at once. The build uses ccache when it is installed. Without the commit in the history
# (a shallow clone: `git fetch --unshallow`) or without the build tools, it fails with a message
# on stderr and exit status 1: the upgrade tests then fail, they never pass silently.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The previous release: v0.11, what landed at the end of issue 11.
previous=ac8172de0517197edd5351c1653fffc121f064b8
commit="${1:-$previous}"

fail() { echo "previous-release.sh: $*" >&2; exit 1; }

command -v git > /dev/null || fail "git is not installed"
full="$(git -C "$root" rev-parse --verify --quiet "$commit^{commit}" 2> /dev/null)" ||
  fail "commit $commit (the previous release) is not in the git history of $root; a shallow clone needs 'git fetch --unshallow'"

cache="${TUNDRA_PREVIOUS_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/tundra-previous}/$full"
bin="$cache/bin"
mkdir -p "$cache" || fail "cannot create $cache"

# One build at a time per commit (ctest runs tests in parallel).
exec 9> "$cache/.lock"
flock 9

if [ -x "$bin/tundra" ] && [ -x "$bin/tundra-server" ] && [ -f "$bin/.complete" ]; then
  echo "$bin"
  exit 0
fi

for tool in cmake ninja g++; do
  command -v "$tool" > /dev/null || fail "$tool is not installed (scripts/setup.sh installs it)"
done

# The sources at that commit (git archive: no worktree bookkeeping left behind), built in
# Release like CI, only the two programs. The source folder stays: the old tundra-server's
# default demo-data folder is compiled in as <src>/data.
src="$cache/src"
rm -rf "$src" "$bin"
mkdir -p "$src"
git -C "$root" archive "$full" | tar -x -C "$src" || fail "git archive $full failed"
echo "building the previous release ($full) in $src/build (once per machine)" >&2
export CCACHE_BASEDIR="$src"
if ! cmake -S "$src" -B "$src/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTUNDRA_BUILD_TESTS=OFF \
       -DTUNDRA_WERROR=OFF > "$cache/build.log" 2>&1 ||
   ! nice cmake --build "$src/build" --target tundra tundra-server >> "$cache/build.log" 2>&1; then
  tail -n 30 "$cache/build.log" >&2
  fail "building the previous release failed; the log is $cache/build.log"
fi
mkdir -p "$bin"
cp "$src/build/apps/tundra" "$src/build/apps/tundra-server" "$bin/"
rm -rf "$src/build"
echo "$full" > "$bin/.complete"
echo "$bin"
