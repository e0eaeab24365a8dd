/**
 * @module
 * The Deno adapter: `Deno.serve` serves HTTP/1.1 and h2c prior knowledge on one port (and h2
 * by ALPN with TLS). Deno's node:http2 server crashes under h2c load (measured), so the Node
 * listeners are never used here; the Node outbound client is (see below).
 */
import type { RuntimeAdapter } from '../../runtime/types.ts'
import { NodeUpstreamClient } from '../node/upstream.ts'
import { startDenoListeners } from './listeners.ts'

export const denoAdapter: RuntimeAdapter = {
  description: `deno ${Deno.version.deno}`,
  // Not Deno's fetch: it refuses to set the Host header (pass_host, serverless Host) and cannot
  // skip certificate checks per request (ssl_verify = false). Deno's node:http client can both.
  createUpstream: () => new NodeUpstreamClient(),
  listen: startDenoListeners,
}
