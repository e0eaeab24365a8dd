/**
 * @module
 * HTTP/1.1 request heads for the Node connection handler (h1-connection.ts): bytes in,
 * decisions out, no sockets. Strict where leniency lets a request be read two ways (request
 * smuggling): bare CR or LF, obsolete line folding, Transfer-Encoding beside Content-Length,
 * differing Content-Lengths, more than one Host, and transfer codings other than `chunked`
 * are refused, as nginx and llhttp's strict mode refuse them.
 */
import type { ErrorKind } from '../../core/errors.ts'
import {
  type Framing,
  type HeaderLine,
  type HeaderLineMemo,
  invalidFieldValue,
  isContentLength,
  isToken,
  trimOws,
} from '../socket-client/http1.ts'

/** Largest request head accepted (Node's default --max-http-header-size). */
export const MAX_REQUEST_HEAD_BYTES = 16 * 1024
/** Most header fields accepted in one request. */
export const MAX_REQUEST_HEADERS = 200

/** A head that cannot be served: answered with this error, then the connection is closed. */
export class HeadError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
  ) {
    super(message)
  }
}

export interface RequestHead {
  readonly method: string
  /** The request target as sent (origin form "/a?b", or absolute form). */
  readonly target: string
  /** HTTP/1.0 (0) or HTTP/1.1 (1). */
  readonly minor: 0 | 1
  /** Flat `[name, value, ...]`, names lower-case, values without surrounding whitespace. */
  readonly raw: string[]
  readonly host: string | undefined
  readonly framing: Framing
  /** The client allows another request on this connection after this one. */
  readonly keepAlive: boolean
  /** `Expect: 100-continue` on an HTTP/1.1 request with a body. */
  readonly expectContinue: boolean
}

function parseHeaderField(line: string): HeaderLine {
  const colon = line.indexOf(':')
  // No name, whitespace before the colon, or a folded line (leading whitespace) are refused.
  if (colon <= 0) throw new HeadError('BAD_REQUEST', 'malformed header field')
  const name = line.slice(0, colon).toLowerCase()
  if (!isToken(name)) throw new HeadError('BAD_REQUEST', 'malformed header name')
  const value = trimOws(line.slice(colon + 1))
  // A bare CR or LF (split leaves them in) is caught here with every other control character.
  if (invalidFieldValue(value)) throw new HeadError('BAD_REQUEST', `malformed value for ${name}`)
  const lowerValue = name === 'connection' || name === 'transfer-encoding' ? value.toLowerCase() : value
  return { text: line, name, value, lowerValue }
}

const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e]+) HTTP\/(\d)\.(\d)$/

/** Parses a head: `text` is everything before the blank line that ends it, as latin1. */
export function parseRequestHead(text: string, memo?: HeaderLineMemo): RequestHead {
  const lines = text.split('\r\n')
  const match = REQUEST_LINE.exec(lines[0] as string)
  if (!match) throw new HeadError('BAD_REQUEST', 'malformed request line')
  if (match[3] !== '1' || (match[4] !== '0' && match[4] !== '1')) {
    throw new HeadError('VERSION_NOT_SUPPORTED', `HTTP/${match[3]}.${match[4]} is not supported`)
  }
  const minor = match[4] === '1' ? 1 : 0
  if (lines.length - 1 > MAX_REQUEST_HEADERS)
    throw new HeadError('HEADERS_TOO_LARGE', 'too many header fields')
  const raw: string[] = []
  let host: string | undefined
  let hosts = 0
  let connection = ''
  let contentLength: string | undefined
  let transferEncoding: string | undefined
  let expect: string | undefined
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string
    // A client sends the same lines on every request of a connection but for a few: a line equal
    // to the one at the same place in the previous head is taken as parsed and checked then.
    let parsed = memo?.lines[i - 1]
    if (parsed === undefined || parsed.text !== line) {
      parsed = parseHeaderField(line)
      if (memo) memo.remember(i - 1, parsed)
    }
    const { name, value } = parsed
    raw.push(name, value)
    switch (name) {
      case 'host':
        host = value
        hosts++
        break
      case 'connection':
        connection = connection === '' ? value : `${connection},${value}`
        break
      case 'content-length':
        if (contentLength !== undefined && contentLength !== value) {
          throw new HeadError('BAD_REQUEST', 'conflicting content-length')
        }
        contentLength = value
        break
      case 'transfer-encoding':
        transferEncoding = transferEncoding === undefined ? value : `${transferEncoding},${value}`
        break
      case 'expect':
        expect = value
        break
    }
  }
  memo?.endAt(lines.length - 1)
  if (hosts > 1) throw new HeadError('BAD_REQUEST', 'more than one host header')
  if (minor === 1 && hosts === 0) throw new HeadError('BAD_REQUEST', 'a request needs a host header')
  let framing: Framing
  if (transferEncoding !== undefined) {
    if (contentLength !== undefined) {
      throw new HeadError('BAD_REQUEST', 'transfer-encoding and content-length together')
    }
    if (trimOws(transferEncoding).toLowerCase() !== 'chunked') {
      throw new HeadError('NOT_IMPLEMENTED', 'only the chunked transfer coding is supported')
    }
    framing = { kind: 'chunked' }
  } else if (contentLength !== undefined) {
    if (!isContentLength(contentLength)) throw new HeadError('BAD_REQUEST', 'malformed content-length')
    const length = Number(contentLength)
    framing = length === 0 ? { kind: 'none' } : { kind: 'length', length }
  } else {
    framing = { kind: 'none' }
  }
  let expectContinue = false
  if (expect !== undefined) {
    if (expect.toLowerCase() !== '100-continue')
      throw new HeadError('EXPECTATION_FAILED', 'only Expect: 100-continue is supported')
    expectContinue = minor === 1 && framing.kind !== 'none'
  }
  const tokens = connection.toLowerCase()
  // An HTTP/1.0 message with Transfer-Encoding may be framed wrongly: close after it (RFC 9112 6.1).
  const keepAlive =
    minor === 1
      ? !hasToken(tokens, 'close')
      : hasToken(tokens, 'keep-alive') && !hasToken(tokens, 'close') && transferEncoding === undefined
  return {
    method: match[1] as string,
    target: match[2] as string,
    minor,
    raw,
    host,
    framing,
    keepAlive,
    expectContinue,
  }
}

/** Whether a comma-separated list (lower-case) holds `token`. */
function hasToken(list: string, token: string): boolean {
  if (list === '') return false
  for (const part of list.split(',')) if (trimOws(part) === token) return true
  return false
}
