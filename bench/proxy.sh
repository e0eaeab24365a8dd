#!/usr/bin/env bash
# Proxy throughput benchmark: Sluice on Node against a direct upstream (the ceiling) and nginx as
# a reverse proxy (the peer), over HTTP/1.1 (wrk) and h2c (h2load). Sluice runs as a plain proxy
# route, with request-id + access log, and as aws-lambda routes (API key, IAM SigV4) whose
# function_uri is the same upstream.
#
#   npm run bench            # or: bash bench/proxy.sh
#   BENCH_ROUNDS=5 BENCH_DURATION=10 bash bench/proxy.sh
#   BENCH_KEEP=1 bash bench/proxy.sh   # keep the temp dir with configs and raw tool output
#   BENCH_NO_NGINX=1 bash bench/proxy.sh   # use the node:http fallback upstream (no nginx peer)
#
# Prints a Markdown report on stdout and writes it to bench/results/<date>-node.md; progress goes
# to stderr. Everything listens on 127.0.0.1 only, every load run is bounded by `timeout`, and
# every process this script starts is killed on exit. See bench/README.md.
set -euo pipefail

ROUNDS=${BENCH_ROUNDS:-3}
DURATION=${BENCH_DURATION:-5}   # seconds per measured run
WARMUP=${BENCH_WARMUP:-2}       # seconds of unmeasured load per contender and protocol (JIT, pools)
H1_CONNS=50                     # wrk -c
H2_CONNS=10                     # h2load -c
H2_STREAMS=10                   # h2load -m
RUN_TIMEOUT=$((DURATION + 25))  # hard cap on one load-generator run

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
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
  server {
    listen 127.0.0.1:$UP_H1;
    listen 127.0.0.1:$UP_H2 http2;   # h2c prior knowledge, for the direct h2c ceiling
    location / { return 200 "$BODY"; }
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
// Fallback upstream when nginx cannot be installed: fixed 100-byte answer over HTTP/1.1.
import http from 'node:http'
const [port, body] = process.argv.slice(2)
const server = http.createServer((req, res) => {
  // Sanity checks only: which credentials reached the upstream (as the nginx upstream does).
  const text = req.url === '/__bench_auth'
    ? `x-api-key=[${req.headers['x-api-key'] ?? ''}] authorization=[${req.headers.authorization ?? ''}]`
    : body
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) })
  res.end(text)
})
server.keepAliveTimeout = 120_000
server.listen(Number(port), '127.0.0.1')
EOF
    "${PIN_LOAD[@]}" node "$TMP/upstream.mjs" "$UP_H1" "$BODY" >"$TMP/upstream.log" 2>&1 &
    UP_PID=$!
    PIDS+=("$UP_PID")
    UPSTREAM_KIND="node:http fallback (nginx could not be installed)"
  fi
  wait_http "http://127.0.0.1:$UP_H1/" "$UP_PID" || die "upstream did not start (see $TMP)"
  log "upstream: $UPSTREAM_KIND on 127.0.0.1:$UP_H1${UP_H2:+ (h2c :$UP_H2)}"
}

# Connections the upstream has accepted so far (nginx only; "" otherwise).
upstream_accepts() {
  [[ -n $UP_STATUS ]] || return 0
  curl -s --max-time 2 "http://127.0.0.1:$UP_STATUS/" | awk 'NR==3 {print $1}'
}

# ---------------------------------------------------------------------------------------------
# Peer: nginx as a reverse proxy. Its own process (not a server block in the upstream's nginx) so
# it can be pinned to CPU 0 like Sluice and gets its own single worker.
# ---------------------------------------------------------------------------------------------
start_nginx_proxy() {
  [[ -n $NGINX ]] || return 0
  PX_H1=$(free_port)
  PX_H2=$(free_port)
  mkdir -p "$TMP/nginx-proxy"
  cat >"$TMP/nginx-proxy/nginx.conf" <<EOF
# The peer: nginx reverse proxy with a kept-alive upstream pool (what a tuned nginx looks like).
worker_processes 1;
daemon off;
pid $TMP/nginx-proxy/nginx.pid;
error_log $TMP/nginx-proxy/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx-proxy/body;
  proxy_temp_path $TMP/nginx-proxy/proxy;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  upstream bench_upstream {
    server 127.0.0.1:$UP_H1;
    keepalive 256;
    keepalive_requests 100000000;
  }
  server {
    listen 127.0.0.1:$PX_H1;
    listen 127.0.0.1:$PX_H2 http2;   # h2c prior knowledge from clients; HTTP/1.1 to the upstream
    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
  "${PIN_PROXY[@]}" "$NGINX" -e "$TMP/nginx-proxy/error.log" -p "$TMP/nginx-proxy" \
    -c "$TMP/nginx-proxy/nginx.conf" >"$TMP/nginx-proxy/stdout.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  wait_http "http://127.0.0.1:$PX_H1/" "$pid" || die "nginx proxy did not start (see $TMP/nginx-proxy)"
  log "nginx proxy on 127.0.0.1:$PX_H1 (h2c :$PX_H2)"
}

# ---------------------------------------------------------------------------------------------
# Sluice: the built CLI under plain `node` (no npx: the PID we hold is the gateway's).
# start_sluice NAME ACCESS_LOG(true|false) REQUEST_ID(0|1) [ROUTE(upstream|lambda-apikey|lambda-iam)];
# sets SLUICE_PORT. The aws-lambda routes call the same upstream as their function_uri (nginx ignores
# the credentials): what they add over the plain route is the plugin's own work per request.
# ---------------------------------------------------------------------------------------------
start_sluice() {
  local name=$1 access_log=$2 request_id=$3 route=${4:-upstream} conf="$TMP/$1.toml"
  {
    echo "# Benchmark config for contender $name."
    echo "[server]"
    echo 'listen = ["127.0.0.1:0"]'
    echo "access_log = $access_log"
    echo "drain_timeout = 1000"
    if [[ $request_id == 1 ]]; then
      echo
      echo "[plugins.request-id]"
    fi
    echo
    echo "[[routes]]"
    echo 'uri = "/*"'
    case $route in
      upstream)
        echo "[routes.upstream]"
        echo "nodes = { \"127.0.0.1:$UP_H1\" = 1 }"
        ;;
      lambda-apikey | lambda-iam)
        echo "[routes.plugins.aws-lambda]"
        echo "function_uri = \"http://127.0.0.1:$UP_H1/\""
        echo "keepalive_pool = 64"
        if [[ $route == lambda-apikey ]]; then
          echo 'authorization.apikey = "bench-key"'
        else
          echo 'authorization.iam = { accesskey = "AKIDBENCH", secretkey = "bench-secret" }'
        fi
        ;;
      *) die "start_sluice: unknown route kind $route" ;;
    esac
  } >"$conf"
  # stdout carries the access log: /dev/null, so we pay for producing it but not for a disk.
  "${PIN_PROXY[@]}" node dist/src/cli.js run --config "$conf" >/dev/null 2>"$TMP/$name.stderr" &
  local pid=$!
  PIDS+=("$pid")
  SLUICE_PORT=""
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || break
    SLUICE_PORT=$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*' "$TMP/$name.stderr" | head -1 | sed 's/.*://' || true)
    [[ -n $SLUICE_PORT ]] && break
    sleep 0.1
  done
  [[ -n $SLUICE_PORT ]] || {
    cat "$TMP/$name.stderr" >&2
    die "Sluice ($name) did not start"
  }
  log "sluice $name on 127.0.0.1:$SLUICE_PORT (pid $pid)"
}

# ---------------------------------------------------------------------------------------------
# Contenders: NAMES[i], URL_H1[i], URL_H2[i] ("" = not measured over that protocol).
# ---------------------------------------------------------------------------------------------
NAMES=()
declare -A URL_H1 URL_H2 LABEL EXPECT_HEADER UPSTREAM_SEES
# add_contender NAME LABEL H1_URL H2C_URL [HEADER the response must carry] [ERE the upstream must see]
add_contender() {
  NAMES+=("$1")
  LABEL[$1]=$2
  URL_H1[$1]=$3
  URL_H2[$1]=$4
  EXPECT_HEADER[$1]=${5:-}
  UPSTREAM_SEES[$1]=${6:-}
}

# Every contender must answer 200 with the upstream's exact body, over each protocol it is
# measured on, before any load: a fast wrong answer is not a result.
sanity_check() {
  local name=$1 proto url got code
  for proto in h1 h2c; do
    if [[ $proto == h1 ]]; then url=${URL_H1[$name]}; else url=${URL_H2[$name]}; fi
    [[ -n $url ]] || continue
    [[ $proto == h2c && $HAVE_H2LOAD == 0 ]] && continue
    local flags=(--http1.1)
    [[ $proto == h2c ]] && flags=(--http2-prior-knowledge)
    got=$(curl -s --max-time 5 "${flags[@]}" -D "$TMP/check.headers" -o "$TMP/check.body" \
      -w '%{http_code} %{http_version}' "$url" || true)
    code=${got%% *}
    if [[ $code != 200 ]] || [[ "$(cat "$TMP/check.body" 2>/dev/null)" != "$BODY" ]]; then
      die "$name over $proto: expected 200 with the upstream body, got '$got' (body: $(head -c 200 "$TMP/check.body" 2>/dev/null))"
    fi
    # The contender must really be configured as labelled (e.g. the request-id plugin is on).
    if [[ -n ${EXPECT_HEADER[$name]} ]] && ! grep -qi "^${EXPECT_HEADER[$name]}:" "$TMP/check.headers"; then
      die "$name over $proto: response lacks the ${EXPECT_HEADER[$name]} header"
    fi
    # The aws-lambda contenders must really send their credentials: /__bench_auth (an upstream
    # location never used under load) answers with the x-api-key and authorization it received.
    if [[ -n ${UPSTREAM_SEES[$name]} ]]; then
      got=$(curl -s --max-time 5 "${flags[@]}" "${url%/}/__bench_auth" || true)
      if ! grep -Eq "${UPSTREAM_SEES[$name]}" <<<"$got"; then
        die "$name over $proto: the upstream did not get the expected credentials (it saw: $got)"
      fi
    fi
  done
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
  printf '%s\t%s\t%s\n' "${rps:-0}" "$( [[ -n $p99 ]] && to_ms "$p99" || echo -)" "$errors"
}

# Prints "rps mean±sd errors_text" from an h2load output file (h2load has no percentiles).
parse_h2load() {
  local f=$1 rps lat reqline codes
  rps=$(awk '/^finished in/ {print $4}' "$f")
  lat=$(awk '/^time for request:/ {print $6 " ± " $7}' "$f")
  reqline=$(grep '^requests:' "$f" || true)
  codes=$(grep '^status codes:' "$f" || true)
  local errors="" failed errored timeouts n3 n4 n5
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
  printf '%s\t%s\t%s\n' "${rps:-0}" "${lat:--}" "$errors"
}

# ---------------------------------------------------------------------------------------------
# Statistics helpers.
# ---------------------------------------------------------------------------------------------
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.2f", a / b; else print "-" }'; }

machine_header() {
  local cpu kernel
  cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //' || echo unknown)
  kernel=$(uname -r)
  echo "- machine: $(nproc) CPUs, $cpu, Linux $kernel"
  echo "- node $(node -v), sluice $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (src has uncommitted changes)')"
  echo "- upstream: $UPSTREAM_KIND, fixed ${#BODY}-byte body; pinning: $PINNING"
  echo "- load: HTTP/1.1 \`wrk -t1 -c$H1_CONNS -d${DURATION}s --latency\` ($(wrk -v 2>&1 | head -1 | awk '{print $2}')); h2c \`h2load -c$H2_CONNS -m$H2_STREAMS -D$DURATION\` ($(h2load --version 2>/dev/null | awk '{print $2}' || echo none)); $ROUNDS interleaved rounds after ${WARMUP}s warm-up each; medians shown"
}

# ---------------------------------------------------------------------------------------------
# Main.
# ---------------------------------------------------------------------------------------------
main() {
  ensure_tools
  setup_pinning
  log "building the gateway (npm run build)"
  npm run build >&2 || die "npm run build failed"

  start_upstream
  start_nginx_proxy
  start_sluice sluice false 0
  local sluice_plain=$SLUICE_PORT
  start_sluice sluice-logged true 1
  local sluice_logged=$SLUICE_PORT
  start_sluice sluice-lambda-apikey false 0 lambda-apikey
  local sluice_apikey=$SLUICE_PORT
  start_sluice sluice-lambda-iam false 0 lambda-iam
  local sluice_iam=$SLUICE_PORT

  add_contender direct "direct to upstream (ceiling)" "http://127.0.0.1:$UP_H1/" "${UP_H2:+http://127.0.0.1:$UP_H2/}"
  add_contender sluice "Sluice, plain proxy route" "http://127.0.0.1:$sluice_plain/" "http://127.0.0.1:$sluice_plain/"
  add_contender sluice-logged "Sluice + request-id + access log" \
    "http://127.0.0.1:$sluice_logged/" "http://127.0.0.1:$sluice_logged/" x-request-id
  add_contender sluice-lambda-apikey "Sluice aws-lambda, apikey" \
    "http://127.0.0.1:$sluice_apikey/" "http://127.0.0.1:$sluice_apikey/" "" \
    '^x-api-key=\[bench-key\] authorization=\[\]$'
  add_contender sluice-lambda-iam "Sluice aws-lambda, IAM SigV4" \
    "http://127.0.0.1:$sluice_iam/" "http://127.0.0.1:$sluice_iam/" "" \
    '^x-api-key=\[\] authorization=\[AWS4-HMAC-SHA256 Credential=AKIDBENCH/[0-9]{8}/us-east-1/execute-api/aws4_request, SignedHeaders=[a-z0-9;-]*x-amz-date[a-z0-9;-]*, Signature=[0-9a-f]{64}\]$'
  if [[ -n $NGINX ]]; then
    add_contender nginx-proxy "nginx reverse proxy (peer)" "http://127.0.0.1:$PX_H1/" "http://127.0.0.1:$PX_H2/"
  fi

  local name proto url
  for name in "${NAMES[@]}"; do sanity_check "$name"; done
  log "all contenders answer 200 with the upstream body"

  local protos=(h1)
  [[ $HAVE_H2LOAD == 1 ]] && protos+=(h2c)

  # Warm-up: JIT, connection pools, nginx worker caches. Not measured.
  for proto in "${protos[@]}"; do
    for name in "${NAMES[@]}"; do
      if [[ $proto == h1 ]]; then url=${URL_H1[$name]}; else url=${URL_H2[$name]}; fi
      [[ -n $url ]] || continue
      log "warm-up $name $proto"
      if [[ $proto == h1 ]]; then run_wrk "$url" "$WARMUP" /dev/null; else run_h2load "$url" "$WARMUP" /dev/null; fi
    done
  done

  # Measured rounds, interleaved (A B C ..., A B C ..., ...) so drift on a shared machine hits all.
  declare -A RPS P99 CONNS ERRS
  local round out parsed rps lat errs before after
  for round in $(seq 1 "$ROUNDS"); do
    for proto in "${protos[@]}"; do
      for name in "${NAMES[@]}"; do
        if [[ $proto == h1 ]]; then url=${URL_H1[$name]}; else url=${URL_H2[$name]}; fi
        [[ -n $url ]] || continue
        out="$TMP/$name.$proto.round$round.txt"
        before=$(upstream_accepts)
        if [[ $proto == h1 ]]; then
          run_wrk "$url" "$DURATION" "$out"
          parsed=$(parse_wrk "$out")
        else
          run_h2load "$url" "$DURATION" "$out"
          parsed=$(parse_h2load "$out")
        fi
        after=$(upstream_accepts)
        IFS=$'\t' read -r rps lat errs <<<"$parsed"
        local key="$name|$proto"
        RPS[$key]+="$rps "
        P99[$key]+="$lat;"
        # The status request we just made is one of the accepts counted: leave it out.
        if [[ -n $before && -n $after ]]; then CONNS[$key]+="$((after - before - 1)) "; fi
        if [[ -n $errs ]]; then ERRS[$key]+="round $round: $errs"$'\n'; fi
        log "round $round $proto $name: $rps req/s, latency $lat${errs:+ — $errs}"
      done
    done
  done

  # Medians per contender and protocol.
  declare -A MED_RPS MED_LAT MED_CONNS
  local key vals
  for proto in "${protos[@]}"; do
    for name in "${NAMES[@]}"; do
      key="$name|$proto"
      [[ -n ${RPS[$key]:-} ]] || continue
      # shellcheck disable=SC2086
      MED_RPS[$key]=$(median ${RPS[$key]})
      if [[ $proto == h1 ]]; then
        IFS=';' read -r -a vals <<<"${P99[$key]%;}"
        if [[ ${vals[0]} == - ]]; then MED_LAT[$key]="-"; else MED_LAT[$key]="$(median "${vals[@]}") ms"; fi
      else
        # h2load has no p99: show mean ± sd of the round whose req/s is the median.
        local i=0 r
        IFS=';' read -r -a vals <<<"${P99[$key]%;}"
        MED_LAT[$key]="-"
        for r in ${RPS[$key]}; do
          if [[ $r == "${MED_RPS[$key]}" ]]; then MED_LAT[$key]="mean ${vals[$i]}"; break; fi
          i=$((i + 1))
        done
      fi
      # shellcheck disable=SC2086
      if [[ -n ${CONNS[$key]:-} ]]; then MED_CONNS[$key]=$(median ${CONNS[$key]}); else MED_CONNS[$key]="-"; fi
    done
  done

  # The report.
  local date report
  date=$(date +%F)
  mkdir -p bench/results
  report="bench/results/$date-node.md"
  {
    echo "# Proxy benchmark, $date (node)"
    echo
    machine_header
    echo
    echo "| contender | protocol | req/s (median) | p99 | ratio to direct | ratio to nginx-proxy | upstream conns opened |"
    echo "|---|---|---:|---:|---:|---:|---:|"
    for proto in "${protos[@]}"; do
      for name in "${NAMES[@]}"; do
        key="$name|$proto"
        [[ -n ${MED_RPS[$key]:-} ]] || continue
        local vs_direct vs_nginx
        vs_direct=$(ratio "${MED_RPS[$key]}" "${MED_RPS[direct|$proto]:-0}")
        vs_nginx=$(ratio "${MED_RPS[$key]}" "${MED_RPS[nginx-proxy|$proto]:-0}")
        printf '| %s | %s | %.0f | %s | %s | %s | %s |\n' "${LABEL[$name]}" \
          "$([[ $proto == h1 ]] && echo HTTP/1.1 || echo h2c)" "${MED_RPS[$key]}" "${MED_LAT[$key]}" \
          "$vs_direct" "$vs_nginx" "${MED_CONNS[$key]}"
      done
    done
    echo
    echo "p99 is wrk's 99th percentile (median of the rounds). h2load prints no percentiles: h2c rows show"
    echo "its mean ± sd time per request from the median round. \"upstream conns opened\" is the upstream"
    echo "nginx's accepted-connection count during one run (median): for the direct rows it is the load"
    echo "generator's own connections; for a proxy it shows whether its upstream pool reuses connections."
    echo
    echo "Per-round req/s:"
    echo
    for proto in "${protos[@]}"; do
      for name in "${NAMES[@]}"; do
        key="$name|$proto"
        [[ -n ${RPS[$key]:-} ]] || continue
        echo "- $name $proto: ${RPS[$key]% }"
      done
    done
    echo
    local any=0
    for key in "${!ERRS[@]}"; do
      [[ -n ${ERRS[$key]} ]] && any=1
    done
    if [[ $any == 1 ]]; then
      echo "Errors reported by the load generators (any failed request through Sluice is a bug):"
      echo
      for proto in "${protos[@]}"; do
        for name in "${NAMES[@]}"; do
          key="$name|$proto"
          [[ -n ${ERRS[$key]:-} ]] || continue
          while IFS= read -r line; do [[ -n $line ]] && echo "- $name $proto $line"; done <<<"${ERRS[$key]}"
        done
      done
    else
      echo "Errors: none (every run: no non-2xx responses, no socket errors, no failed h2 streams)."
    fi
    # Anything the gateways logged on stderr besides their start-up line is worth a look.
    # (Read before clean-up, so the shutdown lines are not in it.)
    local f n
    for f in "$TMP"/sluice*.stderr; do
      n=$(grep -vc 'listening on' "$f" || true)
      if [[ ${n:-0} != 0 ]]; then
        echo
        echo "Contender $(basename "$f" .stderr) logged $n other line(s) on stderr during the runs (count, line):"
        echo
        grep -v 'listening on' "$f" | sort | uniq -c | sort -rn | head -10 | sed 's/^ */    /'
      fi
    done
  } >"$report"
  cat "$report"
  log "written to $report"
}

main "$@"
