/**
 * @module
 * A pooled HTTP/1.1 outbound client on raw sockets, shared by the runtimes: each supplies a
 * `Dial` (transport.ts): `Bun.connect` on Bun, `node:net`/`node:tls` on Node and Deno. It keeps
 * `pool.size` idle connections per origin, reused last-in first-out, with no cap on busy ones
 * (as Node's agent). Measured: 1.35-1.5x Bun's fetch (which churns upstream connections above
 * ~64 in flight) and well ahead of `node:http`'s client on Node (see docs/performance.md).
 *
 * Timing model (the same for every runtime):
 * - connect timer until the socket (TLS included) is up -> `connect-timeout`; refused, DNS,
 *   TLS failures -> `connect`; the request body is read only once connected;
 * - then idle timers: `send` while the request goes out (a client whose body stalls that long
 *   -> `client-timeout`, 408), `read` while waiting for the head and
 *   between body bytes (stopped while the consumer of a streamed body lags) -> `timeout`
 *   (per operation, as nginx's proxy timeouts and lua-resty-http's, which APISIX's serverless
 *   plugins use: a slow but steady upload or download never times out);
 * - bodies of known length up to 64 KiB are read whole before resolving; others stream;
 * - a kept-alive connection that fails before any response byte is retried once on a fresh
 *   connection when the request can be sent again (`replayable`).
 * A connection returns to the pool only after a complete exchange that neither side ended with
 * `Connection: close`; any error or anything unexpected closes it.
 */

import { isIP } from 'node:net'
import { responseFromRecord } from '../../core/response.ts'
import type { OutboundRequest, PoolOptions, UpstreamClient } from '../../upstream/types.ts'
import { UpstreamError } from '../../upstream/types.ts'
import { bodyWithHeadRoom, HEAD_ROOM_MIN_BODY_BYTES } from './head-room.ts'
import {
  type BodyDecoder,
  bodyDecoder,
  chunkFrame,
  HeaderLineMemo,
  LAST_CHUNK,
  MAX_HEAD_BYTES,
  ProtocolError,
  parseResponseHead,
  type ResponseHead,
  requestHead,
} from './http1.ts'
import type { Dial, DialTarget, RawSocket, SocketEvents, TlsTarget } from './transport.ts'

/** Response bodies up to this size, with a Content-Length, are buffered instead of streamed. */
const SMALL_BODY_BYTES = 64 * 1024
/** Request bodies up to this size go out in the same write as the head; bigger ones in slices this size. */
const COALESCE_BYTES = 64 * 1024
/** Bytes a streamed response may queue ahead of its consumer before the socket is paused. */
const STREAM_HIGH_WATER = 256 * 1024

const CRLFCRLF = Buffer.from('\r\n\r\n')

export interface SocketClientOptions {
  /**
   * Buffered bodies of 4 KiB or more get free bytes in front for an HTTP/1.1 response head
   * (head-room.ts). For the Node adapter, whose HTTP/1.1 server writes into them; elsewhere the
   * room would be 1 KiB per body for nothing.
   */
  readonly headRoom?: boolean
}

/** How long a chunked request's head waits to see whether its body stream is empty. */
const FRAMING_GRACE_MS = 20

/** Methods RFC 9110 defines as idempotent: sending one twice has the effect of sending it once. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])

/**
 * Whether a request may go out again after a reused connection closed before any answer: with
 * no body, an empty one, or a buffered body (its bytes are still here) of an idempotent method.
 * A streamed body is gone once sent. (A signed call's body is always buffered, so an IAM GET is
 * retried like an API-key one.)
 */
function replayable(request: OutboundRequest): boolean {
  const body = request.body
  if (body === null) return true
  return body instanceof Uint8Array && (body.byteLength === 0 || IDEMPOTENT.has(request.method))
}

export class SocketUpstreamClient implements UpstreamClient {
  readonly #pools = new Map<string, Pool>()

  constructor(
    readonly dial: Dial,
    readonly options: SocketClientOptions = {},
  ) {}

  send(request: OutboundRequest): Promise<Response> {
    let head: ReturnType<typeof requestHead>
    try {
      head = requestHead(request.method, request.path, request.headers, request.body, request.pool.keepalive)
    } catch (error) {
      return Promise.reject(new UpstreamError('reset', (error as Error).message, { cause: error }))
    }
    const pool = this.#pool(request)
    return this.#attempt(request, head, pool, false).catch((error: unknown) => {
      // A kept-alive connection the upstream closed while idle fails on first use; the request
      // never reached the application then, so it is sent once more when that is safe.
      if (!(error instanceof RetryableReset)) throw error
      const again = error.replay
      if (again === request) return this.#attempt(request, head, pool, true)
      let againHead: ReturnType<typeof requestHead>
      try {
        againHead = requestHead(again.method, again.path, again.headers, again.body, again.pool.keepalive)
      } catch {
        throw error.reset
      }
      return this.#attempt(again, againHead, pool, true)
    })
  }

  #attempt(
    request: OutboundRequest,
    head: ReturnType<typeof requestHead>,
    pool: Pool,
    fresh: boolean,
  ): Promise<Response> {
    return new Promise<Response>((resolve, reject) => {
      const idle = fresh ? undefined : pool.take()
      const conn = idle ?? new Conn(pool)
      const exchange = new Exchange(request, head, conn, idle !== undefined, resolve, reject)
      conn.exchange = exchange
      if (idle) exchange.onConnected()
      else conn.connect()
    })
  }

  /**
   * Last pool used per (origin object, pool options object): routes build both once, so the hot
   * path skips building the string key. TLS settings are checked, never assumed.
   */
  readonly #recent = new WeakMap<object, WeakMap<object, Pool>>()

  #pool(request: OutboundRequest): Pool {
    const { origin, pool: options } = request
    const recent = this.#recent.get(origin)?.get(options)
    if (recent && recent.tlsVerify === request.tlsVerify && recent.servername === request.servername) {
      return recent
    }
    const pool = this.#poolByKey(request)
    let byOptions = this.#recent.get(origin)
    if (!byOptions) {
      byOptions = new WeakMap()
      this.#recent.set(origin, byOptions)
    }
    byOptions.set(options, pool)
    return pool
  }

  #poolByKey(request: OutboundRequest): Pool {
    const { origin, pool: options } = request
    const secure = origin.scheme === 'https'
    const key = `${origin.scheme}|${origin.host}|${origin.port}|${options.keepalive}|${options.size}|${options.idleTimeout}${secure ? `|${request.tlsVerify}|${request.servername ?? ''}` : ''}`
    let pool = this.#pools.get(key)
    if (!pool) {
      const name = request.servername ?? origin.host
      // SNI never carries an IP address (RFC 6066).
      const tls: TlsTarget | undefined = secure
        ? { rejectUnauthorized: request.tlsVerify, ...(isIP(name) === 0 ? { serverName: name } : {}) }
        : undefined
      const target = { hostname: origin.host, port: origin.port, tls }
      pool = new Pool(this.dial, target, options, request, this.options.headRoom === true)
      this.#pools.set(key, pool)
    }
    return pool
  }

  close(): void {
    for (const pool of this.#pools.values()) pool.close()
    this.#pools.clear()
  }
}

class RetryableReset extends Error {
  constructor(
    readonly reset: UpstreamError,
    /** What to send again: the request, or it without the body stream that turned out empty. */
    readonly replay: OutboundRequest,
  ) {
    super(reset.message)
  }
}

/** Idle keep-alive connections of one origin and one pool/TLS setting, reused LIFO. */
class Pool {
  readonly #idle: Conn[] = []
  #sweeper: ReturnType<typeof setTimeout> | undefined
  #closed = false

  readonly tlsVerify: boolean
  readonly servername: string | undefined

  constructor(
    readonly dial: Dial,
    readonly target: DialTarget,
    readonly options: PoolOptions,
    tls: { readonly tlsVerify: boolean; readonly servername?: string | undefined },
    /** Buffered bodies get head room (SocketClientOptions.headRoom). */
    readonly headRoom: boolean,
  ) {
    this.tlsVerify = tls.tlsVerify
    this.servername = tls.servername
  }

  take(): Conn | undefined {
    for (;;) {
      const conn = this.#idle.pop()
      if (!conn) return undefined
      if (!conn.closed && conn.socket?.open) return conn
      conn.destroy()
    }
  }

  put(conn: Conn): void {
    if (this.#closed || this.options.size <= 0 || conn.closed) {
      conn.close()
      return
    }
    if (this.#idle.length >= this.options.size) this.#idle.shift()?.close()
    conn.idleSince = performance.now()
    this.#idle.push(conn)
    if (this.options.idleTimeout > 0 && this.#sweeper === undefined) this.#arm(this.options.idleTimeout)
  }

  remove(conn: Conn): void {
    const index = this.#idle.lastIndexOf(conn)
    if (index !== -1) this.#idle.splice(index, 1)
  }

  #arm(ms: number): void {
    this.#sweeper = setTimeout(this.#sweep, Math.max(1, ms))
    this.#sweeper.unref?.()
  }

  readonly #sweep = () => {
    this.#sweeper = undefined
    const now = performance.now()
    const timeout = this.options.idleTimeout
    while (this.#idle.length > 0 && (this.#idle[0] as Conn).idleSince + timeout <= now) {
      ;(this.#idle.shift() as Conn).close()
    }
    const oldest = this.#idle[0]
    if (oldest) this.#arm(oldest.idleSince + timeout - now)
  }

  close(): void {
    this.#closed = true
    if (this.#sweeper !== undefined) clearTimeout(this.#sweeper)
    this.#sweeper = undefined
    for (const conn of this.#idle.splice(0)) conn.close()
  }
}

/** One upstream connection; its events go to the exchange using it, if any. */
class Conn implements SocketEvents {
  socket: RawSocket | undefined
  exchange: Exchange | undefined
  /** The last response head's lines: most of the next one's are the same (see http1.ts). */
  readonly headerLines = new HeaderLineMemo()
  closed = false
  idleSince = 0

  constructor(readonly pool: Pool) {}

  connect(): void {
    try {
      this.socket = this.pool.dial(this.pool.target, this)
    } catch (error) {
      queueMicrotask(() => this.onConnectError(error as Error))
    }
  }

  onConnected(): void {
    if (this.closed || !this.exchange) {
      this.destroy()
      return
    }
    this.exchange.onConnected()
  }

  onConnectError(error: Error): void {
    this.closed = true
    this.exchange?.onConnectError(error)
  }

  onData(data: Buffer): void {
    if (this.exchange) this.exchange.onData(data)
    else this.destroy() // bytes on an idle connection: nothing can be trusted on it any more
  }

  onDrain(): void {
    this.exchange?.onDrain()
  }

  onEnd(): void {
    if (this.exchange) this.exchange.onClosed(undefined)
    else this.destroy()
  }

  onError(error: Error): void {
    this.exchange?.onClosed(error)
  }

  onClose(error: Error | undefined): void {
    this.closed = true
    this.pool.remove(this)
    this.exchange?.onClosed(error)
  }

  /** Closes after an orderly exchange (Connection: close, pool full, idle timeout). */
  close(): void {
    this.exchange = undefined
    if (this.closed) return
    this.closed = true
    this.pool.remove(this)
    this.socket?.end()
  }

  /** Closes at once (errors, timeouts, anything unexpected). */
  destroy(): void {
    this.exchange = undefined
    this.pool.remove(this)
    this.closed = true
    this.socket?.destroy()
  }
}

enum Phase {
  Connecting = 0,
  Head = 1,
  Body = 2,
  Complete = 3,
}

const NULL_BODY_STATUS = new Set([204, 205, 304])

type Upstreamish = UpstreamError | RetryableReset

/**
 * A body of known, small length, buffered whole before the response is handed on. When it arrives
 * in one piece of a read the dialer gave away (`RawSocket.keepsReads`: Bun's reads are fresh
 * buffers), that piece is kept as it is; otherwise the pieces are copied into one buffer. Saves a
 * copy per answer on Bun (a 64 KiB body: ~5 us).
 */
class SmallBody {
  #bytes: Uint8Array | undefined
  #offset = 0

  constructor(
    readonly length: number,
    readonly head: ResponseHead,
    readonly keepsReads: boolean,
    readonly headRoom: boolean,
  ) {}

  readonly append = (piece: Uint8Array): void => {
    if (this.#bytes === undefined) {
      if (this.keepsReads && piece.byteLength === this.length) {
        this.#bytes = piece
        this.#offset = piece.byteLength
        return
      }
      // Not zero-filled: every byte is written before the body is used.
      this.#bytes =
        this.headRoom && this.length >= HEAD_ROOM_MIN_BODY_BYTES
          ? bodyWithHeadRoom(this.length)
          : Buffer.allocUnsafe(this.length)
    }
    this.#bytes.set(piece, this.#offset)
    this.#offset += piece.byteLength
  }

  /** The whole body (the decoder has seen `length` bytes). */
  get bytes(): Uint8Array {
    return this.#bytes ?? new Uint8Array(0)
  }
}

/** One request/response exchange on one connection. */
class Exchange {
  readonly #request: OutboundRequest
  readonly #head: ReturnType<typeof requestHead>
  readonly #conn: Conn
  readonly #reused: boolean
  readonly #resolve: (response: Response) => void
  readonly #reject: (error: Upstreamish) => void
  readonly #unsubscribe: (() => void) | undefined
  readonly #started = performance.now()

  #phase = Phase.Connecting
  /** The request (head and body) is fully written. */
  #written = false
  /** Any response byte arrived. */
  #gotBytes = false
  #settled = false
  #done = false
  /** The connection may be pooled after this response (as far as the upstream is concerned). */
  #keepAlive = false

  // Response state.
  #headBytes: Buffer | undefined
  #decoder: BodyDecoder | undefined
  #small: SmallBody | undefined
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined
  #paused = false

  // Request body state.
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined
  #drained: { resolve: () => void; reject: (error: unknown) => void } | undefined
  /** Waiting for the client's next body chunk: an idle timeout now is the client's (408), not the upstream's. */
  #waitingOnClient = false
  /** The body was a stream that ended before its first byte (Deno hands every request one). */
  #emptyBody = false

  // Timers: one timeout, re-armed lazily to the nearest deadline.
  #timer: ReturnType<typeof setTimeout> | undefined
  #timerAt = 0
  #activity = 0

  constructor(
    request: OutboundRequest,
    head: ReturnType<typeof requestHead>,
    conn: Conn,
    reused: boolean,
    resolve: (response: Response) => void,
    reject: (error: Upstreamish) => void,
  ) {
    this.#request = request
    this.#head = head
    this.#conn = conn
    this.#reused = reused
    this.#resolve = resolve
    this.#reject = reject
    // A pooled connection is connected already: onConnected arms the timer.
    if (!reused) this.#rearm()
    this.#unsubscribe = request.onClientGone?.(() =>
      this.#fail(new UpstreamError('aborted', 'client went away')),
    )
  }

  // ----- timers ---------------------------------------------------------------------------

  #deadline(): number {
    if (this.#phase === Phase.Connecting) return this.#started + this.#request.timeouts.connect
    return this.#paused ? Number.POSITIVE_INFINITY : this.#activity + this.#idleMs()
  }

  #idleMs(): number {
    return this.#written || this.#phase > Phase.Head
      ? this.#request.timeouts.read
      : this.#request.timeouts.send
  }

  /** Makes sure the timer fires no later than the current deadline (deadlines may have moved earlier). */
  #rearm(): void {
    if (this.#done) return
    const at = this.#deadline()
    if (this.#timer !== undefined && this.#timerAt <= at) return
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    if (at === Number.POSITIVE_INFINITY) return
    this.#timerAt = at
    this.#timer = setTimeout(this.#onTimer, Math.max(0, Math.ceil(at - performance.now())))
  }

  readonly #onTimer = () => {
    this.#timer = undefined
    if (this.#done) return
    const now = performance.now()
    const { timeouts } = this.#request
    if (this.#phase === Phase.Connecting && now >= this.#started + timeouts.connect) {
      this.#fail(new UpstreamError('connect-timeout', `connect timed out after ${timeouts.connect} ms`))
      return
    }
    if (this.#phase !== Phase.Connecting && !this.#paused) {
      const idle = this.#idleMs()
      if (now >= this.#activity + idle) {
        this.#fail(
          this.#waitingOnClient
            ? new UpstreamError('client-timeout', `request body idle for ${idle} ms`)
            : new UpstreamError('timeout', `upstream idle for ${idle} ms`),
        )
        return
      }
    }
    this.#rearm()
  }

  // ----- connection events ----------------------------------------------------------------

  onConnectError(error: Error): void {
    const code = (error as { code?: string }).code
    this.#fail(new UpstreamError('connect', code ?? error.message, { cause: error }))
  }

  onConnected(): void {
    if (this.#done || this.#phase !== Phase.Connecting) return
    this.#phase = Phase.Head
    this.#activity = performance.now()
    this.#rearm()
    const body = this.#request.body
    const { head } = this.#head
    try {
      if (body === null) {
        this.#sendFixed(Buffer.from(head, 'latin1'), undefined)
      } else if (body instanceof Uint8Array) {
        if (body.byteLength <= COALESCE_BYTES) {
          const bytes = Buffer.allocUnsafe(head.length + body.byteLength)
          bytes.write(head, 0, 'latin1')
          bytes.set(body, head.length)
          this.#sendFixed(bytes, undefined)
        } else this.#sendFixed(Buffer.from(head, 'latin1'), body)
      } else {
        this.#reader = body.getReader()
        this.#pump(this.#reader).catch((error: unknown) => this.#failWrite(error))
      }
    } catch (error) {
      this.#failWrite(error)
    }
  }

  /** Writes a head (and a body) that are bytes already; usually one write, done synchronously. */
  #sendFixed(first: Uint8Array, second: Uint8Array | undefined): void {
    const wrote = this.#write(first)
    if (wrote === undefined && second === undefined) {
      this.#requestWritten()
      return
    }
    ;(async () => {
      if (wrote) await wrote
      // In slices, so the send timer sees progress on a slow link.
      for (let at = 0; second && at < second.byteLength; at += COALESCE_BYTES) {
        const more = this.#write(second.subarray(at, at + COALESCE_BYTES))
        if (more) await more
      }
      this.#requestWritten()
    })().catch((error: unknown) => this.#failWrite(error))
  }

  async #pump(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const { chunked, declaredLength } = this.#head
    let sent = 0
    // A read already started (the framing decision below), to be used by the loop.
    let pending: ReturnType<typeof reader.read> | undefined
    if (chunked) {
      // Without a length, the first moments of the body decide the framing: a stream that ends
      // before its first byte (Deno gives bodyless requests an empty one) goes out as no body,
      // not as an empty chunked one, which strict servers refuse. The head waits for that at most
      // FRAMING_GRACE_MS: a client that waits for the answer before it streams (bidirectional
      // streaming) must not wait for us.
      this.#waitingOnClient = true
      let timer: ReturnType<typeof setTimeout> | undefined
      const grace = new Promise<undefined>((done) => {
        timer = setTimeout(() => done(undefined), FRAMING_GRACE_MS)
      })
      pending = reader.read()
      let early = await Promise.race([pending, grace])
      // Deno's empty body yields an empty chunk before it ends.
      while (early !== undefined && !early.done && early.value.byteLength === 0) {
        pending = reader.read()
        early = await Promise.race([pending, grace])
      }
      clearTimeout(timer)
      this.#waitingOnClient = false
      if (this.#done) return
      if (early?.done) {
        this.#emptyBody = true
        this.#reader = undefined
        // The head made anew for no body: editing the chunked one in place could hit a client's
        // header value that reads "transfer-encoding: chunked" and desync the connection.
        const r = this.#request
        const none = requestHead(r.method, r.path, r.headers, null, r.pool.keepalive).head
        this.#sendFixed(Buffer.from(none, 'latin1'), undefined)
        return
      }
    }
    const head = this.#write(Buffer.from(this.#head.head, 'latin1'))
    if (head) await head
    for (;;) {
      this.#waitingOnClient = true
      const { done, value } = await (pending ?? reader.read())
      pending = undefined
      this.#waitingOnClient = false
      if (this.#done) return
      if (done) break
      if (value.byteLength === 0) continue
      sent += value.byteLength
      if (declaredLength >= 0 && sent > declaredLength) {
        throw new ProtocolError('request body longer than its Content-Length')
      }
      const wrote = this.#write(chunked ? chunkFrame(value) : value)
      if (wrote) await wrote
      if (this.#done) return
    }
    if (declaredLength >= 0 && sent !== declaredLength) {
      throw new ProtocolError('request body shorter than its Content-Length')
    }
    if (chunked) {
      const wrote = this.#write(LAST_CHUNK)
      if (wrote) await wrote
    }
    this.#reader = undefined
    this.#requestWritten()
  }

  /** Writes now; the promise (if any) resolves once the socket has drained. */
  #write(bytes: Uint8Array): Promise<void> | undefined {
    if (this.#done) throw new ClosedWhileWriting()
    const result = this.#conn.socket ? this.#conn.socket.write(bytes) : 'closed'
    if (result === 'closed') throw new ClosedWhileWriting()
    this.#activity = performance.now()
    if (result === 'sent') return undefined
    return new Promise<void>((resolve, reject) => {
      this.#drained = { resolve, reject }
    })
  }

  onDrain(): void {
    if (this.#done) return
    this.#activity = performance.now()
    const drained = this.#drained
    this.#drained = undefined
    drained?.resolve()
  }

  #requestWritten(): void {
    if (this.#done) return
    this.#written = true
    if (this.#phase === Phase.Complete) {
      this.#finish()
      return
    }
    this.#rearm()
  }

  /** Writing failed: the socket closed (handled as a close), the request body failed, or framing did. */
  #failWrite(error: unknown): void {
    if (this.#done) return
    if (error instanceof ClosedWhileWriting) {
      this.onClosed(undefined)
      return
    }
    const message = error instanceof Error ? error.message : String(error)
    this.#fail(new UpstreamError('reset', message, { cause: error }))
  }

  onData(data: Buffer): void {
    if (this.#done) return
    this.#gotBytes = true
    this.#activity = performance.now()
    try {
      if (this.#phase <= Phase.Head) this.#onHeadBytes(data)
      else if (this.#phase === Phase.Body) this.#feed(data)
      else this.#keepAlive = false // bytes after the response: do not reuse
    } catch (error) {
      this.#fail(
        error instanceof UpstreamError
          ? error
          : new UpstreamError('reset', `malformed response: ${(error as Error).message}`, { cause: error }),
      )
    }
  }

  /** The upstream closed (FIN, close, or an error on the socket). */
  onClosed(error: Error | undefined): void {
    if (this.#done) return
    if (this.#phase === Phase.Connecting) {
      this.#fail(new UpstreamError('connect', error?.message ?? 'connection closed while connecting'))
      return
    }
    if (this.#phase === Phase.Body && this.#decoder?.end()) {
      this.#keepAlive = false
      this.#bodyComplete()
      return
    }
    const detail = error?.message ?? ''
    if (this.#phase === Phase.Head) {
      const reset = new UpstreamError('reset', `upstream closed before responding ${detail}`.trim())
      this.#fail(
        this.#reused && !this.#gotBytes && (this.#emptyBody || replayable(this.#request))
          ? new RetryableReset(reset, this.#emptyBody ? { ...this.#request, body: null } : this.#request)
          : reset,
      )
      return
    }
    this.#fail(new UpstreamError('reset', `upstream closed mid-body ${detail}`.trim()))
  }

  // ----- response -------------------------------------------------------------------------

  #onHeadBytes(data: Buffer): void {
    let bytes = this.#headBytes ? Buffer.concat([this.#headBytes, data]) : data
    let from = this.#headBytes ? Math.max(0, this.#headBytes.length - 3) : 0
    for (;;) {
      const end = bytes.indexOf(CRLFCRLF, from)
      if (end === -1) {
        if (bytes.length > MAX_HEAD_BYTES) throw new ProtocolError('response head too large')
        // Socket bytes are valid only during the call (transport.ts): keep a copy (a rare path).
        this.#headBytes = Buffer.from(bytes)
        return
      }
      if (end > MAX_HEAD_BYTES) throw new ProtocolError('response head too large')
      const head = parseResponseHead(
        bytes.toString('latin1', 0, end),
        this.#request.method,
        this.#conn.headerLines,
      )
      const rest = bytes.subarray(end + 4)
      if (head.status < 100 || head.status > 599 || head.status === 101) {
        throw new ProtocolError(`unsupported status ${head.status}`)
      }
      if (head.status >= 200) {
        this.#headBytes = undefined
        this.#onHead(head, rest)
        return
      }
      // 100 Continue, 103 Early Hints, ...: interim, skipped.
      bytes = rest
      from = 0
      if (bytes.length === 0) {
        this.#headBytes = undefined
        return
      }
    }
  }

  #onHead(head: ResponseHead, rest: Buffer): void {
    this.#phase = Phase.Body
    this.#keepAlive = head.keepAlive
    const init = { status: head.status, statusText: head.statusText, headers: head.headers }
    const { framing } = head
    if (framing.kind === 'none' || NULL_BODY_STATUS.has(head.status)) {
      // A 205 with a body: the body is not forwarded and the connection not reused.
      if (framing.kind !== 'none') this.#keepAlive = false
      this.#settle(() => responseFromRecord(null, init))
      if (rest.length > 0) this.#keepAlive = false
      this.#phase = Phase.Complete
      this.#complete()
      return
    }
    if (framing.kind === 'length' && framing.length <= SMALL_BODY_BYTES) {
      const conn = this.#conn
      const small = new SmallBody(framing.length, head, conn.socket?.keepsReads === true, conn.pool.headRoom)
      this.#small = small
      this.#decoder = bodyDecoder(framing, small.append)
      this.#feed(rest)
      return
    }
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller
        },
        pull: () => this.#resume(),
        cancel: () => this.#fail(new UpstreamError('aborted', 'response body cancelled')),
      },
      { highWaterMark: STREAM_HIGH_WATER, size: (chunk) => chunk?.byteLength ?? 0 },
    )
    this.#decoder = bodyDecoder(framing, (bytes) => {
      const controller = this.#controller as ReadableStreamDefaultController<Uint8Array>
      // A copy unless the dialer gives each read away (Bun): otherwise socket bytes are not ours to keep.
      controller.enqueue(this.#conn.socket?.keepsReads === true ? bytes : new Uint8Array(bytes))
      if (!this.#paused && (controller.desiredSize ?? 0) <= 0) {
        this.#paused = true
        this.#conn.socket?.pause()
      }
    })
    this.#settle(() => responseFromRecord(stream, init))
    if (!this.#done) this.#feed(rest)
  }

  #feed(data: Uint8Array): void {
    const decoder = this.#decoder as BodyDecoder
    if (data.byteLength === 0 && !(this.#small && this.#small.length === 0)) return
    const used = decoder.push(data)
    if (used < 0) return
    if (used < data.byteLength) this.#keepAlive = false
    this.#bodyComplete()
  }

  #bodyComplete(): void {
    this.#phase = Phase.Complete
    const small = this.#small
    if (small) {
      const { head } = small
      this.#small = undefined
      this.#settle(() =>
        responseFromRecord(small.bytes as Uint8Array<ArrayBuffer>, {
          status: head.status,
          statusText: head.statusText,
          headers: head.headers,
        }),
      )
    } else this.#controller?.close()
    this.#complete()
  }

  /** The response is complete: pool the connection once the request is out too. */
  #complete(): void {
    if (this.#done) return
    if (this.#written) this.#finish()
    else {
      // The upstream answered before reading the whole request: this connection is done.
      this.#keepAlive = false
      this.#finish()
    }
  }

  #resume(): void {
    if (!this.#paused || this.#done) return
    this.#paused = false
    this.#conn.socket?.resume()
    this.#activity = performance.now()
    this.#rearm()
  }

  #settle(make: () => Response): void {
    if (this.#settled) return
    let response: Response
    try {
      response = make()
    } catch (error) {
      // e.g. a header value the Response constructor rejects.
      this.#fail(
        new UpstreamError('reset', `malformed response: ${(error as Error).message}`, { cause: error }),
      )
      return
    }
    this.#settled = true
    this.#resolve(response)
  }

  // ----- endings --------------------------------------------------------------------------

  #stop(): void {
    this.#done = true
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#unsubscribe?.()
  }

  #finish(): void {
    if (this.#done) return
    this.#stop()
    const conn = this.#conn
    conn.exchange = undefined
    // A request body still waiting for 'drain' (the upstream answered early): let its pump end.
    const drained = this.#drained
    this.#drained = undefined
    drained?.reject(new ClosedWhileWriting())
    if (this.#reader) {
      this.#reader.cancel().catch(() => {})
      this.#reader = undefined
    }
    if (this.#written && this.#keepAlive && this.#request.pool.keepalive) {
      if (this.#paused) conn.socket?.resume()
      conn.pool.put(conn)
    } else conn.close()
  }

  #fail(error: Upstreamish): void {
    if (this.#done) return
    this.#stop()
    this.#conn.destroy()
    const drained = this.#drained
    this.#drained = undefined
    drained?.reject(error)
    if (this.#reader) {
      this.#reader.cancel(error).catch(() => {})
      this.#reader = undefined
    }
    if (!this.#settled) {
      this.#settled = true
      this.#reject(error)
    } else if (this.#controller && this.#phase !== Phase.Complete) {
      try {
        this.#controller.error(error instanceof RetryableReset ? error.reset : error)
      } catch {
        // already closed or errored
      }
    }
  }
}

class ClosedWhileWriting extends Error {
  constructor() {
    super('upstream closed while sending')
  }
}
