/**
 * The Node adapter's own HTTP/1.1 server (src/adapters/node/h1-connection.ts) on the wire: raw
 * bytes over a real socket to the real gateway process, so framing, pipelining, bodies and
 * refusals are seen exactly as a client sees them.
 */
import assert from 'node:assert/strict'
import net from 'node:net'
import { after, before, describe, test } from 'node:test'
import { type RunningGateway, startGateway, TARGET } from '../helpers/gateway.ts'
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts'

const skip =
  TARGET === 'node'
    ? false
    : "reason: these bytes test the Node adapter's HTTP/1.1 parser; Bun.serve and Deno.serve parse with their own"

/** Writes `parts` (one write each, 20 ms apart) and reads until the gateway closes the connection. */
async function exchange(
  port: number,
  parts: readonly (string | Buffer)[],
  timeoutMs = 3000,
): Promise<string> {
  const socket = net.connect(port, '127.0.0.1')
  const received: Buffer[] = []
  socket.on('data', (chunk: Buffer) => received.push(chunk))
  socket.on('error', () => {})
  const closed = new Promise<boolean>((done) => {
    socket.once('close', () => done(true))
    setTimeout(() => done(false), timeoutMs)
  })
  await new Promise<void>((done) => socket.once('connect', () => done()))
  for (const part of parts) {
    if (socket.destroyed) break
    socket.write(part)
    await new Promise((done) => setTimeout(done, 20))
  }
  const didClose = await closed
  socket.destroy()
  const text = Buffer.concat(received).toString('latin1')
  assert.ok(didClose, `the gateway kept the connection open; received so far:\n${text}`)
  return text
}

interface WireResponse {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
}

/** Splits a byte stream into responses (Content-Length or chunked framing; the last may run to close). */
function parseResponses(text: string): WireResponse[] {
  const out: WireResponse[] = []
  let rest = text
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n')
    assert.notEqual(end, -1, `incomplete head in: ${JSON.stringify(rest.slice(0, 200))}`)
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n')
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine as string)?.[1])
    const headers: Record<string, string> = {}
    for (const line of lines) {
      const colon = line.indexOf(':')
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
    }
    rest = rest.slice(end + 4)
    let body = ''
    if (status === 100 || status === 204 || status === 304) {
      // no body
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length'])
      body = rest.slice(0, length)
      rest = rest.slice(length)
    } else if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const lineEnd = rest.indexOf('\r\n')
        const size = Number.parseInt(rest.slice(0, lineEnd), 16)
        rest = rest.slice(lineEnd + 2)
        if (size === 0) {
          rest = rest.slice(rest.indexOf('\r\n') + 2)
          break
        }
        body += rest.slice(0, size)
        rest = rest.slice(size + 2)
      }
    } else {
      body = rest
      rest = ''
    }
    out.push({ status, headers, body })
  }
  return out
}

const CONFIG = (upstreamPort: number) => `
[server]
listen = ["127.0.0.1:0"]
access_log = false

[[routes]]
id = "hello"
uri = "/hello"
[routes.plugins.mocking]
body = "hello"

[[routes]]
id = "echo"
uri = "/echo*"
[routes.plugins.echo]

[[routes]]
id = "upload"
uri = "/upload"
[routes.upstream]
nodes = { "127.0.0.1:${upstreamPort}" = 1 }
timeout = { connect = 1000, send = 300, read = 1000 }

[[routes]]
id = "streamed"
uri = "/streamed"
[routes.upstream]
nodes = { "127.0.0.1:${upstreamPort}" = 1 }

[[routes]]
id = "other-host"
uri = "/echo*"
host = "other.example"
priority = 10
[routes.plugins.mocking]
body = "other.example answered"
`

describe('HTTP/1.1 on the wire (Node adapter)', { skip }, () => {
  let gateway: RunningGateway
  let upstream: TestUpstream
  let port: number

  before(async () => {
    // An upstream that streams its answer without a length (chunked to the gateway).
    upstream = await startUpstream((req, res) => {
      if (req.url === '/upload') {
        let size = 0
        req.on('data', (chunk: Buffer) => {
          size += chunk.byteLength
        })
        req.on('end', () => res.end(`got ${size}`))
        return
      }
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('part one, ')
      setTimeout(() => res.end('part two'), 20)
    })
    gateway = await startGateway(CONFIG(upstream.port))
    port = Number(new URL(gateway.url).port)
  })
  after(async () => {
    await gateway?.stop()
    await upstream?.close()
  })

  test('pipelined requests are answered in order on one connection', async () => {
    const text = await exchange(port, [
      'GET /echo?n=1 HTTP/1.1\r\nHost: a\r\n\r\n' +
        'POST /echo?n=2 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nfirst' +
        'GET /echo?n=3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    ])
    const responses = parseResponses(text)
    assert.deepEqual(
      responses.map((r) => r.status),
      [200, 200, 200],
    )
    const echoed = responses.map((r) => JSON.parse(r.body) as { query: { n: string }; body: string })
    assert.deepEqual(
      echoed.map((e) => e.query.n),
      ['1', '2', '3'],
    )
    assert.equal(echoed[1]?.body, 'first')
    // As node:http says it, so Node's http.Agent retires idle sockets before the gateway does.
    assert.equal(responses[0]?.headers.connection, 'keep-alive')
    assert.equal(responses[0]?.headers['keep-alive'], 'timeout=5')
    assert.equal(responses[2]?.headers.connection, 'close')
  })

  test('a chunked request body sent in pieces, with extensions and trailers, is decoded', async () => {
    const text = await exchange(port, [
      'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhel',
      'lo\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n',
      'GET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    ])
    const [first, second] = parseResponses(text)
    assert.equal(first?.status, 200)
    assert.equal((JSON.parse(first?.body ?? '') as { body: string }).body, 'hello world')
    assert.equal(second?.body, 'hello')
  })

  test('a body nobody reads is skipped, not taken for the next request', async () => {
    const filler = 'GET /evil HTTP/1.1\r\nHost: a\r\n\r\n'.repeat(4000) // 124 KB that looks like requests
    const text = await exchange(port, [
      `POST /hello HTTP/1.1\r\nHost: a\r\nContent-Length: ${filler.length}\r\n\r\n`,
      filler,
      'GET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    ])
    const responses = parseResponses(text)
    assert.deepEqual(
      responses.map((r) => [r.status, r.body]),
      [
        [200, 'hello'],
        [200, 'hello'],
      ],
    )
  })

  test('Expect: 100-continue gets the interim answer, then the final one', async () => {
    const text = await exchange(port, [
      'POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\nConnection: close\r\n\r\n',
      'body',
    ])
    const responses = parseResponses(text)
    assert.deepEqual(
      responses.map((r) => r.status),
      [100, 200],
    )
    assert.equal((JSON.parse(responses[1]?.body ?? '') as { body: string }).body, 'body')
  })

  test('HEAD: no body bytes, and the connection goes on', async () => {
    const text = await exchange(port, [
      'HEAD /hello HTTP/1.1\r\nHost: a\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    ])
    const head = text.slice(0, text.indexOf('\r\n\r\n'))
    assert.match(head, /^HTTP\/1\.1 200 OK\r\n/)
    // Hono drops a HEAD answer's body; a length, if any, is the GET's.
    assert.doesNotMatch(head, /\r\ncontent-length: (?!5\r\n)/i)
    const next = text.slice(text.indexOf('\r\n\r\n') + 4)
    assert.match(next, /^HTTP\/1\.1 200 OK\r\n/, 'the GET answer follows the HEAD head directly')
    assert.ok(next.endsWith('\r\n\r\nhello'))
  })

  test("HTTP/1.0 without Host (a health check's way) is served, as by the listener's address", async () => {
    const [answer, ...more] = parseResponses(await exchange(port, ['GET /hello HTTP/1.0\r\n\r\n']))
    assert.equal(more.length, 0)
    assert.equal(answer?.status, 200)
    assert.equal(answer?.body, 'hello')
    // A route bound to another host is not reached that way.
    const [other] = parseResponses(await exchange(port, ['GET /echo HTTP/1.0\r\n\r\n']))
    assert.notEqual(other?.body, 'other.example answered')
  })

  test('HTTP/1.0: closed after the answer unless the client asks for keep-alive; streams end at close', async () => {
    const plain = parseResponses(await exchange(port, ['GET /hello HTTP/1.0\r\nHost: a\r\n\r\n']))
    assert.deepEqual(
      plain.map((r) => [r.status, r.headers.connection, r.body]),
      [[200, 'close', 'hello']],
    )
    const kept = parseResponses(
      await exchange(port, [
        'GET /hello HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n',
        'GET /streamed HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n',
      ]),
    )
    assert.equal(kept[0]?.headers.connection, 'keep-alive')
    // No chunked coding for an HTTP/1.0 client: the body runs to the end of the connection.
    assert.equal(kept[1]?.headers['transfer-encoding'], undefined)
    assert.equal(kept[1]?.headers.connection, 'close')
    assert.equal(kept[1]?.body, 'part one, part two')
  })

  test('a streamed answer without a length goes chunked to an HTTP/1.1 client', async () => {
    const [streamed] = parseResponses(
      await exchange(port, ['GET /streamed HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n']),
    )
    assert.equal(streamed?.headers['transfer-encoding'], 'chunked')
    assert.equal(streamed?.body, 'part one, part two')
  })

  test('dot segments are resolved before routing; absolute-form targets route by their own host', async () => {
    const [dotted, absolute] = parseResponses(
      await exchange(port, [
        'GET /nothing/../hello HTTP/1.1\r\nHost: a\r\n\r\n' +
          'GET http://other.example/echo HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
      ]),
    )
    assert.equal(dotted?.body, 'hello')
    assert.equal(absolute?.body, 'other.example answered')
  })

  test('host routes match a fully qualified name (trailing dot), in any case, with a port', async () => {
    const [answer] = parseResponses(
      await exchange(port, ['GET /echo HTTP/1.1\r\nHost: OTHER.Example.:8080\r\nConnection: close\r\n\r\n']),
    )
    assert.equal(answer?.body, 'other.example answered')
  })

  const refusals: [string, string, number, string][] = [
    [
      'Transfer-Encoding beside Content-Length',
      'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n',
      400,
      'SLUICE_E_BAD_REQUEST',
    ],
    [
      'two different Content-Lengths',
      'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
      400,
      'SLUICE_E_BAD_REQUEST',
    ],
    [
      'a Content-Length that is not a number',
      'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3x\r\n\r\nabc',
      400,
      'SLUICE_E_BAD_REQUEST',
    ],
    [
      'a folded header line',
      'GET /hello HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n',
      400,
      'SLUICE_E_BAD_REQUEST',
    ],
    [
      'a bare LF inside a header value',
      'GET /hello HTTP/1.1\r\nHost: a\r\nX-A: b\nc\r\n\r\n',
      400,
      'SLUICE_E_BAD_REQUEST',
    ],
    ['an HTTP/1.1 request without Host', 'GET /hello HTTP/1.1\r\n\r\n', 400, 'SLUICE_E_BAD_REQUEST'],
    ['two Host headers', 'GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400, 'SLUICE_E_BAD_REQUEST'],
    [
      'a Host that would spill into the path',
      'GET /hello HTTP/1.1\r\nHost: a/b@c\r\n\r\n',
      400,
      'SLUICE_E_BAD_REQUEST',
    ],
    ['a backslash in the path', 'GET /a\\..\\hello HTTP/1.1\r\nHost: a\r\n\r\n', 400, 'SLUICE_E_BAD_REQUEST'],
    ['a target that is not a path', 'GET hello HTTP/1.1\r\nHost: a\r\n\r\n', 400, 'SLUICE_E_BAD_REQUEST'],
    ['a malformed request line', 'GET  /hello HTTP/1.1\r\nHost: a\r\n\r\n', 400, 'SLUICE_E_BAD_REQUEST'],
    [
      'HTTP/2.0 in a request line',
      'GET /hello HTTP/2.0\r\nHost: a\r\n\r\n',
      505,
      'SLUICE_E_VERSION_NOT_SUPPORTED',
    ],
    // Whitespace around a value is spaces and tabs only: anything String.trim would also strip
    // (VT, FF, NBSP) could make a front proxy and the gateway frame the body differently.
    [
      'a vertical tab before a transfer coding',
      'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \x0bchunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
      400,
      'SLUICE_E_BAD_REQUEST',
    ],
    [
      'a form feed after a content length',
      'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\x0c\r\n\r\nabc',
      400,
      'SLUICE_E_BAD_REQUEST',
    ],
    [
      'a no-break space after "chunked" (not the chunked coding)',
      'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\xa0\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
      501,
      'SLUICE_E_NOT_IMPLEMENTED',
    ],
    [
      'a transfer coding other than chunked',
      'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n',
      501,
      'SLUICE_E_NOT_IMPLEMENTED',
    ],
    [
      'an expectation other than 100-continue',
      'GET /hello HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n',
      417,
      'SLUICE_E_EXPECTATION_FAILED',
    ],
    [
      'a head over 16 KiB',
      `GET /hello HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(17 * 1024)}\r\n\r\n`,
      431,
      'SLUICE_E_HEADERS_TOO_LARGE',
    ],
  ]
  for (const [what, bytes, status, code] of refusals) {
    test(`refused with ${status} and a JSON body, then closed: ${what}`, async () => {
      const responses = parseResponses(await exchange(port, [Buffer.from(bytes, 'latin1')]))
      assert.equal(responses.length, 1, 'one answer, and nothing of the request was served')
      const [refusal] = responses
      assert.equal(refusal?.status, status)
      assert.equal(refusal?.headers.connection, 'close')
      assert.equal(refusal?.headers['content-type'], 'application/json')
      assert.equal((JSON.parse(refusal?.body ?? '') as { error: { code: string } }).error.code, code)
    })
  }

  test('a request body that stalls past the send timeout: 408, then the connection closes', async () => {
    // 5 of 10 bytes, then a pause longer than the route's send timeout (300 ms), then a request
    // the client hopes to send next: it must not be eaten as the rest of the first body.
    const text = await exchange(port, [
      'POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nfive!',
      Buffer.alloc(0),
    ])
    const responses = parseResponses(text)
    assert.equal(responses.length, 1, text)
    assert.equal(responses[0]?.status, 408)
    assert.equal(responses[0]?.headers.connection, 'close')
  })

  test('clients that reset before sending a byte cost their connection only', async () => {
    for (let i = 0; i < 5; i++) {
      const socket = net.connect(port, '127.0.0.1')
      socket.on('error', () => {})
      await new Promise<void>((done) => socket.once('connect', () => done()))
      socket.resetAndDestroy()
    }
    await new Promise((done) => setTimeout(done, 100))
    const [answer] = parseResponses(
      await exchange(port, ['GET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n']),
    )
    assert.equal(answer?.body, 'hello')
  })

  test('a refused client that keeps sending is cut off, and what it sent is not kept', async () => {
    // 2 MB after a bad request line: read and dropped, and the connection still closes.
    const flood = Buffer.alloc(256 * 1024, 'x')
    const text = await exchange(port, ['BAD\r\n\r\n', ...Array.from({ length: 8 }, () => flood)], 8000)
    assert.match(text, /^HTTP\/1\.1 400 /)
  })

  test('a malformed chunked body is refused and the connection closed', async () => {
    const responses = parseResponses(
      await exchange(port, ['POST /hello HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n']),
    )
    // The mocked route may have answered before the bad chunk arrived; either way nothing more.
    assert.ok(responses.length <= 1)
  })

  test('a malformed chunk in the same packet as the head gets a 400 JSON answer, then close', async () => {
    // To a proxied route: nothing has been answered when the bad chunk size is read.
    const [refusal, ...more] = parseResponses(
      await exchange(port, [
        'POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n',
      ]),
    )
    assert.equal(more.length, 0)
    assert.equal(refusal?.status, 400)
    assert.equal(refusal?.headers.connection, 'close')
    assert.equal(
      (JSON.parse(refusal?.body ?? '') as { error: { code: string } }).error.code,
      'SLUICE_E_BAD_REQUEST',
    )
  })
})
