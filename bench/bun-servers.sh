#!/usr/bin/env bash
# Ways to serve HTTP on Bun, side by side: what a Sluice HTTP/1.1 server of its own on Bun could
# gain, and what sharing one port with Bun.serve's h2c would cost. The performance issue asks
# Sluice on Bun for >= 0.95x a bare Bun.serve + fetch proxy; HTTP/1.1 stays at ~0.83x, and the
# profile's biggest items are Bun.serve's own (Request/Response objects, a getpeername per
# request for X-Forwarded-For, the request signal). This measures the alternatives:
#
#   hello-serve        Bun.serve({ http2: true }) answering 100 bytes (bench/bun-hello.ts serve)
#   hello-listen       a minimal HTTP/1.1 responder on Bun.listen, same answer (... listen)
#   bare-bun           the peer: Bun.serve + Bun's fetch to the upstream (bench/bun-fetch-proxy.ts)
#   sluice-bun         Sluice on Bun as shipped (Bun.serve for HTTP/1.1 and h2c)
#   sluice-bun-node    Sluice on Bun through its Node adapter (SLUICE_ADAPTER=node): node:net with
#                      Sluice's own HTTP/1.1 server, h2c through Bun's node:http2
#   sluice-bun-relay   h2c only: a Bun.listen byte relay (bench/bun-relay.ts) in front of
#                      sluice-bun, the one way a Bun.listen HTTP/1.1 server could hand h2c
#                      connections to Bun.serve (which cannot adopt an accepted socket); its CPU
#                      per request is the relay's and Sluice's together
#
#   bash bench/bun-servers.sh
#   BENCH_ROUNDS=5 BENCH_DURATION=10 bash bench/bun-servers.sh
#
# Same upstream (nginx), pinning and load generators as bench/proxy.sh; rounds interleaved;
# req/s and the server's CPU time per request (utime + stime around each run). Prints a Markdown
# report and writes it to bench/results/<date>-bun-servers.md. Loopback only, every load run
# bounded by `timeout`, every process killed on exit. See bench/README.md.
set -euo pipefail

ROUNDS=${BENCH_ROUNDS:-3}
DURATION=${BENCH_DURATION:-5}
WARMUP=${BENCH_WARMUP:-2}
H1_CONNS=50
H2_CONNS=10
H2_STREAMS=10
RUN_TIMEOUT=$((DURATION + 25))

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NAMES=(hello-serve hello-listen bare-bun sluice-bun sluice-bun-node sluice-bun-relay)
declare -A LABEL=(
  [hello-serve]="Bun.serve answering 100 bytes (no proxying)"
  [hello-listen]="minimal HTTP/1.1 on Bun.listen answering 100 bytes (no proxying)"
  [bare-bun]="bare Bun.serve + fetch proxy (peer)"
  [sluice-bun]="Sluice on Bun as shipped (Bun.serve)"
  [sluice-bun-node]="Sluice on Bun, Node adapter (node:net + own HTTP/1.1; node:http2 for h2c)"
  [sluice-bun-relay]="Bun.listen relay in front of Sluice on Bun (h2c handed over)"
)
declare -A PROTOS=(
  [hello-serve]="h1" [hello-listen]="h1" [bare-bun]="h1 h2c" [sluice-bun]="h1 h2c"
  [sluice-bun-node]="h1 h2c" [sluice-bun-relay]="h2c"
)
declare -A PORT=() GPID=() EXTRA_PID=()

# CPU ticks of a row's server so far: its process and, for the relay row, the Sluice behind it.
server_ticks() {
  local ticks
  ticks=$(cpu_ticks "${GPID[$1]}")
  [[ -n ${EXTRA_PID[$1]:-} ]] && ticks=$((ticks + $(cpu_ticks "${EXTRA_PID[$1]}")))
  echo "$ticks"
}

main() {
  local started finished name proto round key out n rps lat errs t0 t1 total conf
  started=${EPOCHREALTIME//[.,]/}
  ensure_tools
  setup_pinning
  [[ -x $BUN ]] || die "bun is missing ($BUN): npm ci"
  start_upstream
  conf="$TMP/gateway.toml"
  printf '[server]\nlisten = ["127.0.0.1:0"]\naccess_log = false\n\n[[routes]]\nuri = "/*"\n[routes.upstream]\nnodes = { "127.0.0.1:%s" = 1 }\n' \
    "$UP_H1" >"$conf"

  start_gateway hello-serve "$TMP/hello-serve.stderr" "$BUN" bench/bun-hello.ts serve
  PORT[hello-serve]=$STARTED_PORT GPID[hello-serve]=$STARTED_PID
  start_gateway hello-listen "$TMP/hello-listen.stderr" "$BUN" bench/bun-hello.ts listen
  PORT[hello-listen]=$STARTED_PORT GPID[hello-listen]=$STARTED_PID
  start_gateway bare-bun "$TMP/bare-bun.stderr" "$BUN" bench/bun-fetch-proxy.ts "$UP_H1"
  PORT[bare-bun]=$STARTED_PORT GPID[bare-bun]=$STARTED_PID
  start_gateway sluice-bun "$TMP/sluice-bun.stderr" "$BUN" src/cli.ts run --config "$conf"
  PORT[sluice-bun]=$STARTED_PORT GPID[sluice-bun]=$STARTED_PID
  start_gateway sluice-bun-node "$TMP/sluice-bun-node.stderr" env SLUICE_ADAPTER=node "$BUN" src/cli.ts run --config "$conf"
  PORT[sluice-bun-node]=$STARTED_PORT GPID[sluice-bun-node]=$STARTED_PID
  start_gateway sluice-bun-relay "$TMP/sluice-bun-relay.stderr" "$BUN" bench/bun-relay.ts "${PORT[sluice-bun]}"
  PORT[sluice-bun-relay]=$STARTED_PORT GPID[sluice-bun-relay]=$STARTED_PID
  EXTRA_PID[sluice-bun-relay]=${GPID[sluice-bun]}

  # Every row answers with the upstream's (or the hello) body, over each protocol it is measured on.
  for name in "${NAMES[@]}"; do
    for proto in ${PROTOS[$name]}; do
      local flag=--http1.1
      [[ $proto == h2c ]] && flag=--http2-prior-knowledge
      curl -s --max-time 5 $flag -o "$TMP/check.body" "http://127.0.0.1:${PORT[$name]}/" || true
      if [[ $name == hello-* ]]; then
        [[ $(wc -c <"$TMP/check.body") == 100 ]] || die "$name: no 100-byte answer over $proto"
      else
        [[ "$(cat "$TMP/check.body")" == "$BODY" ]] || die "$name: wrong body over $proto"
      fi
    done
  done
  log "every server answers over the protocols it is measured on"
  check_quiet before

  declare -A RPS=() LAT=() CPU=() ERRN=() ERRS=() CONNS=()
  for name in "${NAMES[@]}"; do
    for proto in ${PROTOS[$name]}; do
      load_url "$proto" "http://127.0.0.1:${PORT[$name]}/" "$WARMUP" "$TMP/$name.$proto.warmup.txt" >/dev/null
    done
  done
  for round in $(seq 1 "$ROUNDS"); do
    for proto in h1 h2c; do
      for name in "${NAMES[@]}"; do
        [[ " ${PROTOS[$name]} " == *" $proto "* ]] || continue
        key="$name|$proto"
        out="$TMP/$name.$proto.round$round.txt"
        t0=$(server_ticks "$name")
        IFS=$'\t' read -r n rps lat errs <<<"$(load_url "$proto" "http://127.0.0.1:${PORT[$name]}/" "$DURATION" "$out")"
        t1=$(server_ticks "$name")
        total=$(requests_done "$proto" "$out")
        RPS[$key]+="$rps "
        LAT[$key]+="$lat;"
        CPU[$key]+="$(cpu_per_request $((t1 - t0)) "${total:-0}") "
        ERRN[$key]=$((${ERRN[$key]:-0} + n))
        if [[ -n $errs || $n != 0 ]]; then ERRS[$key]+="round $round: $errs"$'\n'; fi
        log "round $round $name $proto: $rps req/s, $(echo "${CPU[$key]}" | awk '{print $NF}') us CPU per request${errs:+ — $errs}"
      done
    done
  done
  check_quiet after

  declare -A MED_RPS=() MED_LAT=() MED_CONNS=() MED_CPU=()
  local keys=()
  for proto in h1 h2c; do
    for name in "${NAMES[@]}"; do
      [[ " ${PROTOS[$name]} " == *" $proto "* ]] || continue
      key="$name|$proto"
      keys+=("$key")
      summarize_key "$key" "$proto" LAT
      # shellcheck disable=SC2086
      MED_CPU[$key]=$(median ${CPU[$key]})
    done
  done

  local date report peer
  date=$(date +%F)
  mkdir -p bench/results
  report="bench/results/$date-bun-servers.md"
  {
    echo "# Ways to serve HTTP on Bun, $date"
    echo
    echo "- machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //' || echo unknown), Linux $(uname -r)"
    echo "- bun $("$BUN" --version), sluice $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (src has uncommitted changes)')"
    echo "- Sluice rows: \`uri = \"/*\"\` to the upstream, \`access_log = false\`, the pooled Bun.connect upstream client"
    echo "- upstream: $UPSTREAM_KIND, a fixed ${#BODY}-byte body; pinning: $PINNING (the relay and the Sluice behind it both on the proxy's CPU)"
    quiet_note
    echo "- load: HTTP/1.1 \`wrk -t1 -c$H1_CONNS -d${DURATION}s --latency\`; h2c \`h2load -c$H2_CONNS -m$H2_STREAMS -D$DURATION\`; $ROUNDS interleaved rounds after ${WARMUP}s warm-up each; medians shown"
    echo
    echo "| server | protocol | req/s (median) | p99 | CPU per request | ratio to the bare Bun proxy (req/s) | failed requests |"
    echo "|---|---|---:|---:|---:|---:|---:|"
    for key in "${keys[@]}"; do
      name=${key%|*} proto=${key#*|}
      peer="bare-bun|$proto"
      printf '| %s | %s | %.0f | %s | %s us | %s | %s |\n' "${LABEL[$name]}" "$([[ $proto == h1 ]] && echo HTTP/1.1 || echo h2c)" \
        "${MED_RPS[$key]}" "${MED_LAT[$key]}" "${MED_CPU[$key]}" \
        "$([[ $name == hello-* ]] && echo - || ratio "${MED_RPS[$key]}" "${MED_RPS[$peer]:-0}")" "${ERRN[$key]}"
    done
    echo
    echo "- HTTP/1.1 floor, CPU per request: Bun.listen ${MED_CPU[hello-listen|h1]} us against Bun.serve ${MED_CPU[hello-serve|h1]} us (what an own HTTP/1.1 server could save at most, before parsing and checking heads)"
    echo "- Sluice on Bun over HTTP/1.1, CPU per request: Bun.serve ${MED_CPU[sluice-bun|h1]} us, node:net + own HTTP/1.1 ${MED_CPU[sluice-bun-node|h1]} us (bare proxy ${MED_CPU[bare-bun|h1]} us)"
    echo "- h2c, CPU per request: Bun.serve ${MED_CPU[sluice-bun|h2c]} us, through the relay ${MED_CPU[sluice-bun-relay|h2c]} us, Bun's node:http2 ${MED_CPU[sluice-bun-node|h2c]} us"
    echo
    echo "p99 is wrk's 99th percentile (median of the rounds); h2load prints none: h2c rows show its"
    echo "mean ± sd time per request from the median round."
    echo
    echo "Per-round req/s (CPU us per request):"
    echo
    for key in "${keys[@]}"; do echo "- ${key//|/ }: ${RPS[$key]% } (${CPU[$key]% })"; done
    echo
    report_errors "${keys[@]}"
    for name in "${NAMES[@]}"; do report_stderr "$name" "$TMP/$name.stderr" 'listening on'; done
  } >"$report"
  cat "$report"
  finished=${EPOCHREALTIME//[.,]/}
  log "written to $report in $(((finished - started) / 1000000)) s"
}

main "$@"
