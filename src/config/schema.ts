/**
 * @module
 * The gateway.toml contract, as strict zod schemas. Unknown keys are errors everywhere. Each
 * plugin brings its own schema; `buildConfigSchema` places them under `plugins.<name>` so one
 * parse validates everything and every issue carries its full key path.
 */
import { z } from 'zod'
import type { Plugin } from '../core/plugin.ts'
import { parseHostPort } from './address.ts'

export const HTTP_METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'CONNECT',
  'TRACE',
  'PURGE',
] as const

/** Timers take at most 2^31-1 ms; larger values would fire after 1 ms. */
export const MAX_TIMER_MS = 2147483647
export const milliseconds = (min: number) =>
  z
    .int()
    .min(min, `must be >= ${min} (milliseconds)`)
    .max(MAX_TIMER_MS, `must be <= ${MAX_TIMER_MS} (milliseconds)`)

const listenAddress = z.string().refine((s) => parseHostPort(s, undefined) !== undefined, {
  message: 'must be "host:port" (e.g. "127.0.0.1:9080" or "[::1]:9080")',
})

const uriPattern = z
  .string()
  .regex(
    /^\/[^*\s]*\*?$/,
    'must start with "/"; a trailing "*" makes it a prefix match, "*" elsewhere is not allowed',
  )

const hostPattern = z
  .string()
  .regex(/^(\*|(\*\.)?[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*)$/, 'must be a host name, "*.example.com" or "*"')

const nodeKey = z.string().refine((s) => parseHostPort(s, 80) !== undefined, {
  message: 'node must be "host" or "host:port"',
})

export const upstreamSchema = z
  .strictObject({
    type: z.literal('roundrobin').default('roundrobin').describe('Weighted round robin over `nodes`.'),
    nodes: z
      .union([
        z.record(nodeKey, z.int().min(0)),
        z.array(
          z.strictObject({
            host: z.string().min(1),
            port: z.int().min(1).max(65535),
            weight: z.int().min(0),
          }),
        ),
      ])
      .describe('{ "host:port" = weight } or [{ host, port, weight }]'),
    scheme: z.enum(['http', 'https']).default('http'),
    timeout: z
      .strictObject({
        connect: milliseconds(1).default(5000),
        send: milliseconds(1).default(60000),
        read: milliseconds(1).default(60000),
      })
      .prefault({}),
    keepalive_pool: z
      .strictObject({
        size: z.int().min(0).default(320),
        idle_timeout: milliseconds(0).default(60000),
      })
      .prefault({}),
    pass_host: z.enum(['pass', 'node', 'rewrite']).default('pass'),
    upstream_host: z.string().min(1).optional(),
    retries: z
      .int()
      .min(0)
      .max(16)
      .optional()
      .describe('Extra nodes tried after a failed connect; default 1.'),
    tls: z.strictObject({ verify: z.boolean().default(true) }).prefault({}),
  })
  .superRefine((upstream, ctx) => {
    const weights = Array.isArray(upstream.nodes)
      ? upstream.nodes.map((n) => n.weight)
      : Object.values(upstream.nodes)
    if (!weights.some((w) => w > 0)) {
      ctx.addIssue({ code: 'custom', path: ['nodes'], message: 'needs at least one node with weight > 0' })
    }
    if (upstream.pass_host === 'rewrite' && !upstream.upstream_host) {
      ctx.addIssue({
        code: 'custom',
        path: ['upstream_host'],
        message: 'is required when pass_host = "rewrite"',
      })
    }
  })

export type UpstreamConfig = z.output<typeof upstreamSchema>

const tlsListener = z.strictObject({
  listen: listenAddress,
  cert: z.string().min(1).describe('PEM certificate chain; relative to the config file'),
  key: z.string().min(1).describe('PEM private key; relative to the config file'),
})

const serverSchema = z
  .strictObject({
    listen: z
      .array(listenAddress)
      .default(['127.0.0.1:9080'])
      .describe('Each address serves HTTP/1.1 and HTTP/2 prior knowledge (h2c).'),
    tls: z.array(tlsListener).default([]).describe('TLS listeners: ALPN h2 and http/1.1.'),
    access_log: z.boolean().default(true).describe('One JSON line per request on stdout.'),
    drain_timeout: milliseconds(0).default(10000).describe('On SIGTERM/SIGINT, ms to let requests finish.'),
    header_timeout: milliseconds(1)
      .default(60000)
      .describe(
        'HTTP/1.1 on Node: ms a client may take to send a request head (slow-loris guard); then 408.',
      ),
  })
  .refine((server) => server.listen.length + server.tls.length > 0, {
    message: 'needs at least one address in `listen` or one `[[server.tls]]` listener',
  })
  .prefault({})

/** Wraps a sub-schema of a route; see `routeSchemaWith`. */
export type SchemaWrapper = <T extends z.ZodType>(schema: T) => T

const asIs: SchemaWrapper = (schema) => schema

function pluginsSchema(plugins: readonly Plugin[], where: 'route' | 'global', wrap: SchemaWrapper = asIs) {
  const shape: Record<string, z.ZodOptional<z.ZodType>> = {}
  for (const plugin of plugins) {
    if (where === 'global' && plugin.phase === 'upstream') continue
    shape[plugin.name] = plugin.schema.optional()
  }
  return wrap(z.strictObject(shape)).default({})
}

function metadataSchema(plugins: readonly Plugin[]) {
  const shape: Record<string, z.ZodOptional<z.ZodType>> = {}
  for (const plugin of plugins) {
    if (plugin.metadataSchema) shape[plugin.name] = plugin.metadataSchema.optional()
  }
  return z.strictObject(shape).default({})
}

/**
 * One element of `routes`, with `wrap` applied to the schemas of its `plugins` table and its
 * `upstream` table (the incremental loader wraps them in a memo; `wrap` must keep the schema's
 * results for valid input).
 */
export function routeSchemaWith(plugins: readonly Plugin[], wrap: SchemaWrapper) {
  return buildRouteSchema(plugins, wrap)
}

function buildRouteSchema(plugins: readonly Plugin[], wrap: SchemaWrapper = asIs) {
  return z
    .strictObject({
      id: z.string().min(1).optional().describe('Unique; generated from the position when absent.'),
      uri: uriPattern.optional().describe('Exact path, or a prefix ending in "*" ("/api/*").'),
      uris: z.array(uriPattern).min(1).optional(),
      methods: z.array(z.enum(HTTP_METHODS)).min(1).optional(),
      host: hostPattern.optional(),
      hosts: z.array(hostPattern).min(1).optional(),
      priority: z.int().default(0).describe('Tie-break between routes with the same uri; higher wins.'),
      plugins: pluginsSchema(plugins, 'route', wrap),
      upstream: wrap(upstreamSchema).optional(),
    })
    .superRefine((r, ctx) => {
      if ((r.uri === undefined) === (r.uris === undefined)) {
        ctx.addIssue({ code: 'custom', path: ['uri'], message: 'set exactly one of `uri` or `uris`' })
      }
      if (r.host !== undefined && r.hosts !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['host'], message: 'set at most one of `host` or `hosts`' })
      }
      const terminals = plugins.filter(
        (p) => p.phase === 'upstream' && (r.plugins as Record<string, unknown>)[p.name] !== undefined,
      )
      const answerers = terminals.map((p) => `plugin ${p.name}`)
      if (r.upstream) answerers.push('upstream')
      if (answerers.length === 0) {
        ctx.addIssue({
          code: 'custom',
          path: [],
          message: `needs an \`upstream\` or a terminal plugin (${plugins
            .filter((p) => p.phase === 'upstream')
            .map((p) => p.name)
            .join(', ')})`,
        })
      } else if (answerers.length > 1) {
        ctx.addIssue({
          code: 'custom',
          path: [],
          message: `has more than one answer: ${answerers.join(', ')}`,
        })
      }
    })
}

/** Everything in the file but `routes`. */
function restShape(plugins: readonly Plugin[]) {
  return {
    server: serverSchema,
    plugins: pluginsSchema(plugins, 'global').describe('Global plugins, applied to every route.'),
    plugin_metadata: metadataSchema(plugins).describe('Settings a plugin shares across routes.'),
  }
}

function buildSchemas(plugins: readonly Plugin[]) {
  const route = buildRouteSchema(plugins)
  const rest = restShape(plugins)
  const config = z
    .strictObject({ ...rest, routes: z.array(route).default([]) })
    .superRefine((config, ctx) => {
      const seen = new Map<string, number>()
      config.routes.forEach((r, i) => {
        if (r.id === undefined) return
        const first = seen.get(r.id)
        if (first !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['routes', i, 'id'],
            // The value is not quoted: it may have come from the environment.
            message: `duplicate id (first used by routes[${first}])`,
          })
        } else seen.set(r.id, i)
      })
    })
  return { config, route, rest: z.strictObject(rest) }
}

export function buildConfigSchema(plugins: readonly Plugin[]) {
  return buildSchemas(plugins).config
}

/**
 * The schemas for one plugin set: `config` validates a whole file; `route` one element of
 * `routes` and `rest` the file without `routes`, which together accept exactly what `config`
 * accepts apart from the duplicate-id check (what the incremental loader validates piece by
 * piece). Built once per plugin list: schemas are immutable.
 */
export type ConfigSchemas = ReturnType<typeof buildSchemas>
const schemasByPlugins = new WeakMap<readonly Plugin[], ConfigSchemas>()

export function configSchemas(plugins: readonly Plugin[]): ConfigSchemas {
  let schemas = schemasByPlugins.get(plugins)
  if (!schemas) {
    schemas = buildSchemas(plugins)
    schemasByPlugins.set(plugins, schemas)
  }
  return schemas
}

export type ConfigSchema = ReturnType<typeof buildConfigSchema>
export type GatewayConfig = z.output<ConfigSchema>
export type RouteConfig = GatewayConfig['routes'][number]
