/**
 * @module
 * The `[routes.upstream]` proxy: weighted round robin over nodes, one more node tried when a
 * connect fails (nothing was sent, so it is safe for any method), bodies streamed both ways.
 */

import { formatHostPort, parseHostPort } from '../../config/address.ts'
import type { UpstreamConfig } from '../../config/schema.ts'
import { forwardBody, forwardRequestHeaders } from '../../core/forward.ts'
import type { Deps, GatewayMiddleware } from '../../core/plugin.ts'
import { authorityOf, pathAndQueryOf } from '../../core/request.ts'
import { toGatewayError } from '../../upstream/errors.ts'
import { type Origin, type OutboundRequest, UpstreamError } from '../../upstream/types.ts'
import { RoundRobin, type WeightedNode } from './balancer.ts'

interface Node extends WeightedNode {
  /** "host:port" for Host headers and logs. */
  readonly address: string
  /** Built once: the client finds its pool by this object (see socket-client/client.ts). */
  readonly origin: Origin
}

function nodesOf(config: UpstreamConfig): Node[] {
  const defaultPort = config.scheme === 'https' ? 443 : 80
  const list = Array.isArray(config.nodes)
    ? config.nodes
    : Object.entries(config.nodes).map(([key, weight]) => ({ ...parseHostPort(key, defaultPort)!, weight }))
  return list.map((n) => ({
    ...n,
    address: formatHostPort(n),
    origin: { scheme: config.scheme, host: n.host, port: n.port },
  }))
}

const bracketed = (host: string) => (host.includes(':') ? `[${host}]` : host)

/** upstream_host may carry a port ("api.internal:8443"); TLS SNI takes the name alone. */
const hostOnly = (host: string) => parseHostPort(host, 0)?.host ?? host

export function createProxyHandler(config: UpstreamConfig, deps: Deps): GatewayMiddleware {
  const balancer = new RoundRobin(nodesOf(config))
  const attempts = 1 + Math.min(config.retries ?? 1, balancer.size - 1)
  const defaultPort = config.scheme === 'https' ? 443 : 80
  const pool = {
    keepalive: config.keepalive_pool.size > 0,
    size: config.keepalive_pool.size,
    idleTimeout: config.keepalive_pool.idle_timeout,
  }

  return async function proxyHandler(c) {
    // Made only when a second node is tried: the first attempt usually answers.
    let tried: Set<Node> | undefined
    let lastError: unknown
    for (let attempt = 0; attempt < attempts; attempt++) {
      const node = balancer.pick(tried)
      if (!node) break
      if (attempt + 1 < attempts) {
        tried ??= new Set()
        tried.add(node)
      }
      c.set('upstream', node.address)
      const host =
        config.pass_host === 'pass'
          ? authorityOf(c.req.url)
          : config.pass_host === 'node'
            ? node.port === defaultPort
              ? bracketed(node.host)
              : node.address
            : (config.upstream_host as string)
      const request: OutboundRequest = {
        origin: node.origin,
        method: c.req.method,
        path: pathAndQueryOf(c.req.url),
        headers: forwardRequestHeaders(c, { host }),
        body: forwardBody(c),
        timeouts: config.timeout,
        pool,
        tlsVerify: config.tls.verify,
        servername: config.pass_host === 'rewrite' ? hostOnly(config.upstream_host as string) : undefined,
        onClientGone: c.env.onClientGone,
      }
      try {
        return await deps.upstream.send(request)
      } catch (error) {
        lastError = error
        if (!(error instanceof UpstreamError && error.nothingSent)) break
        deps.logger.warn(`upstream ${node.address} for route ${c.get('routeId')}: ${error.message}`)
      }
    }
    throw toGatewayError(lastError, 'upstream')
  }
}
