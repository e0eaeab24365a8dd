/**
 * @module
 * Node listeners: every `[server] listen` address serves HTTP/1.1 and h2c on one port (see
 * sniff.ts); every `[[server.tls]]` address serves TLS with ALPN h2 and http/1.1. Tracks
 * requests in flight so shutdown can drain them.
 */
import { readFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import http, { type ServerResponse } from 'node:http'
import type { Http2Session } from 'node:http2'
import http2 from 'node:http2'
import net from 'node:net'
import { resolve } from 'node:path'
import type { TLSSocket } from 'node:tls'
import { getRequestListener } from '@hono/node-server'
import { formatHostPort, parseHostPort } from '../../config/address.ts'
import type { GatewayConfig } from '../../config/schema.ts'
import { type FetchHandler, ListenError, type Listeners, listenFailure } from '../../runtime/types.ts'
import { clientGoneOf } from './client-gone.ts'
import { h2StreamHandler } from './h2-streams.ts'
import { sniffProtocol } from './sniff.ts'

/** A connection (HTTP/1.1 socket or HTTP/2 session) silent this long is closed. */
const IDLE_SOCKET_MS = 120_000

export async function startNodeListeners(
  server: GatewayConfig['server'],
  configDir: string,
  fetch: FetchHandler,
): Promise<Listeners> {
  let inflight = 0
  let draining = false
  let onIdle: (() => void) | undefined
  const sockets = new Set<net.Socket>()
  const sessions = new Set<Http2Session>()
  const listening: net.Server[] = []
  /** Plain HTTP/1.1 connections (after sniffing): the ones drain can close when idle. */
  const h1Sockets = new Set<net.Socket>()

  /** Counts a request in flight until the returned function runs (once) or drain gives up. */
  const beginRequest = () => {
    inflight++
    let ended = false
    return () => {
      if (ended) return
      ended = true
      inflight--
      if (inflight === 0) onIdle?.()
    }
  }

  // HTTP/1.1 only (plain, and over TLS with allowHTTP1): HTTP/2 is served from raw streams.
  const listenerFor = (scheme: 'http' | 'https') =>
    getRequestListener((request, env) => {
      const incoming = env.incoming as IncomingMessage
      return fetch(request, {
        remoteAddress: incoming.socket?.remoteAddress ?? '',
        scheme,
        httpVersion: '1.1',
        rawHeaders: () => incoming.rawHeaders,
        onClientGone: clientGoneOf(env.outgoing as ServerResponse),
      })
    })

  const busy = new Set<net.Socket>()
  const responses = new Set<ServerResponse>()
  const track = (listener: (req: IncomingMessage, res: ServerResponse) => Promise<void>) => {
    return (req: IncomingMessage, res: ServerResponse) => {
      const end = beginRequest()
      responses.add(res)
      const socket = res.socket
      if (socket) busy.add(socket)
      res.once('close', () => {
        responses.delete(res)
        if (socket) busy.delete(socket)
        end()
      })
      if (draining) res.shouldKeepAlive = false
      // A response Node refuses to write must cost one stream, never the process.
      listener(req, res).catch(() => res.destroy())
    }
  }
  const trackSessions = (h2: http2.Http2Server | http2.Http2SecureServer) => {
    h2.on('session', (session: Http2Session) => {
      sessions.add(session)
      session.once('close', () => sessions.delete(session))
      if (draining) session.close()
    })
  }
  const trackSocket = (socket: net.Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  }

  const plain = track(listenerFor('http'))
  const headersTimeout = server.header_timeout
  const h1Timeouts = {
    headersTimeout,
    requestTimeout: Math.max(300_000, headersTimeout),
    // How often Node looks for connections past those limits (a slow client waits at most this much more).
    connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(headersTimeout / 4))),
  }
  const h1 = http.createServer(h1Timeouts, plain)
  // Sockets are handed over with emit('connection') after sniffing, never through listen(); Node
  // starts its headersTimeout/requestTimeout checks on 'listening', so start them the same way
  // (otherwise a slow-loris client is bounded only by the idle timeout below).
  h1.emit('listening')
  h1.timeout = IDLE_SOCKET_MS
  // HTTP/2 from raw streams, not the compatibility layer (h2-streams.ts); HTTP/1.1 as above.
  const streamHooks = { begin: beginRequest }
  const h2c = http2.createServer({})
  h2c.on('stream', h2StreamHandler('http', fetch, streamHooks))
  h2c.setTimeout(IDLE_SOCKET_MS) // idle HTTP/2 sessions are closed too
  trackSessions(h2c)
  const urls: string[] = []

  try {
    for (const address of server.listen) {
      const { host, port } = parseHostPort(address, undefined)!
      const tcp = net.createServer((socket) => {
        trackSocket(socket)
        sniffProtocol(socket, (protocol) => {
          if (protocol === 'h2c') h2c.emit('connection', socket)
          else {
            h1Sockets.add(socket)
            socket.once('close', () => h1Sockets.delete(socket))
            h1.emit('connection', socket)
          }
        })
      })
      const bound = await listen(tcp, host, port, address)
      listening.push(tcp)
      urls.push(`http://${formatHostPort({ host, port: bound })}`)
    }
    for (const tls of server.tls) {
      const { host, port } = parseHostPort(tls.listen, undefined)!
      const secure = http2.createSecureServer(
        {
          cert: readPem(configDir, tls.cert, 'certificate'),
          key: readPem(configDir, tls.key, 'key'),
          allowHTTP1: true,
        },
        // Only HTTP/1.1 requests arrive here (h2 streams are rerouted below), so they are
        // IncomingMessage/ServerResponse, whatever node:http2's types say.
        track(listenerFor('https')) as unknown as (
          req: http2.Http2ServerRequest,
          res: http2.Http2ServerResponse,
        ) => void,
      )
      // The request handler above serves HTTP/1.1 over TLS; adding it made node:http2 route h2
      // streams to its compatibility layer too: serve those from raw streams instead.
      secure.removeAllListeners('stream')
      secure.on('stream', h2StreamHandler('https', fetch, streamHooks))
      trackSessions(secure)
      // HTTP/1.1 over TLS (allowHTTP1) gets the same head limits; Node reads them on 'listening'.
      Object.assign(secure, h1Timeouts)
      secure.setTimeout(IDLE_SOCKET_MS)
      secure.on('connection', trackSocket)
      secure.on('secureConnection', (socket: TLSSocket) => socket.setNoDelay(true))
      const bound = await listen(secure, host, port, tls.listen)
      listening.push(secure)
      urls.push(`https://${formatHostPort({ host, port: bound })}`)
    }
  } catch (error) {
    for (const s of listening) s.close()
    throw error
  }

  return {
    urls,
    async drain(timeoutMs) {
      draining = true
      for (const s of listening) s.close()
      for (const session of sessions) session.close() // GOAWAY: streams in flight finish, no new ones
      // HTTP/1.1: responses still to come say `Connection: close`; idle keep-alive connections
      // are closed now (closeIdleConnections() needs a listening server, and ours is not).
      for (const res of responses) {
        if (!res.headersSent) res.shouldKeepAlive = false
      }
      for (const socket of h1Sockets) {
        if (!busy.has(socket)) socket.end()
      }
      if (inflight > 0) {
        await new Promise<void>((done) => {
          const timer = setTimeout(done, timeoutMs)
          onIdle = () => {
            clearTimeout(timer)
            done()
          }
        })
      }
      for (const socket of sockets) socket.destroy()
      for (const session of sessions) session.destroy()
    },
  }
}

function readPem(configDir: string, file: string, what: string): Buffer {
  const path = resolve(configDir, file)
  try {
    return readFileSync(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable'
    throw new ListenError(`cannot read TLS ${what} ${path} (${code})`)
  }
}

function listen(server: net.Server, host: string, port: number, label: string): Promise<number> {
  return new Promise((resolveListen, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(listenFailure(label, error))
    server.once('error', onError)
    server.listen({ host, port }, () => {
      server.off('error', onError)
      resolveListen((server.address() as net.AddressInfo).port)
    })
  })
}
