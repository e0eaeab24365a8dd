/**
 * Head room in front of buffered response bodies (src/adapters/socket-client/head-room.ts): the
 * Node HTTP/1.1 server writes a response head into it instead of copying the body behind the
 * head. What matters is that only a body's own room is ever written, and only once.
 */
import assert from 'node:assert/strict'
import net from 'node:net'
import { describe, test } from 'node:test'
import { H1Connection } from '../../src/adapters/node/h1-connection.ts'
import { installLightweightResponse } from '../../src/adapters/node/lightweight-response.ts'
import { bodyWithHeadRoom, headInRoom } from '../../src/adapters/socket-client/head-room.ts'
import { responseFromRecord } from '../../src/core/response.ts'

installLightweightResponse()

const HEAD = 'HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\n'

function filledBody(length: number): Buffer<ArrayBuffer> {
  const body = bodyWithHeadRoom(length)
  for (let i = 0; i < length; i++) body[i] = 0x61 + (i % 26)
  return body
}

describe('headInRoom', () => {
  test('writes the head in front of the body and returns both as one buffer', () => {
    const body = filledBody(8)
    const whole = headInRoom(HEAD, body)
    assert.ok(whole)
    assert.equal(whole.toString('latin1'), `${HEAD}abcdefgh`)
    assert.equal(body.toString('latin1'), 'abcdefgh')
  })

  test('lends the room once: a second writer gets nothing, the first buffer stays as written', () => {
    const body = filledBody(8)
    const first = headInRoom(HEAD, body)
    assert.equal(headInRoom('HTTP/1.1 404 Not Found\r\n\r\n', body), undefined)
    assert.equal(first?.toString('latin1'), `${HEAD}abcdefgh`)
  })

  test('bodies it did not allocate, views cut from one it did, and oversized heads get nothing', () => {
    // A small Buffer.allocUnsafe is a slice of Node's shared pool: the bytes in front are others'.
    const neighbour = Buffer.allocUnsafe(16).fill(0x2d)
    const pooled = Buffer.allocUnsafe(8).fill(0x7a)
    assert.equal(headInRoom(HEAD, pooled), undefined)
    assert.equal(headInRoom(HEAD, new Uint8Array(8)), undefined)
    assert.equal(neighbour.toString('latin1'), '-'.repeat(16))

    const body = filledBody(64)
    assert.equal(headInRoom(HEAD, body.subarray(8)), undefined)
    assert.equal(headInRoom(`HTTP/1.1 200 OK\r\nx-long: ${'v'.repeat(2048)}\r\n\r\n`, body), undefined)
    // Refusals claim nothing: the body still lends its room to a head that fits.
    assert.equal(headInRoom(HEAD, body)?.toString('latin1', 0, HEAD.length), HEAD)
  })
})

/** One request on its own connection (closed after the answer): the raw answer. */
function getOnce(port: number): Promise<Buffer> {
  return new Promise((done, fail) => {
    const socket = net.connect(port, '127.0.0.1')
    const received: Buffer[] = []
    socket.on('data', (chunk: Buffer) => received.push(chunk))
    socket.on('error', fail)
    socket.on('close', () => done(Buffer.concat(received)))
    socket.write('GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n')
  })
}

describe('the Node HTTP/1.1 server with one body in several answers (a cached answer)', () => {
  test('every answer carries its own head and the whole body, also while earlier ones are queued', async () => {
    const shared = filledBody(16 * 1024)
    let served = 0
    const sockets = new Set<net.Socket>()
    const server = net.createServer((socket) => {
      sockets.add(socket)
      // The first three connections are corked: their answers stay queued until all three are
      // written, as behind slow clients. A head written into the same room twice would show.
      if (sockets.size <= 3) socket.cork()
      new H1Connection(socket, {
        scheme: 'http',
        begin: () => () => {},
        draining: () => false,
        fetch: () => {
          if (++served === 3) {
            setTimeout(() => {
              for (const socket of sockets) socket.uncork()
            }, 100)
          }
          return responseFromRecord(shared, { status: 200, headers: { 'x-answer': String(served) } })
        },
      })
    })
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
    const { port } = server.address() as net.AddressInfo
    try {
      const answers = [
        ...(await Promise.all([getOnce(port), getOnce(port), getOnce(port)])),
        await getOnce(port),
      ]
      const seen: string[] = []
      for (const answer of answers) {
        const end = answer.indexOf('\r\n\r\n')
        const head = answer.toString('latin1', 0, end)
        assert.match(head, /^HTTP\/1\.1 200 OK\r\n/)
        seen.push(/\r\nx-answer: (\d)\r\n/.exec(head)?.[1] ?? `no x-answer in ${JSON.stringify(head)}`)
        assert.match(head, /\r\ncontent-length: 16384(\r\n|$)/)
        assert.ok(answer.subarray(end + 4).equals(shared))
      }
      assert.deepEqual(seen.sort(), ['1', '2', '3', '4'])
    } finally {
      server.close()
      for (const socket of sockets) socket.destroy()
    }
  })
})
