/**
 * @module
 * The Node outbound client: `node:http`/`node:https` with keep-alive agents, one per pool
 * setting. Node's global fetch measured ~10x slower as a proxy client here, so it is not used.
 *
 * Timing model: the connect timer runs until the socket (TLS included) is connected; then the
 * socket's idle timer is `send` while the body goes out and `read` after it, so a slow body
 * download fails only when the upstream goes quiet for `read` ms. The request body is read only
 * once connected, so a failed connect leaves it untouched and another node can be tried.
 */
import http, { type IncomingMessage } from 'node:http'
import https from 'node:https'
import { isIP, type Socket } from 'node:net'
import { endToEndFromRaw } from '../../core/headers.ts'
import type { OutboundRequest, PoolOptions, UpstreamClient } from '../../upstream/types.ts'
import { UpstreamError } from '../../upstream/types.ts'

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304])

/** Response bodies up to this size, with a Content-Length, are buffered instead of streamed. */
const SMALL_BODY_BYTES = 64 * 1024

export class NodeUpstreamClient implements UpstreamClient {
  readonly #agents = new Map<string, http.Agent>()

  #agent(scheme: 'http' | 'https', pool: PoolOptions): http.Agent {
    const key = `${scheme}|${pool.keepalive}|${pool.size}|${pool.idleTimeout}`
    let agent = this.#agents.get(key)
    if (!agent) {
      const options: http.AgentOptions = {
        keepAlive: pool.keepalive,
        maxFreeSockets: Math.max(pool.size, 1),
        scheduling: 'lifo',
        ...(pool.keepalive && pool.idleTimeout > 0 ? { timeout: pool.idleTimeout } : {}),
      }
      agent = scheme === 'https' ? new https.Agent(options) : new http.Agent(options)
      this.#agents.set(key, agent)
    }
    return agent
  }

  async send(request: OutboundRequest): Promise<Response> {
    // A kept-alive connection the upstream closed while idle fails on first use; a body-less
    // request never reached the application then, so it is safe to send once more.
    try {
      return await this.#sendOnce(request)
    } catch (error) {
      if (error instanceof RetryableReset && request.body === null) return this.#sendOnce(request)
      throw error instanceof RetryableReset ? error.reset : error
    }
  }

  #sendOnce(request: OutboundRequest): Promise<Response> {
    const { origin, timeouts } = request
    return new Promise<Response>((resolve, reject) => {
      let connected = false
      let settled = false
      const outgoing = (origin.scheme === 'https' ? https : http).request({
        host: origin.host,
        port: origin.port,
        method: request.method,
        path: request.path,
        headers: framedHeaders(request.headers, request.body),
        setHost: false,
        agent: this.#agent(origin.scheme, request.pool),
        ...(origin.scheme === 'https'
          ? tlsOptions(request.servername ?? origin.host, request.tlsVerify)
          : {}),
      })

      const fail = (error: UpstreamError | RetryableReset) => {
        if (settled) return
        settled = true
        cleanup()
        outgoing.destroy()
        reject(error)
      }
      const connectTimer = setTimeout(
        () => fail(new UpstreamError('connect-timeout', `connect timed out after ${timeouts.connect} ms`)),
        timeouts.connect,
      )
      const totalTimer =
        timeouts.total === undefined
          ? undefined
          : setTimeout(
              () => fail(new UpstreamError('timeout', `no response within ${timeouts.total} ms`)),
              timeouts.total,
            )
      const unsubscribe = request.onClientGone?.(() => fail(new UpstreamError('aborted', 'client went away')))
      const cleanup = () => {
        clearTimeout(connectTimer)
        if (totalTimer) clearTimeout(totalTimer)
        unsubscribe?.()
      }

      const onConnected = () => {
        if (settled) return
        connected = true
        clearTimeout(connectTimer)
        outgoing.setTimeout(timeouts.send)
        writeBody(outgoing, request.body).then(
          () => outgoing.setTimeout(timeouts.read),
          (error) => outgoing.destroy(error as Error),
        )
      }
      outgoing.once('socket', (socket: Socket) => {
        // Small requests written in pieces (head, then body) would otherwise wait on Nagle +
        // delayed ACK: 40 ms stalls and idle CPU (measured: 4k req/s before, see commit).
        socket.setNoDelay(true)
        if (outgoing.reusedSocket || !socket.connecting) onConnected()
        else socket.once(origin.scheme === 'https' ? 'secureConnect' : 'connect', onConnected)
      })
      outgoing.on('timeout', () => {
        const error = new UpstreamError('timeout', `upstream idle for ${timeouts.read} ms`)
        if (settled) outgoing.destroy(error)
        else fail(error)
      })
      outgoing.on('error', (error: NodeJS.ErrnoException) => {
        if (settled) return
        if (!connected) fail(new UpstreamError('connect', `${error.code ?? error.message}`, { cause: error }))
        else {
          const reset = new UpstreamError('reset', `${error.code ?? error.message}`, { cause: error })
          fail(outgoing.reusedSocket && error.code === 'ECONNRESET' ? new RetryableReset(reset) : reset)
        }
      })
      outgoing.on('response', (incoming: IncomingMessage) => {
        if (settled) {
          incoming.destroy()
          return
        }
        settled = true
        cleanup()
        const status = incoming.statusCode ?? 502
        if (status < 200 || status > 599) {
          outgoing.destroy()
          reject(new UpstreamError('reset', `unsupported status ${status}`))
          return
        }
        const nullBody = NULL_BODY_STATUS.has(status) || request.method === 'HEAD'
        const head = {
          status,
          statusText: incoming.statusMessage ?? '',
          headers: endToEndFromRaw(incoming.rawHeaders),
        }
        if (nullBody) {
          incoming.resume()
          resolve(new Response(null, head))
          return
        }
        const length = Number(incoming.headers['content-length'] ?? Number.NaN)
        if (length <= SMALL_BODY_BYTES) {
          // Small bodies of known length are read whole first (nginx's proxy_buffering does the
          // same): the client then gets head and body in one write, with no stream per response.
          readWhole(incoming, length).then(
            (body) => resolve(new Response(body as Uint8Array<ArrayBuffer>, head)),
            (error: Error) =>
              reject(
                error instanceof UpstreamError
                  ? error
                  : new UpstreamError('reset', error.message, { cause: error }),
              ),
          )
          return
        }
        resolve(
          new Response(
            // While the client is the slow side, the upstream is not idle: the read timer only
            // runs while the gateway wants data.
            toWebStream(incoming, (waiting) => outgoing.setTimeout(waiting ? timeouts.read : 0)),
            head,
          ),
        )
      })
    })
  }

  close(): void {
    for (const agent of this.#agents.values()) agent.destroy()
    this.#agents.clear()
  }
}

/**
 * The body's framing is decided here, never inherited: the client's Transfer-Encoding is
 * hop-by-hop (dropped), and Node sends a stream on GET/DELETE/OPTIONS unframed unless told,
 * so the upstream would read the body as the next request on the connection (smuggling). No
 * body: no Content-Length; bytes: their exact length; a stream: its declared length, else chunked.
 */
function framedHeaders(
  headers: Readonly<Record<string, string>>,
  body: ReadableStream<Uint8Array> | Uint8Array | null,
): Record<string, string> {
  const framed = { ...headers }
  delete framed['transfer-encoding']
  if (body === null) delete framed['content-length']
  else if (body instanceof Uint8Array) framed['content-length'] = String(body.byteLength)
  else if (framed['content-length'] === undefined) framed['transfer-encoding'] = 'chunked'
  return framed
}

/** SNI never carries an IP address (RFC 6066): Node ignores one, Deno's node:tls throws. */
function tlsOptions(name: string, verify: boolean): https.RequestOptions {
  return isIP(name) === 0 ? { servername: name, rejectUnauthorized: verify } : { rejectUnauthorized: verify }
}

class RetryableReset extends Error {
  constructor(readonly reset: UpstreamError) {
    super(reset.message)
  }
}

async function writeBody(
  outgoing: http.ClientRequest,
  body: ReadableStream<Uint8Array> | Uint8Array | null,
): Promise<void> {
  if (body === null) {
    outgoing.end()
    return
  }
  if (body instanceof Uint8Array) {
    outgoing.end(body)
    return
  }
  const reader = body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (outgoing.destroyed) throw new Error('upstream request destroyed')
      if (!outgoing.write(value)) {
        await new Promise<void>((resolve, reject) => {
          const onDrain = () => {
            outgoing.off('close', onClose)
            resolve()
          }
          const onClose = () => {
            outgoing.off('drain', onDrain)
            reject(new Error('upstream closed while sending'))
          }
          outgoing.once('drain', onDrain)
          outgoing.once('close', onClose)
        })
      }
    }
    outgoing.end()
  } catch (error) {
    await reader.cancel(error).catch(() => {})
    throw error
  }
}

/** Reads a body of known `length`; fails if the upstream closes early (read timeout still applies). */
function readWhole(incoming: IncomingMessage, length: number): Promise<Uint8Array> {
  return new Promise((resolveBody, rejectBody) => {
    const body = Buffer.allocUnsafe(length)
    let offset = 0
    incoming.on('data', (chunk: Buffer) => {
      if (offset + chunk.length > length) {
        incoming.destroy(new Error('upstream sent more than its Content-Length'))
        return
      }
      chunk.copy(body, offset)
      offset += chunk.length
    })
    incoming.once('end', () =>
      offset === length
        ? resolveBody(body)
        : rejectBody(new Error('upstream body shorter than its Content-Length')),
    )
    incoming.once('error', rejectBody)
    incoming.once('close', () => {
      if (!incoming.complete) rejectBody(new Error('upstream closed mid-body'))
    })
  })
}

/** Streams an IncomingMessage with backpressure: pauses the socket when the consumer lags. */
function toWebStream(
  incoming: IncomingMessage,
  readTimer: (waitingForUpstream: boolean) => void,
): ReadableStream<Uint8Array> {
  let finished = false
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        incoming.on('data', (chunk: Buffer) => {
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
          if ((controller.desiredSize ?? 0) <= 0 && !incoming.isPaused()) {
            incoming.pause()
            readTimer(false)
          }
        })
        incoming.on('end', () => {
          if (finished) return
          finished = true
          controller.close()
        })
        const abort = (error?: Error) => {
          if (finished) return
          finished = true
          controller.error(error ?? new UpstreamError('reset', 'upstream closed mid-body'))
        }
        incoming.on('error', abort)
        incoming.on('close', () => {
          if (!incoming.complete) abort()
        })
      },
      pull() {
        if (incoming.isPaused()) {
          readTimer(true)
          incoming.resume()
        }
      },
      cancel() {
        finished = true
        incoming.destroy()
      },
    },
    { highWaterMark: 8 },
  )
}
