#!/usr/bin/env bash
# Upstream clients on Node, side by side: the same minimal node:http reverse proxy
# (bench/client-proxy.mjs) with Sluice's pooled socket client, undici (Pool.request, Pool.stream,
# pipelining), a node:http keep-alive Agent and Node's global fetch behind it, over HTTP/1.1 with a
# 100-byte and a 64 KiB upstream body. The performance issue asks for these alternatives to be
# measured before concluding on a target; this is where that is done for Node.
#
#   bash bench/clients.sh
#   BENCH_ROUNDS=5 BENCH_DURATION=10 bash bench/clients.sh
#   BENCH_CLIENTS="socket undici-stream" bash bench/clients.sh     # a subset
#
# Same upstream (nginx), pinning and load generator (wrk) as bench/proxy.sh; rounds interleaved.
# Besides req/s, it reports the proxy process's CPU time per request (utime + stime from
# /proc/<pid>/stat around each run), which moves less than req/s on a shared machine.
# Prints a Markdown report on stdout and writes it to bench/results/<date>-clients.md; progress
# goes to stderr. Everything listens on 127.0.0.1 only, every load run is bounded by `timeout`,
# and every process this script starts is killed on exit. See bench/README.md.
set -euo pipefail

ROUNDS=${BENCH_ROUNDS:-3}
DURATION=${BENCH_DURATION:-5}   # seconds per measured run
WARMUP=${BENCH_WARMUP:-2}       # seconds of unmeasured load per client and body
H1_CONNS=50                     # wrk -c
H2_CONNS=10                     # (unused: HTTP/1.1 only; lib.sh expects them)
H2_STREAMS=10
RUN_TIMEOUT=$((DURATION + 25))  # hard cap on one load-generator run

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ALL_CLIENTS=(socket undici-request undici-stream undici-pipelining http-agent fetch)
read -r -a CLIENTS <<<"${BENCH_CLIENTS:-${ALL_CLIENTS[*]}}"
for c in "${CLIENTS[@]}"; do
  [[ " ${ALL_CLIENTS[*]} " == *" $c "* ]] || die "unknown client '$c' in BENCH_CLIENTS (known: ${ALL_CLIENTS[*]})"
done
declare -A LABEL=(
  [socket]="Sluice's socket client (src/adapters/socket-client)"
  [undici-request]="undici Pool.request, 64 connections"
  [undici-stream]="undici Pool.stream, 64 connections"
  [undici-pipelining]="undici Pool.request, 8 connections, pipelining 8"
  [http-agent]="node:http.request, keep-alive Agent (64 sockets)"
  [fetch]="Node's global fetch"
)
BODIES=(100b 64k)
declare -A PORT=() GPID=()

path_of() { [[ $1 == 64k ]] && echo "$BIG_PATH" || echo /; }


main() {
  local started finished name body round key out n rps lat errs t0 t1 total
  started=${EPOCHREALTIME//[.,]/}
  ensure_tools
  setup_pinning
  log "building (npm run build): the socket client comes from dist/"
  npm run build >&2 || die "npm run build failed"
  [[ -f node_modules/undici/package.json ]] || die "undici is missing from node_modules (npm ci)"
  start_upstream

  for name in "${CLIENTS[@]}"; do
    start_gateway "client-proxy $name" "$TMP/$name.stderr" node bench/client-proxy.mjs "$name" "$UP_H1"
    PORT[$name]=$STARTED_PORT
    GPID[$name]=$STARTED_PID
  done
  # Every client must hand back the upstream's exact body.
  for name in "${CLIENTS[@]}"; do
    for body in "${BODIES[@]}"; do
      curl -s --max-time 5 -o "$TMP/check.body" "http://127.0.0.1:${PORT[$name]}$(path_of "$body")" || true
      if [[ $body == 100b ]]; then
        [[ "$(cat "$TMP/check.body")" == "$BODY" ]] || die "$name: wrong 100-byte body"
      else
        cmp -s "$TMP/check.body" "$BIG_BODY_FILE" || die "$name: wrong 64 KiB body"
      fi
    done
  done
  log "every client answers with the upstream's exact bodies"
  check_quiet before

  declare -A RPS=() LAT=() CPU=() ERRN=() ERRS=()
  for body in "${BODIES[@]}"; do
    for name in "${CLIENTS[@]}"; do
      load_url h1 "http://127.0.0.1:${PORT[$name]}$(path_of "$body")" "$WARMUP" "$TMP/$name.$body.warmup.txt" >/dev/null
    done
  done
  for round in $(seq 1 "$ROUNDS"); do
    for body in "${BODIES[@]}"; do
      for name in "${CLIENTS[@]}"; do
        key="$name|$body"
        out="$TMP/$name.$body.round$round.txt"
        t0=$(cpu_ticks "${GPID[$name]}")
        IFS=$'\t' read -r n rps lat errs <<<"$(load_url h1 "http://127.0.0.1:${PORT[$name]}$(path_of "$body")" "$DURATION" "$out")"
        t1=$(cpu_ticks "${GPID[$name]}")
        total=$(requests_done h1 "$out")
        RPS[$key]+="$rps "
        LAT[$key]+="$lat;"
        CPU[$key]+="$(cpu_per_request $((t1 - t0)) "${total:-0}") "
        ERRN[$key]=$((${ERRN[$key]:-0} + n))
        if [[ -n $errs || $n != 0 ]]; then ERRS[$key]+="round $round: $errs"$'\n'; fi
        log "round $round $name $body: $rps req/s, p99 $lat ms, $(echo "${CPU[$key]}" | awk '{print $NF}') us CPU per request${errs:+ — $errs}"
      done
    done
  done
  check_quiet after

  declare -A MED_RPS=() MED_LAT=() MED_CONNS=() MED_CPU=()
  declare -A CONNS=()
  for body in "${BODIES[@]}"; do
    for name in "${CLIENTS[@]}"; do
      key="$name|$body"
      summarize_key "$key" h1 LAT
      # shellcheck disable=SC2086
      MED_CPU[$key]=$(median ${CPU[$key]})
    done
  done

  local date report base
  date=$(date +%F)
  mkdir -p bench/results
  report="bench/results/$date-clients.md"
  base=socket
  [[ " ${CLIENTS[*]} " == *" socket "* ]] || base=${CLIENTS[0]}
  {
    echo "# Upstream clients on Node, $date"
    echo
    echo "- machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //' || echo unknown), Linux $(uname -r)"
    echo "- node $(node -v), undici $(node -p 'require("undici/package.json").version'), sluice $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (src has uncommitted changes)')"
    echo "- every row: \`node bench/client-proxy.mjs CLIENT\`, one process, a node:http server forwarding GET to the upstream with that client (hop-by-hop headers dropped, Host set, status, headers and body copied back)"
    echo "- upstream: $UPSTREAM_KIND, a fixed ${#BODY}-byte body on \`/\` and a 64 KiB file on \`$BIG_PATH\`; pinning: $PINNING"
    quiet_note
    echo "- load: HTTP/1.1 \`wrk -t1 -c$H1_CONNS -d${DURATION}s --latency\`; $ROUNDS interleaved rounds after ${WARMUP}s warm-up each; medians shown"
    echo
    echo "| client | body | req/s (median) | p99 | CPU per request | ratio to $base (req/s) | failed requests |"
    echo "|---|---|---:|---:|---:|---:|---:|"
    for body in "${BODIES[@]}"; do
      for name in "${CLIENTS[@]}"; do
        key="$name|$body"
        printf '| %s | %s | %.0f | %s | %s us | %s | %s |\n' "${LABEL[$name]}" "$([[ $body == 64k ]] && echo "64 KiB" || echo "100 B")" \
          "${MED_RPS[$key]}" "${MED_LAT[$key]}" "${MED_CPU[$key]}" "$(ratio "${MED_RPS[$key]}" "${MED_RPS[$base|$body]}")" "${ERRN[$key]}"
      done
    done
    echo
    echo "CPU per request: the proxy process's utime + stime over the run divided by the requests wrk"
    echo "completed (median of the rounds). The server half (node:http) is the same in every row, so"
    echo "differences between rows are the clients'. Sluice itself serves HTTP/1.1 from the socket"
    echo "(src/adapters/node/h1-connection.ts), which costs less than node:http's server."
    echo
    echo "Per-round req/s (CPU us per request):"
    echo
    for body in "${BODIES[@]}"; do
      for name in "${CLIENTS[@]}"; do
        key="$name|$body"
        echo "- $name $body: ${RPS[$key]% } (${CPU[$key]% })"
      done
    done
    echo
    local keys=()
    for body in "${BODIES[@]}"; do for name in "${CLIENTS[@]}"; do keys+=("$name|$body"); done; done
    report_errors "${keys[@]}"
    for name in "${CLIENTS[@]}"; do
      report_stderr "client-proxy $name" "$TMP/$name.stderr" 'listening on'
    done
  } >"$report"
  cat "$report"
  finished=${EPOCHREALTIME//[.,]/}
  log "written to $report in $(((finished - started) / 1000000)) s"
}

main "$@"
