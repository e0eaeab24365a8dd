/**
 * Real HTTP servers on loopback that play the upstream in proxy tests. Each records what it
 * received so tests can assert on what crossed the gateway.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import net, { type AddressInfo } from 'node:net'

export interface ReceivedRequest {
  readonly method: string
  readonly url: string
  readonly headers: http.IncomingHttpHeaders
  readonly rawHeaders: readonly string[]
}

export interface TestUpstream {
  readonly port: number
  readonly address: string
  readonly received: ReceivedRequest[]
  close(): Promise<void>
}

export async function startUpstream(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  options: { keepAliveTimeout?: number } = {},
): Promise<TestUpstream> {
  const received: ReceivedRequest[] = []
  const server = http.createServer((req, res) => {
    received.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
    })
    handler(req, res)
  })
  if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const port = (server.address() as AddressInfo).port
  return {
    port,
    address: `127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections()
        server.close(() => done())
      }),
  }
}

/** A port nothing listens on (bound then released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer()
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const port = (server.address() as AddressInfo).port
  await new Promise<void>((done) => server.close(() => done()))
  return port
}

/**
 * A raw TCP upstream on loopback, for tests that script the bytes an HTTP server sends (or
 * withholds). Every socket's errors are swallowed: a test that resets connections must not
 * crash the runner.
 */
export async function startRawUpstream(
  onConnection: (socket: net.Socket) => void,
): Promise<{ readonly port: number; close(): Promise<void> }> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {})
    onConnection(socket)
  })
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((done) => server.close(() => done())),
  }
}
