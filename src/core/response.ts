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

export type HeaderInit = Record<string, string> | [string, string][]

/**
 * The record a response was built from, as a symbol-keyed property: a WeakMap entry per response
 * cost noticeably more garbage-collection work (ephemerons) under load.
 */
const RECORD = Symbol('sluice.headerRecord')
type WithRecord = Response & { [RECORD]?: Record<string, string> }
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

/** `new Response(body, init)`, remembering a record-form header init for `setResponseHeader`. */
export function responseFromRecord(
  body: BodyInit | null,
  init: { status: number; statusText: string; headers: HeaderInit },
): Response {
  const response = new Response(body, init)
  if (!Array.isArray(init.headers) && liveRecords()) (response as WithRecord)[RECORD] = init.headers
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
