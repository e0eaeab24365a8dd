/**
 * @module
 * The Bun adapter: `Bun.serve({ http2: true })` serves HTTP/1.1 and h2c prior knowledge on one
 * port (and h2 by ALPN with TLS); outbound calls use a pooled HTTP/1.1 client on Bun.connect.
 * Measured here: 3-5x the Node adapter's throughput under Bun.
 */

import type { RuntimeAdapter } from '../../runtime/types.ts'
import type { PoolOptions } from '../../upstream/types.ts'
import { FetchUpstreamClient } from '../fetch/upstream.ts'
import { SocketUpstreamClient } from '../socket-client/client.ts'
import { dialBun } from './dialer.ts'
import { startBunListeners } from './listeners.ts'

/**
 * One fetch session per pool setting and TLS mode, so `keepalive_pool` / `keepalive*` apply.
 * Bun caps idle connections per kind in one shared pool as well (about 64 measured): above that
 * many requests in flight it opens new upstream connections (see bench/README.md).
 */
const sessions = new Map<string, Bun.FetchSession>()

function sessionFor(pool: PoolOptions, tlsVerify: boolean): Bun.FetchSession {
  const key = `${pool.keepalive}|${pool.size}|${pool.idleTimeout}|${tlsVerify}`
  let session = sessions.get(key)
  if (!session) {
    session = new Bun.FetchSession({
      keepAlive: pool.keepalive
        ? { idleTimeout: Math.max(1, Math.ceil(pool.idleTimeout / 1000)), maxIdleSockets: pool.size }
        : false,
      tls: { rejectUnauthorized: tlsVerify },
    })
    sessions.set(key, session)
  }
  return session
}

export const bunAdapter: RuntimeAdapter = {
  description: `bun ${Bun.version}`,
  // The shared pooled HTTP/1.1 client on Bun.connect (socket-client/, bun/dialer.ts): 1.35-1.5x Bun's fetch and no
  // upstream connection churn (measured, see bench/README.md). SLUICE_BUN_CLIENT=fetch falls
  // back to fetch (decompress: false keeps bodies byte-for-byte).
  createUpstream: () =>
    process.env.SLUICE_BUN_CLIENT !== 'fetch'
      ? new SocketUpstreamClient(dialBun)
      : new FetchUpstreamClient((request) => ({
          decompress: false,
          session: sessionFor(request.pool, request.tlsVerify),
          ...(request.servername
            ? { tls: { rejectUnauthorized: request.tlsVerify, serverName: request.servername } }
            : {}),
        })),
  listen: startBunListeners,
}
