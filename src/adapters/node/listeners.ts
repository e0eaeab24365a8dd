/**
 * @module
 * Node listeners: every `[server] listen` address serves HTTP/1.1 and h2c on one port (see
 * sniff.ts); every `[[server.tls]]` address serves TLS with ALPN h2 and http/1.1. HTTP/1.1 is
 * served from the socket (h1-connection.ts), HTTP/2 from raw streams (h2-streams.ts): neither
 * goes through node:http's server or @hono/node-server. Tracks requests in flight so shutdown
 * can drain them.
 */
import { readFileSync } from 'node:fs'
import type { Http2Session } from 'node:http2'
import http2 from 'node:http2'
import net from 'node:net'
import { resolve } from 'node:path'
import tls, { type TLSSocket } from 'node:tls'
import { formatHostPort, parseHostPort } from '../../config/address.ts'
import type { GatewayConfig } from '../../config/schema.ts'
import { type FetchHandler, ListenError, type Listeners, listenFailure } from '../../runtime/types.ts'
import { H1Connection, type H1Options } from './h1-connection.ts'
import { KEEP_ALIVE_MS } from './h1-response.ts'
import { installStreamTables } from './h2-stream-table.ts'
import { h2StreamHandler } from './h2-streams.ts'
import { sniffProtocol } from './sniff.ts'

/**
 * HTTP/2 sessions keep their streams in Sluice's tables, not in Node's own Map and Set, which put
 * Node in a slow garbage-collection mode under load (h2-stream-table.ts).
 * SLUICE_H2_STREAM_TABLE=0 keeps Node's own (to compare, or should a Node version disagree).
 */
const STREAM_TABLE = process.env.SLUICE_H2_STREAM_TABLE !== '0'

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
  const h1Connections = new Set<H1Connection>()

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

  const h1Options = (scheme: 'http' | 'https'): H1Options => ({
    scheme,
    fetch,
    begin: beginRequest,
    draining: () => draining,
  })
  const plainH1 = h1Options('http')
  const secureH1 = h1Options('https')
  const serveH1 = (socket: net.Socket, options: H1Options) => {
    const connection = new H1Connection(socket, options)
    h1Connections.add(connection)
    socket.once('close', () => h1Connections.delete(connection))
    // Bounds a client that stops reading a response, or goes silent mid-body.
    socket.setTimeout(IDLE_SOCKET_MS, () => socket.destroy())
  }
  // One sweep for every HTTP/1.1 connection instead of a timer per request (as node:http does):
  // heads that take longer than header_timeout and bodies that take longer than
  // requestTimeout get 408 (slow clients), idle keep-alive connections close after KEEP_ALIVE_MS.
  const headersTimeout = server.header_timeout
  const requestTimeout = Math.max(300_000, headersTimeout)
  const sweepEvery = Math.max(50, Math.min(1_000, Math.floor(headersTimeout / 4)))
  const sweeper = setInterval(() => {
    const now = performance.now()
    for (const connection of h1Connections) {
      if (connection.headStartedAt !== 0 && now - connection.headStartedAt > headersTimeout) {
        connection.timeOutHead()
      } else if (connection.bodyStartedAt !== 0 && now - connection.bodyStartedAt > requestTimeout) {
        connection.timeOutBody()
      } else if (connection.idleSince !== 0 && now - connection.idleSince > KEEP_ALIVE_MS) {
        connection.socket.destroy()
      }
    }
  }, sweepEvery)
  sweeper.unref()

  const trackSessions = (h2: http2.Http2Server) => {
    h2.on('session', (session: Http2Session) => {
      if (STREAM_TABLE) installStreamTables(session)
      sessions.add(session)
      session.once('close', () => sessions.delete(session))
      if (draining) session.close()
    })
  }
  const trackSocket = (socket: net.Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  }

  // HTTP/2 from raw streams, not the compatibility layer (h2-streams.ts); one session server per
  // scheme: TLS sockets that negotiated h2 are handed to the second one.
  const streamHooks = { begin: beginRequest }
  const h2Server = (scheme: 'http' | 'https') => {
    const h2 = http2.createServer({})
    h2.on('stream', h2StreamHandler(scheme, fetch, streamHooks))
    h2.setTimeout(IDLE_SOCKET_MS) // idle HTTP/2 sessions are closed too
    trackSessions(h2)
    return h2
  }
  const h2c = h2Server('http')
  const h2OverTls = server.tls.length > 0 ? h2Server('https') : undefined
  const urls: string[] = []
  /** Each TLS listener with where its certificate and key come from (SIGHUP re-reads them). */
  const secured: { server: tls.Server; config: GatewayConfig['server']['tls'][number] }[] = []

  try {
    for (const address of server.listen) {
      const { host, port } = parseHostPort(address, undefined)!
      const tcp = net.createServer((socket) => {
        // A reset while the first bytes are sniffed must cost this connection, not the process.
        socket.on('error', () => {})
        trackSocket(socket)
        sniffProtocol(socket, (protocol) => {
          if (protocol === 'h2c') h2c.emit('connection', socket)
          else serveH1(socket, plainH1)
        })
      })
      const bound = await listen(tcp, host, port, address)
      listening.push(tcp)
      urls.push(`http://${formatHostPort({ host, port: bound })}`)
    }
    for (const tlsConfig of server.tls) {
      const { host, port } = parseHostPort(tlsConfig.listen, undefined)!
      const cert = readPem(configDir, tlsConfig.cert, 'certificate')
      const key = readPem(configDir, tlsConfig.key, 'key')
      let secure: tls.Server
      try {
        secure = tls.createServer({ cert, key, ALPNProtocols: ['h2', 'http/1.1'] })
      } catch (error) {
        // Not PEM, or a key that is not the certificate's: OpenSSL's reason, no stack.
        throw new ListenError(
          `TLS on ${tlsConfig.listen}: cannot use ${resolve(configDir, tlsConfig.cert)} with ${resolve(configDir, tlsConfig.key)} (${(error as Error).message})`,
        )
      }
      secure.on('connection', trackSocket)
      secure.on('secureConnection', (socket: TLSSocket) => {
        socket.setNoDelay(true)
        if (socket.alpnProtocol === 'h2') h2OverTls?.emit('connection', socket)
        else serveH1(socket, secureH1) // http/1.1, or a client that offered no ALPN
      })
      // A failed handshake costs that connection only.
      secure.on('tlsClientError', (_error, socket) => socket.destroy())
      const bound = await listen(secure, host, port, tlsConfig.listen)
      listening.push(secure)
      secured.push({ server: secure, config: tlsConfig })
      urls.push(`https://${formatHostPort({ host, port: bound })}`)
    }
  } catch (error) {
    clearInterval(sweeper)
    for (const s of listening) s.close()
    throw error
  }

  return {
    urls,
    reloadCertificates() {
      const done: string[] = []
      for (const { server: secure, config } of secured) {
        try {
          const cert = readPem(configDir, config.cert, 'certificate')
          const key = readPem(configDir, config.key, 'key')
          // New connections get these; a pair that does not work throws and the old one stays.
          secure.setSecureContext({ cert, key })
          done.push(`${config.listen}: certificate reloaded`)
        } catch (error) {
          done.push(
            `${config.listen}: certificate not reloaded, still serving the previous one (${(error as Error).message})`,
          )
        }
      }
      return done.join('; ')
    },
    async drain(timeoutMs) {
      draining = true
      for (const s of listening) s.close()
      for (const session of sessions) session.close() // GOAWAY: streams in flight finish, no new ones
      // HTTP/1.1: responses still to come say `Connection: close`; idle connections close now.
      for (const connection of h1Connections) {
        if (connection.idle) connection.socket.end()
      }
      let outcome: 'drained' | 'timed-out' = 'drained'
      if (inflight > 0) {
        outcome = await new Promise<'drained' | 'timed-out'>((done) => {
          const timer = setTimeout(() => done('timed-out'), timeoutMs)
          onIdle = () => {
            clearTimeout(timer)
            done('drained')
          }
        })
      }
      clearInterval(sweeper)
      for (const socket of sockets) socket.destroy()
      for (const session of sessions) session.destroy()
      return outcome
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
