/**
 * @module
 * Cheap accessors for what every request needs (host, path+query, modified headers) without
 * parsing the URL more than once.
 */
import type { GatewayContext } from './plugin.ts'

/** "host[:port]" from the request URL (HTTP/2 `:authority` or HTTP/1.1 `Host`). */
export function authorityOf(url: string): string {
  const start = url.indexOf('://') + 3
  const end = url.indexOf('/', start)
  return end === -1 ? url.slice(start) : url.slice(start, end)
}

/** Lower-case host without port, as routes match it. */
export function hostnameOf(authority: string): string {
  if (authority.startsWith('[')) return authority.slice(0, authority.indexOf(']') + 1).toLowerCase()
  const colon = authority.indexOf(':')
  return (colon === -1 ? authority : authority.slice(0, colon)).toLowerCase()
}

/** Path and query as the client sent them ("/a/b?x=1"). */
export function pathAndQueryOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('://') + 3)
  return start === -1 ? '/' : url.slice(start)
}

/** The request headers to forward: plugins' edits if any were made, else the client's. */
export function requestHeaders(c: GatewayContext): Headers {
  return (c.get('requestHeaders') as Headers | undefined) ?? c.req.raw.headers
}

/** A writable copy of the request headers, created on first use and kept for the outbound call. */
export function mutableRequestHeaders(c: GatewayContext): Headers {
  let headers = c.get('requestHeaders') as Headers | undefined
  if (!headers) {
    headers = new Headers(c.req.raw.headers)
    c.set('requestHeaders', headers)
  }
  return headers
}
