/**
 * @module
 * The Node adapter: node:http + node:http2 listeners (h1 and h2c on one port, TLS with ALPN)
 * and the pooled node:http outbound client.
 */
import type { RuntimeAdapter } from '../../runtime/types.ts'
import { startNodeListeners } from './listeners.ts'
import { NodeUpstreamClient } from './upstream.ts'

export const nodeAdapter: RuntimeAdapter = {
  description: `node ${process.versions.node}`,
  createUpstream: () => new NodeUpstreamClient(),
  listen: startNodeListeners,
}
