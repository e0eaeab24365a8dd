/**
 * @module
 * `Bun.connect` sockets for the shared pooled HTTP/1.1 client (src/adapters/socket-client).
 * Bun's socket write is unbuffered: it returns how many bytes the kernel took. The rest is kept
 * here and written on 'drain'; the client hears `onDrain` once all of it is out.
 */
import type { Socket, SocketHandler } from 'bun'
import type { Dial, RawSocket, SocketEvents, WriteResult } from '../socket-client/transport.ts'

class BunRawSocket implements RawSocket {
  /** Bun's `data` handler gets a new buffer for every read (checked: earlier ones stay intact). */
  readonly keepsReads = true
  socket: Socket<BunRawSocket> | undefined
  connected = false
  /** Destroyed before Bun.connect resolved: close the socket as soon as it exists. */
  cancelled = false
  #pending: Uint8Array | undefined

  constructor(
    readonly events: SocketEvents,
    /** TLS with `verify = false`: a certificate Bun cannot verify is accepted. */
    readonly acceptUnverified = false,
  ) {}

  write(bytes: Uint8Array): WriteResult {
    const socket = this.socket
    if (!socket || !this.connected || this.cancelled) return 'closed'
    if (this.#pending) {
      this.#pending = Buffer.concat([this.#pending, bytes])
      return 'queued'
    }
    const n = socket.write(bytes)
    if (n < 0) return 'closed'
    if (n === bytes.byteLength) return 'sent'
    this.#pending = bytes.subarray(n)
    return 'queued'
  }

  /** Bun's 'drain': write what the kernel did not take before. */
  flush(): void {
    const pending = this.#pending
    if (!pending || !this.socket) return
    const n = this.socket.write(pending)
    if (n < 0) return // 'close' follows
    if (n < pending.byteLength) {
      this.#pending = pending.subarray(n)
      return
    }
    this.#pending = undefined
    this.events.onDrain()
  }

  end(): void {
    this.socket?.end()
  }

  destroy(): void {
    this.cancelled = true
    if (this.socket && this.socket.readyState !== 0) this.socket.terminate()
  }

  pause(): void {
    this.socket?.pause()
  }

  resume(): void {
    this.socket?.resume()
  }

  get open(): boolean {
    return this.connected && !this.cancelled && this.socket !== undefined && this.socket.readyState > 0
  }

  opened(socket: Socket<BunRawSocket>): void {
    this.socket = socket
    if (this.cancelled) socket.terminate()
    else socket.setNoDelay(true)
  }

  connectedNow(): void {
    if (this.cancelled) return
    this.connected = true
    this.events.onConnected()
  }
}

const PLAIN_HANDLERS: SocketHandler<BunRawSocket> = {
  open: (socket) => {
    socket.data.opened(socket)
    socket.data.connectedNow()
  },
  data: (socket, data) => socket.data.events.onData(data),
  drain: (socket) => socket.data.flush(),
  end: (socket) => socket.data.events.onEnd(),
  close: (socket, error) => socket.data.events.onClose(error),
  error: (socket, error) => socket.data.events.onError(error),
  connectError: (socket, error) => socket.data.events.onConnectError(error),
}

/** With a `handshake` handler, `open` fires at TCP connect and `handshake` once TLS is up. */
const TLS_HANDLERS: SocketHandler<BunRawSocket> = {
  ...PLAIN_HANDLERS,
  open: (socket) => socket.data.opened(socket),
  handshake: (socket, success, error) => {
    socket.data.socket = socket
    // Bun reports a certificate it could not verify (self-signed, a name that does not match
    // the SNI) as an unsuccessful handshake even with rejectUnauthorized: false; the session is
    // up, and `verify = false` asked for exactly that.
    if (success || (socket.data.acceptUnverified && error !== undefined)) socket.data.connectedNow()
    else socket.data.events.onConnectError(error ?? new Error('TLS handshake failed'))
  },
}

export const dialBun: Dial = (target, events) => {
  const { hostname, port, tls } = target
  const raw = new BunRawSocket(events, tls?.rejectUnauthorized === false)
  Bun.connect<BunRawSocket>({
    hostname,
    port,
    data: raw,
    socket: tls ? TLS_HANDLERS : PLAIN_HANDLERS,
    ...(tls ? { tls } : {}),
  }).catch(() => {
    // Reported through connectError / handshake / close.
  })
  return raw
}
