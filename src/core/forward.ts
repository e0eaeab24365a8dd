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
 * The request body to forward. A GET carries one only when the client declared it (Content-Length
 * above 0 or Transfer-Encoding): rare, but some APIs read it (Elasticsearch's `GET _search`), and
 * nginx and APISIX forward it. Not asked for otherwise: on Node that would cost a Request copy.
 * A HEAD's body is never forwarded.
 */
export function forwardBody(c: GatewayContext): ReadableStream<Uint8Array> | null {
  const method = c.req.method
  if (method === 'HEAD') return null
  if (method !== 'GET') return c.req.raw.body
  if (!declaresBody(c)) return null
  return c.env.requestBody ? c.env.requestBody() : c.req.raw.body
}

/**
 * Content-Length above 0 or Transfer-Encoding present. From the raw list where there is one:
 * `c.req.header` would make Node's server adapter build a Headers object for every GET.
 */
function declaresBody(c: GatewayContext): boolean {
  const raw = c.env.rawHeaders?.()
  if (raw === undefined) {
    const length = c.req.header('content-length')
    return (length !== undefined && length !== '0') || c.req.header('transfer-encoding') !== undefined
  }
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string
    // Names may come in any case: compare lengths first, lower-case only the candidates.
    if (name.length === 14 && name.toLowerCase() === 'content-length') {
      if (raw[i + 1] !== '0') return true
    } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') return true
  }
  return false
}
