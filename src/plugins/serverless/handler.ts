/**
 * @module
 * The generic serverless upstream behind `aws-lambda` and `azure-functions`: terminates the
 * client's request and calls the function with the client's method, query (merged), headers and
 * body; the function's status, headers and body go back unchanged (4xx/5xx included). Each
 * plugin only supplies an `Authorizer` that adds its credentials.
 */
import { forwardBody, forwardRequestHeaders } from '../../core/forward.ts'
import type { Deps, GatewayMiddleware } from '../../core/plugin.ts'
import { rawPathSuffix, rawQueryOf } from '../../core/request.ts'
import { toGatewayError } from '../../upstream/errors.ts'
import type { PoolOptions } from '../../upstream/types.ts'
import { limitBody, readBounded, tooLarge } from './body.ts'
import type { ServerlessConfig } from './schema.ts'
import { appendPath, mergeQuery, parseFunctionUri } from './target.ts'

/** One call to the function, as the authorizer sees it before it goes out. */
export interface FunctionCall {
  readonly method: string
  /** Host header value. */
  readonly host: string
  readonly path: string
  /** Query string without '?'; an authorizer may replace it (e.g. with its canonical form). */
  query: string
  /** Outgoing headers (lower-case names); the authorizer adds its credentials here. */
  readonly headers: Record<string, string>
  /** Whole body when `needsBody`, else a stream (or null). */
  readonly body: Uint8Array | ReadableStream<Uint8Array> | null
}

export interface Authorizer {
  /** Client headers never forwarded: the route's own credentials replace them. */
  readonly drop: ReadonlySet<string>
  /** The body must be read whole before `authorize` (e.g. to hash it for a signature). */
  readonly needsBody: boolean
  authorize(call: FunctionCall): void
}

export const noAuthorizer: Authorizer = { drop: new Set(), needsBody: false, authorize() {} }

export function createServerlessHandler(
  config: ServerlessConfig,
  authorizer: Authorizer,
  deps: Deps,
): GatewayMiddleware {
  const target = parseFunctionUri(config.function_uri)
  const max = config.max_req_body_size
  const pool: PoolOptions = {
    keepalive: config.keepalive,
    size: config.keepalive_pool,
    idleTimeout: config.keepalive_timeout,
  }
  const timeouts = {
    connect: config.timeout,
    send: config.timeout,
    read: config.timeout,
    total: config.timeout,
  }

  return async function serverlessHandler(c) {
    const declared = Number(c.req.header('content-length') ?? 0)
    if (declared > max) throw tooLarge(max)

    const headers = forwardRequestHeaders(c, { host: target.host, drop: authorizer.drop })
    let body: Uint8Array | ReadableStream<Uint8Array> | null = forwardBody(c)
    let exceeded = () => false
    if (authorizer.needsBody) {
      body = await readBounded(body, max, config.timeout)
      headers['content-length'] = String(body.byteLength)
    } else if (body) {
      const limited = limitBody(body, max)
      body = limited.body
      exceeded = limited.exceeded
    }

    const call: FunctionCall = {
      method: c.req.method,
      host: target.host,
      path: appendPath(target.path, rawPathSuffix(c)),
      query: mergeQuery(target.query, rawQueryOf(c.req.url)),
      headers,
      body,
    }
    authorizer.authorize(call)
    c.set('upstream', target.host)

    try {
      return await deps.upstream.send({
        origin: target.origin,
        method: call.method,
        path: call.query === '' ? call.path : `${call.path}?${call.query}`,
        headers: call.headers,
        body: call.body,
        timeouts,
        pool,
        tlsVerify: config.ssl_verify,
        onClientGone: c.env.onClientGone,
      })
    } catch (error) {
      if (exceeded()) throw tooLarge(max)
      throw toGatewayError(error, 'function')
    }
  }
}
