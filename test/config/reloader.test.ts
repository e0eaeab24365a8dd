import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { LoadCache, parseConfigText } from '../../src/config/load.ts'
import { ConfigReloader } from '../../src/config/reloader.ts'
import { Gateway } from '../../src/core/gateway.ts'
import type { Logger } from '../../src/core/logger.ts'
import { builtinPlugins } from '../../src/plugins/index.ts'

const dirs: string[] = []
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

const mock = (i: number, body = `b${i}`) =>
  `[[routes]]\nid = "r${i}"\nuri = "/r${i}"\n[routes.plugins.mocking]\nbody = "${body}"\n`
const table = (n: number, body = (i: number) => `b${i}`) =>
  Array.from({ length: n }, (_, i) => mock(i, body(i))).join('\n')

/** A gateway serving `text` from a file, with a reloader on it and a logger that keeps its lines. */
async function setup(text: string) {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-reloader-'))
  dirs.push(dir)
  const path = join(dir, 'gateway.toml')
  await writeFile(path, text)
  const lines: string[] = []
  const logger: Logger = {
    info: (m) => lines.push(`info: ${m}`),
    warn: (m) => lines.push(`warn: ${m}`),
    error: (m) => lines.push(`error: ${m}`),
    access() {},
  }
  const gateway = new Gateway({
    plugins: builtinPlugins,
    deps: {
      upstream: {
        send() {
          throw new Error('no upstream in this test')
        },
        close() {},
      },
      logger,
      configDir: dir,
    },
  })
  const cache = new LoadCache()
  const loaded = parseConfigText(text, { plugins: builtinPlugins, cache })
  assert.ok(loaded.ok)
  gateway.swap(gateway.compile(loaded.config))
  const reloader = new ConfigReloader({ path, gateway, plugins: builtinPlugins, logger, text, cache })
  const get = async (p: string) => {
    const response = await gateway.fetch(new Request(`http://localhost${p}`), {
      remoteAddress: '127.0.0.1',
      scheme: 'http',
    })
    return `${response.status} ${await response.text()}`
  }
  return { path, gateway, reloader, lines, get }
}

describe('ConfigReloader', () => {
  test('applies a change, keeping the compiled routes that did not change', async () => {
    const { path, gateway, reloader, lines, get } = await setup(table(20))
    const before = gateway.snapshot!
    await writeFile(
      path,
      table(20, (i) => (i === 7 ? 'changed' : `b${i}`)),
    )
    await reloader.reload('test')
    const after = gateway.snapshot!
    assert.notEqual(after, before)
    assert.equal(await get('/r7'), '200 changed')
    assert.equal(await get('/r8'), '200 b8')
    for (let i = 0; i < 20; i++) {
      const id = `r${i}`
      const same = after.compiled.routes.get(id)!.route === before.compiled.routes.get(id)!.route
      assert.equal(same, i !== 7, id)
    }
    assert.match(lines.join('\n'), /config reloaded \(test\): 20 routes/)
  })

  test('an invalid file is rejected with file, line, key path and reason; the old config keeps serving', async () => {
    const { path, gateway, reloader, lines, get } = await setup(table(5))
    const before = gateway.snapshot
    await writeFile(path, table(5).replace('uri = "/r3"', 'uri = "r3"'))
    await reloader.reload('test')
    assert.equal(gateway.snapshot, before)
    assert.equal(await get('/r3'), '200 b3')
    const logged = lines.join('\n')
    assert.match(logged, /config reload \(test\) rejected, still serving the previous config:/)
    assert.match(logged, /gateway\.toml:21: routes\[3\]\.uri: must start with "\/"/)

    // The fix is applied, and the routes of the last good file were remembered meanwhile.
    await writeFile(path, table(5).replace('uri = "/r3"', 'uri = "/r3-fixed"'))
    await reloader.reload('test')
    assert.equal(await get('/r3-fixed'), '200 b3')
    assert.equal(gateway.snapshot!.compiled.routes.get('r1')!.route, before!.compiled.routes.get('r1')!.route)
  })

  test('[server] parts read at start: a change warns of the restart it needs; back to what runs, no warning', async () => {
    const server = (listen: string, headerTimeout = 60000) =>
      `[server]\nlisten = ["${listen}"]\nheader_timeout = ${headerTimeout}\n${table(2)}`
    const { path, reloader, lines, get } = await setup(server('127.0.0.1:19301'))
    const warnings = () => lines.filter((l) => l.startsWith('warn: [server]')).length
    await writeFile(path, server('127.0.0.1:19304'))
    await reloader.reload('test')
    assert.equal(warnings(), 1)
    await writeFile(path, server('127.0.0.1:19301'))
    await reloader.reload('test')
    assert.equal(warnings(), 1, 'listen is back to the bound address: nothing to restart for')
    assert.match(
      lines.at(-1) ?? '',
      /info: \[server\] listen, tls and header_timeout are back to what is running/,
    )
    await writeFile(path, server('127.0.0.1:19301', 1000))
    await reloader.reload('test')
    assert.equal(warnings(), 2, 'header_timeout too')
    assert.equal(await get('/r1'), '200 b1', 'the routes were applied all the same')
  })

  test('a big reload gives the event loop turns while it is prepared', async () => {
    const { path, reloader, get } = await setup(table(3000))
    await writeFile(
      path,
      table(3000, (i) => `new ${i}`),
    )
    let turns = 0
    const timer = setInterval(() => turns++, 0)
    await reloader.reload('test')
    clearInterval(timer)
    assert.ok(turns > 0, 'no timer ran during the reload')
    assert.equal(await get('/r2999'), '200 new 2999')
  })
})
