/**
 * @module
 * The HTTP/1.1 response head for the Node connection handler (h1-connection.ts): status line,
 * the response's end-to-end headers, and the framing this connection needs. Header names and
 * values are checked before they go on the wire (a plugin's value with CR/LF would split the
 * response), as Node's ServerResponse checks them.
 */
import { STATUS_CODES } from 'node:http'
import type { ResponseParts } from '../../core/response.ts'
import { invalidFieldValue, isContentLength, isToken } from '../socket-client/http1.ts'

export class UnwritableHeader extends Error {}

/** An HTTP/1.1 connection with no request for this long is closed (node:http's keepAliveTimeout). */
export const KEEP_ALIVE_MS = 5_000
const KEEP_ALIVE_LINES = `connection: keep-alive\r\nkeep-alive: timeout=${KEEP_ALIVE_MS / 1000}\r\n\r\n`

/** How the body follows the head. */
export type BodyMode = 'none' | 'length' | 'chunked' | 'close'

export interface ResponseHeadPlan {
  readonly head: string
  readonly mode: BodyMode
  /** For mode 'length' with a stream: the bytes it must deliver. */
  readonly length: number
  /** The connection must close after this response. */
  readonly close: boolean
}

/** Headers this layer writes itself: the response's own values are dropped. */
const FRAMING = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date'])

let dateSecond = -1
let dateLine = ''

/** `date: <IMF-fixdate>\r\n`, made once per second. */
function dateHeader(): string {
  const now = Date.now()
  const second = Math.floor(now / 1000)
  if (second !== dateSecond) {
    dateSecond = second
    dateLine = `date: ${new Date(now).toUTCString()}\r\n`
  }
  return dateLine
}

export function responseHead(
  parts: ResponseParts,
  method: string,
  /** The request's HTTP minor version: 1.0 clients get no chunked bodies. */
  minor: 0 | 1,
  keepAlive: boolean,
): ResponseHeadPlan {
  const { status, headers, body } = parts
  const bodiless = method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200)
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`
  let declared: string | undefined
  let date: string | undefined
  for (const name in headers) {
    const value = headers[name] as string | string[]
    if (FRAMING.has(name)) {
      if (name === 'content-length') declared = String(value)
      else if (name === 'date') date = String(value)
      continue
    }
    if (!isToken(name)) throw new UnwritableHeader(`invalid header name ${JSON.stringify(name)}`)
    if (typeof value === 'string') head += headerLine(name, value)
    else for (const one of value) head += headerLine(name, one)
  }
  head += date === undefined ? dateHeader() : headerLine('date', date)
  let mode: BodyMode
  let close = !keepAlive
  const length = declared !== undefined && isContentLength(declared) ? declared : undefined
  if (body instanceof Uint8Array) {
    if (status !== 204 && status !== 304) head += `content-length: ${body.byteLength}\r\n`
    mode = bodiless ? 'none' : 'length'
  } else if (bodiless) {
    // A HEAD answer may announce the length a GET would get.
    if (length !== undefined && status !== 204 && status !== 304) head += `content-length: ${length}\r\n`
    mode = 'none'
  } else if (body === null) {
    head += 'content-length: 0\r\n'
    mode = 'none'
  } else if (length !== undefined) {
    // A stream of known length (an upstream's Content-Length); the writer holds it to that.
    head += `content-length: ${length}\r\n`
    mode = 'length'
  } else if (minor === 1) {
    head += 'transfer-encoding: chunked\r\n'
    mode = 'chunked'
  } else {
    mode = 'close' // HTTP/1.0: the end of the connection ends the body
    close = true
  }
  // As node:http says it: Node's http.Agent reads the timeout to retire idle sockets in time.
  head += close ? 'connection: close\r\n\r\n' : KEEP_ALIVE_LINES
  const bodyLength = body instanceof Uint8Array ? body.byteLength : length === undefined ? -1 : Number(length)
  return { head, mode, length: bodyLength, close }
}

function headerLine(name: string, value: string): string {
  if (invalidFieldValue(value)) throw new UnwritableHeader(`invalid value for header ${name}`)
  return `${name}: ${value}\r\n`
}
