/**
 * @module
 * Deno listeners: one `Deno.serve` per address. Drain = `shutdown()` (stops accepting, lets
 * requests in flight finish), bounded by the drain timeout.
 */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { formatHostPort, parseHostPort } from '../../config/address.ts'
import type { GatewayConfig } from '../../config/schema.ts'
import { errorResponse } from '../../core/errors.ts'
import { type FetchHandler, ListenError, type Listeners, listenFailure } from '../../runtime/types.ts'
import { checkedServerUrl } from '../request-target.ts'

export async function startDenoListeners(
  server: GatewayConfig['server'],
  configDir: string,
  fetch: FetchHandler,
): Promise<Listeners> {
  const servers: Deno.HttpServer[] = []
  const urls: string[] = []
  const open = async (address: string, scheme: 'http' | 'https', tls?: { cert: string; key: string }) => {
    const { host, port } = parseHostPort(address, undefined)!
    const pem = tls
      ? {
          cert: await readPem(configDir, tls.cert, 'certificate'),
          key: await readPem(configDir, tls.key, 'key'),
        }
      : {}
    let bound = port
    const listener = () => formatHostPort({ host, port: bound })
    try {
      const deno = Deno.serve(
        {
          hostname: host,
          port,
          ...pem,
          onListen: (addr) => {
            bound = (addr as Deno.NetAddr).port
          },
        },
        (request, info) => {
          // Deno keeps dot segments and trusts Host: held to the Node listeners' checks.
          const url = checkedServerUrl(scheme, request.url, request.headers.get('host'), listener)
          if (url === undefined)
            return errorResponse('BAD_REQUEST', 'a request needs a valid target and host')
          return fetch(url === request.url ? request : new Request(url, request), {
            remoteAddress: (info.remoteAddr as Deno.NetAddr).hostname,
            scheme,
            // The original request's signal: it is the one tied to the connection.
            onClientGone(listener) {
              request.signal.addEventListener('abort', listener)
              return () => request.signal.removeEventListener('abort', listener)
            },
          })
        },
      )
      servers.push(deno)
      bound = (deno.addr as Deno.NetAddr).port
    } catch (error) {
      throw listenFailure(address, {
        code: (error as Error).name === 'AddrInUse' ? 'EADDRINUSE' : (error as { code?: string }).code,
        message: (error as Error).message,
      })
    }
    urls.push(`${scheme}://${formatHostPort({ host, port: bound })}`)
  }
  try {
    for (const address of server.listen) await open(address, 'http')
    for (const tls of server.tls) await open(tls.listen, 'https', tls)
  } catch (error) {
    for (const s of servers) void s.shutdown()
    throw error
  }

  return {
    urls,
    async drain(timeoutMs) {
      const stopped = Promise.all(servers.map((s) => s.shutdown())).then(() => 'drained' as const)
      let timer: ReturnType<typeof setTimeout> | undefined
      const timedOut = new Promise<'timed-out'>((done) => {
        timer = setTimeout(() => done('timed-out'), timeoutMs)
      })
      const outcome = await Promise.race([stopped, timedOut])
      clearTimeout(timer)
      return outcome
    },
  }
}

async function readPem(configDir: string, file: string, what: string): Promise<string> {
  const path = resolve(configDir, file)
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    throw new ListenError(
      `cannot read TLS ${what} ${path} (${(error as { code?: string }).code ?? 'unreadable'})`,
    )
  }
}
