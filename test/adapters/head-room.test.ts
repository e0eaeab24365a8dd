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

describe('the Node HTTP/1.1 server with one body in several answers (a cached answer)', () => {
  test('every answer carries its own head and the whole body', async () => {
    const shared = filledBody(16 * 1024)
    let served = 0
    const sockets = new Set<net.Socket>()
    const server = net.createServer((socket) => {
      sockets.add(socket)
      new H1Connection(socket, {
        scheme: 'http',
        begin: () => () => {},
        draining: () => false,
        fetch: () => responseFromRecord(shared, { status: 200, headers: { 'x-answer': String(++served) } }),
      })
    })
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
    const { port } = server.address() as net.AddressInfo
    try {
      const get = async () => {
        const response = await fetch(`http://127.0.0.1:${port}/`)
        return { answer: response.headers.get('x-answer'), body: Buffer.from(await response.arrayBuffer()) }
      }
      const together = await Promise.all([get(), get(), get()])
      const after = [await get(), await get()]
      const answers = [...together, ...after]
      assert.deepEqual(answers.map((a) => a.answer).sort(), ['1', '2', '3', '4', '5'])
      for (const { body } of answers) assert.ok(body.equals(shared))
    } finally {
      server.close()
      // fetch keeps its connections alive; the server ends them so the test can finish.
      for (const socket of sockets) socket.destroy()
    }
  })
})
