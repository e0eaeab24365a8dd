/**
 * How the pooled client frames a request body it gets as a stream without a length (chunked):
 * a stream that ends before its first byte goes out as no body (Deno hands bodyless requests an
 * empty stream; strict servers refuse an empty chunked body on a DELETE), and a body that has not
 * started yet does not hold the head back (a client may wait for the answer before it streams).
 * Real sockets on loopback, a raw upstream that records what it got.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { dialNode } from '../../src/adapters/node/dialer.ts'
import { installLightweightResponse } from '../../src/adapters/node/lightweight-response.ts'
import { SocketUpstreamClient } from '../../src/adapters/socket-client/client.ts'
import type { OutboundRequest } from '../../src/upstream/types.ts'
import { startRawUpstream } from '../helpers/upstream.ts'

installLightweightResponse()

describe('request bodies streamed without a length', () => {
  let upstream: Awaited<ReturnType<typeof startRawUpstream>>
  let port = 0
  /** Everything each connection received, in order. */
  const received: string[] = []

  before(async () => {
    upstream = await startRawUpstream((socket) => {
      const index = received.push('') - 1
      let answered = false
      socket.on('data', (chunk) => {
        received[index] += chunk.toString('latin1')
        const text = received[index] as string
        if (!text.includes('\r\n\r\n')) return
        // Answer the head at once (as a server that streams back while the client streams up).
        if (!answered) {
          answered = true
          socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n')
        }
        const head = text.slice(0, text.indexOf('\r\n\r\n'))
        const chunked = /\r\ntransfer-encoding: chunked/i.test(head)
        if (!chunked || text.endsWith('\r\n0\r\n\r\n')) socket.end('4\r\ndone\r\n0\r\n\r\n')
      })
    })
    port = upstream.port
  })

  after(() => upstream.close())

  const request = (
    method: string,
    body: ReadableStream<Uint8Array>,
    headers: Record<string, string> = {},
  ): OutboundRequest => ({
    origin: { scheme: 'http', host: '127.0.0.1', port },
    method,
    path: '/',
    headers: { host: 'upstream.test', ...headers },
    body,
    timeouts: { connect: 2000, send: 2000, read: 2000 },
    pool: { keepalive: false, size: 0, idleTimeout: 1000 },
    tlsVerify: true,
  })

  test('a stream that ends before its first byte: Content-Length: 0 (POST) or nothing (DELETE), never chunked', async () => {
    const client = new SocketUpstreamClient(dialNode)
    try {
      for (const [method, emptyChunkFirst] of [
        ['POST', false],
        ['DELETE', false],
        ['POST', true], // as Deno's: an empty chunk, then the end
      ] as const) {
        received.length = 0
        const empty = new ReadableStream<Uint8Array>({
          start: (controller) => {
            if (emptyChunkFirst) controller.enqueue(new Uint8Array(0))
            controller.close()
          },
        })
        const response = await client.send(request(method, empty))
        assert.equal(await response.text(), 'done')
        const head = (received[0] ?? '').split('\r\n\r\n')[0] as string
        assert.doesNotMatch(head, /transfer-encoding/i, method)
        if (method === 'POST') assert.match(head, /\r\ncontent-length: 0(\r\n|$)/)
        else assert.doesNotMatch(head, /content-length/i)
      }
    } finally {
      client.close()
    }
  })

  test('a client header whose value reads like framing stays a value (the head is made anew, not edited)', async () => {
    const client = new SocketUpstreamClient(dialNode)
    try {
      for (const method of ['POST', 'DELETE']) {
        received.length = 0
        const empty = new ReadableStream<Uint8Array>({ start: (controller) => controller.close() })
        const response = await client.send(request(method, empty, { 'x-a': 'transfer-encoding: chunked' }))
        assert.equal(await response.text(), 'done')
        const lines = ((received[0] ?? '').split('\r\n\r\n')[0] as string).split('\r\n')
        assert.ok(lines.includes('x-a: transfer-encoding: chunked'), lines.join(' | '))
        assert.ok(!lines.some((l) => /^transfer-encoding:/i.test(l)), lines.join(' | '))
        assert.ok(lines.includes('host: upstream.test'))
      }
    } finally {
      client.close()
    }
  })

  test('a body that starts only after the answer began: the head is not held back', async () => {
    received.length = 0
    const client = new SocketUpstreamClient(dialNode)
    let controller!: ReadableStreamDefaultController<Uint8Array>
    const body = new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c
      },
    })
    try {
      // Resolves once the answer's head is in: only possible if our head went out first.
      const response = await client.send(request('POST', body))
      assert.equal(response.status, 200)
      controller.enqueue(new TextEncoder().encode('late'))
      controller.close()
      assert.equal(await response.text(), 'done')
      assert.match(received[0] ?? '', /\r\ntransfer-encoding: chunked\r\n[\s\S]*\r\n4\r\nlate\r\n0\r\n\r\n$/)
    } finally {
      client.close()
    }
  })
})
