/**
 * One config, four builds: node, bun, deno and the compiled binary must answer h2c prior
 * knowledge and HTTP/1.1 clients with the same bytes (curl, byte for byte).
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { type RunningGateway, startGateway, TARGET, type Target } from '../helpers/gateway.ts'

const run = promisify(execFile)
const TARGETS: Target[] = ['node', 'bun', 'deno', 'binary']

const CONFIG = `[server]
listen = ["127.0.0.1:0"]
access_log = false
[[routes]]
uri = "/hello"
methods = ["GET"]
[routes.plugins.mocking]
json = { message = "Hello from Sluice!", list = [1, 2, 3] }
headers = { x-served-by = "sluice" }
[[routes]]
uri = "/teapot"
[routes.plugins.mocking]
status = 418
body = "short and stout"
`

describe('the same bytes on every runtime', {
  skip: TARGET === 'node' ? false : 'reason: compares all targets at once; runs in the node pass',
}, () => {
  const gateways = new Map<Target, RunningGateway>()
  before(async () => {
    for (const target of TARGETS) gateways.set(target, await startGateway(CONFIG, { target }))
  })
  after(async () => {
    await Promise.all([...gateways.values()].map((g) => g.stop()))
  })

  const curl = async (url: string, flags: string[]) =>
    (await run('curl', ['-sS', '-i', ...flags, url])).stdout
      .split('\r\n')
      .filter((line) => !/^date:/i.test(line))
      .join('\r\n')

  for (const [name, flags] of [
    ['h2c prior knowledge', ['--http2-prior-knowledge']],
    ['HTTP/1.1', ['--http1.1']],
  ] as const) {
    test(`${name}: status, headers and body match node's`, async () => {
      for (const path of ['/hello', '/teapot', '/missing']) {
        const reference = await curl(`${gateways.get('node')?.url}${path}`, [...flags])
        assert.match(reference, /^HTTP\//)
        for (const target of TARGETS.slice(1)) {
          const got = await curl(`${gateways.get(target)?.url}${path}`, [...flags])
          const body = (text: string) => text.slice(text.indexOf('\r\n\r\n'))
          assert.equal(body(got), body(reference), `${target} ${path} body`)
          // Version and code; reason phrases are not significant (and differ: "I'm a Teapot").
          const status = (text: string) => text.split('\r\n')[0]?.split(' ').slice(0, 2).join(' ')
          assert.equal(status(got), status(reference), `${target} ${path} status`)
          const names = (text: string) =>
            text
              .slice(0, text.indexOf('\r\n\r\n'))
              .split('\r\n')
              .slice(1)
              .map((l) => l.toLowerCase())
              .filter((l) => !/^(keep-alive|connection):/.test(l))
              .sort()
          assert.deepEqual(names(got), names(reference), `${target} ${path} headers`)
        }
      }
    })
  }
})
