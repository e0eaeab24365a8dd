/**
 * The pooled HTTP/1.1 client (src/adapters/socket-client/client.ts) over a scripted socket: how
 * response bytes split across reads, and whether the dialer lets the client keep its read
 * buffers (`RawSocket.keepsReads`), never change what the client hands on. A socket that does not
 * give its reads away overwrites its buffer after every read, as Node's shared `onread` buffer
 * does, so a body that kept a view of it would come out wrong.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { installLightweightResponse } from '../../src/adapters/node/lightweight-response.ts'
import { type SocketClientOptions, SocketUpstreamClient } from '../../src/adapters/socket-client/client.ts'
import { headInRoom } from '../../src/adapters/socket-client/head-room.ts'
import type {
  Dial,
  RawSocket,
  SocketEvents,
  WriteResult,
} from '../../src/adapters/socket-client/transport.ts'
import { responseParts } from '../../src/core/response.ts'
import type { OutboundRequest } from '../../src/upstream/types.ts'

// As the Node adapter runs: its Response keeps the body it is given (undici's would copy it), so
// what the client kept is what would be written to the client.
installLightweightResponse()

/** The body bytes as an adapter writing the response itself would see them. */
async function bodyOf(response: Response): Promise<Buffer> {
  const { body } = responseParts(response)
  if (body instanceof Uint8Array) return Buffer.from(body)
  return Buffer.from(await response.arrayBuffer())
}

/** A socket whose answer to each request is a list of reads, delivered once the request is written. */
class ScriptedSocket implements RawSocket {
  open = false
  ended = false
  readonly written: Buffer[] = []
  /** The reads' one buffer when `keepsReads` is false (reused, then scribbled over). */
  readonly #shared = Buffer.alloc(256 * 1024)

  constructor(
    readonly events: SocketEvents,
    readonly keepsReads: boolean,
    readonly answer: () => readonly Uint8Array[],
  ) {
    queueMicrotask(() => {
      this.open = true
      events.onConnected()
    })
  }

  write(bytes: Uint8Array): WriteResult {
    this.written.push(Buffer.from(bytes))
    if (Buffer.concat(this.written).includes('\r\n\r\n')) {
      this.written.length = 0
      queueMicrotask(() => this.#deliver(this.answer()))
    }
    return 'sent'
  }

  #deliver(reads: readonly Uint8Array[]): void {
    for (const read of reads) {
      if (!this.open) return
      if (this.keepsReads) this.events.onData(Buffer.from(read))
      else {
        const view = this.#shared.subarray(0, read.byteLength)
        view.set(read)
        this.events.onData(view)
        this.#shared.fill(0x58) // what the next read would do to a view kept from this one
      }
    }
  }

  end(): void {
    this.ended = true
    this.destroy()
  }

  destroy(): void {
    if (!this.open) return
    this.open = false
    queueMicrotask(() => this.events.onClose(undefined))
  }

  pause(): void {}
  resume(): void {}
}

function scriptedClient(
  keepsReads: boolean,
  answer: () => readonly Uint8Array[],
  options?: SocketClientOptions,
) {
  const sockets: ScriptedSocket[] = []
  const dial: Dial = (_target, events) => {
    const socket = new ScriptedSocket(events, keepsReads, answer)
    sockets.push(socket)
    return socket
  }
  return { client: new SocketUpstreamClient(dial, options), sockets }
}

const request: OutboundRequest = {
  origin: { scheme: 'http', host: '127.0.0.1', port: 8080 },
  method: 'GET',
  path: '/',
  headers: { host: 'upstream.test' },
  body: null,
  timeouts: { connect: 1000, send: 1000, read: 1000 },
  pool: { keepalive: true, size: 4, idleTimeout: 60_000 },
  tlsVerify: true,
}

const text = (s: string) => Buffer.from(s, 'latin1')
/** Splits `bytes` at the given offsets. */
const cut = (bytes: Uint8Array, ...at: number[]) =>
  [0, ...at].map((start, i) => bytes.subarray(start, at[i] ?? bytes.byteLength))
const body = (size: number) => Buffer.from(Array.from({ length: size }, (_, i) => 97 + (i % 26)))
const head = (length: number, extra = '') =>
  text(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n${extra}content-length: ${length}\r\n\r\n`)

const cases: [string, () => readonly Uint8Array[], Buffer][] = [
  ['head and body in one read', () => [Buffer.concat([head(100), body(100)])], body(100)],
  [
    'the head split across reads, the body with its end',
    () => cut(Buffer.concat([head(100), body(100)]), 10, 40),
    body(100),
  ],
  [
    'a 100 Continue, the final head and the body in one read',
    () => [Buffer.concat([text('HTTP/1.1 100 Continue\r\n\r\n'), head(100), body(100)])],
    body(100),
  ],
  [
    'a body spanning three reads',
    () => {
      const all = Buffer.concat([head(5000), body(5000)])
      return cut(all, head(5000).byteLength + 1000, head(5000).byteLength + 3000)
    },
    body(5000),
  ],
  ['a zero-length body', () => [head(0)], Buffer.alloc(0)],
  [
    'a streamed body (over 64 KiB) in many reads',
    () => {
      const all = Buffer.concat([head(200_000), body(200_000)])
      return cut(all, 100, 30_000, 65_000, 130_000, 199_000)
    },
    body(200_000),
  ],
  [
    'a chunked body with chunks across reads',
    () => [
      text('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nab'),
      text('cde\r\n3\r\nfgh\r\n0\r\n\r\n'),
    ],
    text('abcdefgh'),
  ],
]

for (const keepsReads of [false, true]) {
  describe(`socket client, reads ${keepsReads ? 'given away' : 'in a reused buffer'}`, () => {
    for (const [name, answer, expected] of cases) {
      test(name, async () => {
        const { client, sockets } = scriptedClient(keepsReads, answer)
        // Twice on one connection: the second answer arrives after the first one's body was read.
        for (let round = 0; round < 2; round++) {
          const response = await client.send(request)
          assert.equal(response.status, 200)
          assert.deepEqual(await bodyOf(response), expected)
        }
        assert.equal(sockets.length, 1, 'the connection is reused')
        client.close()
      })
    }

    test('bytes after a complete answer: the answer is kept, the connection is not reused', async () => {
      const { client, sockets } = scriptedClient(keepsReads, () => [
        Buffer.concat([head(100), body(100), text('HTTP/1.1 200 OK\r\n')]),
      ])
      for (let round = 0; round < 2; round++) {
        const response = await client.send(request)
        assert.deepEqual(await bodyOf(response), body(100))
      }
      assert.equal(sockets.length, 2, 'a new connection for the second request')
      assert.equal(sockets[0]?.open, false)
      client.close()
    })
  })
}

describe('socket client head room (SocketClientOptions.headRoom, for the Node HTTP/1.1 server)', () => {
  const roomFor = async (size: number, options?: SocketClientOptions) => {
    const { client } = scriptedClient(false, () => cut(Buffer.concat([head(size), body(size)]), 100), options)
    const { body: bytes } = responseParts(await client.send(request))
    client.close()
    assert.ok(bytes instanceof Uint8Array)
    assert.ok(Buffer.from(bytes).equals(body(size)))
    const whole = headInRoom('HTTP/1.1 200 OK\r\n\r\n', bytes)
    // With room, the head lands right in front of the body's own bytes.
    if (whole) assert.ok(whole.subarray(19).equals(body(size)))
    return whole !== undefined
  }

  test('buffered bodies of 4 KiB or more get room only when asked', async () => {
    assert.equal(await roomFor(4096, { headRoom: true }), true)
    assert.equal(await roomFor(65536, { headRoom: true }), true)
    assert.equal(await roomFor(4095, { headRoom: true }), false)
    assert.equal(await roomFor(65536), false)
  })
})
