/**
 * @module
 * HTTP/1.1 on Node served from the socket, without node:http's server and @hono/node-server.
 * Measured on a bare server answering 100 bytes: 16 us of CPU per request through node:http,
 * 10 us from the socket (docs/performance.md). Heads are parsed by h1-head.ts, responses framed
 * by h1-response.ts, request bodies decoded by the socket client's decoders.
 *
 * One request at a time per connection: pipelined requests wait in `#pending` (bounded: the
 * socket is paused past 64 KiB) until the response before them is written, so responses always
 * leave in request order. A request body nobody read is discarded after the response, so the
 * next request on the connection starts where it should.
 */
import type { Socket } from 'node:net'
import { formatHostPort } from '../../config/address.ts'
import { ErrorCodes, type ErrorKind, errorBody } from '../../core/errors.ts'
import { responseParts } from '../../core/response.ts'
import type { FetchHandler } from '../../runtime/types.ts'
import type { ClientGone } from '../../upstream/types.ts'
import { requestUrl } from '../request-target.ts'
import { headInRoom } from '../socket-client/head-room.ts'
import {
  type BodyDecoder,
  bodyDecoder,
  type Framing,
  HeaderLineMemo,
  LAST_CHUNK,
} from '../socket-client/http1.ts'
import { HeadError, MAX_REQUEST_HEAD_BYTES, parseRequestHead, type RequestHead } from './h1-head.ts'
import { responseHead } from './h1-response.ts'
import { LazyRequest } from './lazy-request.ts'

/** Bytes of pipelined requests held while a response is in progress before the socket pauses. */
const MAX_PENDING_BYTES = 64 * 1024
/** Response bodies up to this size go out in one write with their head (one copy, one syscall). */
const COALESCE_BYTES = 64 * 1024
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1')
const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1')
const NOTHING = Buffer.alloc(0)
/** How long a closing connection waits for the client to close its side after ours is flushed. */
const CLOSE_LINGER_MS = 1_000

export interface H1Options {
  readonly scheme: 'http' | 'https'
  readonly fetch: FetchHandler
  /** A request starts; the returned function is called once when it is over. */
  begin(): () => void
  /** Shutting down: answer what is in flight with `Connection: close`, start nothing new. */
  draining(): boolean
}

export class H1Connection {
  readonly socket: Socket
  readonly #options: H1Options
  readonly #remoteAddress: string
  /** The previous request head's lines (http1.ts HeaderLineMemo): most of the next one's are the same. */
  readonly #headLines = new HeaderLineMemo()
  /** Bytes received and not yet parsed: a head in progress, or pipelined requests. */
  #pending: Buffer | undefined
  /** Where the search for the end of the head resumes in `#pending`. */
  #scanFrom = 0
  /** A request is being answered. */
  #busy = false
  /** The current request's body, while its bytes are still arriving. */
  #body: RequestBody | undefined
  #endRequest: (() => void) | undefined
  #goneListeners: Set<() => void> | undefined
  #closed = false
  /** The current response started going out (a late timeout can no longer answer 408). */
  #responding = false
  /** Whether the connection closes once the current response is written. */
  #closeAfterResponse = false
  /** performance.now() when the first byte of the head being read arrived; 0: no head started. */
  headStartedAt = 0
  /** performance.now() when the current request's body started; 0: no body on its way. */
  bodyStartedAt = 0
  /** performance.now() when the connection last became idle; 0: not idle. */
  idleSince: number

  constructor(socket: Socket, options: H1Options) {
    this.socket = socket
    this.#options = options
    this.#remoteAddress = socket.remoteAddress ?? ''
    this.idleSince = performance.now()
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('error', () => {}) // a reset connection costs its own request, never the process
    socket.once('close', () => this.#onClose())
  }

  /** Idle: no request in progress and no bytes waiting (drain may close it at once). */
  get idle(): boolean {
    return !this.#busy && this.#pending === undefined && this.#body === undefined
  }

  /** The client took too long to send a head: 408, then close. */
  timeOutHead(): void {
    this.headStartedAt = 0
    this.#fail('REQUEST_TIMEOUT', 'the request head took too long to arrive')
  }

  /** The client took too long to send a body: 408 if the answer has not started, then close. */
  timeOutBody(): void {
    this.bodyStartedAt = 0
    this.#body?.fail(new Error('the request body took too long to arrive'))
    this.#body = undefined
    if (this.#responding) this.socket.destroy()
    else this.#fail('REQUEST_TIMEOUT', 'the request body took too long to arrive')
  }

  #onData(chunk: Buffer): void {
    // Closing: what the client still sends is read and dropped (never buffered), so it can
    // still read our answer (an unread receive buffer would turn the close into a reset).
    if (this.#closed) return
    this.idleSince = 0
    let data: Buffer | undefined = chunk
    if (this.#body) {
      data = this.#feedBody(chunk)
      if (data === undefined) return
    }
    this.#pending = this.#pending === undefined ? data : Buffer.concat([this.#pending, data])
    if (!this.#busy) this.#parse()
    else if (this.#pending.length > MAX_PENDING_BYTES) this.socket.pause()
  }

  /** Hands bytes to the current body; returns what follows the body once it is complete. */
  #feedBody(chunk: Buffer): Buffer | undefined {
    const body = this.#body as RequestBody
    let rest: Buffer | undefined
    try {
      rest = body.push(chunk)
    } catch {
      body.fail(new Error('malformed request body'))
      this.#body = undefined
      // Before the answer starts, the client still gets a 400 (as for a body that times out);
      // after, the answer can no longer be framed for it.
      if (this.#responding) this.socket.destroy()
      else this.#fail('BAD_REQUEST', 'malformed request body')
      return undefined
    }
    if (rest === undefined) return undefined
    this.#body = undefined
    this.bodyStartedAt = 0
    if (rest.length > 0) return rest
    if (!this.#busy) this.#becomeIdle()
    return undefined
  }

  #parse(): void {
    while (this.#pending !== undefined && !this.#busy && !this.#closed) {
      let pending = this.#pending
      // Empty lines before a request line are ignored (RFC 9112 2.2).
      while (pending.length >= 2 && pending[0] === 13 && pending[1] === 10) pending = pending.subarray(2)
      if (pending.length === 0) {
        this.#pending = undefined
        this.#becomeIdle()
        return
      }
      this.#pending = pending
      const end = pending.indexOf(HEAD_END, this.#scanFrom)
      if (end === -1 || end > MAX_REQUEST_HEAD_BYTES) {
        if (pending.length > MAX_REQUEST_HEAD_BYTES) {
          this.#fail('HEADERS_TOO_LARGE', 'the request head is too large')
          return
        }
        this.#scanFrom = Math.max(0, pending.length - 3)
        if (this.headStartedAt === 0) this.headStartedAt = performance.now()
        return
      }
      const text = pending.toString('latin1', 0, end)
      const rest = pending.subarray(end + 4)
      this.#pending = rest.length > 0 ? rest : undefined
      this.#scanFrom = 0
      this.headStartedAt = 0
      let head: RequestHead
      try {
        head = parseRequestHead(text, this.#headLines)
      } catch (error) {
        if (!(error instanceof HeadError)) throw error
        this.#fail(error.kind, error.message)
        return
      }
      this.#start(head)
    }
  }

  #start(head: RequestHead): void {
    // Absolute-form targets carry their own authority; otherwise Host (required by HTTP/1.1;
    // an HTTP/1.0 request may lack it, as health checks' often do: it then names the listener).
    const host = head.host ?? (head.minor === 0 ? this.#localAuthority() : undefined)
    const url = requestUrl(this.#options.scheme, host, head.target)
    if (url === undefined) {
      this.#fail('BAD_REQUEST', 'a request needs a valid target and host')
      return
    }
    this.#busy = true
    this.idleSince = 0
    this.#endRequest = this.#options.begin()
    let body: RequestBody | undefined
    if (head.framing.kind !== 'none') {
      body = new RequestBody(head.framing, this.socket)
      this.#body = body
      this.bodyStartedAt = performance.now()
      if (head.expectContinue) this.socket.write(CONTINUE)
      const pending = this.#pending
      this.#pending = undefined
      if (pending !== undefined) {
        const rest = this.#feedBody(pending)
        if (rest !== undefined) this.#pending = rest
        if (this.socket.destroyed) return
      }
    }
    const raw = head.raw
    const request = new LazyRequest(url, head.method, raw, () => body?.stream ?? null)
    let answer: Response | Promise<Response>
    try {
      answer = this.#options.fetch(request as unknown as Request, {
        remoteAddress: this.#remoteAddress,
        scheme: this.#options.scheme,
        httpVersion: '1.1',
        rawHeaders: () => raw,
        requestBody: () => request.bodyStream(),
        onClientGone: this.#onClientGone,
      })
    } catch (error) {
      answer = Promise.reject(error)
    }
    if (answer instanceof Promise) {
      answer.then((response) => this.#respond(response, head)).catch(() => this.socket.destroy())
    } else {
      try {
        this.#respond(answer, head)
      } catch {
        this.socket.destroy()
      }
    }
  }

  /** The address the client connected to, as a Host value (HTTP/1.0 requests without one). */
  #localAuthority(): string | undefined {
    const { localAddress, localPort } = this.socket
    if (localAddress === undefined || localPort === undefined) return undefined
    return formatHostPort({ host: localAddress, port: localPort })
  }

  readonly #onClientGone: ClientGone = (listener) => {
    this.#goneListeners ??= new Set()
    this.#goneListeners.add(listener)
    return () => this.#goneListeners?.delete(listener)
  }

  #respond(response: Response, head: RequestHead): void {
    if (this.#closed) {
      void response.body?.cancel().catch(() => {})
      return
    }
    const parts = responseParts(response)
    // A 408 means we stopped waiting for this request (its body stalled): close, as RFC 9110
    // 15.5.9 asks. Kept open, the rest of the stalled body would be discarded from whatever the
    // client sends next, its next request included.
    const keepAlive = head.keepAlive && !this.#options.draining() && parts.status !== 408
    let plan: ReturnType<typeof responseHead>
    try {
      plan = responseHead(parts, head.method, head.minor, keepAlive)
    } catch {
      // A header Node's server would refuse as well (CR/LF in a value): this request only.
      void response.body?.cancel().catch(() => {})
      this.socket.destroy()
      return
    }
    this.#responding = true
    this.#closeAfterResponse = plan.close
    const socket = this.socket
    const body = parts.body
    // The request is over once the last byte is handed to the kernel (#written), not when it
    // is queued: shutdown waits for it, and the idle clock starts after it.
    if (plan.mode === 'none' || body === null) {
      socket.write(plan.head, 'latin1', this.#written)
      if (body instanceof ReadableStream) void body.cancel().catch(() => {})
    } else if (body instanceof Uint8Array) {
      writeHeadAndBytes(socket, plan.head, body, this.#written)
    } else {
      void this.#stream(body, plan.head, plan.mode, plan.length).then((ok) => {
        if (!ok) socket.destroy()
      })
    }
  }

  readonly #written = (): void => {
    this.#finish(this.#closeAfterResponse)
  }

  /** Writes a streamed body; false when it failed or the client left (the socket must go). */
  async #stream(
    body: ReadableStream<Uint8Array>,
    head: string,
    mode: 'length' | 'chunked' | 'close',
    length: number,
  ): Promise<boolean> {
    const socket = this.socket
    let reader: ReadableStreamDefaultReader<Uint8Array>
    try {
      reader = body.getReader()
    } catch {
      return false // a body someone else is reading: nothing sensible can be sent
    }
    socket.write(head, 'latin1')
    const onClose = () => void reader.cancel().catch(() => {})
    socket.once('close', onClose)
    let left = length
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        if (this.#closed) return false
        let more: boolean
        if (mode === 'chunked') {
          if (value.byteLength === 0) continue
          socket.cork()
          socket.write(`${value.byteLength.toString(16)}\r\n`, 'latin1')
          socket.write(value)
          more = socket.write('\r\n', 'latin1')
          socket.uncork()
        } else if (mode === 'length') {
          // Never more than announced: the surplus would be read as the next response.
          if (value.byteLength > left) return false
          left -= value.byteLength
          more = socket.write(value)
        } else more = socket.write(value)
        if (!more) await drained(socket)
      }
      if (mode === 'length' && left !== 0) return false
      if (this.#closed) return false
      socket.write(mode === 'chunked' ? LAST_CHUNK : NOTHING, this.#written)
      return true
    } catch {
      // The body failed mid-way (upstream reset, timeout): the client must not take the cut
      // body as complete, so the connection goes.
      return false
    } finally {
      socket.off('close', onClose)
    }
  }

  #finish(close: boolean): void {
    if (!this.#busy) return
    this.#busy = false
    this.#responding = false
    this.#goneListeners = undefined
    this.#endRequest?.()
    this.#endRequest = undefined
    if (close || this.#options.draining()) {
      this.#closeAfterWrites()
      return
    }
    const body = this.#body
    if (body) {
      // Nobody read all of it (a mocked answer, a 405): discard the rest, then go on.
      body.discard()
      this.socket.resume()
      return
    }
    if (this.#pending !== undefined) {
      this.socket.resume()
      this.#parse()
    } else this.#becomeIdle()
  }

  #becomeIdle(): void {
    this.idleSince = performance.now()
    if (this.#options.draining()) this.#closeAfterWrites()
  }

  /** Answers a request that cannot be served (bad head, timeout), then closes. */
  #fail(kind: ErrorKind, message: string): void {
    if (this.#closed) return
    const body = Buffer.from(JSON.stringify(errorBody(kind, message)))
    const headers = { 'content-type': 'application/json' }
    const plan = responseHead({ status: ErrorCodes[kind].status, headers, body }, 'GET', 1, false)
    writeHeadAndBytes(this.socket, plan.head, body)
    this.#closeAfterWrites()
    // A refused client gets a fixed time to read the refusal, however much it keeps sending.
    setTimeout(() => this.socket.destroy(), CLOSE_LINGER_MS * 5).unref()
  }

  #closeAfterWrites(): void {
    if (this.#closed) return
    this.#closed = true
    this.#pending = undefined
    const socket = this.socket
    socket.end()
    // Once our side is flushed and closed, a client that does not close its side is cut off.
    socket.once('finish', () => setTimeout(() => socket.destroy(), CLOSE_LINGER_MS).unref())
  }

  #onClose(): void {
    this.#closed = true
    this.#body?.fail(new Error('the client closed the connection'))
    this.#body = undefined
    if (this.#busy) {
      const listeners = this.#goneListeners
      this.#goneListeners = undefined
      if (listeners) for (const listener of listeners) listener()
    }
    this.#endRequest?.()
    this.#endRequest = undefined
  }
}

function writeHeadAndBytes(socket: Socket, head: string, body: Uint8Array, written?: () => void): void {
  const headBytes = head.length // latin1: one byte per character (h1-response.ts refuses others)
  if (body.byteLength > COALESCE_BYTES) {
    socket.cork()
    socket.write(head, 'latin1')
    socket.write(body, written)
    socket.uncork()
    return
  }
  let out = headInRoom(head, body)
  if (out === undefined) {
    out = Buffer.allocUnsafe(headBytes + body.byteLength)
    out.write(head, 0, 'latin1')
    out.set(body, headBytes)
  }
  socket.write(out, written)
}

function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done)
      socket.off('close', done)
      resolve()
    }
    socket.on('drain', done)
    socket.on('close', done)
  })
}

/**
 * A request body as a web stream, fed by the connection as bytes arrive, with backpressure (the
 * socket pauses while the consumer lags). Decoding (length or chunked) finds where the body
 * ends even when nobody reads it.
 */
class RequestBody {
  readonly stream: ReadableStream<Uint8Array>
  readonly #decoder: BodyDecoder
  readonly #socket: Socket
  #controller!: ReadableStreamDefaultController<Uint8Array>
  #settled = false
  #discarding = false

  constructor(framing: Framing, socket: Socket) {
    this.#socket = socket
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller
        },
        pull: () => {
          socket.resume()
        },
        cancel: () => {
          // Keep decoding (to find the next request), stop delivering.
          this.#discarding = true
          socket.resume()
        },
      },
      { highWaterMark: 64 * 1024, size: (chunk) => chunk?.byteLength ?? 0 },
    )
    this.#decoder = bodyDecoder(framing, (bytes) => {
      if (this.#discarding || this.#settled) return
      this.#controller.enqueue(bytes)
      if ((this.#controller.desiredSize ?? 0) <= 0) this.#socket.pause()
    })
  }

  /** Body bytes in; once the body is complete, returns the bytes after it (maybe none). */
  push(data: Buffer): Buffer | undefined {
    const used = this.#decoder.push(data)
    if (used === -1) return undefined
    if (!this.#settled) {
      this.#settled = true
      if (!this.#discarding) this.#controller.close()
    }
    return data.subarray(used)
  }

  /** The response is out and nobody wants the rest: decode and drop it. */
  discard(): void {
    this.#discarding = true
    if (!this.stream.locked) void this.stream.cancel().catch(() => {})
  }

  fail(error: Error): void {
    if (this.#settled) return
    this.#settled = true
    if (!this.#discarding) this.#controller.error(error)
  }
}
