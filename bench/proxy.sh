#!/usr/bin/env bash
# Proxy throughput benchmark: Sluice on Node against a direct upstream (the ceiling), nginx as a
# reverse proxy and @fastify/http-proxy on Node (the peers), over HTTP/1.1 (wrk) and h2c (h2load).
# Sluice runs as a plain proxy route, with request-id + access log, and as aws-lambda routes (API
# key, IAM SigV4) whose function_uri is the same upstream.
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

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

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
# Peer: fastify + @fastify/http-proxy on Node (bench/fastify-proxy.mjs), HTTP/1.1 keep-alive to the
# upstream (reply-from's undici pool). fastify serves HTTP/1.1, or with `http2: true` h2c only, so
# one process per protocol: start_fastify h1|h2c sets FASTIFY_PORT. Both are pinned to CPU 0 like
# Sluice; only the one under load is busy.
# ---------------------------------------------------------------------------------------------
start_fastify() {
  local proto=$1
  [[ -f node_modules/@fastify/http-proxy/package.json && -f node_modules/fastify/package.json ]] || {
    log "warning: fastify or @fastify/http-proxy missing from node_modules (npm ci): no fastify peer"
    FASTIFY_PORT=""
    return 0
  }
  start_node_gateway "fastify-$proto" "$TMP/fastify-$proto.stderr" node bench/fastify-proxy.mjs "$UP_H1" "$proto"
  FASTIFY_PORT=$STARTED_PORT
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
  start_node_gateway "sluice $name" "$TMP/$name.stderr" node dist/src/cli.js run --config "$conf"
  SLUICE_PORT=$STARTED_PORT
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

machine_header() {
  local cpu kernel
  cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //' || echo unknown)
  kernel=$(uname -r)
  echo "- machine: $(nproc) CPUs, $cpu, Linux $kernel"
  echo "- node $(node -v), sluice $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (src has uncommitted changes)')"
  echo "- upstream: $UPSTREAM_KIND, fixed ${#BODY}-byte body; pinning: $PINNING"
  quiet_note
  if [[ -n ${FASTIFY_VERSIONS:-} ]]; then echo "- peer on Node: $FASTIFY_VERSIONS"; fi
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
  start_fastify h1
  local fastify_h1=$FASTIFY_PORT
  start_fastify h2c
  local fastify_h2c=$FASTIFY_PORT
  if [[ -n $fastify_h1 ]]; then
    FASTIFY_VERSIONS="fastify $(node -p 'require("fastify/package.json").version') + @fastify/http-proxy $(node -p 'require("@fastify/http-proxy/package.json").version') (@fastify/reply-from $(node -p 'require("@fastify/reply-from/package.json").version'), undici $(node -p 'require("undici/package.json").version'); pool: 128 connections, pipelining 1, 60 s idle); one process per protocol (fastify serves h2c only with \`http2: true\`)"
  fi

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
  if [[ -n $fastify_h1 ]]; then
    add_contender fastify "@fastify/http-proxy on Node (peer)" \
      "http://127.0.0.1:$fastify_h1/" "${fastify_h2c:+http://127.0.0.1:$fastify_h2c/}"
  fi
  if [[ -n $NGINX ]]; then
    add_contender nginx-proxy "nginx reverse proxy (peer)" "http://127.0.0.1:$PX_H1/" "http://127.0.0.1:$PX_H2/"
  fi

  local name proto url
  for name in "${NAMES[@]}"; do sanity_check "$name"; done
  log "all contenders answer 200 with the upstream body"

  local protos=(h1)
  [[ $HAVE_H2LOAD == 1 ]] && protos+=(h2c)

  check_quiet before

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

  check_quiet after

  # Medians per contender and protocol.
  declare -A MED_RPS MED_LAT MED_CONNS
  local key vals
  for proto in "${protos[@]}"; do
    for name in "${NAMES[@]}"; do
      key="$name|$proto"
      [[ -n ${RPS[$key]:-} ]] || continue
      summarize_key "$key" "$proto" P99
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
    echo "| contender | protocol | req/s (median) | p99 | ratio to direct | ratio to nginx-proxy | ratio to fastify | upstream conns opened |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|"
    for proto in "${protos[@]}"; do
      for name in "${NAMES[@]}"; do
        key="$name|$proto"
        [[ -n ${MED_RPS[$key]:-} ]] || continue
        local vs_direct vs_nginx vs_fastify
        vs_direct=$(ratio "${MED_RPS[$key]}" "${MED_RPS[direct|$proto]:-0}")
        vs_nginx=$(ratio "${MED_RPS[$key]}" "${MED_RPS[nginx-proxy|$proto]:-0}")
        vs_fastify=$(ratio "${MED_RPS[$key]}" "${MED_RPS[fastify|$proto]:-0}")
        printf '| %s | %s | %.0f | %s | %s | %s | %s | %s |\n' "${LABEL[$name]}" \
          "$([[ $proto == h1 ]] && echo HTTP/1.1 || echo h2c)" "${MED_RPS[$key]}" "${MED_LAT[$key]}" \
          "$vs_direct" "$vs_nginx" "$vs_fastify" "${MED_CONNS[$key]}"
      done
    done
    echo
    if [[ -n ${MED_RPS[fastify|h1]:-} ]]; then
      local line="Sluice on Node (plain proxy route) / @fastify/http-proxy on Node:" p
      for proto in "${protos[@]}"; do
        p=$([[ $proto == h1 ]] && echo HTTP/1.1 || echo h2c)
        line+=" $p $(ratio "${MED_RPS[sluice|$proto]:-0}" "${MED_RPS[fastify|$proto]:-0}")x,"
      done
      echo "${line%,} (the performance issue's target: >= 1.5x)."
      echo
    fi
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
    for f in "$TMP"/sluice*.stderr "$TMP"/fastify-*.stderr; do
      [[ -f $f ]] || continue
      n=$(grep -vc 'listening on' "$f" || true)
      if [[ ${n:-0} != 0 ]]; then
        echo
        echo "Process $(basename "$f" .stderr) logged $n other line(s) on stderr during the runs (count, line):"
        echo
        grep -v 'listening on' "$f" | sort | uniq -c | sort -rn | head -10 | sed 's/^ */    /'
      fi
    done
  } >"$report"
  cat "$report"
  log "written to $report"
}

main "$@"
