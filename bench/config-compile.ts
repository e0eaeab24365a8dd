/**
 * Config load + compile time for a large route table: what a start-up or a hot reload of a
 * 10,000-route gateway.toml costs before the new snapshot serves (the event loop is blocked for
 * all of it: parse, validate and compile are synchronous).
 *
 *   node --import tsx bench/config-compile.ts
 *   COMPILE_ROUTES=10000 COMPILE_RUNS=5 node --import tsx bench/config-compile.ts   # the defaults
 *
 * The table is bench/route-table.ts's (the one bench/routes.sh serves): ROUTES routes, a mix of
 * exact and prefix uris, some with methods, host, request-id or mocking, and the plain proxy route
 * `/*` last. One run = `parseConfigText` (smol-toml, env substitution, the zod schema with every
 * built-in plugin's schema, deep freeze) then `Gateway.compile` (plugin middlewares, proxy handlers,
 * chains, the router), exactly what `sluice run` and the reloader do with the file's text (the
 * file read itself is left out). The gateway's UpstreamClient is a stub that throws if called: the
 * benchmark never sends a request, it only checks the compiled router (the request path reaches the
 * last route, a generated uri reaches its own route).
 *
 * The first run is reported separately (cold: JIT not warmed, as at start-up); then RUNS measured
 * runs, of which the median is shown (warm, as a reload in a long-running gateway). Also timed on
 * their own, with the same warm-up: smol-toml's parse alone, and a 10-route table.
 *
 * Markdown report on stdout and in bench/results/<YYYY-MM-DD>-config-compile.md; progress on stderr.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, release } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parse } from 'smol-toml'
import { parseConfigText } from '../src/config/load.ts'
import type { GatewayConfig } from '../src/config/schema.ts'
import { Gateway } from '../src/core/gateway.ts'
import { silentLogger } from '../src/core/logger.ts'
import { builtinPlugins } from '../src/plugins/index.ts'
import type { UpstreamClient } from '../src/upstream/types.ts'
import { REQUEST_PATH, routeTableToml } from './route-table.ts'
import { cpuAffinity, intFromEnv, median, packageVersion, ROOT, revision } from './util.ts'

const ROUTES = intFromEnv('config-compile', 'COMPILE_ROUTES', 10000, 2, 100000)
const RUNS = intFromEnv('config-compile', 'COMPILE_RUNS', 5, 1, 50)
const SMALL_ROUTES = 10

function log(message: string): void {
  process.stderr.write(`[config-compile] ${message}\n`)
}

/** Never called: compiling a route creates its proxy handler, which only keeps the client. */
const stubUpstream: UpstreamClient = {
  send() {
    throw new Error('bench/config-compile.ts: the stub UpstreamClient was called')
  },
  close() {},
}

const gateway = new Gateway({
  plugins: builtinPlugins,
  deps: { upstream: stubUpstream, logger: silentLogger, configDir: ROOT },
})

interface Timing {
  /** parseConfigText: TOML + env + zod + freeze. */
  readonly load: number
  /** Gateway.compile. */
  readonly compile: number
  readonly total: number
}

function loadAndCompile(text: string, routes: number): Timing {
  const t0 = performance.now()
  const result = parseConfigText(text, { plugins: builtinPlugins, env: {}, displayName: 'bench.toml' })
  const t1 = performance.now()
  if (!result.ok) {
    console.error('[config-compile] error: the generated config does not validate:')
    for (const issue of result.issues.slice(0, 10)) console.error(`  ${JSON.stringify(issue)}`)
    process.exit(1)
  }
  const snapshot = gateway.compile(result.config)
  const t2 = performance.now()
  check(result.config, snapshot, routes)
  return { load: t1 - t0, compile: t2 - t1, total: t2 - t0 }
}

/** The compiled table must be the one we meant: N routes, the request path on the last one. */
function check(config: GatewayConfig, snapshot: ReturnType<Gateway['compile']>, routes: number): void {
  const fail = (why: string) => {
    console.error(`[config-compile] error: ${why}`)
    process.exit(1)
  }
  if (snapshot.routeCount !== routes || config.routes.length !== routes) {
    fail(`expected ${routes} routes, compiled ${snapshot.routeCount}`)
  }
  const hit = snapshot.router.match('GET', 'localhost', REQUEST_PATH)
  if (hit.kind !== 'found' || hit.value.id !== 'hit') fail(`${REQUEST_PATH} did not reach the last route`)
  const own = snapshot.router.match('GET', 'localhost', '/svc-a-1/x')
  if (own.kind !== 'found' || own.value.id !== 'r-a-1') fail('/svc-a-1/x did not reach route r-a-1')
}

const ms = (v: number) => v.toFixed(1)

function main(): void {
  const big = routeTableToml({ routes: ROUTES, upstream: '127.0.0.1:9' })
  const small = routeTableToml({ routes: SMALL_ROUTES, upstream: '127.0.0.1:9' })
  log(`${ROUTES}-route config: ${(Buffer.byteLength(big) / 1024).toFixed(0)} KiB of TOML`)

  // Cold: the first load + compile in this process, as at start-up.
  const cold = loadAndCompile(big, ROUTES)
  log(`cold: load ${ms(cold.load)} ms + compile ${ms(cold.compile)} ms = ${ms(cold.total)} ms`)

  const runs: Timing[] = []
  const tomlOnly: number[] = []
  const smallRuns: Timing[] = []
  // One more unmeasured run of each so all three are equally warm before the measured ones.
  parse(big)
  loadAndCompile(small, SMALL_ROUTES)
  for (let run = 1; run <= RUNS; run++) {
    const t = loadAndCompile(big, ROUTES)
    runs.push(t)
    const t0 = performance.now()
    parse(big)
    tomlOnly.push(performance.now() - t0)
    smallRuns.push(loadAndCompile(small, SMALL_ROUTES))
    log(`run ${run}: load ${ms(t.load)} ms + compile ${ms(t.compile)} ms = ${ms(t.total)} ms`)
  }
  const heap = process.memoryUsage().heapUsed / 1048576

  const med = (pick: (t: Timing) => number, list: readonly Timing[]) => median(list.map(pick))
  const row = (label: string, routes: number, list: readonly Timing[]) =>
    `| ${label} | ${routes} | ${ms(med((t) => t.load, list))} | ${ms(med((t) => t.compile, list))} | ${ms(med((t) => t.total, list))} | ${((1000 * med((t) => t.total, list)) / routes).toFixed(1)} |`

  const now = new Date()
  const date = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`
  const rev = revision('src')
  const lines = [
    `# Config load + compile benchmark, ${date} (node)`,
    '',
    `- machine: ${cpus().length} CPUs, ${cpus()[0]?.model.trim() ?? 'unknown'}, Linux ${release()}; this process may run on CPUs ${cpuAffinity()}`,
    `- node ${process.version} (tsx, from src/), sluice ${rev}, smol-toml ${packageVersion('smol-toml')}, zod ${packageVersion('zod')}`,
    `- config: bench/route-table.ts, ${ROUTES} routes (${(Buffer.byteLength(big) / 1024).toFixed(0)} KiB of TOML), the hit route last; ${RUNS} measured runs after one cold run and one warm-up; medians shown`,
    '',
    '| config | routes | load + validate (ms) | compile (ms) | total (ms) | µs per route |',
    '|---|---:|---:|---:|---:|---:|',
    `| first run in the process (cold, as at start-up) | ${ROUTES} | ${ms(cold.load)} | ${ms(cold.compile)} | ${ms(cold.total)} | ${((1000 * cold.total) / ROUTES).toFixed(1)} |`,
    row(`warm, median of ${RUNS} (as a reload)`, ROUTES, runs),
    row(`warm, median of ${RUNS}`, SMALL_ROUTES, smallRuns),
    '',
    `"load + validate" is \`parseConfigText\` (smol-toml, \`\${ENV}\` substitution, the zod schema with every`,
    'built-in plugin\'s schema, deep freeze); "compile" is `Gateway.compile` (plugin middlewares, proxy',
    'handlers, chains, router). Both are synchronous: a reload of this file blocks the event loop for the',
    `total. smol-toml's \`parse\` alone on the ${ROUTES}-route text: ${ms(median(tomlOnly))} ms (median of ${RUNS}).`,
    `Heap used after the runs: ${heap.toFixed(0)} MiB.`,
    '',
    `Per-run total (ms), ${ROUTES} routes: ${runs.map((t) => ms(t.total)).join(' ')}`,
    '',
  ]
  const report = lines.join('\n')
  const dir = join(ROOT, 'bench', 'results')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${date}-config-compile.md`)
  writeFileSync(file, report)
  process.stdout.write(report)
  log(`written to ${file.slice(ROOT.length + 1)}`)
}

main()
