/**
 * @module
 * HTTP/2 requests on Node served from raw `stream` events instead of node:http2's compatibility
 * layer (Http2ServerRequest/Response) and @hono/node-server. Measured with a bare server
 * answering 100 bytes: 20.5 us of CPU per request through the compatibility layer, 14 us from
 * raw streams (docs/performance.md).
 *
 * The gateway core gets a Request stand-in (lazy-request.ts). Responses the socket client built
 * expose their header record and body bytes (core/response.ts), so the common proxied answer is
 * written without materialising anything.
 */
import type http2 from 'node:http2'
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2'
import { errorResponse } from '../../core/errors.ts'
import { responseParts } from '../../core/response.ts'
import type { FetchHandler } from '../../runtime/types.ts'
import { requestUrl } from '../request-target.ts'
import { clientGoneOf } from './client-gone.ts'
import { MAX_REQUEST_HEAD_BYTES } from './h1-head.ts'
import { LazyRequest } from './lazy-request.ts'

/**
 * The request body as a web stream, with backpressure (the h2 stream pauses while the consumer
 * lags). `Readable.toWeb` on an HTTP/2 stream never delivered the body here (Node 20).
 */
function requestBody(stream: ServerHttp2Stream): ReadableStream<Uint8Array> {
  let settled = false
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        stream.on('data', (chunk: Buffer) => {
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
          if ((controller.desiredSize ?? 0) <= 0) stream.pause()
        })
        stream.once('end', () => {
          if (settled) return
          settled = true
          controller.close()
        })
        stream.once('close', () => {
          if (settled) return
          settled = true
          controller.error(new Error('the client reset the request'))
        })
      },
      pull() {
        stream.resume()
      },
      cancel() {
        // Stop delivering, keep draining (the response may still be on its way).
        settled = true
        stream.removeAllListeners('data')
        stream.resume()
      },
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk?.byteLength ?? 0 },
  )
}

export interface StreamHooks {
  /** A request starts; the returned function is called once when its stream closes. */
  begin(): () => void
}

/** A `stream` event handler serving the gateway's `fetch`. */
export function h2StreamHandler(scheme: 'http' | 'https', fetch: FetchHandler, hooks: StreamHooks) {
  return (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
    const end = hooks.begin()
    stream.once('close', end)
    stream.on('error', ignore) // a reset stream must cost one request, never the process
    const method = headers[':method'] ?? 'GET'
    const path = headers[':path']
    const authority = headers[':authority'] ?? headers.host
    // The URL is assembled from these two: an authority with '/', '@', '?'... would move part of
    // it into the path the router sees. Dot segments are resolved as for HTTP/1.1.
    // The same bound as an HTTP/1.1 head (16 KiB): a target that would get 431 there gets it here.
    if (typeof path === 'string' && path.length > MAX_REQUEST_HEAD_BYTES) {
      refuse(stream, errorResponse('HEADERS_TOO_LARGE', 'the request target is too long'), method)
      return
    }
    const url =
      typeof path === 'string' && path.startsWith('/') && typeof authority === 'string'
        ? requestUrl(scheme, authority, path)
        : undefined
    if (url === undefined) {
      refuse(stream, errorResponse('BAD_REQUEST', 'a request needs a valid :path and :authority'), method)
      return
    }
    // END_STREAM on the HEADERS frame: no body at all (an empty POST then goes out with
    // Content-Length: 0, not as an empty chunked body).
    const request = new LazyRequest(url, method, rawHeaders, () =>
      stream.endAfterHeaders ? null : requestBody(stream),
    )
    const answer = fetch(request as unknown as Request, {
      remoteAddress: stream.session?.socket?.remoteAddress ?? '',
      scheme,
      httpVersion: '2',
      rawHeaders: () => rawHeaders,
      requestBody: () => request.bodyStream(),
      onClientGone: clientGoneOf(stream),
    })
    void respond(stream, answer, request, method)
  }
}

const ignore = (): void => {}

/** Answers a request the gateway will not serve; guarded like every answer (see respond). */
function refuse(stream: ServerHttp2Stream, answer: Response, method: string): void {
  write(stream, answer, method).catch(() => {
    if (!stream.destroyed) stream.destroy(new Error('response not writable'))
  })
}

/**
 * Writes the gateway's answer, then discards any body nobody read. One async function rather than
 * a then/catch/finally chain: two promises and three closures fewer per stream.
 */
async function respond(
  stream: ServerHttp2Stream,
  answer: Response | Promise<Response>,
  request: LazyRequest,
  method: string,
): Promise<void> {
  try {
    await write(stream, await answer, method)
  } catch {
    // Node refused the response (e.g. an invalid header): reset this stream only.
    if (!stream.destroyed) stream.destroy(new Error('response not writable'))
  }
  // A body nobody read (a GET with a body, a mocked POST), or one made but never read (every
  // upstream node failed to connect): discard it so the stream closes.
  if (stream.destroyed) return
  if (!request.bodyRequested) stream.resume()
  else request.discardUnreadBody()
}

/** Bodies up to this size are ended after their write completes (see `write`). */
const END_AFTER_WRITE_BYTES = 16 * 1024

async function write(stream: ServerHttp2Stream, response: Response, method: string): Promise<void> {
  if (stream.destroyed || stream.closed) {
    await response.body?.cancel().catch(() => {})
    return
  }
  const { status, headers, body } = responseParts(response)
  const out: http2.OutgoingHttpHeaders = { ':status': status }
  for (const name in headers) out[name] = headers[name]
  const noBody = method === 'HEAD' || status === 204 || status === 304 || body === null
  if (body instanceof Uint8Array && out['content-length'] === undefined && !noBody) {
    out['content-length'] = body.byteLength
  }
  if (noBody) {
    stream.respond(out, { endStream: true })
    if (body instanceof ReadableStream) await body.cancel().catch(() => {})
    return
  }
  if (body instanceof Uint8Array) {
    stream.respond(out)
    if (body.byteLength > END_AFTER_WRITE_BYTES) {
      stream.end(body)
      return
    }
    // Not `end(body)`: Node 20 then shuts the stream's writable side with that write, the stream
    // closes and is destroyed before the write completes, and the write's completion builds an
    // ERR_STREAM_DESTROYED error with a stack trace for nobody (writable.js errorBuffer). That
    // cost ~4-10 us of CPU per h2c request (52 -> 41-48 us, same run). Ending once the write is
    // done costs an empty END_STREAM DATA frame instead; only for small bodies, which cannot use
    // up a default stream window, so that frame never waits on flow control for long.
    stream.write(body, (error) => {
      if (!error) stream.end()
    })
    return
  }
  stream.respond(out)
  const reader = (body as ReadableStream<Uint8Array>).getReader()
  const onClose = () => reader.cancel().catch(() => {})
  stream.once('close', onClose)
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (stream.destroyed) return
      if (!stream.write(value)) await new Promise((drained) => stream.once('drain', drained))
    }
    if (!stream.destroyed) stream.end()
  } catch {
    // The body failed mid-way (upstream reset, timeout): reset the stream at once (RST_STREAM
    // INTERNAL_ERROR). close() would first end the writable side, so a client could take the
    // cut body as complete.
    if (!stream.destroyed) stream.destroy(new Error('response body failed'))
  } finally {
    stream.off('close', onClose)
  }
}
