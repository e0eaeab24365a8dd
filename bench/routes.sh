#!/usr/bin/env bash
# Route-table scale and hot reload under load: Sluice on Node proxying one route while the table
# around it has 10 or 10,000 routes, and while gateway.toml is rewritten every second, over
# HTTP/1.1 (wrk) and h2c (h2load). Same upstream, load and pinning as bench/proxy.sh.
#
#   bash bench/routes.sh
#   BENCH_ROUNDS=5 BENCH_DURATION=10 bash bench/routes.sh
#   BENCH_RELOAD_WRITE=inplace bash bench/routes.sh   # rewrite the file in place, not by rename
#   BENCH_KEEP=1 bash bench/routes.sh                  # keep the temp dir (configs, raw output, stderr)
#   BENCH_RUNTIME=bun bash bench/routes.sh             # Sluice on bun, binary or deno instead of node
#
# Four gateways (Sluice on BENCH_RUNTIME, node by default; lib.sh's target_command), each on its
# own generated gateway.toml
# (bench/route-table.ts: N-1 exact/prefix routes that never match the request path, then the
# plain proxy route `uri = "/*"` last in file order):
#   routes-10          10 routes
#   routes-10k         10,000 routes
#   reload-10          10 routes; during its runs gateway.toml is replaced every second,
#                      alternating two valid files (variants a and b) that both keep the hit route
#   reload-10k         the same with 10,000 routes (each reload parses and compiles the whole table)
# Every request is GET /api/v1/orders/12345/items (route-table.ts explains why that path).
#
# Prints a Markdown report on stdout and writes it to bench/results/<date>-routes.md (with
# BENCH_RELOAD_WRITE=inplace: <date>-routes-inplace.md); progress goes
# to stderr. Everything listens on 127.0.0.1 only, every load run is bounded by `timeout`, the
# reload loop by its own deadline, and every process this script starts is killed on exit.
# See bench/README.md.
set -euo pipefail

ROUNDS=${BENCH_ROUNDS:-3}
DURATION=${BENCH_DURATION:-5}   # seconds per measured run
WARMUP=${BENCH_WARMUP:-2}       # seconds of unmeasured load per contender and protocol
RELOAD_WRITE=${BENCH_RELOAD_WRITE:-rename}   # rename: write a temp file, mv over; inplace: cp over
RUNTIME=${BENCH_RUNTIME:-node}  # node, bun, binary or deno
H1_CONNS=50                     # wrk -c
H2_CONNS=10                     # h2load -c
H2_STREAMS=10                   # h2load -m
RUN_TIMEOUT=$((DURATION + 25))  # hard cap on one load-generator run
SMALL=10
LARGE=10000

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $RELOAD_WRITE == rename || $RELOAD_WRITE == inplace ]] || die "BENCH_RELOAD_WRITE must be rename or inplace"
[[ " node bun binary deno " == *" $RUNTIME "* ]] || die "BENCH_RUNTIME must be node, bun, binary or deno"
REQUEST_PATH=/api/v1/orders/12345/items   # route-table.ts's REQUEST_PATH (checked below)

# The contenders, in the order of the table and of every round.
NAMES=(routes-10 routes-10k reload-10 reload-10k)
declare -A ROUTES=([routes-10]=$SMALL [routes-10k]=$LARGE [reload-10]=$SMALL [reload-10k]=$LARGE)
declare -A RELOADS=([routes-10]=0 [routes-10k]=0 [reload-10]=1 [reload-10k]=1)
# The no-reload contender each one is compared with.
declare -A BASELINE=([routes-10]=routes-10 [routes-10k]=routes-10 [reload-10]=routes-10 [reload-10k]=routes-10k)
declare -A PORT=() GPID=() START_MS=() IDLE_RSS=() PEAK_RSS=()

# Each gateway reads $TMP/NAME/gateway.toml (its own directory: the reloader watches the directory).
# Variants a and b of the same size are written up front; the reload loop copies them over.
write_tables() {
  local name variant
  for name in "${NAMES[@]}"; do
    mkdir -p "$TMP/$name"
    for variant in a b; do
      if [[ ! -f $TMP/table-${ROUTES[$name]}-$variant.toml ]]; then
        node --import tsx bench/route-table.ts "${ROUTES[$name]}" "$UP_H1" "$variant" \
          >"$TMP/table-${ROUTES[$name]}-$variant.toml" || die "bench/route-table.ts failed"
      fi
    done
    cp "$TMP/table-${ROUTES[$name]}-a.toml" "$TMP/$name/gateway.toml"
  done
  grep -q "only the last one matches $REQUEST_PATH\\.\$" "$TMP/table-$SMALL-a.toml" ||
    die "REQUEST_PATH differs from bench/route-table.ts's"
  log "route tables: $SMALL routes $(stat -c %s "$TMP/table-$SMALL-a.toml") bytes, $LARGE routes $(stat -c %s "$TMP/table-$LARGE-a.toml") bytes"
}

# The reload loop: every second (the first time at once) replaces DIR/gateway.toml with the variant
# it does not hold now (a -> b -> a ...), until it is killed or SECONDS_MAX have passed. rename: the new text goes to a
# temp file in the same directory (a name the reloader ignores) and `mv` replaces gateway.toml
# atomically (editors, Kubernetes, config-management tools); inplace: `cp` truncates and rewrites
# gateway.toml (what the reloader's settle-read exists for).
cat >"$TMP/reload-loop.sh" <<'EOF'
# Usage: bash reload-loop.sh DIR TABLE_A TABLE_B SECONDS_MAX rename|inplace
dir=$1 a=$2 b=$3 max=$4 mode=$5
end=$((SECONDS + max))
while ((SECONDS < end)); do
  if cmp -s "$a" "$dir/gateway.toml"; then src=$b; else src=$a; fi
  if [[ $mode == rename ]]; then
    cp "$src" "$dir/.gateway.toml.next" && mv -f "$dir/.gateway.toml.next" "$dir/gateway.toml"
  else
    cp "$src" "$dir/gateway.toml"
  fi
  sleep 1
done
EOF

RELOAD_PID=""
start_reload_loop() {
  local name=$1 seconds=$2
  "${PIN_LOAD[@]}" bash "$TMP/reload-loop.sh" "$TMP/$name" "$TMP/table-${ROUTES[$name]}-a.toml" \
    "$TMP/table-${ROUTES[$name]}-b.toml" "$((seconds + 5))" "$RELOAD_WRITE" &
  RELOAD_PID=$!
  PIDS+=("$RELOAD_PID")
}
stop_reload_loop() {
  [[ -n $RELOAD_PID ]] || return 0
  kill -TERM "$RELOAD_PID" 2>/dev/null || true
  wait "$RELOAD_PID" 2>/dev/null || true
  local keep=() p
  for p in "${PIDS[@]}"; do [[ $p == "$RELOAD_PID" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
  RELOAD_PID=""
}

# Reloads the gateway NAME has logged so far: applied, and rejected or failed (must stay 0).
reloads_done() { grep -c 'config reloaded' "$TMP/$1.stderr" || true; }
reloads_bad() { grep -Ec 'config reload \(.*\) (rejected|failed)' "$TMP/$1.stderr" || true; }

# Each contender must answer 200 with the upstream body over each protocol, and have loaded the
# table it is labelled with ("N routes" in its start-up line).
sanity_check() {
  local name=$1 proto flags got
  grep -q ": ${ROUTES[$name]} routes from " "$TMP/$name.stderr" ||
    die "$name: expected ${ROUTES[$name]} routes, start-up line: $(grep 'listening on' "$TMP/$name.stderr")"
  for proto in h1 h2c; do
    [[ $proto == h2c && $HAVE_H2LOAD == 0 ]] && continue
    flags=(--http1.1)
    [[ $proto == h2c ]] && flags=(--http2-prior-knowledge)
    got=$(curl -s --max-time 5 "${flags[@]}" -o "$TMP/check.body" -w '%{http_code}' \
      "http://127.0.0.1:${PORT[$name]}$REQUEST_PATH" || true)
    if [[ $got != 200 ]] || [[ "$(cat "$TMP/check.body" 2>/dev/null)" != "$BODY" ]]; then
      die "$name over $proto: expected 200 with the upstream body, got '$got' (body: $(head -c 200 "$TMP/check.body" 2>/dev/null))"
    fi
  done
}

# One load run: NAME PROTO SECONDS OUT; prints "error_count rps latency errors_text" (tab-separated).
load_run() {
  load_url "$2" "http://127.0.0.1:${PORT[$1]}$REQUEST_PATH" "$3" "$4"
}

runtime_version() {
  case $RUNTIME in
    node) echo "node $(node -v) (\`node dist/src/cli.js\`)" ;;
    bun) echo "bun $("$BUN" --version) (\`bun src/cli.ts\`)" ;;
    binary) echo "the single executable dist/sluice (\`bun build --compile\`, bun $("$BUN" --version))" ;;
    deno) echo "$("$DENO" --version | head -1) (\`deno run -A src/cli.ts\`)" ;;
  esac
}

machine_header() {
  local cpu reload_how='writing a temp file and `mv` over it (atomic rename)'
  [[ $RELOAD_WRITE == inplace ]] && reload_how='`cp` over it (truncate + write in place)'
  cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //' || echo unknown)
  echo "- machine: $(nproc) CPUs, $cpu, Linux $(uname -r)"
  echo "- runtime: $(runtime_version), sluice $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (src has uncommitted changes)')"
  echo "- upstream: $UPSTREAM_KIND, fixed ${#BODY}-byte body; pinning: $PINNING (all four gateways on CPU 0; only the one under load is busy)"
  quiet_note
  echo "- route tables: bench/route-table.ts, every request \`GET $REQUEST_PATH\`, answered by the last route (\`uri = \"/*\"\`, \`[routes.upstream]\`); \`access_log = false\`"
  echo "- reload: during the reload rows' runs (warm-up included) gateway.toml is replaced every second, alternating two valid variants of the same size, by $reload_how; no reload loop runs during the other rows"
  echo "- load: HTTP/1.1 \`wrk -t1 -c$H1_CONNS -d${DURATION}s --latency\` ($(wrk -v 2>&1 | head -1 | awk '{print $2}')); h2c \`h2load -c$H2_CONNS -m$H2_STREAMS -D$DURATION\` ($(h2load --version 2>/dev/null | awk '{print $2}' || echo none)); $ROUNDS interleaved rounds after ${WARMUP}s warm-up each; medians shown"
}

# ---------------------------------------------------------------------------------------------
# Main.
# ---------------------------------------------------------------------------------------------
main() {
  local started finished name proto
  started=${EPOCHREALTIME//[.,]/}
  ensure_tools
  setup_pinning
  log "building the gateway (npm run build)"
  npm run build >&2 || die "npm run build failed"
  if [[ $RUNTIME == binary ]]; then
    log "compiling the single executable (npm run compile)"
    npm run compile >&2 || die "npm run compile failed"
  fi
  start_upstream
  write_tables

  for name in "${NAMES[@]}"; do
    target_command "$RUNTIME" "$TMP/$name/gateway.toml"
    start_gateway "sluice $name" "$TMP/$name.stderr" "${CMD[@]}"
    PORT[$name]=$STARTED_PORT
    GPID[$name]=$STARTED_PID
    START_MS[$name]=$STARTED_MS
  done
  sleep 1
  for name in "${NAMES[@]}"; do IDLE_RSS[$name]=$(vm_mib "${GPID[$name]}" VmRSS); done
  for name in "${NAMES[@]}"; do sanity_check "$name"; done
  log "all contenders answer 200 with the upstream body"

  local protos=(h1)
  [[ $HAVE_H2LOAD == 1 ]] && protos+=(h2c)

  declare -A RPS=() LAT=() ERRN=() ERRS=() CONNS=() RELOADED=() BAD=()
  local round out n rps lat errs before after r0 r1 key

  # One load run of NAME over PROTO (the reload loop around it for the reload rows); records
  # failed requests and reloads. measure NAME PROTO SECONDS OUT LABEL(warm-up|round N)
  measure() {
    local name=$1 proto=$2 seconds=$3 out=$4 label=$5 b0 b1
    key="$name|$proto"
    r0=$(reloads_done "$name")
    b0=$(reloads_bad "$name")
    before=$(upstream_accepts)
    [[ ${RELOADS[$name]} == 1 ]] && start_reload_loop "$name" "$seconds"
    IFS=$'\t' read -r n rps lat errs <<<"$(load_run "$name" "$proto" "$seconds" "$out")"
    stop_reload_loop
    after=$(upstream_accepts)
    r1=$(reloads_done "$name")
    b1=$(reloads_bad "$name")
    if ((b1 > b0)); then errs+="$((b1 - b0)) reload(s) rejected or failed to compile; "; fi
    if [[ ${RELOADS[$name]} == 1 && $r1 == "$r0" ]]; then errs+="no reload happened during the run; "; fi
    if [[ -n $errs || $n != 0 ]]; then ERRS[$key]+="$label: $errs"$'\n'; fi
    ERRN[$key]=$((${ERRN[$key]:-0} + n))
    log "$label $proto $name: $rps req/s, latency $lat, $((r1 - r0)) reloads${errs:+ — $errs}"
  }

  check_quiet before

  # Warm-up: JIT, pools, and for the reload rows the first reloads. Not measured, errors counted.
  for proto in "${protos[@]}"; do
    for name in "${NAMES[@]}"; do
      measure "$name" "$proto" "$WARMUP" "$TMP/$name.$proto.warmup.txt" warm-up
    done
  done

  # Measured rounds, interleaved so drift on a shared machine hits every contender alike.
  for round in $(seq 1 "$ROUNDS"); do
    for proto in "${protos[@]}"; do
      for name in "${NAMES[@]}"; do
        measure "$name" "$proto" "$DURATION" "$TMP/$name.$proto.round$round.txt" "round $round"
        RPS[$key]+="$rps "
        LAT[$key]+="$lat;"
        RELOADED[$key]+="$((r1 - r0)) "
        if [[ -n $before && -n $after ]]; then CONNS[$key]+="$((after - before - 1)) "; fi
      done
    done
  done
  for name in "${NAMES[@]}"; do PEAK_RSS[$name]=$(vm_mib "${GPID[$name]}" VmHWM); done
  check_quiet after

  # Medians.
  declare -A MED_RPS=() MED_LAT=() MED_CONNS=() MED_RELOADS=()
  for proto in "${protos[@]}"; do
    for name in "${NAMES[@]}"; do
      key="$name|$proto"
      summarize_key "$key" "$proto" LAT
      # shellcheck disable=SC2086
      MED_RELOADS[$key]=$(median ${RELOADED[$key]})
    done
  done

  # The report.
  local date report pname any=0
  date=$(date +%F)
  mkdir -p bench/results
  report="bench/results/$date-routes"
  [[ $RUNTIME == node ]] || report+="-$RUNTIME"
  [[ $RELOAD_WRITE == inplace ]] && report+="-inplace"
  report+=.md
  {
    echo "# Route-table scale and reload benchmark, $date ($RUNTIME)"
    echo
    machine_header
    echo
    echo "| contender | routes | reload every 1 s | protocol | req/s (median) | p99 | ratio to baseline | failed requests | reloads per run | upstream conns opened |"
    echo "|---|---:|---|---|---:|---:|---:|---:|---:|---:|"
    for proto in "${protos[@]}"; do
      pname=$([[ $proto == h1 ]] && echo HTTP/1.1 || echo h2c)
      for name in "${NAMES[@]}"; do
        key="$name|$proto"
        printf '| %s | %s | %s | %s | %.0f | %s | %s | %s | %s | %s |\n' "$name" "${ROUTES[$name]}" \
          "$([[ ${RELOADS[$name]} == 1 ]] && echo yes || echo no)" "$pname" "${MED_RPS[$key]}" "${MED_LAT[$key]}" \
          "$(ratio "${MED_RPS[$key]}" "${MED_RPS[${BASELINE[$name]}|$proto]:-0}") (vs ${BASELINE[$name]})" \
          "${ERRN[$key]}" "${MED_RELOADS[$key]}" "${MED_CONNS[$key]}"
      done
    done
    echo
    for proto in "${protos[@]}"; do
      pname=$([[ $proto == h1 ]] && echo HTTP/1.1 || echo h2c)
      echo "- $pname: $LARGE routes / $SMALL routes = $(ratio "${MED_RPS[routes-10k|$proto]}" "${MED_RPS[routes-10|$proto]}") (target: >= 0.95);" \
        "reload every 1 s / no reload = $(ratio "${MED_RPS[reload-10|$proto]}" "${MED_RPS[routes-10|$proto]}") ($SMALL routes)," \
        "$(ratio "${MED_RPS[reload-10k|$proto]}" "${MED_RPS[routes-10k|$proto]}") ($LARGE routes, every route changing) (target: >= 0.9 with 0 failed requests)"
    done
    echo
    echo "p99 is wrk's 99th percentile (median of the rounds). h2load prints no percentiles: h2c rows show"
    echo "its mean ± sd time per request from the median round. \"failed requests\" is the sum over the"
    echo "measured rounds of wrk's non-2xx/3xx responses and socket errors, or h2load's failed requests and"
    echo "3xx (must be 0). \"reloads per run\" is how many \"config reloaded\" lines the gateway logged during"
    echo "one run (median). \"upstream conns opened\": the upstream nginx's accepted connections during one"
    echo "run (median); a reload keeps the pool (it belongs to the process, not the snapshot)."
    echo
    echo "| contender | routes | start-up to listening | idle RSS | peak RSS after the runs |"
    echo "|---|---:|---:|---:|---:|"
    for name in "${NAMES[@]}"; do
      echo "| $name | ${ROUTES[$name]} | ${START_MS[$name]} ms | ${IDLE_RSS[$name]} MiB | ${PEAK_RSS[$name]} MiB |"
    done
    echo
    echo "Start-up is from spawn until the \"listening on\" line (polled every 0.1 s; load, validate, compile,"
    echo "listen). Idle RSS: VmRSS 1 s after all four listen, before any request; peak: VmHWM after all runs."
    echo
    echo "Per-round req/s (reloads in that run):"
    echo
    for proto in "${protos[@]}"; do
      for name in "${NAMES[@]}"; do
        key="$name|$proto"
        echo "- $name $proto: ${RPS[$key]% } (${RELOADED[$key]% })"
      done
    done
    echo
    for key in "${!ERRS[@]}"; do [[ -n ${ERRS[$key]} ]] && any=1; done
    if [[ $any == 1 ]]; then
      echo "Errors (warm-up and measured runs; any failed request through Sluice is a bug):"
      echo
      for proto in "${protos[@]}"; do
        for name in "${NAMES[@]}"; do
          key="$name|$proto"
          [[ -n ${ERRS[$key]:-} ]] || continue
          while IFS= read -r line; do [[ -n $line ]] && echo "- $name $proto $line"; done <<<"${ERRS[$key]}"
        done
      done
    else
      echo "Errors: none (warm-up and measured runs: no non-2xx responses, no socket errors, no failed h2"
      echo "streams, no rejected reload)."
    fi
    # Anything the gateways logged on stderr besides start-up and reload lines is worth a look.
    for name in "${NAMES[@]}"; do
      report_stderr "Contender $name" "$TMP/$name.stderr" 'listening on|config reloaded'
    done
  } >"$report"
  cat "$report"
  finished=${EPOCHREALTIME//[.,]/}
  log "written to $report in $(((finished - started) / 1000000)) s"
  if [[ $any == 1 ]]; then
    BENCH_KEEP=1 # lib.sh's clean-up keeps $TMP: configs and raw output for the repro
    log "failures: see the report; raw output kept"
  fi
}

main "$@"
