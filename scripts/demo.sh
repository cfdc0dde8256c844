#!/usr/bin/env bash
# The main job on the embedded default (SQLite): build, start a server on a SQLite file with
# realistic demo data, and play a short offline scenario you can follow.
#   bash scripts/demo.sh          the scenario from the command line, then stop
#   bash scripts/demo.sh --app    the server and the tablet app with the demo data, up until
#                                 Ctrl-C: open the printed URL and sign in as each role
#   bash scripts/demo.sh --console  the server with the demo data and its project console, up
#                                 until Ctrl-C: open the printed URL and sign in as admin
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
app=false
console=false
for arg in "$@"; do
  case "$arg" in
    --app) app=true ;;
    --console) console=true ;;
    *) echo "usage: bash scripts/demo.sh [--app | --console]" >&2; exit 2 ;;
  esac
done
bash "$root/scripts/setup.sh"
build="${TUNDRA_BUILD_DIR:-$root/build}"
server="$build/apps/tundra-server"
tundra="$build/apps/tundra"
work="${TUNDRA_DEMO_DIR:-$root/var/demo}"
rm -rf "$work" && mkdir -p "$work" && cd "$work"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "A server on a SQLite file with demo data from data/"
run "$server" init --db server.db
run "$server" demo-data --db server.db --data "$root/data"
echo "(a project year: participations, sessions held and cancelled, attendance marks,"
echo " attested minutes, survey answers and deviations over the past twelve months)"

say "The project reports to the ESF monthly: three past months are sealed"
# Months in Swedish time, counted back from this one (the 15th keeps `date` off month ends).
month() { TZ=Europe/Stockholm date -d "$(TZ=Europe/Stockholm date +%Y-%m-15) -$1 month" +%Y-%m; }
for back in 4 3 2; do run "$server" report seal --db server.db --month "$(month $back)"; done
sealed=$(month 2)
echo "A sealed month reports as of its seal; later facts come as corrections the month after."

say "The participant ledger for $sealed (admins only; CSV as Swedish Excel opens it)"
printf '$ %s\n' "$server report ledger --db server.db --month $sealed --format csv | head -4"
"$server" report ledger --db server.db --month "$sealed" --format csv > ledger.csv
head -4 ledger.csv
echo "... $(($(wc -l < ledger.csv) - 1)) participants in $sealed; by gender:"
# The CSV has a BOM, ';' between fields and CRLF line ends; columns are found by their header.
sed '1s/^\xEF\xBB\xBF//' ledger.csv | tr -d '\r' |
  awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
             { n[$col["gender"]]++; minutes += $col["attended_minutes"] }
             END { for (g in n) printf "  %-12s %5d\n", g, n[g]; printf "  attended: %d hours\n", minutes / 60 }'

say "Participants and hours by gender, $sealed, all municipalities (cells of 1-4 people: ..)"
printf '$ %s\n' "$server report participants --db server.db --month $sealed --format csv"
"$server" report participants --db server.db --month "$sealed" --format csv > participants.csv
# Rows for every organisation x theme x gender x age band; the margins are called "all".
sed '1s/^\xEF\xBB\xBF//' participants.csv | tr -d '\r' |
  awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; print "  gender;participants;attendees;hours"; next }
             $col["organisation"] == "all" && $col["theme"] == "all" && $col["age_band"] == "all" {
               print "  " $col["gender"] ";" $col["participants"] ";" $col["attendees"] ";" $col["hours"] }'
echo "(docs/reports.md: every report, its columns and how each figure is computed)"
"$server" serve --db server.db --listen "${TUNDRA_SERVER_LISTEN:-127.0.0.1:0}" --quiet > server.out 2> server.log &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
# Wait for the "listening on" line however long the start takes, unless the server died.
until grep -q listening server.out 2>/dev/null; do
  kill -0 $pid 2>/dev/null || { echo "the server did not start:"; cat server.log; exit 1; }
  sleep 0.1
done
url=$(sed -n 's/^listening on //p' server.out)
echo "server: $url"

if $console; then
  say "The project console, served by the sync server itself"
  cat <<EOT

Open $url/console/ in a browser (Swedish first; English in the header's language menu).
  admin           / tundra-admin  admin: catalogue, people, users, devices, import, reports
  coord.arjeplog  / tundra-demo   coordinator: the rosters, people and reports of their sites
Press Ctrl-C to stop.
EOT
  wait $pid
  exit 0
fi

if $app; then
  say "The tablet app: a local web app over each person's replica (works offline)"
  "$build/apps/tundra-app" --data-dir "$work/tablet" --server "$url" --listen "${TUNDRA_APP_LISTEN:-127.0.0.1:0}" \
      --quiet > app.out 2> app.log &
  app_pid=$!
  trap 'kill -TERM $app_pid $pid 2>/dev/null; wait $app_pid $pid 2>/dev/null || true' EXIT
  until grep -q listening app.out 2>/dev/null; do
    kill -0 $app_pid 2>/dev/null || { echo "the app did not start:"; cat app.log; exit 1; }
    sleep 0.1
  done
  app_url=$(sed -n 's/^listening on //p' app.out)
  cat <<EOT

Open $app_url in a browser on this machine (Swedish first; English under Inställningar).
Sign in once per person with the server (then a PIN of your own unlocks offline):
  anna            / tundra-demo   participant, home care in Arjeplog
  maria           / tundra-demo   participant
  coord.arjeplog  / tundra-demo   coordinator of three Arjeplog sites
  coord.pajala    / tundra-demo   coordinator of two Pajala sites
(admin / tundra-admin is refused here: admins use the console, $url/console/.)
To see the app offline, stop the server: kill $pid  (the app keeps working; syncs wait).
Press Ctrl-C to stop.
EOT
  wait $app_pid
  exit 0
fi

say "Three tablets log in and sync once while the link is up"
echo tundra-demo | run "$tundra" --replica anna.db login --server "$url" --username anna --password-stdin
echo tundra-demo | run "$tundra" --replica maria.db login --server "$url" --username maria --password-stdin
echo tundra-demo | run "$tundra" --replica coord.db login --server "$url" --username coord.arjeplog --password-stdin
for r in anna maria coord; do "$tundra" --replica $r.db sync > /dev/null; done
echo "(each replica now holds the catalogue and what its user may see)"

say "The link goes down. Anna (home care, Arjeplog) browses and enrols — offline"
printf '$ %s\n' "$tundra --replica anna.db courses   # the catalogue, past sessions included; here one course"
"$tundra" --replica anna.db courses | grep -E '^Systematiskt|^ +o-sam-'
run "$tundra" --replica anna.db enrol o-sam-1
run "$tundra" --replica anna.db enrolments | grep -E '^[$]|o-sam-1'   # her past year is listed too

say "A minute later Maria enrols in the same occasion, which has one seat"
sleep 1
run "$tundra" --replica maria.db enrol o-sam-1

say "The coordinator marks yesterday's session, also offline"
run "$tundra" --replica coord.db attendance mark o-threats-0 p-arjeplog-hemtjanst-1 present --minutes 175
run "$tundra" --replica coord.db attendance mark o-threats-0 p-arjeplog-hemtjanst-2 left_early --minutes 90
run "$tundra" --replica coord.db attendance list o-threats-0
run "$tundra" --replica coord.db status

say "Maria's tablet finds a link first: she gets the last seat"
run "$tundra" --replica maria.db sync

say "Then Anna's tablet syncs. Anna acted first, and enrolment is still open: the seat is hers"
run "$tundra" --replica anna.db sync
run "$tundra" --replica anna.db enrolments | grep -E '^[$]|o-sam-1'

say "Maria syncs again and sees the server's decision, with its reason"
run "$tundra" --replica maria.db sync
run "$tundra" --replica maria.db enrolments | grep -E '^[$]|o-sam-1'

say "The coordinator syncs: attendance recorded, everyone's replica agrees"
run "$tundra" --replica coord.db sync
run "$tundra" --replica coord.db attendance list o-threats-0
run "$tundra" --replica coord.db status --json
echo
echo "Replicas and the server store are in $work; the server stops now."
