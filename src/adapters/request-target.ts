/**
 * @module
 * The request URL the gateway core sees, from the connection's scheme, the authority (Host or
 * `:authority`) and the request target, checked so that nothing a client sends can move a part
 * of one into another (an authority with '/' or '@' would change the path the router sees).
 */

/** host[:port]: a registered name or IPv4 address, or an IPv6 literal in brackets. */
const AUTHORITY = /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

/** Paths that need no normalisation: URL-safe characters only and no dot segments. */
const PLAIN_TARGET = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*$/
/** "." or ".." as a whole segment, percent-encoded dots included (WHATWG URL resolves those too). */
const DOT_SEGMENT = /\/(?:\.|%2e){1,2}(?:[/?]|$)/i

/**
 * `scheme://authority/target`, or undefined when the target is not a path ("/...") or an
 * absolute http(s) URL, or has a backslash in its path. Targets with dot segments or unusual
 * characters are normalised as WHATWG URL does (Bun and @hono/node-server do the same), so
 * `/public/../admin` is routed as `/admin`. `authority` is the Host or `:authority` as sent
 * (undefined: none, which only an absolute-form target can do without); one that is not a valid
 * host[:port] refuses the request.
 */
export function requestUrl(
  scheme: string,
  authority: string | undefined,
  target: string,
): string | undefined {
  if (authority !== undefined && !AUTHORITY.test(authority)) return undefined
  if (target.charCodeAt(0) === 47 /* '/' */) {
    if (authority === undefined) return undefined
    if (PLAIN_TARGET.test(target) && !DOT_SEGMENT.test(target)) return `${scheme}://${authority}${target}`
    const queryAt = target.indexOf('?')
    const backslash = target.indexOf('\\')
    if (backslash !== -1 && (queryAt === -1 || backslash < queryAt)) return undefined
    // Only the path is normalised; the query goes on byte for byte (WHATWG URL would encode `'`
    // and break signatures computed over the raw query), without a fragment a client should
    // not have sent.
    const path = queryAt === -1 ? target : target.slice(0, queryAt)
    let query = queryAt === -1 ? '' : target.slice(queryAt)
    const hash = query.indexOf('#')
    if (hash !== -1) query = query.slice(0, hash)
    // Concatenated, never resolved against a base: "//evil.example/x" must stay a path.
    const url = parsed(`${scheme}://${authority}${path}`)
    return url === undefined ? undefined : `${url.origin}${url.pathname}${query}`
  }
  const lower = target.slice(0, 8).toLowerCase()
  if (lower.startsWith('http://') || lower.startsWith('https://')) {
    // Absolute form (RFC 9112 3.2.2): its authority replaces Host; the scheme stays the connection's.
    const url = parsed(target)
    if (url === undefined) return undefined
    if (url.username !== '' || url.password !== '' || !AUTHORITY.test(url.host)) return undefined
    return `${scheme}://${url.host}${url.pathname}${url.search}`
  }
  return undefined
}

function parsed(text: string): URL | undefined {
  try {
    return new URL(text)
  } catch {
    return undefined
  }
}

/**
 * The URL to hand the core for a Request whose URL a runtime's server built itself, held to the
 * same checks as the Node listeners' (`requestUrl`): unchanged in the common case, normalised,
 * or undefined (answer 400). Needed because
 * - Deno.serve keeps dot segments as sent (`/public/../secret` would match a `/public/*` route
 *   and reach the upstream as such) and builds the URL from an unchecked Host (`Host: x/up`
 *   moves `/up` into the path);
 * - Bun.serve gives a relative URL (`/hello`) when Host is missing or not a valid authority.
 * `listener` gives the listening address, the authority of an HTTP/1.0 request without Host
 * (asked for only then).
 */
export function checkedServerUrl(
  scheme: string,
  url: string,
  host: string | null,
  listener: () => string,
): string | undefined {
  if (url.charCodeAt(0) === 47 /* '/' */)
    return host === null ? requestUrl(scheme, listener(), url) : undefined
  const start = url.indexOf('://') + 3
  if (host !== null && url.startsWith(host, start) && url.charCodeAt(start + host.length) === 47) {
    return requestUrl(scheme, host, url.slice(start + host.length))
  }
  // No Host (HTTP/1.0), or an absolute-form target whose own authority the server used.
  const slash = url.indexOf('/', start)
  return slash === -1
    ? requestUrl(scheme, url.slice(start), '/')
    : requestUrl(scheme, url.slice(start, slash), url.slice(slash))
}
