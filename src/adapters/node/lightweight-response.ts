/**
 * @module
 * On Node, `Response` is undici's: every `new Response()` builds a Headers object and a body
 * stream, several microseconds per proxied request. @hono/node-server ships a lightweight
 * Response that keeps status, body and the header record as given and becomes a real one only
 * when something asks for more (core/response.ts writes from that record directly). Its
 * `overrideGlobalObjects` option (on by default) installs it as the global `Response` (and a
 * matching `Request`) when a request listener is made; the listener itself is never used,
 * since the Node listeners parse requests themselves (h1-connection.ts, h2-streams.ts).
 */
import { getRequestListener } from '@hono/node-server'

/** Must run before the gateway builds its first response (core/response.ts probes once). */
export function installLightweightResponse(): void {
  getRequestListener(() => new Response(null), { overrideGlobalObjects: true })
}
