/**
 * @module
 * What a runtime adapter provides to `run` (src/runtime/run.ts): listeners that hand each
 * request to the gateway, and the outbound client. Everything else is shared by all runtimes.
 */
import type { GatewayConfig } from '../config/schema.ts'
import type { ConnInfo } from '../core/plugin.ts'
import type { UpstreamClient } from '../upstream/types.ts'

export type FetchHandler = (request: Request, conn: ConnInfo) => Response | Promise<Response>

export interface Listeners {
  /** Listening URLs, e.g. "http://127.0.0.1:9080". */
  readonly urls: readonly string[]
  /**
   * Stops accepting, lets requests in flight finish (at most `timeoutMs`), then closes all.
   * 'timed-out': requests were still in flight when time ran out, and were cut.
   */
  drain(timeoutMs: number): Promise<'drained' | 'timed-out'>
  /**
   * Reads the TLS listeners' certificate and key files again (SIGHUP, after a renewal) and
   * serves them to new connections; a message to log. Absent: the runtime cannot (restart).
   */
  reloadCertificates?(): string
}

export interface RuntimeAdapter {
  /** "node 20.20.2", "bun 1.4.5", ... for the start-up line. */
  readonly description: string
  createUpstream(): UpstreamClient
  listen(server: GatewayConfig['server'], configDir: string, fetch: FetchHandler): Promise<Listeners>
}

/** A start-up failure users must see in one line: port taken, unreadable certificate. */
export class ListenError extends Error {}

/** Maps a listen() failure to the one-line reason users see. */
export function listenFailure(label: string, error: { code?: string; message: string }): ListenError {
  const code = error.code ?? ''
  const reason =
    code === 'EADDRINUSE' || /address already in use|EADDRINUSE/i.test(error.message)
      ? 'address already in use'
      : code === 'EACCES'
        ? 'permission denied'
        : code === 'EADDRNOTAVAIL'
          ? 'address not available on this machine'
          : code || error.message
  return new ListenError(`cannot listen on ${label}: ${reason}`)
}
