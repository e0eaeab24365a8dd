/**
 * The shipped gateway.toml, served by the real gateway process: HTTP/1.1 and h2c prior
 * knowledge on one port give the same answers, with real clients (fetch, node:http2, curl).
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import net from 'node:net'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { ROOT, type RunningGateway, startGateway, waitForAccessLine } from '../helpers/gateway.ts'
import { h2once } from '../helpers/h2.ts'

const run = promisify(execFile)

describe('the shipped gateway.toml', () => {
  let gateway: RunningGateway
  let port: number

  before(async () => {
    // The shipped file on a free port. Its /api/* upstream is the gateway's own listener (the
    // `echo` route), so the port is replaced in both places.
    port = await freePort()
    const shipped = await readFile(join(ROOT, 'gateway.toml'), 'utf8')
    assert.match(shipped, /127\.0\.0\.1:9080/)
    gateway = await startGateway(shipped.replaceAll('127.0.0.1:9080', `127.0.0.1:${port}`))
  })
  after(() => gateway?.stop())

  test('GET /hello answers the mocking route over HTTP/1.1 and h2c alike', async () => {
    const h1 = await fetch(`${gateway.url}/hello`)
    assert.equal(h1.status, 200)
    assert.equal(h1.headers.get('content-type'), 'application/json')
    const h1Body = await h1.text()
    assert.deepEqual(JSON.parse(h1Body), { message: 'Hello from Sluice!' })
    assert.match(h1.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/)

    const h2 = await h2once(gateway.url, '/hello')
    assert.equal(h2.status, 200)
    assert.equal(h2.body.toString(), h1Body)
    assert.match(String(h2.headers['x-request-id']), /^[0-9a-f-]{36}$/)
  })

  test('curl --http2-prior-knowledge gets the same bytes as curl over HTTP/1.1', async () => {
    const h1 = await run('curl', ['-sS', '--http1.1', `${gateway.url}/api/anything?x=1`])
    const h2 = await run('curl', [
      '-sS',
      '--http2-prior-knowledge',
      '-w',
      '\n%{http_version}',
      `${gateway.url}/hello`,
    ])
    const [h2Body, version] = h2.stdout.split('\n')
    assert.equal(version, '2')
    assert.deepEqual(JSON.parse(h2Body as string), { message: 'Hello from Sluice!' })
    const echoed = JSON.parse(h1.stdout) as { path: string; query: Record<string, string> }
    assert.equal(echoed.path, '/api/anything')
    assert.deepEqual(echoed.query, { x: '1' })
  })

  test('/api/* is proxied to the upstream with forwarding headers, over h1 and h2c', async () => {
    const viaH1 = (await (await fetch(`${gateway.url}/api/anything?x=1`)).json()) as {
      method: string
      path: string
      headers: Record<string, string>
    }
    assert.equal(viaH1.path, '/api/anything')
    assert.equal(viaH1.headers.host, 'echo.internal')
    assert.equal(viaH1.headers['x-forwarded-for'], '127.0.0.1')
    assert.equal(viaH1.headers['x-forwarded-proto'], 'http')
    assert.equal(viaH1.headers['x-forwarded-host'], `127.0.0.1:${port}`)

    const viaH2 = await h2once(gateway.url, '/api/anything?x=2', { method: 'POST', body: 'ping' })
    assert.equal(viaH2.status, 200)
    const echoed = JSON.parse(viaH2.body.toString()) as { method: string; body: string; query: { x: string } }
    assert.equal(echoed.method, 'POST')
    assert.equal(echoed.body, 'ping')
    assert.equal(echoed.query.x, '2')
  })

  test('unknown paths get 404 and wrong methods 405, both with JSON error bodies', async () => {
    const missing = await fetch(`${gateway.url}/nowhere`)
    assert.equal(missing.status, 404)
    assert.equal((await missing.json()).error.code, 'SLUICE_E_NO_ROUTE')

    const wrongMethod = await fetch(`${gateway.url}/hello`, { method: 'DELETE' })
    assert.equal(wrongMethod.status, 405)
    assert.equal(wrongMethod.headers.get('allow'), 'GET, HEAD')
    assert.equal((await wrongMethod.json()).error.code, 'SLUICE_E_METHOD_NOT_ALLOWED')

    const h2 = await h2once(gateway.url, '/hello', { method: 'DELETE' })
    assert.equal(h2.status, 405)
  })

  test('an HTTP/2 preface sent one byte at a time is still recognised', async () => {
    const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')
    // A SETTINGS frame with no settings: 9-byte header, type 4, flags 0, stream 0.
    const settings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])
    const reply = await new Promise<Buffer>((done, fail) => {
      const socket = net.connect(port, '127.0.0.1')
      const chunks: Buffer[] = []
      socket.on('data', (d) => {
        chunks.push(d)
        const all = Buffer.concat(chunks)
        if (all.length >= 9) {
          socket.destroy()
          done(all)
        }
      })
      socket.on('error', fail)
      socket.on('connect', async () => {
        for (const byte of Buffer.concat([preface, settings])) {
          socket.write(Buffer.from([byte]))
          await new Promise((r) => setTimeout(r, 2))
        }
      })
    })
    // The server's first frame must be its SETTINGS frame (type 4 at byte 3).
    assert.equal(reply[3], 4)
  })

  test('writes one JSON access-log line per request', async () => {
    await fetch(`${gateway.url}/hello?secret=hunter2`)
    // protocol is null where the runtime's server does not tell (Bun, Deno).
    const line = await waitForAccessLine(gateway, (e) => e.path === '/hello' && e.protocol !== 'HTTP/2')
    assert.ok(line, 'an access-log line for /hello')
    assert.equal(line.status, 200)
    assert.equal(line.route, 'hello')
    assert.equal(line.method, 'GET')
    assert.equal(typeof line.duration_ms, 'number')
    assert.match(String(line.request_id), /^[0-9a-f-]{36}$/)
    assert.ok(!gateway.stdout().includes('hunter2'), 'query strings are not logged')
  })
})

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((done) => server.close(() => done()))
  return port
}
