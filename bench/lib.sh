# Shared helpers for the benchmark scripts (bench/proxy.sh, bench/runtimes.sh, bench/routes.sh).
# Sourced, not run.
#
# The caller sets, before sourcing: DURATION (seconds per measured run), RUN_TIMEOUT (hard cap on
# one load-generator run, seconds), H1_CONNS (wrk -c), H2_CONNS (h2load -c), H2_STREAMS (h2load -m).
# Sourcing changes into the repository root, makes the temp dir $TMP, and installs the EXIT/INT/TERM
# traps that kill every PID in PIDS and remove $TMP (kept with BENCH_KEEP=1 or on failure).
# After sourcing, call ensure_tools and setup_pinning; start_upstream starts the nginx upstream
# (fixed 100-byte $BODY on every path, and the 64 KiB file $BIG_BODY_FILE on /big) and sets UP_H1,
# UP_H2, UP_STATUS, UP_PID and UPSTREAM_KIND. target_command names the command line of Sluice on
# each runtime (node, bun, deno, binary); start_gateway starts a process under test.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# Every process a benchmark starts (contenders, peers, upstream) runs with glibc keeping up to
# 32 MiB of freed heap instead of handing it back at once, as `npm start` runs Sluice: without it
# a Node process answering 64 KiB bodies may take ~13 page faults per request (docs/performance.md).
export GLIBC_TUNABLES=${GLIBC_TUNABLES:-glibc.malloc.trim_threshold=33554432:glibc.malloc.mmap_threshold=4194304}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench.XXXXXX")
PIDS=()

log() { printf '[bench] %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# ---------------------------------------------------------------------------------------------
# Clean-up: kill exactly the processes we started (by PID), then drop the temp dir.
# ---------------------------------------------------------------------------------------------
cleanup() {
  local status=$? pid
  trap - EXIT
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  # Give them a moment to exit (nginx master takes its worker down; Sluice drains), then insist.
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    local alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [[ $alive == 0 ]] && break
    sleep 0.3
  done
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  if [[ ${BENCH_KEEP:-0} == 1 || $status != 0 ]]; then
    log "raw output and configs kept in $TMP"
  else
    rm -rf "$TMP"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Tools: install only what is missing. nginx is optional (Node fallback upstream, no peer).
# ---------------------------------------------------------------------------------------------
APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null || return 1
  # A fresh machine's package lists can be empty or stale: update once, only if needed.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2 && return 0
  [[ $APT_UPDATED == 1 ]] && return 1
  APT_UPDATED=1
  apt-get update -q >&2 || return 1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2
}

ensure_tools() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v h2load >/dev/null || missing+=(nghttp2-client)
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt_install "${missing[@]}" || log "warning: could not install ${missing[*]}"
  fi
  if ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
    log "installing nginx"
    apt_install nginx-light || apt_install nginx || log "warning: could not install nginx"
  fi
  command -v wrk >/dev/null || die "wrk is required"
  command -v curl >/dev/null || die "curl is required (sanity checks and nginx stub_status)"
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
  [[ -x $NGINX ]] || NGINX=""
  # BENCH_NO_NGINX=1 exercises the fallback path (node:http upstream, no peer) on purpose.
  [[ ${BENCH_NO_NGINX:-0} == 1 ]] && NGINX=""
  HAVE_H2LOAD=0
  command -v h2load >/dev/null && HAVE_H2LOAD=1
  if [[ $HAVE_H2LOAD == 0 ]]; then log "warning: no h2load: h2c is not measured"; fi
  # The Debian package may start its own nginx on :80; it is not ours and we never touch it.
}

# CPU pinning: the proxy under test gets CPU 0 to itself; load generator and upstream share CPU 1.
setup_pinning() {
  PIN_PROXY=()
  PIN_LOAD=()
  PINNING="none"
  if command -v taskset >/dev/null && (($(nproc) >= 2)); then
    PIN_PROXY=(taskset -c 0)
    PIN_LOAD=(taskset -c 1)
    PINNING="proxy under test on CPU 0; load generator and upstream on CPU 1"
  fi
}

# A free TCP port on 127.0.0.1 (the kernel picks it; a tiny race before we bind it is acceptable).
free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Waits until URL answers anything over HTTP/1.1 (or PID dies), at most ~10 s.
wait_http() {
  local url=$1 pid=$2
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 1
    curl -s -o /dev/null --max-time 1 "$url" && return 0
    sleep 0.1
  done
  return 1
}

# The upstream's fixed body: exactly 100 bytes of text, the same for every request.
BODY="sluice-bench upstream body: 100 bytes of fixed text so every request moves the same payload.--------"
[[ ${#BODY} == 100 ]] || die "BODY must be 100 bytes (is ${#BODY})"
BODY_FILE=$TMP/body-100b
printf '%s' "$BODY" >"$BODY_FILE"

# The large body, on the upstream's /big only: 64 KiB (1024 numbered lines of 64 bytes), a static
# file the upstream serves as it is.
BIG_PATH=/big
BIG_BODY_FILE=$TMP/body-64k
awk 'BEGIN { for (i = 1; i <= 1024; i++) printf "%-63s\n", sprintf("sluice-bench 64 KiB upstream body, line %04d of 1024", i) }' >"$BIG_BODY_FILE"
[[ $(stat -c %s "$BIG_BODY_FILE") == 65536 ]] || die "the 64 KiB body is $(stat -c %s "$BIG_BODY_FILE") bytes"
# nginx started as root runs its worker as nobody: let it reach the file (traverse $TMP, no listing).
chmod o+x "$TMP"
chmod o+r "$BIG_BODY_FILE"

# ---------------------------------------------------------------------------------------------
# Upstream: nginx `return 200` (h1 port, h2c port, stub_status port), or a node:http fallback.
# ---------------------------------------------------------------------------------------------
start_upstream() {
  UP_H1=$(free_port)
  UP_H2=""
  UP_STATUS=""
  if [[ -n $NGINX ]]; then
    UP_H2=$(free_port)
    UP_STATUS=$(free_port)
    mkdir -p "$TMP/upstream"
    cat >"$TMP/upstream/nginx.conf" <<EOF
# Upstream for the benchmark: a fixed 100-byte answer, as cheap as nginx can make it.
worker_processes 1;
daemon off;
pid $TMP/upstream/nginx.pid;
error_log $TMP/upstream/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $TMP/upstream/body;
  proxy_temp_path $TMP/upstream/proxy;
  default_type text/plain;
  # Never close a kept-alive client (the proxies' pools) during a run.
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  # The 64 KiB file: sent with sendfile over HTTP/1.1, its descriptor kept open between requests.
  sendfile on;
  open_file_cache max=16 inactive=600s;
  open_file_cache_valid 600s;
  server {
    listen 127.0.0.1:$UP_H1;
    listen 127.0.0.1:$UP_H2 http2;   # h2c prior knowledge, for the direct h2c ceiling
    location / { return 200 "$BODY"; }
    location = $BIG_PATH { alias $BIG_BODY_FILE; }
    # Sanity checks only (never under load): which credentials reached the upstream.
    location = /__bench_auth { return 200 "x-api-key=[\$http_x_api_key] authorization=[\$http_authorization]"; }
  }
  # stub_status counts accepted connections: how many upstream connections each proxy opened.
  server {
    listen 127.0.0.1:$UP_STATUS;
    location / { stub_status; }
  }
}
EOF
    "${PIN_LOAD[@]}" "$NGINX" -e "$TMP/upstream/error.log" -p "$TMP/upstream" -c "$TMP/upstream/nginx.conf" \
      >"$TMP/upstream/stdout.log" 2>&1 &
    UP_PID=$!
    PIDS+=("$UP_PID")
    UPSTREAM_KIND="nginx $("$NGINX" -v 2>&1 | sed 's|.*nginx/||')"
  else
    log "WARNING: nginx is not available: upstream is a node:http server, no nginx peer is measured"
    cat >"$TMP/upstream.mjs" <<'EOF'
// Fallback upstream when nginx cannot be installed: fixed 100-byte answer over HTTP/1.1, and the
// 64 KiB file on its path.
import http from 'node:http'
import { readFileSync } from 'node:fs'
const [port, body, bigPath, bigFile] = process.argv.slice(2)
const big = readFileSync(bigFile)
const server = http.createServer((req, res) => {
  // Sanity checks only: which credentials reached the upstream (as the nginx upstream does).
  const text = req.url === '/__bench_auth'
    ? `x-api-key=[${req.headers['x-api-key'] ?? ''}] authorization=[${req.headers.authorization ?? ''}]`
    : req.url === bigPath ? big : body
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) })
  res.end(text)
})
server.keepAliveTimeout = 120_000
server.listen(Number(port), '127.0.0.1')
EOF
    "${PIN_LOAD[@]}" node "$TMP/upstream.mjs" "$UP_H1" "$BODY" "$BIG_PATH" "$BIG_BODY_FILE" >"$TMP/upstream.log" 2>&1 &
    UP_PID=$!
    PIDS+=("$UP_PID")
    UPSTREAM_KIND="node:http fallback (nginx could not be installed)"
  fi
  wait_http "http://127.0.0.1:$UP_H1/" "$UP_PID" || die "upstream did not start (see $TMP)"
  log "upstream: $UPSTREAM_KIND on 127.0.0.1:$UP_H1${UP_H2:+ (h2c :$UP_H2)}"
}

# ---------------------------------------------------------------------------------------------
# Sluice on each runtime, through its real executable (no npx, no wrapper scripts), so the PID we
# hold is the gateway's. target_command TARGET CONFIG sets CMD.
# ---------------------------------------------------------------------------------------------
export DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
BUN=node_modules/bun/bin/bun.exe
DENO=node_modules/deno/deno
NODE=$(command -v node)
target_command() {
  local target=$1 conf=$2
  case $target in
    node) CMD=("$NODE" dist/src/cli.js run --config "$conf") ;;
    bun) CMD=("$BUN" src/cli.ts run --config "$conf") ;;
    deno) CMD=("$DENO" run -A --config deno.json src/cli.ts run --config "$conf") ;;
    binary) CMD=(dist/sluice run --config "$conf") ;;
    *) die "unknown target $target (known: node bun deno binary)" ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# A process under test: start_gateway NAME LOGFILE CMD... runs CMD pinned like the proxy under
# test (stdout to /dev/null: it carries Sluice's access log), stderr to LOGFILE, and waits until
# LOGFILE shows "listening on http://127.0.0.1:PORT" (at most ~30 s). Sets STARTED_PORT,
# STARTED_PID and STARTED_MS (spawn to that line, ms; resolution ~0.1 s). The PID is added to PIDS.
# ---------------------------------------------------------------------------------------------
start_gateway() {
  local name=$1 logfile=$2 t0 t1
  shift 2
  t0=${EPOCHREALTIME//[.,]/}
  "${PIN_PROXY[@]}" "$@" >/dev/null 2>"$logfile" &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
  STARTED_PORT=""
  for _ in $(seq 1 300); do
    kill -0 "$STARTED_PID" 2>/dev/null || break
    STARTED_PORT=$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*' "$logfile" | head -1 | sed 's/.*://' || true)
    [[ -n $STARTED_PORT ]] && break
    sleep 0.1
  done
  [[ -n $STARTED_PORT ]] || {
    cat "$logfile" >&2
    die "$name did not start: $*"
  }
  t1=${EPOCHREALTIME//[.,]/}
  STARTED_MS=$(((t1 - t0) / 1000))
  log "$name on 127.0.0.1:$STARTED_PORT (pid $STARTED_PID)"
}

# A /proc/PID/status field (kB) in MiB, e.g. vm_mib PID VmRSS.
vm_mib() {
  awk -v f="$2:" '$1 == f { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || true
}

# Connections the upstream has accepted so far (nginx only; "" otherwise).
upstream_accepts() {
  [[ -n $UP_STATUS ]] || return 0
  curl -s --max-time 2 "http://127.0.0.1:$UP_STATUS/" | awk 'NR==3 {print $1}'
}


# ---------------------------------------------------------------------------------------------
# Load runs. Each writes the tool's raw output to a file and prints "rps latency errors".
# ---------------------------------------------------------------------------------------------

# wrk's latency ("850.00us", "1.23ms", "1.20s") in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000
    printf "%.2f", n
  }'
}

run_wrk() {
  local url=$1 seconds=$2 out=$3
  timeout "$RUN_TIMEOUT" "${PIN_LOAD[@]}" wrk -t1 -c"$H1_CONNS" -d"${seconds}s" --latency "$url" >"$out" 2>&1 || true
}

run_h2load() {
  local url=$1 seconds=$2 out=$3
  timeout "$RUN_TIMEOUT" "${PIN_LOAD[@]}" h2load -c"$H2_CONNS" -m"$H2_STREAMS" -D"$seconds" "$url" >"$out" 2>&1 || true
}

# One load run: load_url PROTO(h1|h2c) URL SECONDS OUT; prints "error_count rps latency errors_text"
# (tab-separated; the text, possibly empty, last, since read collapses empty tab-separated fields).
load_url() {
  local proto=$1 url=$2 seconds=$3 out=$4 parsed
  if [[ $proto == h1 ]]; then
    run_wrk "$url" "$seconds" "$out"
    parsed=$(parse_wrk "$out")
  else
    run_h2load "$url" "$seconds" "$out"
    parsed=$(parse_h2load "$out")
    # h2load falls back to nothing else over http://, but make sure it really spoke h2c.
    grep -q '^Application protocol: h2c' "$out" || parsed+="h2load did not negotiate h2c; "
  fi
  printf '%s\t%s\n' "$(count_errors "$proto" "$out")" "$parsed"
}

# CPU time (utime + stime, clock ticks) a process has used so far: read around a load run, it gives
# the process's CPU time per request, which moves less than req/s on a shared machine.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo ""; }

# Requests a load run completed, from its output file: wrk's "N requests in", h2load's "N done".
requests_done() {
  if [[ $1 == h1 ]]; then
    awk '/requests in/ {print $1}' "$2"
  else
    sed -n 's/^requests:.* \([0-9]*\) done.*/\1/p' "$2"
  fi
}

# Microseconds of CPU per request from a tick delta and a request count ("-" when unknown).
cpu_per_request() {
  awk -v d="$1" -v n="$2" -v t="$(getconf CLK_TCK)" 'BEGIN { if (d != "" && n + 0 > 0) printf "%.1f", d * 1e6 / t / n; else print "-" }'
}

# One of wrk's --latency percentiles ("50%", "99%") from its output file, in ms; "-" when absent.
wrk_percentile() {
  local v
  v=$(awk -v p="$2" '$1 == p {print $2}' "$1")
  if [[ -n $v ]]; then to_ms "$v"; else echo -; fi
}

# Prints "rps p99_ms errors_text" from a wrk output file.
parse_wrk() {
  local f=$1 rps p99 non2xx sock total
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$f")
  p99=$(awk '$1 == "99%" {print $2}' "$f")
  total=$(awk '/requests in/ {print $1}' "$f")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$f")
  sock=$(grep -o 'Socket errors:.*' "$f" | sed 's/Socket errors: //' || true)
  local errors=""
  [[ -n $non2xx ]] && errors+="non-2xx/3xx: $non2xx of ${total:-?}; "
  [[ -n $sock ]] && errors+="socket errors: $sock; "
  [[ -z $rps ]] && errors+="wrk printed no result (see raw output); "
  # A run in which nothing was answered is not slow, it is stuck: wrk counts no error for requests
  # still waiting when it stops, so say it here.
  [[ -n $total && $total == 0 ]] && errors+="no response in the whole run (connections stuck or refused); "
  printf '%s\t%s\t%s\n' "${rps:-0}" "$( [[ -n $p99 ]] && to_ms "$p99" || echo -)" "$errors"
}

# Prints "rps mean±sd errors_text" from an h2load output file (h2load has no percentiles).
parse_h2load() {
  local f=$1 rps lat reqline codes
  rps=$(awk '/^finished in/ {print $4}' "$f")
  lat=$(awk '/^time for request:/ {print $6 " ± " $7}' "$f")
  reqline=$(grep '^requests:' "$f" || true)
  codes=$(grep '^status codes:' "$f" || true)
  local errors="" failed errored timeouts n3 n4 n5 succeeded
  failed=$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$reqline")
  errored=$(sed -n 's/.* \([0-9]*\) errored.*/\1/p' <<<"$reqline")
  timeouts=$(sed -n 's/.* \([0-9]*\) timeout.*/\1/p' <<<"$reqline")
  n3=$(sed -n 's/.* \([0-9]*\) 3xx.*/\1/p' <<<"$codes")
  n4=$(sed -n 's/.* \([0-9]*\) 4xx.*/\1/p' <<<"$codes")
  n5=$(sed -n 's/.* \([0-9]*\) 5xx.*/\1/p' <<<"$codes")
  if [[ ${failed:-0} != 0 || ${errored:-0} != 0 || ${timeouts:-0} != 0 ]]; then
    errors+="${reqline#requests: }; "
  fi
  if [[ ${n3:-0} != 0 || ${n4:-0} != 0 || ${n5:-0} != 0 ]]; then errors+="${codes}; "; fi
  [[ -z $rps ]] && errors+="h2load printed no result (see raw output); "
  succeeded=$(sed -n 's/.* \([0-9]*\) succeeded.*/\1/p' <<<"$reqline")
  [[ -n $reqline && ${succeeded:-0} == 0 ]] && errors+="no successful response in the whole run; "
  printf '%s\t%s\t%s\n' "${rps:-0}" "${lat:--}" "$errors"
}

# Failed requests in one load run, as a number: wrk's non-2xx/3xx plus socket errors; h2load's
# failed requests (which include errored and timed-out ones and 4xx/5xx) plus 3xx.
count_errors() {
  local proto=$1 f=$2
  if [[ $proto == h1 ]]; then
    awk '/Non-2xx or 3xx responses:/ { n += $NF }
         /Socket errors:/ { gsub(/,/, ""); for (i = 3; i <= NF; i += 2) n += $(i + 1) }
         END { print n + 0 }' "$f"
  else
    awk '/^requests:/ { for (i = 1; i <= NF; i++) if ($i == "failed" || $i == "failed,") n += $(i - 1) }
         /^status codes:/ { for (i = 1; i <= NF; i++) if ($i == "3xx" || $i == "3xx,") n += $(i - 1) }
         END { print n + 0 }' "$f"
  fi
}

# Busy share of all CPUs over one second, from /proc/stat (integer percent; "?" without it). Called
# while our own processes are idle (before the first and after the last load run), it shows whether
# something else on the machine was taking CPU: the report prints it, and a high value means the
# numbers of that run are suspect.
cpu_busy_pct() {
  local a b
  a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat 2>/dev/null) || true
  sleep 1
  b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat 2>/dev/null) || true
  if [[ -z $a || -z $b ]]; then
    echo "?"
    return 0
  fi
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); t = y[2] - x[2]
    if (t > 0) printf "%.0f", 100 * (y[1] - x[1]) / t; else print "?" }'
}

# Records CPU use by others into IDLE_BUSY_BEFORE / IDLE_BUSY_AFTER (call with "before" or "after")
# and warns when it is above 15 %.
check_quiet() {
  local when=$1 pct
  pct=$(cpu_busy_pct)
  if [[ $when == before ]]; then IDLE_BUSY_BEFORE=$pct; else IDLE_BUSY_AFTER=$pct; fi
  if [[ $pct != "?" ]] && ((pct > 15)); then
    log "WARNING: the machine was ${pct}% busy $when the runs while our processes were idle: something else is running, the numbers are suspect"
  fi
}
quiet_note() {
  echo "- CPU busy (all CPUs, 1 s, our processes idle) just before the first run: ${IDLE_BUSY_BEFORE:-?} %, just after the last: ${IDLE_BUSY_AFTER:-?} % (above ~15 % something else was running: distrust this run)"
}

# ---------------------------------------------------------------------------------------------
# Statistics helpers.
# ---------------------------------------------------------------------------------------------
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# The median of the values that are not "-" (a round whose tool printed none), "-" if none are.
median_known() {
  local known=() v
  for v in "$@"; do [[ $v == - || -z $v ]] || known+=("$v"); done
  if ((${#known[@]})); then median "${known[@]}"; else echo -; fi
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.2f", a / b; else print "-" }'; }

# Medians of one contender's rounds into the caller's MED_RPS, MED_LAT and MED_CONNS (reading
# its RPS and CONNS): req/s and upstream connections by median; latency is wrk's p99 median for
# h1, and for h2c (h2load prints no percentiles) the mean ± sd of the round whose req/s is the
# median. $3 names the caller's array of per-round latencies (";"-separated).
summarize_key() {
  local key=$1 proto=$2
  local -n latencies=$3
  local vals r i=0
  # shellcheck disable=SC2086
  MED_RPS[$key]=$(median ${RPS[$key]})
  IFS=';' read -r -a vals <<<"${latencies[$key]%;}"
  if [[ $proto == h1 ]]; then
    MED_LAT[$key]=$(median_known "${vals[@]}")
    [[ ${MED_LAT[$key]} == - ]] || MED_LAT[$key]+=" ms"
  else
    MED_LAT[$key]="-"
    for r in ${RPS[$key]}; do
      if [[ $r == "${MED_RPS[$key]}" ]]; then MED_LAT[$key]="mean ${vals[$i]}"; break; fi
      i=$((i + 1))
    done
  fi
  # shellcheck disable=SC2086
  if [[ -n ${CONNS[$key]:-} ]]; then MED_CONNS[$key]=$(median ${CONNS[$key]}); else MED_CONNS[$key]="-"; fi
}

# The report's error section, from the caller's ERRS (key -> lines), keys in the order given.
# Keys are "a|b|c"; each line is listed as "- a b c LINE".
report_errors() {
  local key line any=0
  for key in "$@"; do [[ -n ${ERRS[$key]:-} ]] && any=1; done
  if [[ $any == 1 ]]; then
    echo "Errors reported by the load generators (any failed request through Sluice is a bug):"
    echo
    for key in "$@"; do
      [[ -n ${ERRS[$key]:-} ]] || continue
      while IFS= read -r line; do [[ -n $line ]] && echo "- ${key//|/ } $line"; done <<<"${ERRS[$key]}"
    done
  else
    echo "Errors: none (warm-up and measured runs: no non-2xx responses, no socket errors, no failed h2 streams)."
  fi
}

# What a process wrote on stderr besides the lines it is expected to write, by count: worth a look.
# report_stderr LABEL FILE EXPECTED_ERE
report_stderr() {
  local n
  [[ -f $2 ]] || return 0
  n=$(grep -vEc "$3" "$2" || true)
  if [[ ${n:-0} != 0 ]]; then
    echo
    echo "$1 logged $n other line(s) on stderr during the runs (count, line):"
    echo
    grep -vE "$3" "$2" | sort | uniq -c | sort -rn | head -10 | sed 's/^ */    /'
  fi
}
