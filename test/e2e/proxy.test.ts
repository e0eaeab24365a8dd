/**
 * The upstream proxy against real upstream servers on loopback: balancing, failover, header
 * hygiene both ways (HTTP/2 clients included), error mapping, and streaming.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import http2 from 'node:http2'
import https from 'node:https'
import net from 'node:net'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import {
  makeTempDir,
  type RunningGateway,
  startGateway,
  TARGET,
  waitForAccessLine,
} from '../helpers/gateway.ts'
import { h2connect, h2once, h2request } from '../helpers/h2.ts'
import { selfSignedCert } from '../helpers/tls.ts'
import { closedPort, startUpstream, type TestUpstream } from '../helpers/upstream.ts'

const run = promisify(execFile)

const route = (uri: string, upstream: string, extra = '') => `
[[routes]]
uri = "${uri}"
[routes.upstream]
${upstream}
${extra}
`

describe('proxy', () => {
  let a: TestUpstream
  let b: TestUpstream
  let hop: TestUpstream
  let slow: TestUpstream
  let dead: number
  let gateway: RunningGateway

  before(async () => {
    const named = (name: string) =>
      startUpstream((req, res) => {
        let body = ''
        req.setEncoding('latin1')
        req.on('data', (chunk: string) => {
          body += chunk
        })
        req.on('end', () => {
          res.setHeader('content-type', 'application/json')
          res.end(JSON.stringify({ name, url: req.url, host: req.headers.host, body }))
        })
      })
    a = await named('a')
    b = await named('b')
    hop = await startUpstream((_req, res) => {
      // Connection-specific headers that must never reach an HTTP/2 client.
      res.writeHead(200, [
        ['Connection', 'keep-alive, X-Hop'],
        ['Keep-Alive', 'timeout=5'],
        ['X-Hop', 'connection-scoped'],
        ['Proxy-Connection', 'keep-alive'],
        ['Upgrade', 'h2c'],
        ['Set-Cookie', 'a=1; Path=/'],
        ['Set-Cookie', 'b=2; Path=/'],
        ['X-End', 'kept'],
        ['X-Request-Id', 'set-by-upstream'],
      ])
      res.end('hop')
    })
    slow = await startUpstream((req, res) => {
      if (req.url?.includes('upload')) {
        // Answers only once the whole request body is in.
        req.resume()
        req.on('end', () => res.end('uploaded'))
        return
      }
      if (req.url?.includes('big')) {
        const size = 8 * 1024 * 1024
        res.writeHead(200, { 'content-length': String(size) })
        res.end(Buffer.alloc(size, 2))
        return
      }
      if (req.url?.includes('sized')) {
        const size = Number(new URL(req.url, 'http://x').searchParams.get('size'))
        res.writeHead(200, { 'content-length': String(size) })
        res.end(Buffer.alloc(size, 'sluice-'))
        return
      }
      if (req.url?.includes('stall')) {
        // A large body that stops half-way without closing the connection.
        res.writeHead(200, { 'content-length': String(1024 * 1024) })
        res.write(Buffer.alloc(128 * 1024, 1))
        return
      }
      const delay = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('delay') ?? 0)
      setTimeout(() => res.end('slow'), delay)
    })
    dead = await closedPort()
    gateway = await startGateway(`
[server]
listen = ["127.0.0.1:0"]
[plugins.request-id]
${route('/weighted/*', `nodes = { "${a.address}" = 1, "${b.address}" = 3 }`)}
${route('/failover/*', `nodes = { "127.0.0.1:${dead}" = 100, "${a.address}" = 1 }`)}
${route('/dead', `nodes = { "127.0.0.1:${dead}" = 1 }`)}
${route('/hop', `nodes = { "${hop.address}" = 1 }`)}
${route('/slow', `nodes = { "${slow.address}" = 1 }\ntimeout = { connect = 1000, send = 1000, read = 300 }`)}
${route('/node-host', `nodes = { "${a.address}" = 1 }\npass_host = "node"`)}
${route('/rewrite-host', `nodes = { "${a.address}" = 1 }\npass_host = "rewrite"\nupstream_host = "backend.internal"`)}
${route('/pass-host', `nodes = { "${a.address}" = 1 }`)}
${route('/public/*', `nodes = { "${a.address}" = 1 }`)}
`)
  })
  after(async () => {
    await gateway?.stop()
    await Promise.all([a, b, hop, slow].map((u) => u?.close()))
  })

  /** One request written as given (no client normalises it), the answer's status line and body. */
  async function onTheWire(text: string): Promise<{ status: number; body: string }> {
    const socket = net.connect(Number(new URL(gateway.url).port), '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    await new Promise<void>((done) => socket.once('connect', () => done()))
    socket.write(text)
    await new Promise<void>((done) => {
      socket.once('close', () => done())
      socket.once('error', () => done())
      setTimeout(() => done(), 3000).unref()
    })
    socket.destroy()
    const answer = Buffer.concat(chunks).toString('latin1')
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 0)
    return { status, body: answer.slice(answer.indexOf('\r\n\r\n') + 4) }
  }

  test('dot segments never let a prefix route reach outside its prefix, on every runtime', async () => {
    const before = a.received.length
    for (const path of ['/public/../secret.txt', '/public/%2e%2e/secret.txt', '/public/.%2E/secret.txt']) {
      const { status } = await onTheWire(`GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`)
      assert.equal(status, 404, path)
    }
    assert.deepEqual(
      a.received.slice(before).map((r) => r.url),
      [],
      'nothing reached the upstream',
    )
  })

  test('a Host that is not an authority gets 400; HTTP/1.0 without Host is routed, on every runtime', async () => {
    const before = a.received.length
    const bad = await onTheWire('GET /zz HTTP/1.1\r\nHost: x/public\r\nConnection: close\r\n\r\n')
    assert.equal(bad.status, 400)
    assert.equal(a.received.length, before, 'nothing reached the upstream')
    const old = await onTheWire('GET /pass-host HTTP/1.0\r\n\r\n')
    assert.equal(old.status, 200)
    assert.equal((JSON.parse(old.body) as { url: string }).url, '/pass-host')
  })

  test('an https upstream: verify = false accepts a certificate that does not match the SNI name; verify = true refuses it', async () => {
    // The certificate is for localhost; pass_host = "rewrite" sends api.internal as Host and SNI.
    const { cert, key } = await selfSignedCert(await makeTempDir())
    const server = https.createServer({ cert, key }, (req, res) => res.end(`tls ${req.headers.host}`))
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
    const port = (server.address() as net.AddressInfo).port
    const upstream = (verify: boolean) =>
      `[routes.upstream]\nscheme = "https"\nnodes = { "127.0.0.1:${port}" = 1 }\npass_host = "rewrite"\nupstream_host = "api.internal"\ntls = { verify = ${verify} }\n`
    const gw = await startGateway(
      `[server]\nlisten = ["127.0.0.1:0"]\naccess_log = false\n[[routes]]\nuri = "/lax"\n${upstream(false)}[[routes]]\nuri = "/strict"\n${upstream(true)}`,
    )
    try {
      const lax = await fetch(`${gw.url}/lax`)
      assert.equal(lax.status, 200)
      assert.equal(await lax.text(), 'tls api.internal')
      const strict = await fetch(`${gw.url}/strict`)
      assert.equal(strict.status, 502)
      await strict.arrayBuffer()
    } finally {
      await gw.stop()
      await new Promise<void>((done) => server.close(() => done()))
    }
  })

  test('an HTTP/2 client that resets its stream releases the upstream request at once', async () => {
    let closedAfter = -1
    const hang = await startUpstream((req) => {
      const started = Date.now()
      req.socket.once('close', () => {
        closedAfter = Date.now() - started
      })
    })
    const gw = await startGateway(
      `[server]\nlisten = ["127.0.0.1:0"]\naccess_log = false\n[[routes]]\nuri = "/hang"\n[routes.upstream]\nnodes = { "${hang.address}" = 1 }\n`,
    )
    try {
      const session = h2connect(gw.url)
      session.on('error', () => {})
      const stream = session.request({ ':path': '/hang' }, { endStream: true })
      stream.on('error', () => {})
      await new Promise((r) => setTimeout(r, 200))
      stream.close(http2.constants.NGHTTP2_CANCEL)
      const started = Date.now()
      // The route's read timeout is 60 s: the upstream connection must go with the client's stream.
      while (closedAfter === -1 && Date.now() - started < 3000) await new Promise((r) => setTimeout(r, 20))
      session.destroy()
      assert.ok(
        closedAfter !== -1 && closedAfter < 2000,
        `upstream connection closed after ${closedAfter} ms`,
      )
    } finally {
      await gw.stop()
      await hang.close()
    }
  })

  test('weighted round robin sends each node its share, keeping path and query', async () => {
    const names: string[] = []
    for (let i = 0; i < 40; i++) {
      const res = await fetch(`${gateway.url}/weighted/x/y?i=${i}`)
      const body = (await res.json()) as { name: string; url: string }
      assert.equal(body.url, `/weighted/x/y?i=${i}`)
      names.push(body.name)
    }
    assert.equal(names.filter((n) => n === 'a').length, 10)
    assert.equal(names.filter((n) => n === 'b').length, 30)
  })

  test('a node that refuses connections is skipped for the next one', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${gateway.url}/failover/z`, { method: 'POST', body: `payload-${i}` })
      assert.equal(res.status, 200)
      assert.equal(((await res.json()) as { name: string }).name, 'a')
    }
  })

  test('connection refused -> 502 with a JSON error body, over h1 and h2c', async () => {
    const res = await fetch(`${gateway.url}/dead`)
    assert.equal(res.status, 502)
    assert.equal(res.headers.get('content-type'), 'application/json')
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'SLUICE_E_UPSTREAM_CONNECT')
    assert.match(
      res.headers.get('x-request-id') ?? '',
      /^[0-9a-f-]{36}$/,
      'errors still carry the request id',
    )
    const h2 = await h2once(gateway.url, '/dead')
    assert.equal(h2.status, 502)
  })

  test('an upstream slower than the read timeout -> 504 with a JSON error body', async () => {
    const res = await fetch(`${gateway.url}/slow?delay=2000`)
    assert.equal(res.status, 504)
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'SLUICE_E_UPSTREAM_TIMEOUT')
    const fast = await fetch(`${gateway.url}/slow?delay=10`)
    assert.equal(fast.status, 200)
    assert.equal(await fast.text(), 'slow')
  })

  test('a client whose upload stalls longer than the send timeout gets 408, not 504', async () => {
    const { hostname, port } = new URL(gateway.url)
    const { status, body } = await new Promise<{ status: number; body: string }>((done, fail) => {
      const req = http.request({
        host: hostname,
        port,
        method: 'POST',
        path: '/slow?upload=1',
        headers: { 'transfer-encoding': 'chunked' },
      })
      req.on('response', (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          text += chunk
        })
        res.on('end', () => done({ status: res.statusCode ?? 0, body: text }))
      })
      req.on('error', fail)
      // The first part, then silence for longer than the route's send timeout (1000 ms).
      req.write('part one;')
      setTimeout(() => req.destroy(), 4000).unref()
    })
    assert.equal(status, 408)
    assert.equal((JSON.parse(body) as { error: { code: string } }).error.code, 'SLUICE_E_REQUEST_TIMEOUT')
  })

  test('an upstream that stalls mid-body is cut after the read timeout, not left hanging', async () => {
    const started = Date.now()
    await assert.rejects(async () => {
      const res = await fetch(`${gateway.url}/slow?stall=1`)
      assert.equal(res.status, 200)
      await res.arrayBuffer()
    })
    assert.ok(Date.now() - started < 5000, 'cut by the 300 ms read timeout, long before the test gives up')
  })

  test('a slow client is not mistaken for a slow upstream: the read timeout only runs while waiting for it', async () => {
    // The route's read timeout is 300 ms; this client stops reading for 1.2 s mid-body.
    const received = await new Promise<number>((ok, fail) => {
      http
        .get(`${gateway.url}/slow?big=1`, { agent: false }, (res) => {
          let bytes = 0
          let paused = false
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length
            if (!paused && bytes > 256 * 1024) {
              paused = true
              res.pause()
              setTimeout(() => res.resume(), 1200)
            }
          })
          res.on('end', () => ok(bytes))
          res.on('error', fail)
          res.on('aborted', () => fail(new Error(`cut after ${bytes} bytes`)))
        })
        .on('error', fail)
    })
    assert.equal(received, 8 * 1024 * 1024)
  })

  test('hop-by-hop response headers are stripped, so HTTP/2 clients get a clean response', async () => {
    for (let i = 0; i < 3; i++) {
      const h2 = await h2once(gateway.url, '/hop')
      assert.equal(h2.status, 200)
      assert.equal(h2.body.toString(), 'hop')
      for (const name of ['connection', 'keep-alive', 'x-hop', 'proxy-connection', 'upgrade']) {
        assert.equal(h2.headers[name], undefined, `${name} must not be forwarded`)
      }
      assert.equal(h2.headers['x-end'], 'kept')
      assert.deepEqual(h2.headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/'])
    }
    const h1 = await fetch(`${gateway.url}/hop`)
    assert.equal(h1.headers.get('x-hop'), null)
    assert.deepEqual(h1.headers.getSetCookie(), ['a=1; Path=/', 'b=2; Path=/'])
  })

  test("the gateway's request id replaces one the upstream sets, over h1 and h2c", async () => {
    const sent = await fetch(`${gateway.url}/hop`, { headers: { 'x-request-id': 'client-trace-1' } })
    assert.equal(sent.headers.get('x-request-id'), 'client-trace-1')
    const made = await fetch(`${gateway.url}/hop`)
    assert.match(made.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/)
    const h2 = await h2once(gateway.url, '/hop')
    assert.match(String(h2.headers['x-request-id']), /^[0-9a-f-]{36}$/)
    assert.equal(h2.headers['x-end'], 'kept')
  })

  test('HTTP/2 answers of every size around the write paths arrive whole and end', async () => {
    // Small bodies end after their write, larger ones with it (h2-streams.ts): both must end the
    // stream with exactly the body, also when the body fills the default stream window.
    const sizes = [0, 1, 16 * 1024, 16 * 1024 + 1, 65535, 65536, 200_000]
    const session = h2connect(gateway.url)
    try {
      const answers = await Promise.all(sizes.map((size) => h2request(session, `/slow?sized&size=${size}`)))
      for (const [i, answer] of answers.entries()) {
        const size = sizes[i] as number
        assert.equal(answer.status, 200)
        // Bun's server leaves Content-Length out of streamed HTTP/2 answers (allowed in HTTP/2).
        const length = answer.headers['content-length']
        if (length !== undefined) assert.equal(length, String(size))
        assert.ok(answer.body.equals(Buffer.alloc(size, 'sluice-')), `body of ${size} bytes`)
      }
    } finally {
      session.close()
    }
  })

  test('HTTP/1.1 answers of every size around the write paths arrive whole', async () => {
    // Buffered bodies (up to 64 KiB) and streamed ones; Node writes the head into room in front
    // of buffered bodies from 4 KiB, Bun streams those from 15 KiB (chunked, no Content-Length).
    const sizes = [0, 1, 4095, 4096, 15 * 1024 - 1, 15 * 1024, 16 * 1024, 65535, 65536, 65537, 200_000]
    for (const size of sizes) {
      const answer = await fetch(`${gateway.url}/slow?sized&size=${size}`)
      assert.equal(answer.status, 200)
      // Bun and the binary stream bodies from 15 KiB on (src/adapters/bun/listeners.ts): Bun
      // sends those chunked, or with Content-Length when the stream was complete before it wrote.
      const length = answer.headers.get('content-length')
      const streamed = (TARGET === 'bun' || TARGET === 'binary') && size >= 15 * 1024
      if (!streamed || length !== null) assert.equal(length, String(size), `Content-Length of ${size} bytes`)
      const body = Buffer.from(await answer.arrayBuffer())
      assert.ok(body.equals(Buffer.alloc(size, 'sluice-')), `body of ${size} bytes`)
    }
  })

  test('hop-by-hop request headers are not forwarded; X-Forwarded-* are set, not trusted', async () => {
    const before = a.received.length
    const res = await rawRequest(gateway.url, '/pass-host', {
      Connection: 'keep-alive, X-Secret-Hop',
      'X-Secret-Hop': 'must-not-pass',
      'Keep-Alive': 'timeout=5',
      'Proxy-Connection': 'keep-alive',
      TE: 'trailers',
      'X-Forwarded-For': '203.0.113.7',
      'X-Forwarded-Proto': 'https',
      'X-Forwarded-Host': 'spoofed.example',
    })
    assert.equal(res.status, 200)
    const seen = a.received[before]
    assert.ok(seen)
    for (const name of ['x-secret-hop', 'keep-alive', 'proxy-connection', 'te']) {
      assert.equal(seen.headers[name], undefined, `${name} must not be forwarded`)
    }
    assert.equal(seen.headers['x-forwarded-for'], '203.0.113.7, 127.0.0.1')
    assert.equal(seen.headers['x-forwarded-proto'], 'http')
    assert.equal(seen.headers['x-forwarded-host'], new URL(gateway.url).host)
    assert.equal(seen.headers.via, undefined)
  })

  test('HTTP/2 cookie crumbs reach an HTTP/1.1 upstream as one Cookie header joined with "; "', async () => {
    const before = a.received.length
    const session = http2.connect(gateway.url)
    session.on('error', () => {})
    try {
      const status = await new Promise<number>((done, fail) => {
        // Array values go out as one field per element: two cookie fields, two x-multi fields.
        const stream = session.request({
          ':method': 'GET',
          ':path': '/pass-host',
          cookie: ['a=1', 'b=2'],
          'x-multi': ['one', 'two'],
        })
        stream.on('response', (h) => done(Number(h[':status'])))
        stream.on('error', fail)
        stream.resume()
        stream.end()
      })
      assert.equal(status, 200)
    } finally {
      session.close()
    }
    const seen = a.received[before]
    assert.ok(seen)
    assert.equal(seen.headers.cookie, 'a=1; b=2')
    assert.equal(seen.headers['x-multi'], 'one, two')
    assert.ok(!seen.rawHeaders.some((name) => name.startsWith(':')), 'no pseudo-header crosses')
  })

  test('pass_host: pass keeps the client host, node uses the node, rewrite uses upstream_host', async () => {
    const host = async (path: string) =>
      ((await (await fetch(`${gateway.url}${path}`)).json()) as { host: string }).host
    assert.equal(await host('/pass-host'), new URL(gateway.url).host)
    assert.equal(await host('/node-host'), a.address)
    assert.equal(await host('/rewrite-host'), 'backend.internal')
  })

  test('request ids: generated when absent, kept when sent, forwarded and echoed', async () => {
    const before = a.received.length
    const sent = await fetch(`${gateway.url}/pass-host`, { headers: { 'x-request-id': 'trace-abc-123' } })
    assert.equal(sent.headers.get('x-request-id'), 'trace-abc-123')
    assert.equal(a.received[before]?.headers['x-request-id'], 'trace-abc-123')
    const made = await fetch(`${gateway.url}/pass-host`)
    const id = made.headers.get('x-request-id')
    assert.match(id ?? '', /^[0-9a-f-]{36}$/)
    assert.equal(a.received[before + 1]?.headers['x-request-id'], id)
  })

  test('request bodies are always framed: a DELETE body cannot smuggle a second request', async () => {
    const before = a.received.length
    const smuggled = 'GET /internal/admin?smuggled=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n'
    const viaH1 = await new Promise<number>((ok, fail) => {
      const req = http.request(
        `${gateway.url}/pass-host`,
        { method: 'DELETE', headers: { 'transfer-encoding': 'chunked' }, agent: false },
        (res) => {
          res.resume()
          res.on('end', () => ok(res.statusCode ?? 0))
        },
      )
      req.on('error', fail)
      req.end(smuggled)
    })
    assert.equal(viaH1, 200)
    const viaH2 = await h2once(gateway.url, '/pass-host', { method: 'OPTIONS', body: smuggled })
    assert.equal(viaH2.status, 200)
    // Let any smuggled request arrive if it were going to.
    await new Promise((r) => setTimeout(r, 100))
    const seen = a.received.slice(before).map((r) => `${r.method} ${r.url}`)
    assert.deepEqual(seen, ['DELETE /pass-host', 'OPTIONS /pass-host'])
  })

  // Bun.serve and Deno.serve hand the gateway a Request, which cannot carry a GET's body: there
  // it is dropped (and its Content-Length with it); Node's server keeps it (ConnInfo.requestBody).
  const getBodies = TARGET === 'node'
  test(`a GET with a body: ${getBodies ? 'forwarded, as nginx and APISIX do' : 'dropped on this runtime'}, and the connection stays in sync`, async () => {
    const before = a.received.length
    const res = await rawRequest(
      gateway.url,
      '/pass-host',
      { 'content-length': '16' },
      'GET',
      '0123456789abcdef',
    )
    assert.equal(res.status, 200)
    assert.equal((JSON.parse(res.body) as { body: string }).body, getBodies ? '0123456789abcdef' : '')
    const next = await fetch(`${gateway.url}/pass-host?next=1`)
    assert.equal(next.status, 200)
    const seen = a.received.slice(before)
    assert.equal(seen[0]?.headers['content-length'], getBodies ? '16' : undefined)
    // HTTP/2 needs no Content-Length for a body: DATA frames are enough.
    const viaH2 = await h2once(gateway.url, '/pass-host', { method: 'GET', body: 'h2-get-body' })
    assert.equal(viaH2.status, 200)
    assert.equal((JSON.parse(viaH2.body.toString()) as { body: string }).body, getBodies ? 'h2-get-body' : '')
    assert.deepEqual(
      seen.map((r) => `${r.method} ${r.url}`),
      ['GET /pass-host', 'GET /pass-host?next=1'],
    )
  })

  test('an empty POST goes out with Content-Length: 0 over HTTP/1.1 and h2c (some servers answer 411 without)', async () => {
    const before = a.received.length
    const viaH1 = await rawRequest(gateway.url, '/pass-host', { 'content-length': '0' }, 'POST', '')
    assert.equal(viaH1.status, 200)
    // Declared as curl -d '' declares it, and with no DATA at all (END_STREAM on HEADERS).
    const viaH2 = await h2once(gateway.url, '/pass-host', {
      method: 'POST',
      headers: { 'content-length': '0' },
    })
    assert.equal(viaH2.status, 200)
    const { stdout } = await run('curl', [
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code} %{http_version}',
      '--http2-prior-knowledge',
      '-X',
      'POST',
      `${gateway.url}/pass-host`,
    ])
    assert.equal(stdout, '200 2')
    const seen = a.received.slice(before)
    assert.deepEqual(
      seen.map((r) => [r.method, r.headers['content-length'], r.headers['transfer-encoding']]),
      [
        ['POST', '0', undefined],
        ['POST', '0', undefined],
        // Deno.serve gives a request without a body an (empty) body stream all the same: the
        // client sees it end before its first byte and sends no chunked framing.
        ['POST', '0', undefined],
      ],
    )
  })

  test('a request target over 16 KiB gets 431 with a JSON body over h2c as over HTTP/1.1', {
    skip: TARGET !== 'node' && 'Bun.serve and Deno.serve apply their own limits to h2 headers',
  }, async () => {
    const path = `/pass-host?q=${'x'.repeat(20 * 1024)}`
    const viaH2 = await h2once(gateway.url, path)
    assert.equal(viaH2.status, 431)
    assert.equal(
      (JSON.parse(viaH2.body.toString()) as { error: { code: string } }).error.code,
      'SLUICE_E_HEADERS_TOO_LARGE',
    )
    const viaH1 = await rawRequest(gateway.url, path, {})
    assert.equal(viaH1.status, 431)
  })

  test('h2load: 2000 concurrent h2c requests through the proxy all succeed', async () => {
    const { stdout } = await run('h2load', [
      '-n',
      '2000',
      '-c',
      '4',
      '-m',
      '10',
      `${gateway.url}/weighted/load`,
    ])
    assert.match(stdout, /requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored/)
    assert.match(stdout, /status codes: 2000 2xx/)
  })

  test('an upstream that dies mid-response: 502 for a small body, a cut stream for a large one', async () => {
    // Small bodies with a Content-Length are read whole before answering (like nginx's proxy
    // buffering), so a short one becomes a clean 502; larger ones stream, so the cut reaches
    // the client as a broken response, never a hang or a crash.
    const flaky = await startUpstream((req, res) => {
      const size = req.url === '/large' ? 10 * 1024 * 1024 : 1000
      res.writeHead(200, { 'content-length': String(size) })
      res.write(Buffer.alloc(Math.min(size - 1, 256 * 1024), 1))
      setTimeout(() => res.socket?.destroy(), 20)
    })
    const g = await startGateway(`[server]
listen = ["127.0.0.1:0"]
${route('/*', `nodes = { "${flaky.address}" = 1 }`)}
[[routes]]
uri = "/health"
[routes.plugins.mocking]
body = "ok"
`)
    try {
      const small = await fetch(`${g.url}/small`)
      assert.equal(small.status, 502)
      assert.equal(
        ((await small.json()) as { error: { code: string } }).error.code,
        'SLUICE_E_UPSTREAM_RESET',
      )
      assert.equal((await h2once(g.url, '/small')).status, 502)

      await assert.rejects(async () => {
        const res = await fetch(`${g.url}/large`)
        assert.equal(res.status, 200)
        await res.arrayBuffer()
      })
      await assert.rejects(h2once(g.url, '/large'))

      const stillUp = await fetch(`${g.url}/health`)
      assert.equal(await stillUp.text(), 'ok')
      assert.equal(g.proc.exitCode, null, 'the gateway is still running')
    } finally {
      await g.stop()
      await flaky.close()
    }
  })

  test('a client that hangs up is logged as 499, not as an upstream failure', async () => {
    const controller = new AbortController()
    const pending = fetch(`${gateway.url}/slow?delay=1000`, { signal: controller.signal })
    setTimeout(() => controller.abort(), 100)
    await assert.rejects(pending)
    const line = await waitForAccessLine(gateway, (e) => e.path === '/slow' && e.status === 499)
    assert.ok(line, 'a 499 access-log line')
    assert.doesNotMatch(gateway.stderr(), /UPSTREAM_RESET.*client/)
  })
})

describe('streaming', () => {
  const SIZE = 100 * 1024 * 1024
  let upstream: TestUpstream
  let gateway: RunningGateway

  before(async () => {
    upstream = await startUpstream((req, res) => {
      if (req.method === 'POST') {
        const hash = createHash('sha256')
        let bytes = 0
        req.on('data', (c: Buffer) => {
          bytes += c.length
          hash.update(c)
        })
        req.on('end', () => res.end(JSON.stringify({ bytes, sha256: hash.digest('hex') })))
        return
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      const chunk = Buffer.alloc(64 * 1024, 7)
      let sent = 0
      const pump = () => {
        while (sent < SIZE) {
          sent += chunk.length
          if (!res.write(chunk)) return void res.once('drain', pump)
        }
        res.end()
      }
      pump()
    })
    gateway = await startGateway(
      `[server]\nlisten = ["127.0.0.1:0"]\naccess_log = false\n${route('/big', `nodes = { "${upstream.address}" = 1 }`)}`,
    )
  })
  after(async () => {
    await gateway?.stop()
    await upstream?.close()
  })

  // Up: past Bun.serve's default 128 MiB request body limit, which the gateway lifts.
  const UPLOAD_MIB = 140
  test(`${UPLOAD_MIB} MiB up and 100 MiB down pass through without being buffered`, async () => {
    const chunk = Buffer.alloc(1024 * 1024, 3)
    const expected = createHash('sha256')
    for (let i = 0; i < UPLOAD_MIB; i++) expected.update(chunk)
    const upload = await new Promise<{ bytes: number; sha256: string }>((done, fail) => {
      const req = http.request(`${gateway.url}/big`, { method: 'POST' }, (res) => {
        let text = ''
        res.on('data', (d) => {
          text += d
        })
        res.on('end', () => done(JSON.parse(text)))
      })
      req.on('error', fail)
      let i = 0
      const write = () => {
        while (i < UPLOAD_MIB) {
          i++
          if (!req.write(chunk)) return void req.once('drain', write)
        }
        req.end()
      }
      write()
    })
    assert.deepEqual(upload, { bytes: UPLOAD_MIB * 1024 * 1024, sha256: expected.digest('hex') })

    const download = await fetch(`${gateway.url}/big`)
    let received = 0
    for await (const part of download.body as unknown as AsyncIterable<Uint8Array>) received += part.length
    assert.equal(received, SIZE)

    // Peak resident memory of the gateway stays far below the 100 MB that went through it.
    const status = readFileSync(`/proc/${gateway.proc.pid}/status`, 'utf8')
    const peakKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1])
    assert.ok(peakKb > 0)
    assert.ok(peakKb < 190 * 1024, `gateway peak RSS ${Math.round(peakKb / 1024)} MB`)
    console.log(`gateway peak RSS after ${UPLOAD_MIB + 100} MiB streamed: ${Math.round(peakKb / 1024)} MB`)
  })
})

/** An HTTP/1.1 request with exactly these headers (fetch would drop or refuse some of them). */
function rawRequest(
  base: string,
  path: string,
  headers: Record<string, string>,
  method = 'GET',
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = http.request(`${base}${path}`, { method, headers, agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        text += chunk
      })
      res.on('end', () => done({ status: res.statusCode ?? 0, body: text }))
    })
    req.on('error', fail)
    req.end(body)
  })
}
