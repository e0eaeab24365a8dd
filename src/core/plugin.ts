/**
 * @module
 * The plugin contract. A plugin is a name, a strict zod schema (validated when the config loads,
 * so errors carry the TOML key path), a phase and a priority; `create` runs when a route is
 * compiled and returns a Hono middleware. A reload keeps a route's middleware when the route, the
 * global plugins and the plugin metadata are unchanged (core/snapshot.ts), so `create` must depend
 * only on its config and deps. Capabilities (outbound HTTP, logging) arrive
 * through `Deps`, never through imports, so plugins run unchanged on every runtime.
 */
import type { Context, MiddlewareHandler } from 'hono'
import type { z } from 'zod'
import type { ClientGone, UpstreamClient } from '../upstream/types.ts'
import type { Logger } from './logger.ts'

/**
 * Phases in the order their middlewares wrap each other (outermost first). `upstream` is the
 * terminal phase: exactly one terminal plugin (or the route's `upstream` proxy) answers.
 * `log` and `response` plugins do their work after `await next()`, so they sit just outside
 * the terminal handler; `log` wraps `response` to see the final response.
 */
export const PHASES = ['rewrite', 'access', 'log', 'response', 'upstream'] as const
export type Phase = (typeof PHASES)[number]

/** What the runtime adapter tells the core about the client's connection. */
export interface ConnInfo {
  readonly remoteAddress: string
  readonly scheme: 'http' | 'https'
  /** Unknown on runtimes whose servers do not tell (Bun, Deno). */
  readonly httpVersion?: '1.1' | '2' | undefined
  /**
   * Subscribes to the client going away before its response is complete; returns an
   * unsubscribe. (A listener, not `request.signal`: on Node the signal costs a full Request.)
   */
  readonly onClientGone?: ClientGone
  /**
   * The request's header fields as received: flat `[name, value, name, value, ...]`, names in
   * any case, HTTP/2 pseudo-headers (`:path`...) included. Cheaper to forward from than
   * `Headers`, which Node's server adapter has to build; absent where the runtime has no such list.
   */
  readonly rawHeaders?: () => readonly string[]
  /**
   * The request body as the client sent it, a GET's included (a `Request` cannot carry one, so
   * `c.req.raw.body` is null for GET where the runtime builds Requests by the book). Absent where
   * the runtime's Request already has it.
   */
  readonly requestBody?: () => ReadableStream<Uint8Array> | null
}

export interface GatewayVariables {
  routeId: string
  /** The upstream node or function host that answered, for the access log. */
  upstream: string
  requestId: string
  /** Plugins' edits to the forwarded request headers (see setRequestHeader in request.ts). */
  requestHeaderEdits: Map<string, string>
  /** For prefix routes (`/api/*`): the part of the path after the prefix. */
  pathSuffix: string
}

export interface GatewayEnv {
  Bindings: ConnInfo
  Variables: GatewayVariables
}

export type GatewayContext = Context<GatewayEnv>
export type GatewayMiddleware = MiddlewareHandler<GatewayEnv>

export interface Deps {
  readonly upstream: UpstreamClient
  readonly logger: Logger
  /** Directory of the config file: relative paths in plugin configs resolve against it. */
  readonly configDir: string
  /** Validated `[plugin_metadata.<name>]` tables: settings a plugin shares across routes. */
  readonly metadata: Readonly<Record<string, unknown>>
}

export interface Plugin<S extends z.ZodType = z.ZodType> {
  /** Key under `[routes.plugins.<name>]` and `[plugins.<name>]` in gateway.toml. */
  readonly name: string
  readonly schema: S
  readonly phase: Phase
  /** Higher runs first within a phase (APISIX/Kong semantics). */
  readonly priority: number
  /** Schema of `[plugin_metadata.<name>]` (settings shared by every route using the plugin). */
  readonly metadataSchema?: z.ZodType
  /** Terminal plugins (phase `upstream`) may only be set on routes, never globally. */
  create(config: z.output<S>, deps: Deps): GatewayMiddleware
}

/** Identity helper that keeps the config type of `create` tied to the schema. */
export function definePlugin<S extends z.ZodType>(plugin: Plugin<S>): Plugin<S> {
  return plugin
}

export const isTerminal = (plugin: Plugin): boolean => plugin.phase === 'upstream'
