/**
 * @module
 * What every outbound call (proxy, serverless functions) does to request headers, the way
 * nginx does it: hop-by-hop headers dropped, X-Forwarded-For appended, X-Forwarded-Proto and
 * X-Forwarded-Host set from the connection (clients cannot spoof them), no Via. Responses come
 * back from the `UpstreamClient` with hop-by-hop headers already removed (its contract).
 */
import { endToEndRecord, endToEndRequestFromRaw } from './headers.ts'
import type { GatewayContext } from './plugin.ts'
import { authorityOf } from './request.ts'

export interface ForwardOptions {
  /** Host header for the upstream. */
  readonly host: string
  /** Request headers never forwarded (e.g. client credentials a route replaces). */
  readonly drop?: ReadonlySet<string>
}

export function forwardRequestHeaders(c: GatewayContext, options: ForwardOptions): Record<string, string> {
  const raw = c.env.rawHeaders
  const headers = raw
    ? endToEndRequestFromRaw(raw(), options.drop)
    : endToEndRecord(c.req.raw.headers, options.drop)
  const edits = c.get('requestHeaderEdits')
  if (edits) for (const [name, value] of edits) headers[name] = value
  const clientIp = c.env.remoteAddress
  const prior = headers['x-forwarded-for']
  headers['x-forwarded-for'] = prior ? `${prior}, ${clientIp}` : clientIp
  headers['x-forwarded-proto'] = c.env.scheme
  headers['x-forwarded-host'] = authorityOf(c.req.url)
  headers.host = options.host
  return headers
}

/**
 * The request body to forward. A GET's too, when it has one: rare, but some APIs read it
 * (Elasticsearch's `GET _search`), and nginx and APISIX forward it. A HEAD's never.
 */
export function forwardBody(c: GatewayContext): ReadableStream<Uint8Array> | null {
  const method = c.req.method
  if (method === 'HEAD') return null
  if (method !== 'GET') return c.req.raw.body
  // Where the adapter can hand it over (Node), the body as the client sent it: null when there
  // is none (no framing over HTTP/1.1, END_STREAM on HEADERS over HTTP/2); an HTTP/2 GET's DATA
  // needs no Content-Length. Elsewhere the runtime's Request has none for a GET.
  return c.env.requestBody?.() ?? null
}
