/**
 * @module
 * The Deno adapter: `Deno.serve` serves HTTP/1.1 and h2c prior knowledge on one port (and h2
 * by ALPN with TLS); outbound calls use Deno's fetch. Deno's node:http2 server crashes under
 * h2c load (measured), so the Node adapter is never used here.
 */
import type { RuntimeAdapter } from '../../runtime/types.ts'
import { FetchUpstreamClient } from '../fetch/upstream.ts'
import { startDenoListeners } from './listeners.ts'

export const denoAdapter: RuntimeAdapter = {
  description: `deno ${Deno.version.deno}`,
  // Deno's fetch cannot skip certificate checks per request: `ssl_verify = false` / `tls.verify =
  // false` need `deno run --unsafely-ignore-certificate-errors=<host>` (see README).
  createUpstream: () => new FetchUpstreamClient(() => ({})),
  listen: startDenoListeners,
}
