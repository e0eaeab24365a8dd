/**
 * @module
 * A compiled, immutable view of one config: the router and each route's plugin chain. The
 * gateway swaps whole snapshots; a request keeps the snapshot it started with.
 *
 * Compiling against the previous snapshot reuses what did not change: a route with the same id
 * and the same plugins and upstream as before keeps its compiled chain (its plugin middlewares
 * and proxy handler, with the handler's round-robin state), as long as the global plugins and
 * plugin metadata are unchanged too. The incremental loader returns the same frozen objects for
 * unchanged routes and tables, so the comparison is mostly `===`. Only new and changed routes
 * are compiled; the router is always rebuilt (its order and precedence come from the whole
 * table), so a changed uri, host, method or priority takes effect without recompiling the chain.
 */
import type { GatewayConfig, RouteConfig } from '../config/schema.ts'
import { runToEnd, type Steps } from '../config/slices.ts'
import { createProxyHandler } from '../plugins/proxy/index.ts'
import { buildChain, type ChainLink, type RouteHandler } from './chain.ts'
import { GatewayError } from './errors.ts'
import type { Deps, GatewayContext, GatewayMiddleware, Plugin } from './plugin.ts'
import { Router, type RouteSpec } from './router.ts'

export interface CompiledRoute {
  readonly id: string
  readonly handle: RouteHandler
}

export interface Snapshot {
  readonly config: GatewayConfig
  readonly router: Router<CompiledRoute>
  readonly routeCount: number
  /** What the next compile may reuse. */
  readonly compiled: CompiledTable
}

export interface CompiledTable {
  /** The global plugins' links, shared by every route's chain. */
  readonly globalLinks: readonly ChainLink[]
  /** Each route's config and what it compiled to, by route id. */
  readonly routes: ReadonlyMap<string, { readonly config: RouteConfig; readonly route: CompiledRoute }>
}

export type ErrorResponder = (error: unknown, c: GatewayContext) => Response

function linksFor(
  configs: Readonly<Record<string, unknown>>,
  global: boolean,
  byName: ReadonlyMap<string, Plugin>,
  deps: Deps,
  links: ChainLink[] = [],
): ChainLink[] {
  for (const name of Object.keys(configs)) {
    const config = configs[name]
    if (config === undefined) continue
    const plugin = byName.get(name)
    if (!plugin) throw new GatewayError('INTERNAL', `plugin ${name} is not registered`)
    links.push({
      name,
      phase: plugin.phase,
      priority: plugin.priority,
      global,
      middleware: plugin.create(config, deps),
    })
  }
  return links
}

export function routeId(route: RouteConfig, index: number): string {
  return route.id ?? `routes[${index}]`
}

/** How many routes are compiled between two chances to pause. */
const ROUTES_PER_STEP = 16

/**
 * `previous`: the snapshot serving now, compiled with the same plugins, deps (but metadata) and
 * `onError`; its unchanged routes are reused (see the module comment).
 */
export function compileSnapshot(
  config: GatewayConfig,
  plugins: readonly Plugin[],
  deps: Deps,
  onError: ErrorResponder,
  previous?: Snapshot,
): Snapshot {
  return runToEnd(compileSnapshotSteps(config, plugins, deps, onError, previous))
}

/** `compileSnapshot` as steps that may pause between routes (see `slices.ts`). */
export function* compileSnapshotSteps(
  config: GatewayConfig,
  plugins: readonly Plugin[],
  deps: Deps,
  onError: ErrorResponder,
  previous?: Snapshot,
): Steps<Snapshot> {
  const reusable =
    previous !== undefined &&
    sameData(previous.config.plugins, config.plugins) &&
    sameData(previous.config.plugin_metadata, config.plugin_metadata)
  const byName = new Map(plugins.map((p) => [p.name, p]))
  const work: Work = {
    routes: config.routes,
    before: reusable ? previous.compiled.routes : undefined,
    globalLinks: reusable ? previous.compiled.globalLinks : linksFor(config.plugins, true, byName, deps),
    byName,
    deps,
    onError,
    compiled: new Map(),
    specs: new Array(config.routes.length),
  }
  for (let from = 0; from < config.routes.length; from += ROUTES_PER_STEP) {
    compileRoutes(work, from, Math.min(from + ROUTES_PER_STEP, config.routes.length))
    yield
  }
  return {
    config,
    router: new Router(work.specs),
    routeCount: work.specs.length,
    compiled: { globalLinks: work.globalLinks, routes: work.compiled },
  }
}

interface Work {
  readonly routes: readonly RouteConfig[]
  /** The previous snapshot's routes, when they may be reused. */
  readonly before: CompiledTable['routes'] | undefined
  readonly globalLinks: readonly ChainLink[]
  readonly byName: ReadonlyMap<string, Plugin>
  readonly deps: Deps
  readonly onError: ErrorResponder
  readonly compiled: Map<string, { readonly config: RouteConfig; readonly route: CompiledRoute }>
  readonly specs: RouteSpec<CompiledRoute>[]
}

/** Routes `from` to `to` (exclusive): reused or compiled, and their router specs. */
function compileRoutes(work: Work, from: number, to: number): void {
  for (let index = from; index < to; index++) {
    const route = work.routes[index] as RouteConfig
    const id = routeId(route, index)
    // An explicit id may equal another route's default one (`id = "routes[1]"`): the first route
    // with the id owns its entry; a later one is compiled anew, never handed the same chain.
    const taken = work.compiled.has(id)
    const before = taken ? undefined : work.before?.get(id)
    const value =
      before !== undefined && sameChain(before.config, route)
        ? before.route
        : compileRoute(route, id, work.globalLinks, work.byName, work.deps, work.onError)
    if (!taken) work.compiled.set(id, { config: route, route: value })
    work.specs[index] = {
      uris: route.uris ?? [route.uri as string],
      methods: route.methods,
      hosts: route.hosts ?? (route.host === undefined ? undefined : [route.host]),
      priority: route.priority,
      value,
    }
  }
}

/**
 * Whether two routes (with the same id) compile to the same chain: it is made of their plugins and
 * upstream only (uris, hosts, methods and priority are the router's business). The loader hands
 * out the very same frozen objects for unchanged routes and tables, so this is mostly `===`.
 */
function sameChain(a: RouteConfig, b: RouteConfig): boolean {
  return a === b || (sameData(a.plugins, b.plugins) && sameData(a.upstream, b.upstream))
}

function compileRoute(
  route: RouteConfig,
  id: string,
  globalLinks: readonly ChainLink[],
  byName: ReadonlyMap<string, Plugin>,
  deps: Deps,
  onError: ErrorResponder,
): CompiledRoute {
  const links = linksFor(route.plugins, false, byName, deps, globalLinks.slice())
  const upstream = route.upstream
  if (upstream) {
    links.push({
      name: 'upstream',
      phase: 'upstream',
      priority: 0,
      global: false,
      middleware: onFirstUse(() => createProxyHandler(upstream, deps)),
    })
  }
  return { id, handle: buildChain(links, onError) }
}

/**
 * A middleware made by `create` when it is first called, then kept (with its state). For the
 * proxy handler, which cannot fail for a validated upstream: a reload of a big table does not
 * build 10,000 balancers for routes that may never see a request. Plugins' `create` runs at
 * compile time, as ever, so a plugin that rejects its config still fails the reload.
 */
function onFirstUse(create: () => GatewayMiddleware): GatewayMiddleware {
  let middleware: GatewayMiddleware | undefined
  return (c, next) => {
    middleware ??= create()
    return middleware(c, next)
  }
}

/**
 * Deep equality of validated config values (plain data: objects, arrays, strings, numbers,
 * booleans), key order included: plugins see it (a mocking `json` body, an upstream's `nodes`
 * round-robin order), so tables with the same entries in another order are different config.
 */
export function sameData(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    return a.every((item, i) => sameData(item, b[i]))
  }
  if (Array.isArray(b)) return false
  const keys = Object.keys(a)
  const other = Object.keys(b)
  if (keys.length !== other.length) return false
  return keys.every(
    (key, i) =>
      key === other[i] && sameData((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  )
}
