#!/usr/bin/env bash
# Package.Deb: the .deb that `cpack -G DEB` makes from this build dir (nothing is rebuilt), its
# control data and file list; then a real `dpkg -i` on this machine: the user tundra, the state
# folder and store (0700 / 0600, owned by tundra), the unit checked by `systemd-analyze verify`
# against the installed files, the installed server serving its store as user tundra, a
# reinstall (upgrade path: the store is kept), `dpkg -r` (store, user and config kept) and
# `dpkg --purge` (all gone).
#
# It changes the machine (a package, a system user), so it runs only as root, which CI is on a
# throwaway machine: not root, it is skipped (exit 77), except under CI=true, where it fails.
# It refuses to touch a machine that already has a Tundra installation (package, user or
# /var/lib/tundra).
#   deb_test.sh BUILD_DIR
set -euo pipefail
build="$(cd "$1" && pwd)"
fail() { echo "FAIL: $*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
  [ "${CI:-}" = "true" ] && fail "CI runs this test as root"
  echo "skipped: dpkg -i needs root (CI runs this test as root on a throwaway machine)"
  exit 77
fi
for tool in cpack dpkg dpkg-deb dpkg-shlibdeps systemd-analyze adduser runuser setpriv sqlite3; do
  command -v "$tool" > /dev/null || fail "$tool is missing (scripts/test.sh installs dpkg-dev and systemd)"
done
if dpkg-query -W -f='${Status}' tundra 2> /dev/null | grep -q installed; then
  fail "the package tundra is already installed here: this test would replace and purge it"
fi
getent passwd tundra > /dev/null && fail "a user tundra exists here: this test would delete it"
[ -e /var/lib/tundra ] && fail "/var/lib/tundra exists here: this test would delete it"

tmp="$(mktemp -d)"
installed=0
cleanup() {
  if [ "$installed" = 1 ]; then dpkg --purge tundra > /dev/null 2>&1 || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# The package, from the programs already built here.
(cd "$build" && cpack -G DEB -B "$tmp" > "$tmp/cpack.log" 2>&1) || { cat "$tmp/cpack.log"; fail "cpack -G DEB"; }
deb="$(ls "$tmp"/tundra_*.deb)"
echo "built $(basename "$deb") ($(du -h "$deb" | cut -f1))"

# Control data: Depends computed by dpkg-shlibdeps, plus adduser; the maintainer scripts and
# the conffile.
depends="$(dpkg-deb -f "$deb" Depends)"
echo "Depends: $depends"
for dep in adduser libc6 libcurl4 libsqlite3-0 libssl3 zlib1g; do
  grep -q "\b$dep\b" <<< "$depends" || fail "Depends lacks $dep"
done
dpkg-deb -e "$deb" "$tmp/control"
for f in postinst prerm postrm conffiles; do [ -f "$tmp/control/$f" ] || fail "no $f in the package"; done
grep -qx /etc/default/tundra-server "$tmp/control/conffiles" || fail "/etc/default/tundra-server is not a conffile"
dpkg-deb -c "$deb" > "$tmp/files"
for f in ./usr/bin/tundra-server ./usr/bin/tundra ./usr/bin/tundra-app ./lib/systemd/system/tundra-server.service \
         ./etc/default/tundra-server ./usr/include/tundra/client/client.h ./usr/share/tundra/data/municipalities.csv; do
  grep -q " $f\$" "$tmp/files" || fail "$f is not in the package"
done

# Install.
installed=1
dpkg -i "$deb" > "$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log"; fail "dpkg -i"; }
dpkg-query -W -f='${Status}\n' tundra | grep -qx "install ok installed" || fail "not installed"

user="$(getent passwd tundra)" || fail "postinst made no user tundra"
uid="$(cut -d: -f3 <<< "$user")"
[ "$uid" -lt 1000 ] || fail "tundra is not a system user (uid $uid)"
case "$(cut -d: -f7 <<< "$user")" in */nologin | */false) ;; *) fail "tundra has a login shell: $user" ;; esac
getent group tundra > /dev/null || fail "no group tundra"
[ "$(stat -c '%U:%G %a' /var/lib/tundra)" = "tundra:tundra 700" ] ||
  fail "/var/lib/tundra is $(stat -c '%U:%G %a' /var/lib/tundra), not tundra:tundra 700"
[ "$(stat -c '%U:%G %a' /var/lib/tundra/tundra.db)" = "tundra:tundra 600" ] ||
  fail "the store is $(stat -c '%U:%G %a' /var/lib/tundra/tundra.db), not tundra:tundra 600"
[ "$(stat -c '%a' /etc/default/tundra-server)" = 644 ] || fail "/etc/default/tundra-server mode"

/usr/bin/tundra-server --help > "$tmp/help" || fail "/usr/bin/tundra-server --help"
grep -q "serve" "$tmp/help" || fail "tundra-server --help does not list serve"
/usr/bin/tundra --help > /dev/null || fail "/usr/bin/tundra --help"

# The unit against the installed tree (ExecStart's binary, User=, EnvironmentFile=).
unit=/lib/systemd/system/tundra-server.service
systemd-analyze verify "$unit" > "$tmp/verify" 2>&1 || { cat "$tmp/verify"; fail "systemd-analyze verify"; }
if [ -s "$tmp/verify" ]; then cat "$tmp/verify"; fail "systemd-analyze verify warned"; fi
for line in User=tundra StateDirectory=tundra UMask=0077 LimitNOFILE=65536 NoNewPrivileges=yes \
            ProtectSystem=strict ProtectHome=yes PrivateTmp=yes ReadWritePaths=/var/lib/tundra \
            EnvironmentFile=-/etc/default/tundra-server Restart=on-failure; do
  grep -qx "$line" "$unit" || fail "the unit lacks $line"
done

# The installed server on the installed store, as the service runs it: user tundra, the
# ExecStartPre (init: migrates, idempotent), then serve with the default file's address.
runuser -u tundra -- /usr/bin/tundra-server init --db /var/lib/tundra/tundra.db > /dev/null ||
  fail "tundra-server init (ExecStartPre) as tundra"
runuser -u tundra -- /usr/bin/tundra-server add-user --db /var/lib/tundra/tundra.db boss --role admin \
  --password-stdin <<< "a-long-password" > /dev/null || fail "add-user as tundra"
mkfifo "$tmp/out"
# setpriv execs the server itself (no parent in between), so that $! is the server.
setpriv --reuid tundra --regid tundra --init-groups --inh-caps=-all \
  /usr/bin/tundra-server serve --db /var/lib/tundra/tundra.db --listen 127.0.0.1:0 --quiet \
  > "$tmp/out" 2> "$tmp/serve.err" &
serve_pid=$!
read -r -t 20 first < "$tmp/out" || { cat "$tmp/serve.err"; fail "the installed server did not start"; }
kill "$serve_pid"; wait "$serve_pid" || true
grep -q "^listening on http://127.0.0.1:" <<< "$first" || fail "unexpected: $first"
[ "$(stat -c '%U %a' /var/lib/tundra/tundra.db)" = "tundra 600" ] || fail "serving changed the store's owner or mode"

# Reinstall (what an upgrade does): the store and its users are kept.
dpkg -i "$deb" > "$tmp/dpkg2.log" 2>&1 || { cat "$tmp/dpkg2.log"; fail "dpkg -i again"; }
runuser -u tundra -- sqlite3 /var/lib/tundra/tundra.db "SELECT username FROM users" | grep -qx boss || fail "the reinstall lost the store"

# Remove: programs gone; store, user and config kept.
dpkg -r tundra > "$tmp/remove.log" 2>&1 || { cat "$tmp/remove.log"; fail "dpkg -r"; }
[ ! -e /usr/bin/tundra-server ] || fail "dpkg -r left /usr/bin/tundra-server"
[ -f /var/lib/tundra/tundra.db ] || fail "dpkg -r deleted the store"
getent passwd tundra > /dev/null || fail "dpkg -r deleted the user"
[ -f /etc/default/tundra-server ] || fail "dpkg -r deleted the conffile"

# Purge: all gone.
dpkg --purge tundra > "$tmp/purge.log" 2>&1 || { cat "$tmp/purge.log"; fail "dpkg --purge"; }
installed=0
[ ! -e /var/lib/tundra ] || fail "purge left /var/lib/tundra"
! getent passwd tundra > /dev/null || fail "purge left the user tundra"
! getent group tundra > /dev/null || fail "purge left the group tundra"
[ ! -e /etc/default/tundra-server ] || fail "purge left /etc/default/tundra-server"
[ ! -e "$unit" ] || fail "purge left the unit"
echo "ok: built, installed, checked, removed and purged $(basename "$deb")"
