/**
 * @module
 * Bun listeners: one `Bun.serve` per address. Drain = stop accepting, let requests in flight
 * finish (`pendingRequests`), then close what is left.
 */
import { resolve } from 'node:path'
import { formatHostPort, parseHostPort } from '../../config/address.ts'
import type { GatewayConfig } from '../../config/schema.ts'
import { errorResponse } from '../../core/errors.ts'
import { streamBodiesFrom } from '../../core/response.ts'
import { type FetchHandler, ListenError, type Listeners, listenFailure } from '../../runtime/types.ts'
import { checkedServerUrl } from '../request-target.ts'

type BunServer = ReturnType<typeof Bun.serve>

/**
 * Bun.serve writes an asynchronous answer's head in one write only when its byte body is under
 * 15 KiB (16384 - 1024, Bun's `doRenderBlob`); above that it sends the status line and every
 * header name, separator and value with a syscall each, before the body (strace: 23 sends for
 * a 64 KiB body with 4 headers, against 1). Streamed bodies get one write for head and chunk.
 * Measured (Bun 1.4.5, a bare Bun.serve answering 64 KiB after a timer, wrk over HTTP/1.1):
 * 140-173 us of CPU per request as bytes, 32-59 us as a one-chunk stream; HTTP/2 is the same
 * either way. The price: such answers lose Content-Length (chunked over HTTP/1.1, close-delimited
 * for HTTP/1.0 clients, none over HTTP/2; a HEAD answer built with such a body too), as Bun
 * already sends streamed bodies it has not seen complete.
 */
const BUN_CORKED_BODY_BYTES = 16 * 1024 - 1024

export async function startBunListeners(
  server: GatewayConfig['server'],
  configDir: string,
  fetch: FetchHandler,
): Promise<Listeners> {
  const servers: BunServer[] = []
  const urls: string[] = []
  streamBodiesFrom(BUN_CORKED_BODY_BYTES)
  const open = async (address: string, scheme: 'http' | 'https', tls?: { cert: string; key: string }) => {
    const { host, port } = parseHostPort(address, undefined)!
    try {
      const bun = Bun.serve({
        hostname: host,
        port,
        http2: true,
        // Upstream timeouts bound slow requests; Bun's 10 s default would cut them first.
        idleTimeout: 255,
        // Bodies stream through (routes set their own limits, e.g. max_req_body_size): Bun's
        // 128 MiB default would refuse a larger upload with a bare 413, or cut a chunked one.
        maxRequestBodySize: Number.MAX_SAFE_INTEGER,
        ...(tls
          ? {
              tls: {
                cert: await readPem(configDir, tls.cert, 'certificate'),
                key: await readPem(configDir, tls.key, 'key'),
              },
            }
          : {}),
        fetch(request, self) {
          const conn = {
            remoteAddress: self.requestIP(request)?.address ?? '',
            scheme,
            // The request Bun made: its signal is the one tied to the connection.
            onClientGone(listener: () => void) {
              request.signal.addEventListener('abort', listener)
              return () => request.signal.removeEventListener('abort', listener)
            },
          }
          // Bun gives a relative URL when Host is missing (HTTP/1.0) or not a valid authority:
          // the listener's address then, or 400. (Bun resolves dot segments itself.)
          if (request.url.charCodeAt(0) !== 47 /* '/' */) return fetch(request, conn)
          const listener = () => formatHostPort({ host, port: self.port ?? port })
          const url = checkedServerUrl(scheme, request.url, request.headers.get('host'), listener)
          if (url === undefined)
            return errorResponse('BAD_REQUEST', 'a request needs a valid target and host')
          return fetch(new Request(url, request), conn)
        },
      })
      servers.push(bun)
      urls.push(`${scheme}://${formatHostPort({ host, port: bun.port ?? port })}`)
    } catch (error) {
      if (error instanceof ListenError) throw error
      throw listenFailure(address, error as { code?: string; message: string })
    }
  }
  try {
    for (const address of server.listen) await open(address, 'http')
    for (const tls of server.tls) await open(tls.listen, 'https', tls)
  } catch (error) {
    for (const s of servers) void s.stop(true)
    throw error
  }

  return {
    urls,
    async drain(timeoutMs) {
      const stopped = Promise.all(servers.map((s) => s.stop(false)))
      const timedOut = new Promise<'timeout'>((done) => setTimeout(() => done('timeout'), timeoutMs))
      if ((await Promise.race([stopped, timedOut])) !== 'timeout') return 'drained'
      await Promise.all(servers.map((s) => s.stop(true)))
      return 'timed-out'
    },
  }
}

async function readPem(configDir: string, file: string, what: string): Promise<string> {
  const path = resolve(configDir, file)
  try {
    return await Bun.file(path).text()
  } catch (error) {
    throw new ListenError(
      `cannot read TLS ${what} ${path} (${(error as { code?: string }).code ?? 'unreadable'})`,
    )
  }
}
