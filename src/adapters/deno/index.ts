/**
 * @module
 * The Deno adapter: `Deno.serve` serves HTTP/1.1 and h2c prior knowledge on one port (and h2
 * by ALPN with TLS). Deno's node:http2 server crashes under h2c load (measured), so the Node
 * listeners are never used here; the shared socket client on Deno's node:net is (see below).
 */
import type { RuntimeAdapter } from '../../runtime/types.ts'
import { dialNode } from '../node/dialer.ts'
import { SocketUpstreamClient } from '../socket-client/client.ts'
import { startDenoListeners } from './listeners.ts'

export const denoAdapter: RuntimeAdapter = {
  description: `deno ${Deno.version.deno}`,
  // Not Deno's fetch: it refuses to set the Host header (pass_host, serverless Host) and cannot
  // skip certificate checks per request (ssl_verify = false). The shared pooled socket client
  // over Deno's node:net/node:tls can both.
  createUpstream: () => new SocketUpstreamClient(dialNode),
  listen: startDenoListeners,
}
