/**
 * @module
 * What the pooled HTTP/1.1 client (client.ts) needs from a runtime's sockets. Each runtime
 * supplies a `Dial` (src/adapters/bun/dialer.ts on `Bun.connect`, src/adapters/node/dialer.ts
 * on `node:net`/`node:tls`); everything above it is shared.
 */

/** TLS settings of one pool. `serverName` is absent for IP addresses (no SNI, RFC 6066). */
export interface TlsTarget {
  readonly rejectUnauthorized: boolean
  readonly serverName?: string
}

export interface DialTarget {
  readonly hostname: string
  readonly port: number
  readonly tls: TlsTarget | undefined
}

/**
 * How a write went: `sent` (taken whole, write again at will), `queued` (taken, but the socket
 * is backed up: write again only after `onDrain`), or `closed` (nothing was taken).
 */
export type WriteResult = 'sent' | 'queued' | 'closed'

export interface RawSocket {
  write(bytes: Uint8Array): WriteResult
  /** Ends our side after what was written (orderly close). */
  end(): void
  /** Closes at once. */
  destroy(): void
  /** Stops reading (backpressure from a slow consumer) until `resume`. */
  pause(): void
  resume(): void
  /** Connected and not closed: fit to be reused. False until `onConnected`. */
  readonly open: boolean
  /**
   * Each `onData` buffer is the receiver's to keep (Bun hands a fresh buffer per read). False
   * where the dialer reads into one shared buffer (Node's `onread`): the client then copies.
   */
  readonly keepsReads: boolean
}

/** Socket events, in the order they can come: one of connected/connectError, then the rest. */
export interface SocketEvents {
  /** TCP is up and, with TLS, the handshake succeeded. */
  onConnected(): void
  /** Never connected: refused, DNS, connect reset, TLS handshake failure. */
  onConnectError(error: Error): void
  /** `data` is valid only during the call unless the socket `keepsReads`: copy what you keep. */
  onData(data: Buffer): void
  /** Everything `queued` is out. */
  onDrain(): void
  /** The peer ended its side (FIN). */
  onEnd(): void
  /** The socket failed after connecting; `onClose` follows. */
  onError(error: Error): void
  /** The socket is gone (after an error, a FIN, or our own end/destroy). */
  onClose(error: Error | undefined): void
}

/**
 * Starts connecting and returns the socket at once (not `open` yet), so a connect timeout can
 * destroy it. Events may come synchronously only after `dial` has returned.
 */
export type Dial = (target: DialTarget, events: SocketEvents) => RawSocket
