/**
 * @module
 * The Node adapter: listeners that serve HTTP/1.1 from the socket and HTTP/2 from node:http2's
 * raw streams (h1 and h2c on one port, TLS with ALPN), and the shared pooled HTTP/1.1 client on
 * node:net sockets (src/adapters/socket-client). The client replaced a node:http Agent: 9.5k ->
 * 16.4k req/s HTTP/1.1, 8.9k -> 13.2k h2c (same machine, same upstream; see docs/performance.md).
 */
import type { RuntimeAdapter } from '../../runtime/types.ts'
import { SocketUpstreamClient } from '../socket-client/client.ts'
import { dialNode } from './dialer.ts'
import { tuneGarbageCollection } from './gc-tuning.ts'
import { installLightweightResponse } from './lightweight-response.ts'
import { startNodeListeners } from './listeners.ts'

installLightweightResponse()
tuneGarbageCollection()

export const nodeAdapter: RuntimeAdapter = {
  description: `node ${process.versions.node}`,
  // Head room: the HTTP/1.1 server writes response heads in front of buffered bodies (head-room.ts).
  createUpstream: () => new SocketUpstreamClient(dialNode, { headRoom: true }),
  listen: startNodeListeners,
}
