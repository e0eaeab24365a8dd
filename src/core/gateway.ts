/**
 * @module
 * The runtime-agnostic gateway: a Hono app answering from the current snapshot. Adapters call
 * `fetch(request, connInfo)`; reloads call `swap(snapshot)`. Swapping is one assignment, and
 * each request reads the snapshot once at its start, so requests in flight finish on the
 * config they started with.
 */
import { Hono } from 'hono'
import type { GatewayConfig } from '../config/schema.ts'
import { runSliced, runToEnd } from '../config/slices.ts'
import { CatchAllRouter } from './catch-all-router.ts'
import { errorResponse, GatewayError } from './errors.ts'
import type { Logger } from './logger.ts'
import type { ConnInfo, Deps, GatewayContext, GatewayEnv, Plugin } from './plugin.ts'
import { authorityOf, hostnameOf } from './request.ts'
import { compileSnapshotSteps, type Snapshot } from './snapshot.ts'

export interface GatewayOptions {
  readonly plugins: readonly Plugin[]
  readonly deps: Omit<Deps, 'metadata'>
}

export class Gateway {
  readonly #plugins: readonly Plugin[]
  readonly #deps: Omit<Deps, 'metadata'>
  readonly #logger: Logger
  #snapshot: Snapshot | undefined
  readonly app: Hono<GatewayEnv>

  constructor(options: GatewayOptions) {
    this.#plugins = options.plugins
    this.#deps = options.deps
    this.#logger = options.deps.logger
    this.app = new Hono<GatewayEnv>({ router: new CatchAllRouter() })
    this.app.all('*', (c) => this.#handle(c))
    // A route's chain answers its own errors (chain.ts); what still escapes (a bug) gets the same
    // JSON 500 as any other internal error, not Hono's plain-text one.
    this.app.onError((error, c) => this.#toResponse(error, c as GatewayContext))
  }

  /**
   * Compiles `config` (throws only on programming errors: the config is already validated).
   * Routes unchanged since the current snapshot keep their compiled chains (see snapshot.ts).
   */
  compile(config: GatewayConfig): Snapshot {
    return runToEnd(this.#compileSteps(config))
  }

  /** `compile`, giving the event loop a turn every few milliseconds (for reloads; see slices.ts). */
  compileSliced(config: GatewayConfig): Promise<Snapshot> {
    return runSliced(this.#compileSteps(config))
  }

  #compileSteps(config: GatewayConfig) {
    const deps: Deps = { ...this.#deps, metadata: config.plugin_metadata }
    return compileSnapshotSteps(config, this.#plugins, deps, this.#toResponse, this.#snapshot)
  }

  /** Makes `snapshot` answer every request that starts from now on. */
  swap(snapshot: Snapshot): void {
    this.#snapshot = snapshot
  }

  get snapshot(): Snapshot | undefined {
    return this.#snapshot
  }

  readonly fetch = (request: Request, conn: ConnInfo): Response | Promise<Response> => {
    try {
      return this.app.fetch(request, conn)
    } catch (error) {
      // Hono rethrows a thrown non-Error synchronously; adapters expect a rejection, never a throw
      // out of their request handler (on Node that would be an uncaught exception).
      return Promise.reject(error)
    }
  }

  // Not async: a found route's promise is extended with one `then`, and the other answers are
  // returned as they are (Hono takes a Response or a promise of one).
  #handle(c: GatewayContext): Response | Promise<Response> {
    const snapshot = this.#snapshot
    const started = performance.now()
    if (!snapshot)
      return this.#answered(c, undefined, started, errorResponse('SHUTTING_DOWN', 'gateway is starting'))
    const match = snapshot.router.match(c.req.method, hostnameOf(authorityOf(c.req.url)), c.req.path)
    if (match.kind === 'found') {
      c.set('routeId', match.value.id)
      c.set('pathSuffix', match.suffix)
      // Without an access log there is nothing to do after the chain: no extra promise.
      if (snapshot.config.server.access_log === false) return match.value.handle(c)
      return match.value.handle(c).then(
        (response) => this.#answered(c, snapshot, started, response),
        // Logged like any other answer (the chain answers its own errors, so this is a bug).
        (error: unknown) => this.#answered(c, snapshot, started, this.#toResponse(error, c)),
      )
    }
    const response =
      match.kind === 'method-not-allowed'
        ? errorResponse('METHOD_NOT_ALLOWED', `method ${c.req.method} not allowed here`, {
            allow: match.allow.join(', '),
          })
        : errorResponse('NO_ROUTE', `no route for ${c.req.method} ${c.req.path}`)
    return this.#answered(c, snapshot, started, response)
  }

  #answered(
    c: GatewayContext,
    snapshot: Snapshot | undefined,
    started: number,
    response: Response,
  ): Response {
    if (snapshot?.config.server.access_log !== false) this.#logAccess(c, response, started)
    return response
  }

  #logAccess(c: GatewayContext, response: Response, started: number): void {
    this.#logger.access({
      remoteAddress: c.env.remoteAddress,
      httpVersion: c.env.httpVersion,
      method: c.req.method,
      path: c.req.path,
      status: response.status,
      durationMs: performance.now() - started,
      route: c.get('routeId'),
      requestId: c.get('requestId'),
      upstream: c.get('upstream'),
    })
  }

  readonly #toResponse = (error: unknown, c: GatewayContext): Response => {
    if (error instanceof GatewayError) {
      if (error.status >= 500) {
        this.#logger.warn(`route ${c.get('routeId')}: ${error.code}: ${error.message}${causeOf(error)}`)
      }
      return error.toResponse()
    }
    this.#logger.error(
      `route ${c.get('routeId')}: unexpected error: ${(error as Error)?.stack ?? String(error)}`,
    )
    return errorResponse('INTERNAL', 'internal error')
  }
}

function causeOf(error: Error): string {
  const cause = error.cause
  return cause instanceof Error ? ` (${cause.message})` : ''
}
