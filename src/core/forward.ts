/**
 * @module
 * What every outbound call (proxy, serverless functions) does to headers, both ways, the way
 * nginx does it: hop-by-hop headers dropped, X-Forwarded-For appended, X-Forwarded-Proto and
 * X-Forwarded-Host set from the connection (clients cannot spoof them), no Via header.
 */
import { withoutHopByHop } from './headers.ts'
import type { GatewayContext } from './plugin.ts'
import { authorityOf, requestHeaders } from './request.ts'

export interface ForwardOptions {
  /** Host header for the upstream. */
  readonly host: string
  /** Request headers never forwarded (e.g. client credentials a route replaces). */
  readonly drop?: ReadonlySet<string>
}

export function forwardRequestHeaders(c: GatewayContext, options: ForwardOptions): Headers {
  const headers = withoutHopByHop(requestHeaders(c), options.drop)
  const clientIp = c.env.remoteAddress
  const prior = headers.get('x-forwarded-for')
  headers.set('x-forwarded-for', prior ? `${prior}, ${clientIp}` : clientIp)
  headers.set('x-forwarded-proto', c.env.scheme)
  headers.set('x-forwarded-host', authorityOf(c.req.url))
  headers.set('host', options.host)
  return headers
}

/** The upstream's response as the client gets it: same status and body, hop-by-hop headers gone. */
export function forwardResponse(response: Response): Response {
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers: withoutHopByHop(response.headers),
  })
}
