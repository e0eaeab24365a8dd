#!/usr/bin/env bash
# Runtime comparison: the same Sluice code on Node, Bun, Deno and the bun-compiled binary, each
# serving a `mocking` route ("hello") and a plain proxy route to an nginx upstream ("proxy"), over
# HTTP/1.1 (wrk) and h2c (h2load). Also per target: idle RSS, start-up time to the first served
# request, and the binary's size.
#
#   bash bench/runtimes.sh
#   BENCH_ROUNDS=5 BENCH_DURATION=10 bash bench/runtimes.sh
#   BENCH_TARGETS="node bun" bash bench/runtimes.sh   # a subset (ratios need node)
#   BENCH_KEEP=1 bash bench/runtimes.sh                # keep the temp dir (configs, raw output, stderr)
#
# Prints a Markdown report on stdout and writes it to bench/results/<date>-runtimes.md; progress
# goes to stderr. Everything listens on 127.0.0.1 only, every load run is bounded by `timeout`,
# and every process this script starts is killed on exit. See bench/README.md.
set -euo pipefail

ROUNDS=${BENCH_ROUNDS:-3}
DURATION=${BENCH_DURATION:-5}   # seconds per measured run
WARMUP=${BENCH_WARMUP:-2}       # seconds of unmeasured load per target, scenario and protocol
STARTS=${BENCH_STARTS:-3}       # start-up time: starts per target (median shown)
H1_CONNS=50                     # wrk -c
H2_CONNS=10                     # h2load -c
H2_STREAMS=10                   # h2load -m
RUN_TIMEOUT=$((DURATION + 25))  # hard cap on one load-generator run
read -r -a TARGETS <<<"${BENCH_TARGETS:-node bun deno binary}"
SCENARIOS=(hello proxy)
HELLO_BODY=hello                # what the mocking route answers

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Targets: lib.sh's target_command TARGET CONFIG sets CMD (the real executables: node, $BUN,
# $DENO, dist/sluice; no npx, no wrapper scripts, so the PID we hold is the gateway's).

# One gateway per target serves both scenarios: exact /hello (mocking) and /* (upstream).
# write_config FILE LISTEN_PORT
write_config() {
  cat >"$1" <<EOF
# Benchmark config: the "hello" and "proxy" scenarios of bench/runtimes.sh.
[server]
listen = ["127.0.0.1:$2"]
access_log = false
drain_timeout = 1000

[[routes]]
id = "hello"
uri = "/hello"
[routes.plugins.mocking]
body = "$HELLO_BODY"

[[routes]]
id = "proxy"
uri = "/*"
[routes.upstream]
nodes = { "127.0.0.1:$UP_H1" = 1 }
EOF
}

# Processes that have exited and been reaped leave PIDS, so clean-up never signals a reused PID.
forget_pid() {
  local pid=$1 keep=() p
  for p in "${PIDS[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

# True while PID runs (a zombie, exited but not yet reaped, does not count).
# Builtins only (no fork): it runs in the start-up polling loop.
running() {
  local stat
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# SIGTERM, up to 3 s to drain and exit, then SIGKILL; reaps it and forgets it.
stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    running "$pid" || break
    sleep 0.05
  done
  if running "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
  forget_pid "$pid"
}

# The long-running gateway of TARGET (port 0; the bound port is read from its start-up line).
declare -A GW_PID=() GW_PORT=()
start_target() {
  local target=$1 conf="$TMP/$1.toml" pid port=""
  write_config "$conf" 0
  target_command "$target" "$conf"
  "${PIN_PROXY[@]}" "${CMD[@]}" >"$TMP/$target.stdout" 2>"$TMP/$target.stderr" &
  pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 200); do
    running "$pid" || break
    port=$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*' "$TMP/$target.stderr" | head -1 | sed 's/.*://' || true)
    [[ -n $port ]] && break
    sleep 0.1
  done
  [[ -n $port ]] || {
    cat "$TMP/$target.stderr" >&2
    die "$target did not start: ${CMD[*]}"
  }
  GW_PID[$target]=$pid
  GW_PORT[$target]=$port
  log "$target on 127.0.0.1:$port (pid $pid): $(grep -o 'on [a-z]* [0-9.]*:' "$TMP/$target.stderr" | head -1 | sed 's/^on //; s/:$//')"
}

# Microseconds since the epoch into the variable named $1, without forking (bash 5's EPOCHREALTIME).
now_us() {
  local t=$EPOCHREALTIME
  printf -v "$1" '%s' "${t//[.,]/}"
}

# A sleep without fork/exec: read with a timeout from a pipe nobody ever writes to.
exec {NAP_FD}<> <(:)
nap() { read -r -t "$1" -u "$NAP_FD" _ || true; }

# Start-up time of one fresh process of TARGET: from spawn until `curl /hello` first gets a 2xx,
# a curl attempt starting every 5 ms (or as soon as the previous one returns: a refused curl
# takes about that long itself); sets STARTUP_MS to milliseconds ("fail" if it never answered within 20 s).
# Not called in $(...): the process must be in this shell's PIDS for the clean-up trap.
measure_startup() {
  local target=$1 i=$2 port conf pid t0 t1 attempt now ok=0
  port=$(free_port)
  conf="$TMP/startup-$target.toml"
  write_config "$conf" "$port"
  target_command "$target" "$conf"
  now_us t0
  "${PIN_PROXY[@]}" "${CMD[@]}" >/dev/null 2>"$TMP/startup-$target.$i.stderr" &
  pid=$!
  PIDS+=("$pid")
  while :; do
    now_us attempt
    if "${PIN_LOAD[@]}" curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$port/hello"; then
      ok=1
      break
    fi
    running "$pid" || break
    now_us now
    ((now - t0 > 20000000)) && break
    if ((now - attempt < 5000)); then
      printf -v now '0.%06d' $((5000 - (now - attempt)))
      nap "$now"
    fi
  done
  now_us t1
  stop_pid "$pid"
  if [[ $ok == 1 ]]; then
    STARTUP_MS=$(awk -v d="$((t1 - t0))" 'BEGIN { printf "%.0f", d / 1000 }')
  else
    STARTUP_MS=fail
  fi
}

# ---------------------------------------------------------------------------------------------
# Sanity: each target and scenario must answer 200 with the expected body over the protocol it is
# measured on, and really over that protocol, before any load. A failure is recorded (with a
# repro) and that combination is not measured.
# ---------------------------------------------------------------------------------------------
declare -A FAILED=()
scenario_path() { if [[ $1 == hello ]]; then echo /hello; else echo /; fi; }
scenario_body() { if [[ $1 == hello ]]; then echo "$HELLO_BODY"; else echo "$BODY"; fi; }

sanity_check() {
  local target=$1 scenario=$2 proto=$3 url flags want_version got body
  url="http://127.0.0.1:${GW_PORT[$target]}$(scenario_path "$scenario")"
  if [[ $proto == h1 ]]; then
    flags=(--http1.1)
    want_version=1.1
  else
    flags=(--http2-prior-knowledge)
    want_version=2
  fi
  got=$(curl -s --max-time 5 "${flags[@]}" -o "$TMP/check.body" -w '%{http_code} %{http_version}' "$url" || true)
  body=$(cat "$TMP/check.body" 2>/dev/null || true)
  if [[ $got != "200 $want_version" || $body != "$(scenario_body "$scenario")" ]]; then
    target_command "$target" "$TMP/$target.toml"
    FAILED[$target|$scenario|$proto]="expected 200 over HTTP/$want_version with the $scenario body, got '$got' (body: $(head -c 200 <<<"$body")). Repro: \`${CMD[*]}\` with the config kept in $TMP/$target.toml, then \`curl -sv ${flags[*]} http://127.0.0.1:PORT$(scenario_path "$scenario")\` (PORT from its \"listening on\" line; it was ${GW_PORT[$target]})"
    log "SANITY FAILURE $target $scenario $proto: ${FAILED[$target|$scenario|$proto]}"
    return 1
  fi
}

# One load run: TARGET SCENARIO PROTO SECONDS OUT; prints "error_count rps latency errors_text"
# (tab-separated; the text, possibly empty, last, since read collapses empty tab-separated fields).
load_run() {
  local target=$1 scenario=$2 proto=$3 seconds=$4 out=$5
  load_url "$proto" "http://127.0.0.1:${GW_PORT[$target]}$(scenario_path "$scenario")" "$seconds" "$out"
}

machine_header() {
  local cpu mem
  cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //' || echo unknown)
  mem=$(awk '/^MemTotal:/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo)
  echo "- machine: \`$(hostname)\`, $(nproc) CPUs, $cpu, $mem, Linux $(uname -r)"
  echo "- runtimes: node $(node -v), bun $("$BUN" --version) (also builds dist/sluice: \`bun build --compile --minify\`), deno $("$DENO" --version | head -1 | awk '{print $2}'); sluice $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (src has uncommitted changes)')"
  echo "- one gateway per target, serving both scenarios: \`/hello\` (\`[routes.plugins.mocking]\` \`body = \"$HELLO_BODY\"\`) and \`/*\` (\`[routes.upstream]\`), \`access_log = false\`"
  echo "- upstream: $UPSTREAM_KIND, fixed ${#BODY}-byte body; pinning: $PINNING"
  echo "- load: HTTP/1.1 \`wrk -t1 -c$H1_CONNS -d${DURATION}s --latency\` ($(wrk -v 2>&1 | head -1 | awk '{print $2}')); h2c \`h2load -c$H2_CONNS -m$H2_STREAMS -D$DURATION\` ($(h2load --version 2>/dev/null | awk '{print $2}' || echo none)); $ROUNDS interleaved rounds (every target, scenario and protocol per round) after ${WARMUP}s warm-up each; medians shown"
}

# ---------------------------------------------------------------------------------------------
# Main.
# ---------------------------------------------------------------------------------------------
main() {
  local started finished
  now_us started
  ensure_tools
  [[ $HAVE_H2LOAD == 1 ]] || die "h2load is required (h2c is half of this benchmark)"
  setup_pinning
  log "building: npm run build (node) and npm run compile (binary)"
  npm run build >&2 || die "npm run build failed"
  npm run compile >&2 || die "npm run compile failed"
  [[ -x $BUN && -x $DENO ]] || die "bun or deno missing from node_modules: run npm ci"

  start_upstream

  # The gateways under test, one per target. Idle RSS: 1 s after the last one is listening, before
  # any request reaches them.
  local target scenario proto
  for target in "${TARGETS[@]}"; do start_target "$target"; done
  sleep 1
  declare -A IDLE_RSS=() PEAK_RSS=() STARTUP=() STARTUP_ALL=()
  for target in "${TARGETS[@]}"; do IDLE_RSS[$target]=$(vm_mib "${GW_PID[$target]}" VmRSS); done

  # Start-up times: fresh processes, interleaved (node bun deno binary, node bun ...). The gateways
  # above already warmed the page cache (and Deno's transpile cache), so these are warm starts.
  local i
  for i in $(seq 1 "$STARTS"); do
    for target in "${TARGETS[@]}"; do
      measure_startup "$target" "$i"
      STARTUP_ALL[$target]+="$STARTUP_MS "
      log "start-up $i $target: $STARTUP_MS ms"
    done
  done
  for target in "${TARGETS[@]}"; do
    # shellcheck disable=SC2086
    if grep -q fail <<<"${STARTUP_ALL[$target]}"; then
      STARTUP[$target]="fail"
    else
      STARTUP[$target]=$(median ${STARTUP_ALL[$target]})
    fi
  done

  local protos=(h1 h2c) combos=() key
  for scenario in "${SCENARIOS[@]}"; do
    for proto in "${protos[@]}"; do
      for target in "${TARGETS[@]}"; do
        key="$target|$scenario|$proto"
        sanity_check "$target" "$scenario" "$proto" && combos+=("$key")
      done
    done
  done
  log "sanity: ${#combos[@]} of $((${#TARGETS[@]} * ${#SCENARIOS[@]} * ${#protos[@]})) target/scenario/protocol combinations answer 200 with the expected body"

  # Warm-up: JIT, connection pools. Not measured, but its errors are counted.
  declare -A RPS=() LAT=() ERRS=() ERRN=() CONNS=()
  local out parsed rps lat errs n before after
  for key in "${combos[@]}"; do
    IFS='|' read -r target scenario proto <<<"$key"
    log "warm-up $target $scenario $proto"
    out="$TMP/$target.$scenario.$proto.warmup.txt"
    IFS=$'\t' read -r n rps lat errs <<<"$(load_run "$target" "$scenario" "$proto" "$WARMUP" "$out")"
    if [[ -n $errs || $n != 0 ]]; then ERRS[$key]+="warm-up: $errs"$'\n'; fi
  done

  # Measured rounds, interleaved so drift on a shared machine hits every target alike.
  local round
  for round in $(seq 1 "$ROUNDS"); do
    for key in "${combos[@]}"; do
      IFS='|' read -r target scenario proto <<<"$key"
      out="$TMP/$target.$scenario.$proto.round$round.txt"
      before=$(upstream_accepts)
      IFS=$'\t' read -r n rps lat errs <<<"$(load_run "$target" "$scenario" "$proto" "$DURATION" "$out")"
      after=$(upstream_accepts)
      RPS[$key]+="$rps "
      LAT[$key]+="$lat;"
      ERRN[$key]=$((${ERRN[$key]:-0} + n))
      # The stub_status request we just made is one of the accepts counted: leave it out.
      if [[ $scenario == proxy && -n $before && -n $after ]]; then CONNS[$key]+="$((after - before - 1)) "; fi
      if [[ -n $errs || $n != 0 ]]; then ERRS[$key]+="round $round: $errs"$'\n'; fi
      log "round $round $target $scenario $proto: $rps req/s, latency $lat${errs:+ — $errs}"
    done
  done
  for target in "${TARGETS[@]}"; do PEAK_RSS[$target]=$(vm_mib "${GW_PID[$target]}" VmHWM); done

  # Medians.
  declare -A MED_RPS=() MED_LAT=() MED_CONNS=()
  for key in "${combos[@]}"; do
    IFS='|' read -r target scenario proto <<<"$key"
    summarize_key "$key" "$proto" LAT
  done

  # The report.
  local date report size
  date=$(date +%F)
  mkdir -p bench/results
  report="bench/results/$date-runtimes.md"
  size=$(stat -c %s dist/sluice)
  {
    echo "# Runtime benchmark, $date (node, bun, deno, binary)"
    echo
    machine_header
    echo
    echo "| target | scenario | protocol | req/s (median) | p99 | ratio to node | failed requests | upstream conns opened |"
    echo "|---|---|---|---:|---:|---:|---:|---:|"
    for scenario in "${SCENARIOS[@]}"; do
      for proto in "${protos[@]}"; do
        for target in "${TARGETS[@]}"; do
          key="$target|$scenario|$proto"
          local pname
          pname=$([[ $proto == h1 ]] && echo HTTP/1.1 || echo h2c)
          if [[ -n ${FAILED[$key]:-} ]]; then
            echo "| $target | $scenario | $pname | FAILED sanity check | - | - | - | - |"
            continue
          fi
          printf '| %s | %s | %s | %.0f | %s | %s | %s | %s |\n' "$target" "$scenario" "$pname" \
            "${MED_RPS[$key]}" "${MED_LAT[$key]}" "$(ratio "${MED_RPS[$key]}" "${MED_RPS[node|$scenario|$proto]:-0}")" \
            "${ERRN[$key]}" "${MED_CONNS[$key]}"
        done
      done
    done
    echo
    echo "p99 is wrk's 99th percentile (median of the rounds). h2load prints no percentiles: h2c rows show"
    echo "its mean ± sd time per request from the median round. \"failed requests\" is the sum over the"
    echo "measured rounds of wrk's non-2xx/3xx responses and socket errors, or h2load's failed requests"
    echo "and 3xx. \"upstream conns opened\" (proxy rows) is the upstream nginx's accepted-connection count"
    echo "during one run (median): it shows whether the target's upstream pool reuses connections."
    echo
    echo "| target | idle RSS | start-up to first response (median of $STARTS) | binary size | peak RSS after the runs |"
    echo "|---|---:|---:|---:|---:|"
    for target in "${TARGETS[@]}"; do
      local bin="-" st="${STARTUP[$target]}"
      [[ $target == binary ]] && bin=$(awk -v s="$size" 'BEGIN { printf "%.1f MiB", s / 1048576 }')
      [[ $st != fail ]] && st="$st ms"
      echo "| $target | ${IDLE_RSS[$target]} MiB | $st | $bin | ${PEAK_RSS[$target]} MiB |"
    done
    echo
    echo "Idle RSS is VmRSS from /proc 1 s after start-up, before any request; peak RSS is VmHWM after"
    echo "all the load. Start-up is from spawn until \`curl /hello\` (polled every 5 ms) first gets a 2xx,"
    echo "on a fresh process pinned like the others, warm page cache. The binary needs nothing else;"
    echo "node, bun and deno need their runtime (node $(du -sh "$NODE" | cut -f1)B, bun $(du -sh "$BUN" | cut -f1)B, deno $(du -sh "$DENO" | cut -f1)B) and node_modules."
    echo
    echo "Per-round req/s:"
    echo
    for key in "${combos[@]}"; do
      IFS='|' read -r target scenario proto <<<"$key"
      echo "- $target $scenario $proto: ${RPS[$key]% }"
    done
    echo
    echo "Start-ups (ms): $(for target in "${TARGETS[@]}"; do printf '%s %s; ' "$target" "${STARTUP_ALL[$target]% }"; done | sed 's/; $//')"
    echo
    if ((${#FAILED[@]})); then
      echo "Sanity-check failures (not measured; each one is a bug):"
      echo
      for scenario in "${SCENARIOS[@]}"; do
        for proto in "${protos[@]}"; do
          for target in "${TARGETS[@]}"; do
            key="$target|$scenario|$proto"
            [[ -n ${FAILED[$key]:-} ]] && echo "- $target $scenario $proto: ${FAILED[$key]}"
          done
        done
      done
      echo
    fi
    report_errors "${combos[@]}"
    # Anything the gateways logged on stderr besides their start-up line is worth a look.
    for target in "${TARGETS[@]}"; do
      report_stderr "Target $target" "$TMP/$target.stderr" 'listening on'
    done
  } >"$report"
  cat "$report"
  now_us finished
  log "written to $report in $(((finished - started) / 1000000)) s"
  local any=0
  for key in "${!ERRS[@]}"; do [[ -n ${ERRS[$key]} ]] && any=1; done
  if ((${#FAILED[@]})) || [[ $any == 1 || " ${STARTUP[*]} " == *" fail "* ]]; then
    BENCH_KEEP=1 # lib.sh's clean-up keeps $TMP: configs and raw output for the repro
    log "failures through Sluice: see the report; raw output kept"
  fi
  if ((${#FAILED[@]})); then exit 1; fi
}

main "$@"
