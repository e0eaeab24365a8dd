#!/usr/bin/env bash
# Proxy throughput benchmark, every contender in one run: a direct upstream (the ceiling), nginx as a
# reverse proxy, @fastify/http-proxy on Node and a bare Bun.serve + fetch proxy (the peers), and
# Sluice on Node, Bun, Deno and as the compiled binary, over HTTP/1.1 (wrk) and h2c (h2load), with a
# 100-byte and a 64 KiB upstream body. Sluice on Node also runs with request-id + access log and as
# aws-lambda routes (API key, IAM SigV4) whose function_uri is the same upstream.
#
#   npm run bench            # or: bash bench/proxy.sh
#   BENCH_ROUNDS=5 BENCH_DURATION=10 bash bench/proxy.sh
#   BENCH_CONTENDERS="nginx-proxy bare-bun sluice-bun sluice-binary" bash bench/proxy.sh   # a subset
#   BENCH_SCENARIOS=100b BENCH_PROTOCOLS=h1 bash bench/proxy.sh                          # fewer cells
#   BENCH_64K_PROTOCOLS="h1 h2c" bash bench/proxy.sh   # the 64 KiB body over h2c too (default: h1)
#   BENCH_SKIP_BUILD=1 bash bench/proxy.sh   # use dist/ as it is (no npm run build / compile)
#   BENCH_KEEP=1 bash bench/proxy.sh   # keep the temp dir with configs and raw tool output
#   BENCH_NO_NGINX=1 bash bench/proxy.sh   # use the node:http fallback upstream (no nginx peer)
#
# Prints a Markdown report on stdout and writes it to bench/results/<date>-proxy.md; progress goes
# to stderr. Everything listens on 127.0.0.1 only, every load run is bounded by `timeout`, and
# every process this script starts is killed on exit. See bench/README.md.
set -euo pipefail

ROUNDS=${BENCH_ROUNDS:-3}
DURATION=${BENCH_DURATION:-5}   # seconds per measured run
WARMUP=${BENCH_WARMUP:-2}       # seconds of unmeasured load per contender, scenario and protocol
H1_CONNS=50                     # wrk -c
H2_CONNS=10                     # h2load -c
H2_STREAMS=10                   # h2load -m
RUN_TIMEOUT=$((DURATION + 25))  # hard cap on one load-generator run

# Every contender, in the order of the table and of every round.
ALL_CONTENDERS=(direct nginx-proxy fastify sluice-node sluice-logged sluice-lambda-apikey sluice-lambda-iam
  bare-bun sluice-bun sluice-binary sluice-deno)
ALL_SCENARIOS=(100b 64k)
read -r -a WANT_CONTENDERS <<<"${BENCH_CONTENDERS:-${ALL_CONTENDERS[*]}}"
read -r -a SCENARIOS <<<"${BENCH_SCENARIOS:-${ALL_SCENARIOS[*]}}"
read -r -a PROTOCOLS <<<"${BENCH_PROTOCOLS:-h1 h2c}"
read -r -a PROTOCOLS_64K <<<"${BENCH_64K_PROTOCOLS:-h1}"

# The knobs are checked before anything starts (no temp dir, no processes yet).
usage_error() {
  printf '[bench] error: %s\n' "$1" >&2
  exit 2
}
in_list() {
  local want=$1 x
  shift
  for x in "$@"; do [[ $x == "$want" ]] && return 0; done
  return 1
}
for x in ROUNDS DURATION WARMUP; do
  [[ ${!x} =~ ^[1-9][0-9]*$ ]] || usage_error "BENCH_$x must be a positive integer (is '${!x}')"
done
for x in "${WANT_CONTENDERS[@]}"; do
  in_list "$x" "${ALL_CONTENDERS[@]}" || usage_error "unknown contender '$x' in BENCH_CONTENDERS (known: ${ALL_CONTENDERS[*]})"
done
for x in "${SCENARIOS[@]}"; do
  in_list "$x" "${ALL_SCENARIOS[@]}" || usage_error "unknown scenario '$x' in BENCH_SCENARIOS (known: ${ALL_SCENARIOS[*]})"
done
for x in "${PROTOCOLS[@]}" "${PROTOCOLS_64K[@]}"; do
  [[ $x == h1 || $x == h2c ]] || usage_error "unknown protocol '$x' in BENCH_PROTOCOLS / BENCH_64K_PROTOCOLS (known: h1 h2c)"
done
wanted() { in_list "$1" "${WANT_CONTENDERS[@]}"; }

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Sluice on Bun and the binary use their default upstream client (the pooled Bun.connect client):
# a SLUICE_BUN_CLIENT=fetch left in the environment would silently switch them to Bun's fetch.
unset SLUICE_BUN_CLIENT

# ---------------------------------------------------------------------------------------------
# Scenarios: the request path and the exact body every contender must return.
# ---------------------------------------------------------------------------------------------
scenario_path() { if [[ $1 == 64k ]]; then echo "$BIG_PATH"; else echo /; fi; }
scenario_file() { if [[ $1 == 64k ]]; then echo "$BIG_BODY_FILE"; else echo "$BODY_FILE"; fi; }
scenario_label() { if [[ $1 == 64k ]]; then echo "64 KiB"; else echo "100 B"; fi; }
proto_label() { if [[ $1 == h1 ]]; then echo HTTP/1.1; else echo h2c; fi; }

# ---------------------------------------------------------------------------------------------
# Peer: nginx as a reverse proxy. Its own process (not a server block in the upstream's nginx) so
# it can be pinned to CPU 0 like Sluice and gets its own single worker.
# ---------------------------------------------------------------------------------------------
start_nginx_proxy() {
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
      # Room for a whole 64 KiB answer in memory (the default 8 x 4k spills the rest to a temp file
      # whenever the client is slower than the upstream).
      proxy_buffers 16 8k;
    }
  }
}
EOF
  "${PIN_PROXY[@]}" "$NGINX" -e "$TMP/nginx-proxy/error.log" -p "$TMP/nginx-proxy" \
    -c "$TMP/nginx-proxy/nginx.conf" >"$TMP/nginx-proxy/stdout.log" 2>&1 &
  PX_PID=$!
  PIDS+=("$PX_PID")
  wait_http "http://127.0.0.1:$PX_H1/" "$PX_PID" || die "nginx proxy did not start (see $TMP/nginx-proxy)"
  log "nginx proxy on 127.0.0.1:$PX_H1 (h2c :$PX_H2)"
}

# The worker of an nginx master (the process that does the work; the master only supervises).
nginx_worker() { pgrep -P "$1" | head -1 || true; }

# ---------------------------------------------------------------------------------------------
# Peer: fastify + @fastify/http-proxy on Node (bench/fastify-proxy.mjs), HTTP/1.1 keep-alive to the
# upstream (reply-from's undici pool). fastify serves HTTP/1.1, or with `http2: true` h2c only, so
# one process per protocol: start_fastify h1|h2c sets FASTIFY_PORT and FASTIFY_PID. Both are pinned
# to CPU 0 like Sluice; only the one under load is busy.
# ---------------------------------------------------------------------------------------------
start_fastify() {
  local proto=$1
  start_gateway "fastify-$proto" "$TMP/fastify-$proto.stderr" node bench/fastify-proxy.mjs "$UP_H1" "$proto"
  FASTIFY_PORT=$STARTED_PORT
  FASTIFY_PID=$STARTED_PID
}

# ---------------------------------------------------------------------------------------------
# Sluice on one runtime (lib.sh's target_command: node, bun, deno, binary).
# start_sluice NAME TARGET ACCESS_LOG(true|false) REQUEST_ID(0|1) [ROUTE(upstream|lambda-apikey|lambda-iam)];
# sets SLUICE_PORT and SLUICE_PID. The aws-lambda routes call the same upstream as their
# function_uri (nginx ignores the credentials): what they add over the plain route is the plugin's
# own work per request.
# ---------------------------------------------------------------------------------------------
start_sluice() {
  local name=$1 target=$2 access_log=$3 request_id=$4 route=${5:-upstream} conf="$TMP/$1.toml"
  {
    echo "# Benchmark config for contender $name ($target)."
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
  target_command "$target" "$conf"
  # stdout carries the access log: /dev/null, so we pay for producing it but not for a disk.
  start_gateway "sluice $name" "$TMP/$name.stderr" "${CMD[@]}"
  SLUICE_PORT=$STARTED_PORT
  SLUICE_PID=$STARTED_PID
}

# ---------------------------------------------------------------------------------------------
# Contenders. NAMES: the ones started, in table order. Per name: LABEL; URL_H1 / URL_H2 (base URL,
# "" = not measured over that protocol); PID_H1 / PID_H2 (the process whose memory is reported;
# "" = none of its own); PEER (same-runtime peer for the ratio column); SMALL_ONLY (1: the 100-byte
# scenario only); EXPECT_HEADER (a header every response must carry); UPSTREAM_SEES (ERE the
# upstream's /__bench_auth must answer through it: the credentials it received).
# ---------------------------------------------------------------------------------------------
NAMES=()
LEFT_OUT=()
declare -A LABEL URL_H1 URL_H2 PID_H1 PID_H2 PEER SMALL_ONLY EXPECT_HEADER UPSTREAM_SEES
# add_contender NAME LABEL H1_URL H2C_URL PID
add_contender() {
  NAMES+=("$1")
  LABEL[$1]=$2
  URL_H1[$1]=$3
  URL_H2[$1]=$4
  PID_H1[$1]=$5
  PID_H2[$1]=$5
  PEER[$1]=""
  SMALL_ONLY[$1]=0
  EXPECT_HEADER[$1]=""
  UPSTREAM_SEES[$1]=""
}

LAMBDA_IAM_SEES='^x-api-key=\[\] authorization=\[AWS4-HMAC-SHA256 Credential=AKIDBENCH/[0-9]{8}/us-east-1/execute-api/aws4_request, SignedHeaders=[a-z0-9;-]*x-amz-date[a-z0-9;-]*, Signature=[0-9a-f]{64}\]$'

start_contender() {
  local name=$1 url
  case $name in
    direct)
      add_contender direct "direct to upstream (ceiling)" "http://127.0.0.1:$UP_H1" "${UP_H2:+http://127.0.0.1:$UP_H2}" ""
      ;;
    nginx-proxy)
      if [[ -z $NGINX ]]; then
        LEFT_OUT+=("nginx-proxy (no nginx)")
        return 0
      fi
      start_nginx_proxy
      add_contender nginx-proxy "nginx reverse proxy (peer)" "http://127.0.0.1:$PX_H1" "http://127.0.0.1:$PX_H2" ""
      ;;
    fastify)
      if [[ ! -f node_modules/@fastify/http-proxy/package.json || ! -f node_modules/fastify/package.json ]]; then
        log "warning: fastify or @fastify/http-proxy missing from node_modules (npm ci): no fastify peer"
        LEFT_OUT+=("fastify (not in node_modules: npm ci)")
        return 0
      fi
      start_fastify h1
      local h1_port=$FASTIFY_PORT h1_pid=$FASTIFY_PID
      start_fastify h2c
      add_contender fastify "@fastify/http-proxy on Node (peer)" "http://127.0.0.1:$h1_port" "http://127.0.0.1:$FASTIFY_PORT" ""
      PID_H1[fastify]=$h1_pid
      PID_H2[fastify]=$FASTIFY_PID
      PEER[fastify]=fastify
      FASTIFY_VERSIONS="fastify $(node -p 'require("fastify/package.json").version') + @fastify/http-proxy $(node -p 'require("@fastify/http-proxy/package.json").version') (@fastify/reply-from $(node -p 'require("@fastify/reply-from/package.json").version'), undici $(node -p 'require("undici/package.json").version'); pool: 128 connections, pipelining 1, 60 s idle); one process per protocol (fastify serves h2c only with \`http2: true\`)"
      ;;
    bare-bun)
      if [[ ! -x $BUN ]]; then
        LEFT_OUT+=("bare-bun (no $BUN: npm ci)")
        return 0
      fi
      start_gateway bare-bun "$TMP/bare-bun.stderr" "$BUN" bench/bun-fetch-proxy.ts "$UP_H1"
      url="http://127.0.0.1:$STARTED_PORT"
      add_contender bare-bun "bare Bun.serve + fetch (peer)" "$url" "$url" "$STARTED_PID"
      PEER[bare-bun]=bare-bun
      ;;
    sluice-node | sluice-logged | sluice-lambda-apikey | sluice-lambda-iam | sluice-bun | sluice-binary | sluice-deno)
      local target=node label
      case $name in
        sluice-bun) target=bun ;;
        sluice-binary) target=binary ;;
        sluice-deno) target=deno ;;
      esac
      case $target in
        bun) [[ -x $BUN ]] || { LEFT_OUT+=("$name (no $BUN: npm ci)"); return 0; } ;;
        deno) [[ -x $DENO ]] || { LEFT_OUT+=("$name (no $DENO: npm ci)"); return 0; } ;;
      esac
      case $name in
        sluice-node) start_sluice "$name" node false 0 upstream; label="Sluice on Node, plain proxy route" ;;
        sluice-logged) start_sluice "$name" node true 1 upstream; label="Sluice on Node + request-id + access log" ;;
        sluice-lambda-apikey) start_sluice "$name" node false 0 lambda-apikey; label="Sluice on Node, aws-lambda apikey" ;;
        sluice-lambda-iam) start_sluice "$name" node false 0 lambda-iam; label="Sluice on Node, aws-lambda IAM SigV4" ;;
        sluice-bun) start_sluice "$name" bun false 0 upstream; label="Sluice on Bun, plain proxy route" ;;
        sluice-binary) start_sluice "$name" binary false 0 upstream; label="Sluice binary (dist/sluice), plain proxy route" ;;
        sluice-deno) start_sluice "$name" deno false 0 upstream; label="Sluice on Deno, plain proxy route" ;;
      esac
      url="http://127.0.0.1:$SLUICE_PORT"
      add_contender "$name" "$label" "$url" "$url" "$SLUICE_PID"
      case $target in
        node) PEER[$name]=fastify ;;
        bun | binary) PEER[$name]=bare-bun ;;
      esac
      case $name in
        sluice-logged)
          SMALL_ONLY[$name]=1
          EXPECT_HEADER[$name]=x-request-id
          ;;
        sluice-lambda-apikey)
          SMALL_ONLY[$name]=1
          UPSTREAM_SEES[$name]='^x-api-key=\[bench-key\] authorization=\[\]$'
          ;;
        sluice-lambda-iam)
          SMALL_ONLY[$name]=1
          UPSTREAM_SEES[$name]=$LAMBDA_IAM_SEES
          ;;
      esac
      ;;
  esac
}

# The base URL of NAME over PROTO ("" = not measured over it).
url_of() { if [[ $2 == h1 ]]; then echo "${URL_H1[$1]}"; else echo "${URL_H2[$1]}"; fi; }

# Every contender must answer 200 with the upstream's exact body, over each protocol and scenario it
# is measured on, and really over that protocol, before any load: a fast wrong answer is not a result.
sanity_check() {
  local name=$1 scenario=$2 proto=$3 url flags want_version got
  url="$(url_of "$name" "$proto")$(scenario_path "$scenario")"
  if [[ $proto == h1 ]]; then
    flags=(--http1.1)
    want_version=1.1
  else
    flags=(--http2-prior-knowledge)
    want_version=2
  fi
  rm -f "$TMP/check.body" "$TMP/check.headers"
  got=$(curl -s --max-time 5 "${flags[@]}" -D "$TMP/check.headers" -o "$TMP/check.body" \
    -w '%{http_code} %{http_version}' "$url" || true)
  if [[ $got != "200 $want_version" ]] || ! cmp -s "$TMP/check.body" "$(scenario_file "$scenario")"; then
    die "$name, $(scenario_label "$scenario") over $proto: expected 200 over HTTP/$want_version with the upstream's exact $(stat -c %s "$(scenario_file "$scenario")")-byte body, got '$got' with $(stat -c %s "$TMP/check.body" 2>/dev/null || echo 0) bytes (starting: $(head -c 120 "$TMP/check.body" 2>/dev/null)). Repro: curl -sv ${flags[*]} $url"
  fi
  # The contender must really be configured as labelled (e.g. the request-id plugin is on).
  if [[ -n ${EXPECT_HEADER[$name]} ]] && ! grep -qi "^${EXPECT_HEADER[$name]}:" "$TMP/check.headers"; then
    die "$name over $proto: response lacks the ${EXPECT_HEADER[$name]} header"
  fi
  # The aws-lambda contenders must really send their credentials: /__bench_auth (an upstream
  # location never used under load) answers with the x-api-key and authorization it received.
  if [[ -n ${UPSTREAM_SEES[$name]} ]]; then
    got=$(curl -s --max-time 5 "${flags[@]}" "$(url_of "$name" "$proto")/__bench_auth" || true)
    if ! grep -Eq "${UPSTREAM_SEES[$name]}" <<<"$got"; then
      die "$name over $proto: the upstream did not get the expected credentials (it saw: $got)"
    fi
  fi
}

machine_header() {
  local cpu mem
  cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //' || echo unknown)
  mem=$(awk '/^MemTotal:/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo)
  echo "- machine: $(nproc) CPUs, $cpu, $mem, Linux $(uname -r)"
  echo "- runtimes: node $(node -v)$([[ -x $BUN ]] && echo ", bun $("$BUN" --version)")$([[ -x $DENO ]] && echo ", deno $("$DENO" --version | head -1 | awk '{print $2}')"); sluice $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (src has uncommitted changes)')"
  echo "- Sluice: one process per contender, \`uri = \"/*\"\` to the upstream, \`access_log = false\` unless named; on Node \`node dist/src/cli.js\`, on Bun \`bun src/cli.ts\`, binary \`dist/sluice\` (\`bun build --compile\`), on Deno \`deno run -A src/cli.ts\`; every runtime with its default upstream client (SLUICE_BUN_CLIENT unset: Bun and the binary use the pooled \`Bun.connect\` HTTP/1.1 client, not Bun's fetch)"
  echo "- environment: \`GLIBC_TUNABLES=$GLIBC_TUNABLES\` for every process (bench/lib.sh; \`npm start\` sets the same)"
  echo "- upstream: $UPSTREAM_KIND: a fixed ${#BODY}-byte body on every path and a $(($(stat -c %s "$BIG_BODY_FILE") / 1024)) KiB file on \`$BIG_PATH\`; pinning: $PINNING (every contender on CPU 0; only the one under load is busy)"
  quiet_note
  if [[ -n ${FASTIFY_VERSIONS:-} ]]; then echo "- peer on Node: $FASTIFY_VERSIONS"; fi
  if in_list bare-bun "${NAMES[@]}"; then echo "- peer on Bun: \`bench/bun-fetch-proxy.ts\`: \`Bun.serve({ http2: true })\` (HTTP/1.1 and h2c on one port, as Sluice's Bun listener) + the global \`fetch\` (its default keep-alive pool) to the upstream, nothing else"; fi
  if in_list nginx-proxy "${NAMES[@]}"; then echo "- peer: nginx reverse proxy, \`worker_processes 1\`, \`proxy_http_version 1.1\`, upstream \`keepalive 256\`, \`proxy_buffers 16 8k\`"; fi
  echo "- load: HTTP/1.1 \`wrk -t1 -c$H1_CONNS -d${DURATION}s --latency\` ($(wrk -v 2>&1 | head -1 | awk '{print $2}')); h2c \`h2load -c$H2_CONNS -m$H2_STREAMS -D$DURATION\` ($(h2load --version 2>/dev/null | awk '{print $2}' || echo none)); $ROUNDS interleaved rounds (every contender, scenario and protocol per round) after ${WARMUP}s warm-up each; medians shown"
}

# ---------------------------------------------------------------------------------------------
# Main.
# ---------------------------------------------------------------------------------------------
main() {
  local started finished name scenario proto key
  started=${EPOCHREALTIME//[.,]/}
  ensure_tools
  setup_pinning

  # Builds: dist/src for Sluice on Node, dist/sluice for the binary (only what the run needs).
  local need_node=0 need_binary=0
  for name in sluice-node sluice-logged sluice-lambda-apikey sluice-lambda-iam; do wanted "$name" && need_node=1; done
  wanted sluice-binary && need_binary=1
  if [[ ${BENCH_SKIP_BUILD:-0} == 1 ]]; then
    log "BENCH_SKIP_BUILD=1: using dist/ as it is"
  else
    if [[ $need_node == 1 ]]; then
      log "building the gateway (npm run build)"
      npm run build >&2 || die "npm run build failed"
    fi
    if [[ $need_binary == 1 ]]; then
      log "building the binary (npm run compile)"
      npm run compile >&2 || die "npm run compile failed"
    fi
  fi
  [[ $need_node == 0 || -f dist/src/cli.js ]] || die "dist/src/cli.js missing: npm run build"
  [[ $need_binary == 0 || -x dist/sluice ]] || die "dist/sluice missing: npm run compile"

  start_upstream
  for name in "${ALL_CONTENDERS[@]}"; do
    wanted "$name" && start_contender "$name"
  done
  ((${#NAMES[@]})) || die "no contender left to measure"
  for name in "${LEFT_OUT[@]}"; do log "left out: $name"; done

  # RSS before any load: 1 s after the last process is listening.
  sleep 1
  declare -A IDLE_RSS=() PEAK_RSS=()
  local pid
  RSS_PIDS=()
  for name in "${NAMES[@]}"; do
    for pid in ${PID_H1[$name]} ${PID_H2[$name]}; do
      in_list "$pid" "${RSS_PIDS[@]}" || RSS_PIDS+=("$pid")
    done
  done
  if in_list nginx-proxy "${NAMES[@]}"; then
    PID_H1[nginx-proxy]=$(nginx_worker "$PX_PID")
    PID_H2[nginx-proxy]=${PID_H1[nginx-proxy]}
    [[ -n ${PID_H1[nginx-proxy]} ]] && RSS_PIDS+=("${PID_H1[nginx-proxy]}")
  fi
  UP_WORKER=""
  [[ -n $NGINX ]] && UP_WORKER=$(nginx_worker "$UP_PID")
  for pid in "${RSS_PIDS[@]}" $UP_WORKER; do IDLE_RSS[$pid]=$(vm_mib "$pid" VmRSS); done

  # The cells: contender x scenario x protocol, in the order of every round (scenario, protocol,
  # contender), each checked before any load.
  local cells=() url
  for scenario in "${SCENARIOS[@]}"; do
    for proto in "${PROTOCOLS[@]}"; do
      [[ $proto == h2c && $HAVE_H2LOAD == 0 ]] && continue
      [[ $scenario == 64k ]] && ! in_list "$proto" "${PROTOCOLS_64K[@]}" && continue
      for name in "${NAMES[@]}"; do
        [[ -n $(url_of "$name" "$proto") ]] || continue
        [[ $scenario == 64k && ${SMALL_ONLY[$name]} == 1 ]] && continue
        sanity_check "$name" "$scenario" "$proto"
        cells+=("$name|$scenario|$proto")
      done
    done
  done
  ((${#cells[@]})) || die "nothing to measure (check BENCH_SCENARIOS, BENCH_PROTOCOLS, BENCH_64K_PROTOCOLS)"
  log "all ${#cells[@]} contender/scenario/protocol cells answer 200 with the upstream's exact body; about $((${#cells[@]} * (WARMUP + ROUNDS * DURATION))) s of load follow"

  check_quiet before

  # Warm-up: JIT, connection pools, nginx worker caches. Not measured, but its errors are listed.
  declare -A RPS=() P50=() P99=() CONNS=() ERRS=() ERRN=() CPU=()
  local out rps lat errs n before after pid t0 t1
  for key in "${cells[@]}"; do
    IFS='|' read -r name scenario proto <<<"$key"
    log "warm-up $name $scenario $proto"
    url="$(url_of "$name" "$proto")$(scenario_path "$scenario")"
    out="$TMP/$name.$scenario.$proto.warmup.txt"
    IFS=$'\t' read -r n rps lat errs <<<"$(load_url "$proto" "$url" "$WARMUP" "$out")"
    if [[ -n $errs || $n != 0 ]]; then ERRS[$key]+="warm-up: $errs"$'\n'; fi
  done

  # Measured rounds, interleaved (A B C ..., A B C ..., ...) so drift on a shared machine hits all.
  local round
  for round in $(seq 1 "$ROUNDS"); do
    for key in "${cells[@]}"; do
      IFS='|' read -r name scenario proto <<<"$key"
      url="$(url_of "$name" "$proto")$(scenario_path "$scenario")"
      out="$TMP/$name.$scenario.$proto.round$round.txt"
      before=$(upstream_accepts)
      pid=${PID_H1[$name]:-}
      [[ $proto == h2c ]] && pid=${PID_H2[$name]:-}
      t0=""
      if [[ -n $pid ]]; then t0=$(cpu_ticks "$pid"); fi
      IFS=$'\t' read -r n rps lat errs <<<"$(load_url "$proto" "$url" "$DURATION" "$out")"
      after=$(upstream_accepts)
      if [[ -n $t0 ]]; then
        t1=$(cpu_ticks "$pid")
        if [[ -n $t1 ]]; then CPU[$key]+="$(cpu_per_request $((t1 - t0)) "$(requests_done "$proto" "$out")") "; fi
      fi
      RPS[$key]+="$rps "
      P99[$key]+="$lat;"
      if [[ $proto == h1 ]]; then P50[$key]+="$(wrk_percentile "$out" 50%) "; fi
      ERRN[$key]=$((${ERRN[$key]:-0} + n))
      # The status request we just made is one of the accepts counted: leave it out.
      if [[ -n $before && -n $after ]]; then CONNS[$key]+="$((after - before - 1)) "; fi
      if [[ -n $errs || $n != 0 ]]; then ERRS[$key]+="round $round: $errs"$'\n'; fi
      log "round $round $name $scenario $proto: $rps req/s, latency $lat${errs:+ — $errs}"
    done
  done

  check_quiet after
  for pid in "${RSS_PIDS[@]}" $UP_WORKER; do PEAK_RSS[$pid]=$(vm_mib "$pid" VmHWM); done

  # Medians per cell.
  declare -A MED_RPS=() MED_LAT=() MED_CONNS=() MED_CPU=() MED_P50=()
  for key in "${cells[@]}"; do
    IFS='|' read -r name scenario proto <<<"$key"
    summarize_key "$key" "$proto" P99
    # shellcheck disable=SC2086
    if [[ -n ${CPU[$key]:-} ]]; then MED_CPU[$key]=$(median ${CPU[$key]}); else MED_CPU[$key]="-"; fi
    # shellcheck disable=SC2086
    MED_P50[$key]=$(median_known ${P50[$key]:-})
    [[ ${MED_P50[$key]} == - ]] || MED_P50[$key]+=" ms"
  done

  # Ratio of cell A|scenario|proto to B|scenario|proto, "-" when either is missing.
  cell_ratio() { ratio "${MED_RPS[$1|$3|$4]:-0}" "${MED_RPS[$2|$3|$4]:-0}"; }
  # The binary's p99 against nginx's (the issue: no worse than 2x), HTTP/1.1 rows only: h2load
  # prints no percentiles. Prints nothing when either side is missing.
  p99_line() {
    local name=$1 ref=$2 scenario parts="" a b
    for scenario in "${SCENARIOS[@]}"; do
      a=${MED_LAT[$name|$scenario|h1]:-} b=${MED_LAT[$ref|$scenario|h1]:-}
      [[ $a == *" ms" && $b == *" ms" ]] || continue
      parts+=" $(scenario_label "$scenario") HTTP/1.1 ${a% ms} vs ${b% ms} ms ($(ratio "${a% ms}" "${b% ms}")x),"
    done
    [[ -n $parts ]] && echo "- ${LABEL[$name]} p99 / ${LABEL[$ref]} p99:${parts%,} (target: <= 2x)"
    return 0
  }

  # One line per comparison the performance issue sets a target for, over every measured cell.
  target_line() {
    local text=$1 a=$2 b=$3 target=$4 parts=() s p r
    for s in "${SCENARIOS[@]}"; do
      for p in h1 h2c; do
        [[ -n ${MED_RPS[$a|$s|$p]:-} && -n ${MED_RPS[$b|$s|$p]:-} ]] || continue
        r=$(cell_ratio "$a" "$b" "$s" "$p")
        parts+=("$(scenario_label "$s") $(proto_label "$p") ${r}$([[ $r == - ]] || echo x)")
      done
    done
    ((${#parts[@]})) || return 0
    local joined
    joined=$(printf '%s, ' "${parts[@]}")
    echo "- $text: ${joined%, } (target: $target)"
  }

  # The report.
  local date report any=0
  date=$(date +%F)
  mkdir -p bench/results
  report="bench/results/$date-proxy.md"
  for key in "${!ERRS[@]}"; do [[ -n ${ERRS[$key]} ]] && any=1; done
  finished=${EPOCHREALTIME//[.,]/}
  {
    echo "# Proxy benchmark, $date"
    echo
    echo "- contenders: ${NAMES[*]}"
    machine_header
    echo "- run time: $(((finished - started) / 1000000)) s (builds, start-ups, checks, ${#cells[@]} cells x (${WARMUP} s warm-up + $ROUNDS x ${DURATION} s))"
    if ((${#LEFT_OUT[@]})); then echo "- left out: ${LEFT_OUT[*]}"; fi
    echo
    echo "| contender | body | protocol | req/s (median) | p50 | p99 | CPU per request | ratio to direct | ratio to nginx-proxy | ratio to runtime peer | failed requests | upstream conns opened |"
    echo "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for scenario in "${SCENARIOS[@]}"; do
      for proto in h1 h2c; do
        for name in "${NAMES[@]}"; do
          key="$name|$scenario|$proto"
          [[ -n ${MED_RPS[$key]:-} ]] || continue
          local vs_peer="-"
          if [[ -n ${PEER[$name]} && -n ${MED_RPS[${PEER[$name]}|$scenario|$proto]:-} ]]; then
            vs_peer=$(cell_ratio "$name" "${PEER[$name]}" "$scenario" "$proto")
            [[ $vs_peer == - ]] || vs_peer+=" (${PEER[$name]})"
          fi
          printf '| %s | %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %s |\n' "${LABEL[$name]}" \
            "$(scenario_label "$scenario")" "$(proto_label "$proto")" "${MED_RPS[$key]}" "${MED_P50[$key]}" "${MED_LAT[$key]}" \
            "$([[ ${MED_CPU[$key]} == - ]] && echo - || echo "${MED_CPU[$key]} us")" \
            "$(cell_ratio "$name" direct "$scenario" "$proto")" "$(cell_ratio "$name" nginx-proxy "$scenario" "$proto")" \
            "$vs_peer" "${ERRN[$key]}" "${MED_CONNS[$key]}"
        done
      done
    done
    echo
    local targets
    targets=$(
      target_line "Sluice on Node / @fastify/http-proxy on Node" sluice-node fastify ">= 1.5x"
      target_line "Sluice on Bun / bare Bun.serve + fetch" sluice-bun bare-bun ">= 0.95x"
      target_line "Sluice binary / bare Bun.serve + fetch" sluice-binary bare-bun ">= 0.95x"
      target_line "Sluice binary / nginx reverse proxy" sluice-binary nginx-proxy ">= 0.8x"
      target_line "Sluice on Node, request-id + access log / plain route" sluice-logged sluice-node ">= 0.9x"
      p99_line sluice-binary nginx-proxy
    )
    if [[ -n $targets ]]; then
      echo "Against the performance issue's targets (same run; ratios of median req/s, and of wrk's p99):"
      echo
      echo "$targets"
      echo
    fi
    # The logged / plain ratio moves with the process; CPU time per request moves less.
    local cpu_line="" c
    for proto in h1 h2c; do
      c=$(ratio "${MED_CPU[sluice-node|100b|$proto]:-}" "${MED_CPU[sluice-logged|100b|$proto]:-}")
      [[ $c != - ]] && cpu_line+=" $(proto_label "$proto") ${c}x,"
    done
    if [[ -n $cpu_line ]]; then
      echo "The same logged / plain comparison by CPU time per request (plain's over logged's, medians):${cpu_line%,}."
      echo
    fi
    echo "p50 and p99 are wrk's 50th and 99th percentiles (medians of the rounds). h2load prints no percentiles:"
    echo "h2c rows show its mean ± sd time per request from the median round in the p99 column."
    echo "\"ratio to runtime peer\" compares the Node rows with @fastify/http-proxy and the Bun and binary"
    echo "rows with the bare Bun.serve + fetch proxy"
    echo "(same body and protocol). \"failed requests\" is the sum over the measured rounds of wrk's non-2xx/3xx"
    echo "responses and socket errors, or h2load's failed requests and 3xx. \"upstream conns opened\" is the"
    echo "upstream nginx's accepted-connection count during one run (median): for the direct rows it is the"
    echo "load generator's own connections; for a proxy it shows whether its upstream pool reuses connections."
    echo "\"CPU per request\" is the contender process's utime + stime over a run divided by the requests"
    echo "the load generator completed (median of the rounds; the nginx worker for nginx-proxy, none for"
    echo "direct); it moves less than req/s when something else takes CPU."
    echo
    echo "| contender | process | RSS before load | peak RSS (VmHWM) |"
    echo "|---|---|---:|---:|"
    for name in "${NAMES[@]}"; do
      if [[ $name == direct ]]; then
        [[ -n $UP_WORKER ]] && echo "| ${LABEL[$name]} | upstream nginx worker (serves every row) | ${IDLE_RSS[$UP_WORKER]} MiB | ${PEAK_RSS[$UP_WORKER]} MiB |"
      elif [[ $name == fastify ]]; then
        echo "| ${LABEL[$name]} | HTTP/1.1 process | ${IDLE_RSS[${PID_H1[$name]}]} MiB | ${PEAK_RSS[${PID_H1[$name]}]} MiB |"
        echo "| ${LABEL[$name]} | h2c process | ${IDLE_RSS[${PID_H2[$name]}]} MiB | ${PEAK_RSS[${PID_H2[$name]}]} MiB |"
      elif [[ $name == nginx-proxy ]]; then
        [[ -n ${PID_H1[$name]} ]] && echo "| ${LABEL[$name]} | nginx worker | ${IDLE_RSS[${PID_H1[$name]}]} MiB | ${PEAK_RSS[${PID_H1[$name]}]} MiB |"
      else
        echo "| ${LABEL[$name]} | the one process | ${IDLE_RSS[${PID_H1[$name]}]} MiB | ${PEAK_RSS[${PID_H1[$name]}]} MiB |"
      fi
    done
    echo
    echo "RSS before load is VmRSS from /proc 1 s after every contender was listening; peak RSS is VmHWM"
    echo "after all the runs (each Sluice process served every body and protocol it is measured on)."
    echo
    echo "Per-round req/s:"
    echo
    for key in "${cells[@]}"; do
      IFS='|' read -r name scenario proto <<<"$key"
      echo "- $name $scenario $proto: ${RPS[$key]% }"
    done
    echo
    report_errors "${cells[@]}"
    # Anything the processes logged on stderr besides their start-up line is worth a look.
    # (Read before clean-up, so the shutdown lines are not in it.)
    local f
    for f in "$TMP"/*.stderr; do
      report_stderr "Process $(basename "$f" .stderr)" "$f" 'listening on'
    done
  } >"$report"
  cat "$report"
  log "written to $report in $(((finished - started) / 1000000)) s"
  if [[ $any == 1 ]]; then
    BENCH_KEEP=1 # lib.sh's clean-up keeps $TMP: raw output for a look at the errors
    log "errors during the runs: see the report; raw output kept"
  fi
}

main "$@"
