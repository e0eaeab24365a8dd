/**
 * Config load + compile time for a large route table: what a start-up or a hot reload of a
 * 10,000-route gateway.toml costs before the new snapshot serves.
 *
 *   node --import tsx bench/config-compile.ts
 *   COMPILE_ROUTES=10000 COMPILE_RUNS=9 node --import tsx bench/config-compile.ts   # the defaults
 *   taskset -c 1 npm run bench:config   # one core, as the gateway in bench/routes.sh (GC threads share it)
 *
 * The table is bench/route-table.ts's (the one bench/routes.sh serves): ROUTES routes, a mix of
 * exact and prefix uris, some with methods, host, request-id or mocking, and the plain proxy route
 * `/*` last. A load is `parseConfigText` (split into routes, TOML, env substitution, the zod schema
 * with every built-in plugin's schema, deep freeze) and a compile is `Gateway.compile` (plugin
 * middlewares, proxy handlers, chains, the router), exactly what `sluice run` and the reloader do
 * with the file's text (the file read itself is left out). The gateway's UpstreamClient is a stub
 * that throws if called: the benchmark never sends a request, it only checks the compiled router
 * (the request path reaches the last route, a generated uri reaches its own route).
 *
 * Rows:
 * - start-up: the first load + compile in the process (cold JIT), with an empty load cache;
 * - from scratch: the same, warm: every route read, validated and compiled, nothing to reuse;
 * - whole-file path: `cache: null`, one smol-toml parse and one zod parse of the whole file (how
 *   every reload parsed before, and what an invalid file still takes, for its messages; the
 *   compile is today's);
 * - reload, 1 route changed: the gateway serves table A, then reloads A' (A with the weight of one
 *   route's upstream node changed), then A, then A' ...: each reload changes one route against the
 *   snapshot serving;
 * - reload, every route changed: the same alternating two variants of the table (different uris and
 *   ids in every route but the last), as bench/routes.sh does;
 * - the 10-route table, reloaded with every route changed;
 * - reload rejected: table A serves, and A with one route's uri made invalid is loaded (and rejected,
 *   by the whole-file path, for its messages) again and again.
 * Reload rows use the gateway's own cache and snapshot, as `ConfigReloader` does. Each row shows
 * the median of RUNS runs (after one unmeasured warm-up run) of the synchronous calls, how many
 * routes the reload validated and compiled (the others were reused), and, from RUNS more runs of
 * the reloader's sliced calls (`parseConfigTextSliced`, `Gateway.compileSliced`), the longest
 * time the event loop waited (the longest gap between two `setImmediate` turns, median over runs).
 *
 * Markdown report on stdout and in bench/results/<YYYY-MM-DD>-config-compile.md; progress on stderr.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, release } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parse } from 'smol-toml'
import { LoadCache, type LoadOptions, parseConfigText, parseConfigTextSliced } from '../src/config/load.ts'
import type { GatewayConfig } from '../src/config/schema.ts'
import { Gateway } from '../src/core/gateway.ts'
import { silentLogger } from '../src/core/logger.ts'
import type { Snapshot } from '../src/core/snapshot.ts'
import { builtinPlugins } from '../src/plugins/index.ts'
import type { UpstreamClient } from '../src/upstream/types.ts'
import { REQUEST_PATH, routeTableToml } from './route-table.ts'
import { cpuAffinity, intFromEnv, median, packageVersion, ROOT, revision } from './util.ts'

const ROUTES = intFromEnv('config-compile', 'COMPILE_ROUTES', 10000, 2, 100000)
const RUNS = intFromEnv('config-compile', 'COMPILE_RUNS', 9, 1, 50)
const SMALL_ROUTES = 10

function log(message: string): void {
  process.stderr.write(`[config-compile] ${message}\n`)
}

function fail(why: string): never {
  console.error(`[config-compile] error: ${why}`)
  process.exit(1)
}

/** Never called: compiling a route creates its proxy handler, which only keeps the client. */
const stubUpstream: UpstreamClient = {
  send() {
    throw new Error('bench/config-compile.ts: the stub UpstreamClient was called')
  },
  close() {},
}

const newGateway = () =>
  new Gateway({
    plugins: builtinPlugins,
    deps: { upstream: stubUpstream, logger: silentLogger, configDir: ROOT },
  })

interface Timing {
  /** parseConfigText: split, TOML, env, zod, freeze. */
  readonly load: number
  /** Gateway.compile. */
  readonly compile: number
  readonly total: number
  /** Routes whose config object is new (parsed and validated, not remembered). */
  readonly validated: number
  /** Routes whose compiled route is new. */
  readonly compiled: number
}

function loaded(text: string, options: Omit<LoadOptions, 'plugins'>): GatewayConfig {
  const result = parseConfigText(text, {
    plugins: builtinPlugins,
    env: {},
    displayName: 'bench.toml',
    ...options,
  })
  if (!result.ok) fail(`the generated config does not validate: ${JSON.stringify(result.issues.slice(0, 3))}`)
  return result.config
}

/** One load + compile + swap on `gateway`, timed. */
function reload(
  gateway: Gateway,
  text: string,
  cache: LoadCache | null,
  routes: number,
  label: string,
): Timing {
  const previous = gateway.snapshot
  const t0 = performance.now()
  const config = loaded(text, { cache })
  const t1 = performance.now()
  const snapshot = gateway.compile(config)
  const t2 = performance.now()
  gateway.swap(snapshot)
  check(config, snapshot, routes, label)
  return { load: t1 - t0, compile: t2 - t1, total: t2 - t0, ...reused(previous, snapshot) }
}

/** How many routes of `next` were validated and compiled anew (not taken from `previous`). */
function reused(previous: Snapshot | undefined, next: Snapshot): { validated: number; compiled: number } {
  const configs = new Set(previous?.config.routes)
  const compiled = new Set(previous ? [...previous.compiled.routes.values()].map((r) => r.route) : [])
  let validated = 0
  let fresh = 0
  for (const { config, route } of next.compiled.routes.values()) {
    if (!configs.has(config)) validated++
    if (!compiled.has(route)) fresh++
  }
  return { validated, compiled: fresh }
}

/** The compiled table must be the one we meant: N routes, the request path on the last one. */
function check(config: GatewayConfig, snapshot: Snapshot, routes: number, label: string): void {
  if (snapshot.routeCount !== routes || config.routes.length !== routes) {
    fail(`${label}: expected ${routes} routes, compiled ${snapshot.routeCount}`)
  }
  const hit = snapshot.router.match('GET', 'localhost', REQUEST_PATH)
  if (hit.kind !== 'found' || hit.value.id !== 'hit')
    fail(`${label}: ${REQUEST_PATH} did not reach the last route`)
  const variant = config.routes[0]?.id?.split('-')[1] ?? 'a'
  if (routes > 2) {
    const own = snapshot.router.match('GET', 'localhost', `/svc-${variant}-1/x`)
    if (own.kind !== 'found' || own.value.id !== `r-${variant}-1`)
      fail(`${label}: /svc-${variant}-1/x did not reach its route`)
  }
}

/** The same reload with the reloader's sliced calls: wall time and the longest event-loop wait. */
function slicedReload(
  gateway: Gateway,
  text: string,
  cache: LoadCache,
): Promise<{ wall: number; block: number }> {
  return watchLoop(async () => {
    const result = await parseConfigTextSliced(text, { plugins: builtinPlugins, env: {}, cache })
    if (!result.ok) fail('the generated config does not validate (sliced)')
    gateway.swap(await gateway.compileSliced(result.config))
  })
}

/** Runs `work` while a `setImmediate` loop measures the longest gap between two event-loop turns. */
async function watchLoop(work: () => Promise<void>): Promise<{ wall: number; block: number }> {
  let longest = 0
  let last = performance.now()
  let ticking = true
  const tick = () => {
    const now = performance.now()
    longest = Math.max(longest, now - last)
    last = now
    if (ticking) setImmediate(tick)
  }
  setImmediate(tick)
  const t0 = performance.now()
  await work()
  const wall = performance.now() - t0
  ticking = false
  await new Promise((resolve) => setImmediate(resolve))
  return { wall, block: longest }
}

interface Row {
  readonly label: string
  readonly routes: number
  readonly runs: readonly Timing[]
  readonly sliced?: readonly { wall: number; block: number }[]
  /** A rejected file: nothing is compiled. */
  readonly rejected?: boolean
}

/** RUNS reloads alternating between `a` and `b` (after priming with `a` and one unmeasured reload). */
async function reloadRow(label: string, routes: number, a: string, b: string): Promise<Row> {
  const gateway = newGateway()
  const cache = new LoadCache()
  reload(gateway, a, cache, routes, label)
  reload(gateway, b, cache, routes, label)
  const runs: Timing[] = []
  for (let run = 0; run < RUNS; run++) runs.push(reload(gateway, run % 2 === 0 ? a : b, cache, routes, label))
  const sliced: { wall: number; block: number }[] = []
  for (let run = 0; run < RUNS; run++) sliced.push(await slicedReload(gateway, run % 2 === 0 ? a : b, cache))
  log(`${label}: ${runs.map((t) => ms(t.total)).join(' ')} ms`)
  return { label, routes, runs, sliced }
}

/** RUNS loads of an invalid file while `good` serves: what a rejected reload costs (the whole-file path reports it). */
async function rejectedRow(label: string, routes: number, good: string, bad: string): Promise<Row> {
  const gateway = newGateway()
  const cache = new LoadCache()
  reload(gateway, good, cache, routes, label)
  const once = () => {
    const t0 = performance.now()
    const result = parseConfigText(bad, { plugins: builtinPlugins, env: {}, cache })
    const load = performance.now() - t0
    if (result.ok) fail(`${label}: the broken file was accepted`)
    return { load, compile: 0, total: load, validated: 0, compiled: 0 }
  }
  once()
  const runs: Timing[] = []
  for (let run = 0; run < RUNS; run++) runs.push(once())
  const sliced: { wall: number; block: number }[] = []
  for (let run = 0; run < RUNS; run++) {
    sliced.push(
      await watchLoop(async () => {
        const result = await parseConfigTextSliced(bad, { plugins: builtinPlugins, env: {}, cache })
        if (result.ok) fail(`${label}: the broken file was accepted (sliced)`)
      }),
    )
  }
  log(`${label}: ${runs.map((t) => ms(t.total)).join(' ')} ms`)
  return { label, routes, runs, sliced, rejected: true }
}

/** RUNS loads + compiles from nothing (a fresh gateway each time; `cache` fresh per run unless null). */
function scratchRow(label: string, routes: number, text: string, whole: boolean): Row {
  const once = () => reload(newGateway(), text, whole ? null : new LoadCache(), routes, label)
  once()
  const runs: Timing[] = []
  for (let run = 0; run < RUNS; run++) runs.push(once())
  log(`${label}: ${runs.map((t) => ms(t.total)).join(' ')} ms`)
  return { label, routes, runs }
}

const ms = (v: number) => v.toFixed(1)

/** The table with the upstream of one route in the middle changed (its node's weight 1 -> 2). */
function withOneUpstreamChanged(text: string): string {
  const route = text.indexOf(`id = "r-a-${2 * Math.floor(ROUTES / 4) + 1}"\n`)
  const nodes = text.indexOf('= 1 }\n', route)
  if (route === -1 || nodes === -1) fail('no route with an upstream in the middle of the table')
  return `${text.slice(0, nodes)}= 2 }\n${text.slice(nodes + '= 1 }\n'.length)}`
}

async function main(): Promise<void> {
  const upstream = '127.0.0.1:9'
  const big = routeTableToml({ routes: ROUTES, upstream })
  const bigB = routeTableToml({ routes: ROUTES, upstream, variant: 'b' })
  const bigOne = withOneUpstreamChanged(big)
  const brokenUri = `uri = "/svc-a-${2 * Math.floor(ROUTES / 4) + 2}/items"`
  if (!big.includes(brokenUri)) fail(`no route with ${brokenUri}`)
  const bigBroken = big.replace(brokenUri, brokenUri.replace('"/', '"'))
  const small = routeTableToml({ routes: SMALL_ROUTES, upstream })
  const smallB = routeTableToml({ routes: SMALL_ROUTES, upstream, variant: 'b' })
  log(`${ROUTES}-route config: ${(Buffer.byteLength(big) / 1024).toFixed(0)} KiB of TOML`)

  // Cold: the first load + compile in this process, as at start-up.
  const cold = reload(newGateway(), big, new LoadCache(), ROUTES, 'cold')
  log(`cold: load ${ms(cold.load)} ms + compile ${ms(cold.compile)} ms = ${ms(cold.total)} ms`)

  const rows: Row[] = [
    { label: 'start-up: first load in the process (cold), empty cache', routes: ROUTES, runs: [cold] },
    scratchRow('from scratch (warm), empty cache', ROUTES, big, false),
    scratchRow('whole-file path (warm, `cache: null`: how every reload parsed before)', ROUTES, big, true),
    await reloadRow("reload, 1 route changed (its upstream's weight)", ROUTES, big, bigOne),
    await reloadRow('reload, every route changed (variants a/b)', ROUTES, big, bigB),
    await reloadRow('reload, every route changed (variants a/b)', SMALL_ROUTES, small, smallB),
    await rejectedRow('reload rejected: 1 route invalid (old config keeps serving)', ROUTES, big, bigBroken),
  ]
  const tomlOnly: number[] = []
  for (let run = 0; run < RUNS; run++) {
    const t0 = performance.now()
    parse(big)
    tomlOnly.push(performance.now() - t0)
  }
  const heap = process.memoryUsage().heapUsed / 1048576

  const med = (list: readonly number[]) => median(list)
  const line = (row: Row) => {
    const pick = (f: (t: Timing) => number) => med(row.runs.map(f))
    const sliced = row.sliced
      ? `${ms(med(row.sliced.map((s) => s.block)))} | ${ms(med(row.sliced.map((s) => s.wall)))}`
      : '- | -'
    const counts = row.rejected ? '-' : `${pick((t) => t.validated)} / ${pick((t) => t.compiled)}`
    const compile = row.rejected ? '-' : ms(pick((t) => t.compile))
    return `| ${row.label} | ${row.routes} | ${ms(pick((t) => t.load))} | ${compile} | ${ms(pick((t) => t.total))} | ${counts} | ${sliced} |`
  }

  const now = new Date()
  const date = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`
  const rev = revision('src')
  const lines = [
    `# Config load + compile benchmark, ${date} (node)`,
    '',
    `- machine: ${cpus().length} CPUs, ${cpus()[0]?.model.trim() ?? 'unknown'}, Linux ${release()}; this process may run on CPUs ${cpuAffinity()}`,
    `- node ${process.version} (tsx, from src/), sluice ${rev}, smol-toml ${packageVersion('smol-toml')}, zod ${packageVersion('zod')}`,
    `- config: bench/route-table.ts, ${ROUTES} routes (${(Buffer.byteLength(big) / 1024).toFixed(0)} KiB of TOML), the hit route last; ${RUNS} measured runs per row after one warm-up run; medians shown`,
    '',
    '| what | routes | load + validate (ms) | compile (ms) | total (ms) | routes validated / compiled | longest event-loop wait, sliced (ms) | sliced wall time (ms) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(line),
    '',
    '"load + validate" is `parseConfigText` (split into `[[routes]]` tables, TOML, `$' +
      '{ENV}` substitution, zod with',
    'every built-in plugin\'s schema, deep freeze); "compile" is `Gateway.compile` (plugin middlewares, proxy',
    'handlers, chains, router). Both columns are the synchronous calls: CPU time the reload costs. "routes',
    'validated / compiled": routes the reload parsed and validated, and compiled, anew; the others were taken',
    "from the previous load and snapshot. The last two columns are the reloader's sliced calls: the longest",
    "the event loop waited during one reload (GC pauses included), and the reload's wall time.",
    `smol-toml's \`parse\` alone on the ${ROUTES}-route text: ${ms(med(tomlOnly))} ms (median of ${RUNS}).`,
    `Heap used after the runs: ${heap.toFixed(0)} MiB.`,
    '',
    ...rows
      .filter((row) => row.runs.length > 1)
      .map(
        (row) =>
          `Per-run total (ms), ${row.label}, ${row.routes} routes: ${row.runs.map((t) => ms(t.total)).join(' ')}`,
      ),
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

await main()
