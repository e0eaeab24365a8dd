/**
 * @module
 * Header hygiene shared by every outbound path (proxy, serverless plugins) and every response
 * handed back to a client. Hop-by-hop headers must never cross the gateway: forwarding them into
 * an HTTP/2 response crashes `node:http2` (ERR_HTTP2_INVALID_CONNECTION_HEADERS), and they
 * describe one connection, not the message.
 */

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
  'http2-settings',
])

/** True when `name` (lower case) is hop-by-hop, either always or because `Connection` names it. */
function connectionNamed(headers: Headers): Set<string> | undefined {
  const value = headers.get('connection')
  if (!value) return undefined
  const named = new Set<string>()
  for (const token of value.split(',')) {
    const name = token.trim().toLowerCase()
    if (name) named.add(name)
  }
  return named
}

/** Copies `source` without hop-by-hop headers (and without the ones its Connection header names). */
export function withoutHopByHop(source: Headers, extraDrop?: ReadonlySet<string>): Headers {
  const named = connectionNamed(source)
  const out = new Headers()
  for (const [name, value] of source) {
    if (HOP_BY_HOP.has(name) || named?.has(name) || extraDrop?.has(name)) continue
    if (name === 'set-cookie') continue // appended one by one below: Headers joins them otherwise
    out.append(name, value)
  }
  for (const cookie of source.getSetCookie()) out.append('set-cookie', cookie)
  return out
}

/** Removes hop-by-hop headers in place (for Headers the gateway owns). */
export function stripHopByHop(headers: Headers): void {
  const named = connectionNamed(headers)
  const doomed: string[] = []
  for (const name of headers.keys()) {
    if (HOP_BY_HOP.has(name) || named?.has(name)) doomed.push(name)
  }
  for (const name of doomed) headers.delete(name)
}
