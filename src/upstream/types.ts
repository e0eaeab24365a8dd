/**
 * @module
 * The outbound HTTP client every terminal handler uses (proxy, aws-lambda, azure-functions).
 * Each runtime adapter supplies one: on every runtime the pooled HTTP/1.1 socket client
 * (src/adapters/socket-client) over `node:net` (Node, Deno) or `Bun.connect` (Bun); Bun can
 * use its own fetch instead (`SLUICE_BUN_CLIENT=fetch`). The core never imports one.
 */

export interface Origin {
  readonly scheme: 'http' | 'https'
  readonly host: string
  readonly port: number
}

export interface PoolOptions {
  /** false: one connection per request, closed after it. */
  readonly keepalive: boolean
  /** Idle connections kept per origin. */
  readonly size: number
  /** Idle connections are closed after this many ms. */
  readonly idleTimeout: number
}

export interface Timeouts {
  /** ms to establish the connection (TCP + TLS). Expiry -> `connect-timeout`. */
  readonly connect: number
  /** ms of idleness allowed while sending the request body. */
  readonly send: number
  /** ms of idleness allowed while waiting for / reading the response. */
  readonly read: number
  /** Optional ms budget for the whole exchange up to response headers (serverless `timeout`). */
  readonly total?: number
}

export interface OutboundRequest {
  readonly origin: Origin
  readonly method: string
  /** Path and query, already encoded: sent as is. */
  readonly path: string
  /** Final headers (lower-case names), hop-by-hop already removed; `host` included. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: ReadableStream<Uint8Array> | Uint8Array | null
  readonly timeouts: Timeouts
  readonly pool: PoolOptions
  /** Verify the upstream's TLS certificate (https only). */
  readonly tlsVerify: boolean
  /** TLS SNI / certificate name; defaults to origin.host. */
  readonly servername?: string | undefined
  /** Subscribes to the client going away (aborts the exchange); returns an unsubscribe. */
  readonly onClientGone?: ClientGone | undefined
}

export type ClientGone = (listener: () => void) => () => void

export type UpstreamFailure =
  /** Could not connect (refused, unreachable, DNS, TLS handshake): nothing was sent. */
  | 'connect'
  /** Connecting took longer than `timeouts.connect`: nothing was sent. */
  | 'connect-timeout'
  /** Connected, then no response in time. */
  | 'timeout'
  /** The client's request body stalled for `timeouts.send` ms while being forwarded (its fault: 408). */
  | 'client-timeout'
  /** Connected, then the connection failed before a response head arrived. */
  | 'reset'
  /** The client went away (onClientGone fired). */
  | 'aborted'

export class UpstreamError extends Error {
  readonly failure: UpstreamFailure
  constructor(failure: UpstreamFailure, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'UpstreamError'
    this.failure = failure
  }

  /** Nothing reached the upstream, so another node may be tried even for non-idempotent requests. */
  get nothingSent(): boolean {
    return this.failure === 'connect' || this.failure === 'connect-timeout'
  }
}

export interface UpstreamClient {
  /**
   * Sends the request and resolves with the response head and a streaming body, hop-by-hop
   * headers already removed (see core/headers.ts). Rejects with `UpstreamError` only; the
   * body stream errors if the upstream fails mid-body.
   */
  send(request: OutboundRequest): Promise<Response>
  /** Closes pooled connections (shutdown). */
  close(): void
}
