/**
 * @module
 * A compiled, immutable view of one config: the router and each route's plugin chain. The
 * gateway swaps whole snapshots; a request keeps the snapshot it started with.
 */
import type { GatewayConfig, RouteConfig } from '../config/schema.ts'
import { createProxyHandler } from '../plugins/proxy/index.ts'
import { buildChain, type ChainLink, type RouteHandler } from './chain.ts'
import { GatewayError } from './errors.ts'
import type { Deps, GatewayContext, Plugin } from './plugin.ts'
import { Router } from './router.ts'

export interface CompiledRoute {
  readonly id: string
  readonly handle: RouteHandler
}

export interface Snapshot {
  readonly config: GatewayConfig
  readonly router: Router<CompiledRoute>
  readonly routeCount: number
}

export type ErrorResponder = (error: unknown, c: GatewayContext) => Response

function linksFor(
  configs: Readonly<Record<string, unknown>>,
  global: boolean,
  byName: ReadonlyMap<string, Plugin>,
  deps: Deps,
): ChainLink[] {
  const links: ChainLink[] = []
  for (const [name, config] of Object.entries(configs)) {
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

export function compileSnapshot(
  config: GatewayConfig,
  plugins: readonly Plugin[],
  deps: Deps,
  onError: ErrorResponder,
): Snapshot {
  const byName = new Map(plugins.map((p) => [p.name, p]))
  const globalLinks = linksFor(config.plugins, true, byName, deps)
  const specs = config.routes.map((route, index) => {
    const links = [...globalLinks, ...linksFor(route.plugins, false, byName, deps)]
    if (route.upstream) {
      links.push({
        name: 'upstream',
        phase: 'upstream',
        priority: 0,
        global: false,
        middleware: createProxyHandler(route.upstream, deps),
      })
    }
    const compiled: CompiledRoute = { id: routeId(route, index), handle: buildChain(links, onError) }
    return {
      uris: route.uris ?? [route.uri as string],
      methods: route.methods,
      hosts: route.hosts ?? (route.host === undefined ? undefined : [route.host]),
      priority: route.priority,
      value: compiled,
    }
  })
  return { config, router: new Router(specs), routeCount: specs.length }
}
