/**
 * @module
 * Header hygiene shared by every outbound path (proxy, serverless plugins) and every response
 * handed back to a client. Hop-by-hop headers must never cross the gateway: forwarding them into
 * an HTTP/2 response crashes `node:http2` (ERR_HTTP2_INVALID_CONNECTION_HEADERS), and they
 * describe one connection, not the message.
 */

/** The headers that are always hop-by-hop (RFC 9110 7.6.1 and the proxy ones nginx drops). */
export const HOP_BY_HOP_HEADERS: readonly string[] = Object.freeze([
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
const HOP_BY_HOP = new Set(HOP_BY_HOP_HEADERS)

/**
 * A record for header fields: nothing on its prototype chain, so every header name (`__proto__`,
 * `constructor` and `toString` included) is an own property and prototype pollution cannot add
 * one, as with `Object.create(null)`. But V8 keeps a null-prototype object in dictionary mode, and
 * a record of 7 headers built, read and extended that way cost 0.49-0.62 us instead of 0.22-0.25
 * (micro-benchmark, Node 20); objects made by a constructor whose prototype is empty and
 * null-prototyped stay in fast mode. Bun is indifferent (0.08-0.1 us either way).
 */
const HeaderRecord = function HeaderRecord() {} as unknown as new () => Record<string, string>
HeaderRecord.prototype = Object.create(null)

/** An empty header record (see `HeaderRecord`). */
export const newHeaderRecord = (): Record<string, string> => new HeaderRecord()

/** Decides, for one message, whether a (lower-case) header name is hop-by-hop. */
export type HopFilter = (name: string) => boolean

/**
 * A filter for a message whose `Connection` header value is `connection` (or null): the fixed
 * hop-by-hop set plus every header that Connection names.
 */
export function hopByHopFilter(connection: string | null | undefined): HopFilter {
  if (!connection) return isAlwaysHopByHop
  // The usual values name nothing beyond the fixed set ("close" names no header). Compared as
  // they are first: most come lower-case already, and toLowerCase is not free even then
  // (~0.1 us per call measured on one engine, docs/performance.md).
  if (connection === 'keep-alive' || connection === 'close') return isAlwaysHopByHop
  const lower = connection.toLowerCase()
  if (lower === 'keep-alive' || lower === 'close') return isAlwaysHopByHop
  const named = new Set<string>()
  for (const token of connection.split(',')) {
    const name = token.trim().toLowerCase()
    if (name) named.add(name)
  }
  return (name) => HOP_BY_HOP.has(name) || named.has(name)
}

/**
 * `HOP_BY_HOP.has(name)`, by length first: most names are ruled out without looking at their
 * characters. On Bun a Set lookup hashes each freshly sliced name (a parser's output) first, and
 * this ran for every response header (measured: a quarter of Bun's response-head parse).
 */
const isAlwaysHopByHop: HopFilter = (name) => {
  switch (name.length) {
    case 2:
      return name === 'te'
    case 7:
      return name === 'trailer' || name === 'upgrade'
    case 10:
      return name === 'connection' || name === 'keep-alive'
    case 14:
      return name === 'http2-settings'
    case 16:
      return name === 'proxy-connection'
    case 17:
      return name === 'transfer-encoding'
    case 18:
      return name === 'proxy-authenticate'
    case 19:
      return name === 'proxy-authorization'
    default:
      return false
  }
}

/** Repeated Connection fields as one list ("a" + "b" -> "a,b"). */
const joinValue = (list: string, value: string | undefined): string =>
  list === '' ? (value ?? '') : `${list},${value}`

/** Copies `source` without hop-by-hop headers, as a plain record (cheaper than Headers). */
export function endToEndRecord(source: Headers, drop?: ReadonlySet<string>): Record<string, string> {
  const isHop = hopByHopFilter(source.get('connection'))
  const out = newHeaderRecord() // `__proto__` is just a header here too
  for (const [name, value] of source) {
    if (isHop(name) || drop?.has(name)) continue
    out[name] = value
  }
  return out
}

/**
 * Request headers to forward, from the raw list a server parser gives (see `ConnInfo.rawHeaders`):
 * lower-case names, no pseudo-headers, no hop-by-hop ones (every Connection header counts), none
 * in `drop`. Repeats are joined with ", ", except Cookie: HTTP/2 clients send one field per
 * cookie, and HTTP/1.1 wants them in one header joined with "; " (RFC 9113 8.2.3).
 */
export function endToEndRequestFromRaw(
  raw: readonly string[],
  drop?: ReadonlySet<string>,
): Record<string, string> {
  let connection = ''
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string
    if (name.length === 10 && name.toLowerCase() === 'connection')
      connection = joinValue(connection, raw[i + 1])
  }
  const isHop = hopByHopFilter(connection)
  // A header named `constructor` or `__proto__` is just a header.
  const out = newHeaderRecord()
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase()
    if (name.charCodeAt(0) === 58 /* ':' */ || isHop(name) || drop?.has(name)) continue
    const value = raw[i + 1] as string
    const prior = out[name]
    out[name] = prior === undefined ? value : `${prior}${name === 'cookie' ? '; ' : ', '}${value}`
  }
  return out
}

/** Headers the gateway owns on every hop: hop-by-hop ones, framing, and Host. Plugins may not set them. */
export function isReservedHeader(name: string): boolean {
  const lower = name.toLowerCase()
  return HOP_BY_HOP.has(lower) || lower === 'content-length' || lower === 'host'
}

/**
 * Response headers from a raw flat list (`[name, value, name, value, ...]`, as HTTP parsers give
 * them) without hop-by-hop ones, as a plain record that @hono/node-server writes without
 * building a Headers object. Every Connection header counts. Repeats are joined, except
 * Set-Cookie, which cannot be: then the (rare) list-of-pairs form is returned.
 */
export function endToEndFromRaw(
  raw: readonly string[],
  /** Every Connection value joined with ",", when the caller has it already (saves a pass). */
  knownConnection?: string,
): Record<string, string> | [string, string][] {
  const lowerCaseRaw: string[] = []
  let connection = ''
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase()
    const value = raw[i + 1] as string
    lowerCaseRaw.push(name, value)
    if (knownConnection === undefined && name === 'connection') connection = joinValue(connection, value)
  }
  return endToEndFromLowerCaseRaw(lowerCaseRaw, knownConnection ?? connection)
}

/**
 * `endToEndFromRaw` for a list whose names are lower-case already (a parser that lower-cased
 * them): no second toLowerCase per name. `connection`: every Connection value, joined.
 */
export function endToEndFromLowerCaseRaw(
  raw: readonly string[],
  connection: string,
): Record<string, string> | [string, string][] {
  const isHop = hopByHopFilter(connection)
  // A header named `constructor` or `__proto__` is just a header.
  const record = newHeaderRecord()
  let cookies: string[] | undefined
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string
    const value = raw[i + 1] as string
    if (isHop(name)) continue
    if (name === 'set-cookie') {
      cookies ??= []
      cookies.push(value)
    } else record[name] = Object.hasOwn(record, name) ? `${record[name]}, ${value}` : value
  }
  if (!cookies) return record
  const pairs = Object.entries(record)
  for (const cookie of cookies) pairs.push(['set-cookie', cookie])
  return pairs
}
