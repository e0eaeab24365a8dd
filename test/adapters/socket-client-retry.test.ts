/**
 * The pooled client's one retry (src/adapters/socket-client/client.ts, `replayable`): a kept-alive
 * connection the upstream dropped while it sat in the pool fails on first use, before any byte
 * of an answer. The request never reached the application then, and it goes out once more on a
 * fresh connection when it can be sent again: no body, an empty one, or a buffered body of an
 * idempotent method. Real sockets on loopback: the upstream answers the first request on each
 * connection and drops the connection when a second one arrives on it.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { dialNode } from '../../src/adapters/node/dialer.ts'
import { installLightweightResponse } from '../../src/adapters/node/lightweight-response.ts'
import { SocketUpstreamClient } from '../../src/adapters/socket-client/client.ts'
import { type OutboundRequest, UpstreamError } from '../../src/upstream/types.ts'
import { startRawUpstream } from '../helpers/upstream.ts'

installLightweightResponse()

describe('a request on a pooled connection the upstream had dropped', () => {
  let upstream: Awaited<ReturnType<typeof startRawUpstream>>
  let port = 0
  /** Request heads the upstream saw, in order, with the connection they came on. */
  const seen: { connection: number; line: string }[] = []

  before(async () => {
    let connections = 0
    upstream = await startRawUpstream((socket) => {
      const connection = ++connections
      let buffered = ''
      let answered = false
      socket.on('data', (chunk) => {
        buffered += chunk.toString('latin1')
        const end = buffered.indexOf('\r\n\r\n')
        if (end < 0) return
        seen.push({ connection, line: buffered.slice(0, buffered.indexOf('\r\n')) })
        if (answered) {
          socket.destroy() // as if it had closed this idle connection just before the request came
          return
        }
        answered = true
        buffered = ''
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok')
      })
    })
    port = upstream.port
  })

  after(() => upstream.close())

  const request = (
    method: string,
    body: Uint8Array | ReadableStream<Uint8Array> | null,
  ): OutboundRequest => ({
    origin: { scheme: 'http', host: '127.0.0.1', port },
    method,
    path: `/${method.toLowerCase()}`,
    headers: {
      host: 'upstream.test',
      ...(body instanceof Uint8Array ? { 'content-length': String(body.byteLength) } : {}),
    },
    body,
    timeouts: { connect: 2000, send: 2000, read: 2000 },
    pool: { keepalive: true, size: 4, idleTimeout: 60_000 },
    tlsVerify: true,
  })

  /** Sends `method` twice through a fresh client: the second send reuses the pooled connection. */
  async function twice(
    method: string,
    body: Uint8Array | (() => ReadableStream<Uint8Array>) | null,
  ): Promise<string | UpstreamError> {
    const client = new SocketUpstreamClient(dialNode)
    const fresh = () => (typeof body === 'function' ? body() : body)
    try {
      const first = await client.send(request(method, fresh()))
      assert.equal(await first.text(), 'ok')
      const second = await client.send(request(method, fresh()))
      return await second.text()
    } catch (error) {
      if (error instanceof UpstreamError) return error
      throw error
    } finally {
      client.close()
    }
  }

  const emptyStream = () =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        controller.close()
      },
    })
  const cases: [string, string, Uint8Array | (() => ReadableStream<Uint8Array>) | null, boolean][] = [
    ["POST whose body stream ends before a byte (Deno's bodyless requests)", 'POST', emptyStream, true],
    ['GET without a body', 'GET', null, true],
    ['POST without a body', 'POST', null, true],
    ['POST with an empty buffered body (a signed call)', 'POST', new Uint8Array(0), true],
    ['GET with a buffered body (a signed call)', 'GET', Buffer.from('{"name":"x"}'), true],
    ['PUT with a buffered body', 'PUT', Buffer.from('data'), true],
    ['POST with a buffered body (not idempotent)', 'POST', Buffer.from('data'), false],
  ]
  for (const [name, method, body, retried] of cases) {
    test(`${name}: ${retried ? 'sent again on a fresh connection' : 'not sent again: 502-class reset'}`, async () => {
      seen.length = 0
      const outcome = await twice(method, body)
      if (retried) {
        assert.equal(outcome, 'ok')
        assert.equal(seen.length, 3, 'first, the dropped one, the retry')
        assert.equal(seen[1]?.connection, seen[0]?.connection, 'the second went on the pooled connection')
        assert.notEqual(seen[2]?.connection, seen[1]?.connection, 'the retry on a new one')
      } else {
        assert.ok(outcome instanceof UpstreamError, String(outcome))
        assert.equal(outcome.failure, 'reset')
        assert.equal(seen.length, 2, 'never sent a third time')
      }
    })
  }
})
