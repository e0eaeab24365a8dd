/**
 * @module
 * Cheap response header edits. On Node, @hono/node-server's Response keeps the header record it
 * was built with and writes it as is; asking for `response.headers` turns it into a `Headers`
 * object and the write into a slower path (measured: ~10% of a proxied request). So responses the
 * gateway builds from a record (`responseFromRecord`) remember that record, and plugins edit
 * response headers with `setResponseHeader`, which writes into the record when the runtime's
 * Response reads it live, and falls back to `Headers.set` everywhere else.
 *
 * Plugins: edit response headers only through `setResponseHeader`. Reading `c.res.headers`
 * first would detach the record, and later edits to it would be lost.
 */
import type { GatewayContext } from './plugin.ts'

const encoder = new TextEncoder()

/** A JSON answer with its bytes known up front (so every adapter can announce its length). */
export function jsonResponse(value: unknown, status = 200, headers?: Record<string, string>): Response {
  return responseFromRecord(encoder.encode(JSON.stringify(value)), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  })
}

export type HeaderInit = Record<string, string> | [string, string][]

/**
 * The record a response was built from, as a symbol-keyed property: a WeakMap entry per response
 * cost noticeably more garbage-collection work (ephemerons) under load.
 */
const RECORD = Symbol('sluice.headerRecord')
/** The body the response was built with, kept beside a live record (see `responseParts`). */
const BODY = Symbol('sluice.body')
type WithRecord = Response & { [RECORD]?: Record<string, string>; [BODY]?: BodyInit | null }
let recordsAreLive: boolean | undefined

/** Does this runtime's Response read its header record at write time? Probed once. */
function liveRecords(): boolean {
  if (recordsAreLive === undefined) {
    const record: Record<string, string> = { 'x-probe': 'before' }
    const probe = new Response(null, { headers: record })
    record['x-probe'] = 'after'
    recordsAreLive = probe.headers.get('x-probe') === 'after'
  }
  return recordsAreLive
}

/** Byte bodies of at least this many bytes become one-chunk streams (`streamBodiesFrom`). */
let streamFromBytes = Number.POSITIVE_INFINITY

/**
 * From now on, `responseFromRecord` hands byte bodies of `bytes` or more to the runtime as a
 * stream of one chunk. For an adapter whose server writes large byte bodies worse than streams
 * (the adapter's listener says why and sets it); such answers may lose their Content-Length,
 * their bytes do not change.
 */
export function streamBodiesFrom(bytes: number): void {
  streamFromBytes = bytes
}

function oneChunkStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes)
      controller.close()
    },
  })
}

/**
 * `new Response(body, init)`, remembering a record-form header init for `setResponseHeader`.
 * The record becomes the response's own: pass a fresh object per response, never a shared one.
 */
export function responseFromRecord(
  body: BodyInit | null,
  init: { status: number; statusText?: string; headers: HeaderInit },
): Response {
  if (body instanceof Uint8Array && body.byteLength >= streamFromBytes) body = oneChunkStream(body)
  const response = new Response(body, init)
  if (!Array.isArray(init.headers) && liveRecords()) {
    ;(response as WithRecord)[RECORD] = init.headers
    ;(response as WithRecord)[BODY] = body
  }
  return response
}

/** Sets (replaces) a header on the response the chain has so far (`c.res`). `name`: lower-case. */
export function setResponseHeader(c: GatewayContext, name: string, value: string): void {
  const response = c.res
  const record = (response as WithRecord)[RECORD]
  if (record) {
    record[name] = value
    return
  }
  try {
    response.headers.set(name, value)
  } catch {
    // Immutable headers (a Response from fetch): Hono copies the response.
    c.header(name, value)
  }
}

export interface ResponseParts {
  readonly status: number
  /** Lower-case names; Set-Cookie as a list. */
  readonly headers: Record<string, string | string[]>
  readonly body: Uint8Array | ReadableStream<Uint8Array> | null
}

/**
 * Status, headers and body of a response, for an adapter that writes responses itself: from the
 * live record and body when the response has them (no Headers object, no copy), else through the
 * public Response API.
 */
export function responseParts(response: Response): ResponseParts {
  const record = (response as WithRecord)[RECORD]
  const body = (response as WithRecord)[BODY]
  if (record && (body === null || body instanceof Uint8Array || body instanceof ReadableStream)) {
    return { status: response.status, headers: record, body }
  }
  const headers: Record<string, string | string[]> = {}
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value
  })
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) headers['set-cookie'] = cookies
  return { status: response.status, headers, body: response.body }
}
