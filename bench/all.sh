#!/usr/bin/env bash
# Every benchmark the performance issue asks for, one after the other (about 25 minutes on the
# 2-CPU VM): the side-by-side proxy run, route-table scale and reloads (Sluice on Node and as the
# single executable), runtimes, SigV4 signing and config compile. Each writes its own report to
# bench/results/ (see bench/README.md). Stops at the first script that fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The microbenchmarks run on one core, as the gateway does under load (unpinned, V8's GC threads
# would use the second core and flatter the numbers).
PIN=()
command -v taskset >/dev/null && (($(nproc) >= 2)) && PIN=(taskset -c 1)

bash bench/proxy.sh
bash bench/routes.sh
BENCH_RUNTIME=binary bash bench/routes.sh
bash bench/runtimes.sh
"${PIN[@]}" node --import tsx bench/sigv4.ts
"${PIN[@]}" node --import tsx bench/config-compile.ts
