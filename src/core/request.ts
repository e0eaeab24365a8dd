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

/**
 * Lower-case host without port, as routes match it. A fully qualified name's trailing dot
 * (`example.com.`) names the same host, as nginx's server_name matching takes it.
 */
export function hostnameOf(authority: string): string {
  if (authority.startsWith('[')) return authority.slice(0, authority.indexOf(']') + 1).toLowerCase()
  const colon = authority.indexOf(':')
  const host = colon === -1 ? authority : authority.slice(0, colon)
  return (host.endsWith('.') ? host.slice(0, -1) : host).toLowerCase()
}

/** Path and query as the client sent them ("/a/b?x=1"). */
export function pathAndQueryOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('://') + 3)
  return start === -1 ? '/' : url.slice(start)
}

/**
 * One request header (`lowerName` lower-case), repeats joined with ", ", or undefined. Reads the
 * server's raw list where the adapter gives one (Node: no header object is built for it).
 */
export function requestHeader(c: GatewayContext, lowerName: string): string | undefined {
  const raw = c.env?.rawHeaders?.() // env is absent when a plugin runs outside the gateway (tests)
  if (!raw) return c.req.header(lowerName)
  let value: string | undefined
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) {
      value = value === undefined ? (raw[i + 1] as string) : `${value}, ${raw[i + 1]}`
    }
  }
  return value
}

/**
 * Sets a header on the request as it will be forwarded (the client's own header of that name is
 * replaced). `name` must be lower-case. Recorded as an edit and applied when the outbound headers
 * are built, so plugins cost no copy of the client's headers.
 */
export function setRequestHeader(c: GatewayContext, name: string, value: string): void {
  let edits = c.get('requestHeaderEdits')
  if (!edits) {
    edits = new Map()
    c.set('requestHeaderEdits', edits)
  }
  edits.set(name, value)
}

/**
 * For prefix routes: the rest of the path after the prefix, as the client encoded it. The router
 * matches the decoded path (`c.req.path`), so the decoded prefix is located in the raw path; a
 * client that encoded characters inside the prefix itself gets the decoded suffix re-encoded.
 */
export function rawPathSuffix(c: GatewayContext): string {
  const suffix = (c.get('pathSuffix') as string | undefined) ?? ''
  if (suffix === '') return ''
  const target = pathAndQueryOf(c.req.url)
  const queryAt = target.indexOf('?')
  const rawPath = queryAt === -1 ? target : target.slice(0, queryAt)
  const decoded = c.req.path
  const prefix = decoded.slice(0, decoded.length - suffix.length)
  if (rawPath.startsWith(prefix)) return rawPath.slice(prefix.length)
  const end = rawPrefixEnd(rawPath, prefix)
  return end === undefined ? encodeURI(suffix) : rawPath.slice(end)
}

/**
 * Where `decodedPrefix` ends in `rawPath` when the client percent-encoded characters inside it
 * (`/caf%C3%A9/...` for a route on `/café/*`): the shortest raw prefix that decodes to it, as the
 * router decodes paths (decodeURI, `%25` kept). Cut only between escapes; a decoded character
 * takes at most 9 raw ones, which bounds the search by the route's prefix, not the client's path.
 */
function rawPrefixEnd(rawPath: string, decodedPrefix: string): number | undefined {
  const limit = Math.min(rawPath.length, decodedPrefix.length * 9)
  for (let end = decodedPrefix.length; end <= limit; end++) {
    if (rawPath[end - 1] === '%' || rawPath[end - 2] === '%') continue // inside an escape
    if (decodePath(rawPath.slice(0, end)) === decodedPrefix) return end
  }
  return undefined
}

function decodePath(path: string): string | undefined {
  try {
    return decodeURI(path.includes('%25') ? path.replace(/%25/g, '%2525') : path)
  } catch {
    return undefined // a cut through a multi-byte character: not a place the prefix can end
  }
}

/** The query string as the client sent it, without '?' ('' when none). */
export function rawQueryOf(url: string): string {
  const at = url.indexOf('?')
  if (at === -1) return ''
  const hash = url.indexOf('#', at)
  return hash === -1 ? url.slice(at + 1) : url.slice(at + 1, hash)
}
