/**
 * @module
 * HTTP/1.1 wire format for the pooled socket client (`client.ts`): the request head, the
 * response head parser and the response body decoders (Content-Length, chunked, until close).
 * No sockets here: bytes in, decisions out. Anything malformed throws `ProtocolError`, which
 * the client turns into a `reset` (502).
 */
import { endToEndFromLowerCaseRaw } from '../../core/headers.ts'

/** Largest response head (status line + headers, or trailers) accepted. */
export const MAX_HEAD_BYTES = 64 * 1024

export class ProtocolError extends Error {}

/** Header names (RFC 9110 token) and values (no CR, LF, NUL) safe to put on the wire. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** A Content-Length value: digits only, and few enough to stay a safe integer. */
const CONTENT_LENGTH = /^\d{1,15}$/

/** Field-syntax checks shared with the Node server's request and response heads. */
export function isToken(text: string): boolean {
  return TOKEN.test(text)
}

export function isContentLength(text: string): boolean {
  return CONTENT_LENGTH.test(text)
}
/** A request target is visible ASCII only: anything else could turn into CR/LF once written as latin1. */
const UNSAFE_TARGET = /[^\x21-\x7e]/

/**
 * The request head, framed as the Node client frames it (see `framedHeaders` there): the
 * client's Transfer-Encoding never crosses; no body: no Content-Length; bytes: their exact
 * length; a stream: its declared length, else chunked (the caller then chunks the body).
 */
export function requestHead(
  method: string,
  path: string,
  headers: Readonly<Record<string, string>>,
  body: ReadableStream<Uint8Array> | Uint8Array | null,
  keepAlive: boolean,
): { head: string; chunked: boolean; declaredLength: number } {
  if (!TOKEN.test(method) || UNSAFE_TARGET.test(path) || path === '') {
    throw new ProtocolError('invalid request line')
  }
  let head = `${method} ${path} HTTP/1.1\r\n`
  let declared: string | undefined
  for (const name in headers) {
    const value = headers[name] as string
    if (name === 'transfer-encoding' || name === 'connection' || name === 'keep-alive') continue
    if (name === 'content-length') {
      declared = value
      continue
    }
    if (!TOKEN.test(name) || invalidFieldValue(value)) throw new ProtocolError(`invalid header ${name}`)
    head += `${name}: ${value}\r\n`
  }
  let chunked = false
  let declaredLength = -1
  if (body instanceof Uint8Array) {
    head += `content-length: ${body.byteLength}\r\n`
  } else if (body !== null) {
    if (declared !== undefined && isContentLength(trimOws(declared))) {
      declaredLength = Number(trimOws(declared))
      head += `content-length: ${declaredLength}\r\n`
    } else {
      chunked = true
      head += 'transfer-encoding: chunked\r\n'
    }
  } else if (declared === '0' || method === 'POST' || method === 'PUT' || method === 'PATCH') {
    // No body, said so (RFC 9110 8.6: a method that defines content gets a length): some
    // servers answer 411 to a POST with neither Content-Length nor Transfer-Encoding.
    head += 'content-length: 0\r\n'
  }
  head += keepAlive ? 'connection: keep-alive\r\n\r\n' : 'connection: close\r\n\r\n'
  return { head, chunked, declaredLength }
}

/** One chunk of a chunked request body: size line, data, CRLF, in one buffer (one write). */
export function chunkFrame(data: Uint8Array): Uint8Array {
  const size = `${data.byteLength.toString(16)}\r\n`
  const frame = new Uint8Array(size.length + data.byteLength + 2)
  for (let i = 0; i < size.length; i++) frame[i] = size.charCodeAt(i)
  frame.set(data, size.length)
  frame[frame.length - 2] = 13
  frame[frame.length - 1] = 10
  return frame
}

export const LAST_CHUNK = new Uint8Array([48, 13, 10, 13, 10]) // "0\r\n\r\n"

export type Framing =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' }
  | { readonly kind: 'close' }

export interface ResponseHead {
  readonly status: number
  readonly statusText: string
  /** End-to-end headers as the Node client builds them: a record, or pairs when Set-Cookie repeats. */
  readonly headers: Record<string, string> | [string, string][]
  readonly framing: Framing
  /** The connection may carry another request after this response (HTTP/1.1, no `close`). */
  readonly keepAlive: boolean
}

/**
 * Whether the connection may carry another exchange: HTTP/1.1 unless `close`, HTTP/1.0 only with
 * `keep-alive`. `tokens`: every Connection value joined, lower-case.
 */
function keepsAlive(minor: string, tokens: string | undefined): boolean {
  // The usual answers, without a regular expression.
  if (tokens === undefined) return minor === '1'
  if (tokens === 'keep-alive') return true
  if (tokens === 'close') return false
  return minor === '1' ? !/(^|[\s,])close\s*(,|$)/.test(tokens) : /(^|[\s,])keep-alive\s*(,|$)/.test(tokens)
}

/** "HTTP/1.0 " or "HTTP/1.1 ", three digits, then the end or a space and a reason phrase. */
function parseStatusLine(line: string): { minor: string; status: number; statusText: string } {
  if (line.length < 12 || !line.startsWith('HTTP/1.') || line.charCodeAt(8) !== 32) {
    throw new ProtocolError('malformed status line')
  }
  const minor = line[7] as string
  if (minor !== '0' && minor !== '1') throw new ProtocolError('malformed status line')
  let status = 0
  for (let i = 9; i < 12; i++) {
    const digit = line.charCodeAt(i) - 48
    if (digit < 0 || digit > 9) throw new ProtocolError('malformed status line')
    status = status * 10 + digit
  }
  if (line.length === 12) return { minor, status, statusText: '' }
  if (line.charCodeAt(12) !== 32) throw new ProtocolError('malformed status line')
  const statusText = line.slice(13)
  if (statusText.includes('\r') || statusText.includes('\n')) throw new ProtocolError('malformed status line')
  return { minor, status, statusText }
}

const isOws = (code: number): boolean => code === 32 || code === 9

/**
 * Parses a response head (`text` is the head without its final CRLFCRLF, as latin1).
 * `method` decides whether a body follows (HEAD never has one).
 * Scanned with indexOf rather than split and a status-line regex: this runs once per proxied
 * request, and was the largest JavaScript function in the plain route's profile.
 */
export function parseResponseHead(text: string, method: string, memo?: HeaderLineMemo): ResponseHead {
  let lineEnd = text.indexOf('\r\n')
  if (lineEnd === -1) lineEnd = text.length
  const { minor, status, statusText } = parseStatusLine(text.slice(0, lineEnd))
  // Names (and the values compared without case) are cut from one lower-cased copy of the head:
  // one toLowerCase per head instead of one per name, which on Bun (JavaScriptCore) cost ~0.1 us
  // each. Latin-1 text lower-cases character for character, so offsets are the same in both.
  // Made only if a line is not the memo's.
  let lower: string | undefined
  const raw: string[] = []
  let connection: string | undefined
  let contentLength: string | undefined
  let transferEncoding: string | undefined
  let index = 0
  while (lineEnd < text.length) {
    const start = lineEnd + 2
    lineEnd = text.indexOf('\r\n', start)
    if (lineEnd === -1) lineEnd = text.length
    let line = memo?.lines[index]
    // The same text as the previous head's line at this place: the same name and value, checked
    // then (`startsWith` at an offset compares in place, without cutting a string).
    if (line === undefined || line.text.length !== lineEnd - start || !text.startsWith(line.text, start)) {
      lower ??= text.toLowerCase()
      if (lower.length !== text.length) throw new ProtocolError('malformed response head')
      line = parseHeaderLine(text, lower, start, lineEnd)
      if (memo) memo.remember(index, line)
    }
    index++
    const { name, value } = line
    raw.push(name, value)
    if (name === 'connection') {
      connection = connection === undefined ? line.lowerValue : `${connection}, ${line.lowerValue}`
    } else if (name === 'content-length') {
      contentLength = contentLength === undefined ? value : `${contentLength}, ${value}`
    } else if (name === 'transfer-encoding') {
      transferEncoding =
        transferEncoding === undefined ? line.lowerValue : `${transferEncoding}, ${line.lowerValue}`
    }
  }
  memo?.endAt(index)
  let keepAlive = keepsAlive(minor, connection)
  let framing: Framing
  if (method === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304) {
    framing = { kind: 'none' }
  } else if (transferEncoding !== undefined) {
    // Only `chunked` alone, as nginx: the transfer coding is hop-by-hop and not forwarded, so a
    // body still gzip- (or otherwise) transfer-coded would reach the client with nothing saying so.
    if (trimOws(transferEncoding) !== 'chunked') {
      throw new ProtocolError('unsupported transfer-coding')
    }
    framing = { kind: 'chunked' }
    // Both framings at once is how responses get smuggled: never reuse such a connection, and
    // never forward the losing Content-Length (RFC 9112 6.3): the client would read that many
    // bytes of the de-chunked body and take the rest for a next response.
    if (contentLength !== undefined) {
      keepAlive = false
      for (let i = raw.length - 2; i >= 0; i -= 2) if (raw[i] === 'content-length') raw.splice(i, 2)
    }
  } else if (contentLength !== undefined) {
    const length = parseContentLength(contentLength)
    framing = { kind: 'length', length }
    // Repeated equal values (`Content-Length: 2` twice, or `2, 2`) are one length (RFC 9110
    // 8.6): forward it once, or an HTTP/2 client refuses the answer (a list is malformed there).
    if (!isContentLength(contentLength)) {
      let first = true
      for (let i = 0; i < raw.length; ) {
        if (raw[i] === 'content-length' && !first) {
          raw.splice(i, 2)
          continue
        }
        if (raw[i] === 'content-length') {
          raw[i + 1] = String(length)
          first = false
        }
        i += 2
      }
    }
  } else {
    framing = { kind: 'close' }
  }
  if (framing.kind === 'close') keepAlive = false
  return {
    status,
    statusText,
    headers: endToEndFromLowerCaseRaw(raw, connection ?? ''),
    framing,
    keepAlive,
  }
}

/** One header line as parsed and checked. */
export interface HeaderLine {
  /** The whole line as received (without CRLF). */
  readonly text: string
  /** Lower-case. */
  readonly name: string
  readonly value: string
  /** The value lower-cased, for the headers compared without case (Connection, Transfer-Encoding). */
  readonly lowerValue: string
}

/**
 * The previous head's header lines on one connection. A peer sends the same lines on every
 * message of a connection but for a few (an upstream's Date, once a second; a length), so a line
 * equal to the one at the same place last time is taken as parsed then: no slicing, no
 * lower-casing, no checks. Keep one per connection: socket-client/client.ts does for response
 * heads, node/h1-connection.ts for request heads.
 */
export class HeaderLineMemo {
  /** By place in the head; a hole where nothing is remembered. */
  lines: (HeaderLine | undefined)[] = []

  /** The head just parsed had `count` lines: places after them are forgotten. */
  endAt(count: number): void {
    if (this.lines.length > count) this.lines.length = count
  }

  /**
   * Keeps `line` for the place `index`, as copies: the strings a parser cuts from a head keep that
   * whole head alive in V8 and JavaScriptCore, so each place could otherwise hold a different
   * earlier head (measured: ~2.9 MB per connection from a client changing one of 200 lines per
   * request). With copies the memo holds no more than the last head's lines, and only the first
   * `MEMO_LINES` places and lines up to `MEMO_LINE_CHARS`. Credentials and cookies are not kept at
   * all (a pooled upstream connection serves many clients).
   */
  remember(index: number, line: HeaderLine): void {
    if (index >= MEMO_LINES) return
    if (NOT_REMEMBERED.has(line.name) || line.text.length > MEMO_LINE_CHARS) {
      this.lines[index] = undefined
      return
    }
    const value = detached(line.value)
    this.lines[index] = {
      text: detached(line.text),
      name: detached(line.name),
      value,
      lowerValue: line.lowerValue === line.value ? value : detached(line.lowerValue),
    }
  }
}

/** Places and line lengths remembered: ordinary heads fit, and a memo stays a few KiB at most. */
const MEMO_LINES = 64
const MEMO_LINE_CHARS = 512
const NOT_REMEMBERED = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie'])

/** A copy of a Latin-1 string that shares no memory with the string it was cut from. */
const detached = (text: string): string => Buffer.from(text, 'latin1').toString('latin1')

function parseHeaderLine(text: string, lower: string, start: number, lineEnd: number): HeaderLine {
  const colon = text.indexOf(':', start)
  if (colon <= start || colon >= lineEnd) throw new ProtocolError('malformed header line')
  const name = lower.slice(start, colon)
  if (!TOKEN.test(name)) throw new ProtocolError('malformed header name')
  // Optional whitespace around the value is spaces and tabs only (RFC 9110 5.6.3).
  let from = colon + 1
  let to = lineEnd
  while (from < to && isOws(text.charCodeAt(from))) from++
  while (to > from && isOws(text.charCodeAt(to - 1))) to--
  const value = text.slice(from, to)
  if (invalidFieldValue(value)) throw new ProtocolError('malformed header value')
  const lowerValue = name === 'connection' || name === 'transfer-encoding' ? lower.slice(from, to) : value
  return { text: text.slice(start, lineEnd), name, value, lowerValue }
}

/**
 * `value` without optional whitespace around it: spaces and tabs only (RFC 9110 5.6.3). Not
 * String.prototype.trim, which also strips VT, FF, NBSP and other Unicode spaces that a peer
 * may not strip: `Transfer-Encoding: chunked\xa0` must not read as chunked.
 */
export function trimOws(value: string): string {
  let from = 0
  let to = value.length
  while (from < to && isOws(value.charCodeAt(from))) from++
  while (to > from && isOws(value.charCodeAt(to - 1))) to--
  return from === 0 && to === value.length ? value : value.slice(from, to)
}

/** Control characters other than HTAB are not field values (RFC 9110 5.5), nor is anything above latin1. */
const INVALID_FIELD_VALUE = /[^\t\x20-\x7e\x80-\xff]/

export function invalidFieldValue(value: string): boolean {
  return INVALID_FIELD_VALUE.test(value)
}

/** "12" or "12, 12" (repeated headers) -> 12; differing or non-numeric values are malformed. */
function parseContentLength(value: string): number {
  if (isContentLength(value)) return Number(value) // one value, as nearly every response has
  let length = -1
  for (const part of value.split(',')) {
    const text = trimOws(part)
    if (!isContentLength(text)) throw new ProtocolError('malformed content-length')
    const n = Number(text)
    if (length !== -1 && n !== length) throw new ProtocolError('conflicting content-length')
    length = n
  }
  return length
}

/**
 * A response body decoder: `push` hands it socket bytes and it passes the body's bytes to
 * `sink`. Returns -1 while the body goes on, else how many bytes of `data` it used (the rest
 * would belong to a next response: the caller does not reuse such a connection).
 */
export interface BodyDecoder {
  push(data: Uint8Array): number
  /** The upstream closed the connection: true when that ends the body (close-delimited). */
  end(): boolean
}

export type Sink = (bytes: Uint8Array) => void

export function bodyDecoder(framing: Framing, sink: Sink): BodyDecoder {
  switch (framing.kind) {
    case 'length':
      return new LengthDecoder(framing.length, sink)
    case 'chunked':
      return new ChunkedDecoder(sink)
    case 'close':
      return {
        push(data) {
          if (data.byteLength > 0) sink(data)
          return -1
        },
        end: () => true,
      }
    default:
      return { push: () => 0, end: () => false }
  }
}

class LengthDecoder implements BodyDecoder {
  #left: number
  readonly #sink: Sink
  constructor(length: number, sink: Sink) {
    this.#left = length
    this.#sink = sink
  }
  push(data: Uint8Array): number {
    if (this.#left === 0) return 0
    if (data.byteLength < this.#left) {
      this.#left -= data.byteLength
      this.#sink(data)
      return -1
    }
    const used = this.#left
    this.#left = 0
    this.#sink(used === data.byteLength ? data : data.subarray(0, used))
    return used
  }
  end(): boolean {
    return this.#left === 0
  }
}

enum Chunked {
  Size = 0,
  Data = 1,
  DataEnd = 2,
  Trailers = 3,
  Done = 4,
}

/** Chunk sizes of more than 13 hex digits would not fit a safe integer. */
const MAX_SIZE_LINE = 4096
/**
 * Strict, because request bodies are decoded here too and a front proxy that read a lenient
 * line differently could be desynchronised: hex digits first, then extensions (optional
 * whitespace, ';', no control characters), then CR (the LF was consumed already).
 */
const SIZE_LINE = /^([0-9a-fA-F]{1,13})(?:[ \t]*;[\t\x20-\x7e\x80-\xff]*)?\r$/
/** A trailer field: a token, ':', a field value, CR. */
const TRAILER_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*\r$/

class ChunkedDecoder implements BodyDecoder {
  readonly #sink: Sink
  #state = Chunked.Size
  /** The size line or trailer line read so far (latin1). */
  #line = ''
  #left = 0
  /** Bytes of trailers seen (bounded like a head). */
  #trailerBytes = 0
  /** In DataEnd: how many bytes of the CRLF after the data were seen. */
  #crlf = 0

  constructor(sink: Sink) {
    this.#sink = sink
  }

  push(data: Uint8Array): number {
    let i = 0
    const n = data.byteLength
    while (i < n) {
      switch (this.#state) {
        case Chunked.Size: {
          const lf = data.indexOf(10, i)
          const stop = lf === -1 ? n : lf
          this.#line += latin1(data, i, stop)
          if (this.#line.length > MAX_SIZE_LINE) throw new ProtocolError('chunk size line too long')
          if (lf === -1) return -1
          i = lf + 1
          this.#startChunk()
          break
        }
        case Chunked.Data: {
          const take = Math.min(this.#left, n - i)
          this.#sink(i === 0 && take === n ? data : data.subarray(i, i + take))
          this.#left -= take
          i += take
          if (this.#left === 0) {
            this.#state = Chunked.DataEnd
            this.#crlf = 0
          }
          break
        }
        case Chunked.DataEnd: {
          const expected = this.#crlf === 0 ? 13 : 10
          if (data[i] !== expected) throw new ProtocolError('missing CRLF after chunk data')
          i++
          if (++this.#crlf === 2) this.#state = Chunked.Size
          break
        }
        case Chunked.Trailers: {
          const lf = data.indexOf(10, i)
          const stop = lf === -1 ? n : lf
          this.#trailerBytes += stop - i + 1
          if (this.#trailerBytes > MAX_HEAD_BYTES) throw new ProtocolError('trailers too large')
          this.#line += latin1(data, i, stop)
          if (lf === -1) return -1
          i = lf + 1
          const line = this.#line
          this.#line = ''
          if (line === '\r') {
            this.#state = Chunked.Done
            return i
          }
          if (!TRAILER_LINE.test(line)) throw new ProtocolError('malformed trailer line')
          break
        }
        default:
          return i
      }
    }
    return this.#state === Chunked.Done ? i : -1
  }

  #startChunk(): void {
    const line = this.#line
    this.#line = ''
    const match = SIZE_LINE.exec(line)
    if (!match) throw new ProtocolError('malformed chunk size line')
    const size = Number.parseInt(match[1] as string, 16)
    if (size === 0) {
      this.#state = Chunked.Trailers
      return
    }
    this.#left = size
    this.#state = Chunked.Data
  }

  end(): boolean {
    return this.#state === Chunked.Done
  }
}

function latin1(data: Uint8Array, start: number, end: number): string {
  if (start >= end) return ''
  return Buffer.from(data.buffer, data.byteOffset + start, end - start).toString('latin1')
}
