/**
 * Hot reload of gateway.toml on the running process: new routes answer within a second, a
 * steady load sees zero failed requests across reloads, a bad file keeps the old config
 * serving, and atomic renames, symlink swaps (Kubernetes ConfigMaps) and SIGHUP are all seen.
 */
import assert from 'node:assert/strict'
import { mkdir, rename, symlink, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { makeTempDir, startGateway } from '../helpers/gateway.ts'

const mock = (uri: string, body: string, id?: string) => `
[[routes]]
${id ? `id = "${id}"` : ''}
uri = "${uri}"
[routes.plugins.mocking]
body = "${body}"
`
const config = (...routes: string[]) =>
  `[server]\nlisten = ["127.0.0.1:0"]\naccess_log = false\n${routes.join('\n')}`

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls until `path` answers `status`; returns ms taken. Fails after `limitMs`. */
async function waitForStatus(base: string, path: string, status: number, limitMs: number): Promise<number> {
  const started = Date.now()
  for (;;) {
    const res = await fetch(`${base}${path}`)
    await res.arrayBuffer()
    if (res.status === status) return Date.now() - started
    if (Date.now() - started > limitMs) assert.fail(`${path} still answers ${res.status} after ${limitMs} ms`)
    await sleep(20)
  }
}

/** Polls until `path` answers with `text`; fails after `limitMs`. */
async function waitForText(base: string, path: string, text: string, limitMs: number): Promise<void> {
  const started = Date.now()
  for (;;) {
    const got = await (await fetch(`${base}${path}`)).text()
    if (got === text) return
    if (Date.now() - started > limitMs)
      assert.fail(`${path} still answers ${JSON.stringify(got)} after ${limitMs} ms`)
    await sleep(20)
  }
}

/** Keeps `workers` clients requesting `path` until stopped; counts outcomes. */
function steadyLoad(base: string, path: string, workers = 8, maxMs = 15_000) {
  let stop = false
  const stats = { ok: 0, failed: 0, errors: [] as string[] }
  const deadline = Date.now() + maxMs
  const loops = Array.from({ length: workers }, async () => {
    while (!stop && Date.now() < deadline) {
      try {
        const res = await fetch(`${base}${path}`)
        const body = await res.text()
        if (res.status === 200 && body === 'stable') stats.ok++
        else {
          stats.failed++
          stats.errors.push(`${res.status} ${body}`)
        }
      } catch (error) {
        stats.failed++
        stats.errors.push(String(error))
      }
    }
  })
  return {
    stats,
    async finish() {
      stop = true
      await Promise.all(loops)
      return stats
    },
  }
}

describe('hot reload', () => {
  test('routes added and removed under load: new routes within 1 s, zero failed requests', async () => {
    const gateway = await startGateway(config(mock('/stable', 'stable')))
    try {
      const load = steadyLoad(gateway.url, '/stable')
      for (let round = 0; round < 4; round++) {
        await writeFile(
          gateway.configPath,
          config(mock('/stable', 'stable'), mock(`/new-${round}`, `new-${round}`)),
        )
        const took = await waitForStatus(gateway.url, `/new-${round}`, 200, 1000)
        assert.ok(took <= 1000, `route visible after ${took} ms`)
        await writeFile(gateway.configPath, config(mock('/stable', 'stable')))
        await waitForStatus(gateway.url, `/new-${round}`, 404, 1000)
      }
      const stats = await load.finish()
      assert.equal(stats.failed, 0, stats.errors.slice(0, 5).join('\n'))
      assert.ok(stats.ok > 50, `load ran (${stats.ok} requests)`)
      assert.match(gateway.stderr(), /config reloaded \(file changed\): 2 routes/)
    } finally {
      await gateway.stop()
    }
  })

  test('an invalid file keeps the old config serving and the log names file, line and key', async () => {
    const gateway = await startGateway(config(mock('/keep', 'kept')))
    try {
      const from = gateway.stderr().length
      await writeFile(
        gateway.configPath,
        `${config(mock('/keep', 'kept'))}\n[[routes]]\nuri = "/bad"\n[routes.upstream]\nnodes = { "127.0.0.1:1" = 1 }\ntimeout = { connect = 0 }\n`,
      )
      const logged = await gateway.waitForStderr(/rejected[\s\S]*/, 5000, from)
      assert.match(logged, /gateway\.toml:\d+: routes\[1\]\.upstream\.timeout\.connect: must be >= 1/)
      const res = await fetch(`${gateway.url}/keep`)
      assert.equal(await res.text(), 'kept')
      assert.equal((await fetch(`${gateway.url}/bad`)).status, 404)

      const syntax = gateway.stderr().length
      await writeFile(gateway.configPath, `${config(mock('/keep', 'kept'))}\nthis is = = not toml\n`)
      assert.match(
        await gateway.waitForStderr(/rejected[\s\S]*/, 5000, syntax),
        /gateway\.toml:\d+: invalid TOML/,
      )
      assert.equal(await (await fetch(`${gateway.url}/keep`)).text(), 'kept')

      const empty = gateway.stderr().length
      await writeFile(gateway.configPath, '')
      assert.match(
        await gateway.waitForStderr(/rejected[\s\S]*/, 5000, empty),
        /gateway\.toml: the file is empty/,
      )
      assert.equal(await (await fetch(`${gateway.url}/keep`)).text(), 'kept')

      await writeFile(gateway.configPath, config(mock('/keep', 'kept'), mock('/fixed', 'fixed')))
      await waitForStatus(gateway.url, '/fixed', 200, 1000)
      assert.equal(gateway.proc.exitCode, null)
    } finally {
      await gateway.stop()
    }
  })

  test('an atomic rename over the file is seen', async () => {
    const gateway = await startGateway(config(mock('/a', 'a')))
    try {
      const temp = join(gateway.dir, '.gateway.toml.tmp')
      await writeFile(temp, config(mock('/a', 'a'), mock('/renamed', 'renamed')))
      await rename(temp, gateway.configPath)
      await waitForStatus(gateway.url, '/renamed', 200, 1000)
    } finally {
      await gateway.stop()
    }
  })

  test('a Kubernetes-style ConfigMap symlink swap is seen', async () => {
    // ConfigMap volumes: gateway.toml -> ..data/gateway.toml, ..data -> ..v1; an update writes
    // ..v2 and atomically renames a new ..data symlink over the old one.
    const dir = await makeTempDir()
    await mkdir(join(dir, '..v1'))
    await writeFile(join(dir, '..v1', 'gateway.toml'), config(mock('/v', 'one')))
    await symlink('..v1', join(dir, '..data'))
    await symlink(join('..data', 'gateway.toml'), join(dir, 'gateway.toml'))
    const gateway = await startGateway(config(mock('/v', 'one')), { dir, keepConfig: true })
    try {
      assert.equal(await (await fetch(`${gateway.url}/v`)).text(), 'one')
      await mkdir(join(dir, '..v2'))
      await writeFile(join(dir, '..v2', 'gateway.toml'), config(mock('/v', 'two')))
      await symlink('..v2', join(dir, '..data_tmp'))
      await rename(join(dir, '..data_tmp'), join(dir, '..data'))
      await waitForText(gateway.url, '/v', 'two', 1000)
    } finally {
      await gateway.stop()
      await unlink(join(dir, 'gateway.toml')).catch(() => {})
    }
  })

  test('a config path that is a symlink into another directory: edits of the target are seen', async () => {
    // Configuration management tools often link /etc/... to a file kept elsewhere.
    const dir = await makeTempDir()
    await mkdir(join(dir, 'real'))
    await writeFile(join(dir, 'real', 'gw.toml'), config(mock('/t', 'one')))
    await symlink(join(dir, 'real', 'gw.toml'), join(dir, 'gateway.toml'))
    const gateway = await startGateway('', { dir, keepConfig: true })
    try {
      assert.equal(await (await fetch(`${gateway.url}/t`)).text(), 'one')
      await writeFile(join(dir, 'real', 'gw.toml'), config(mock('/t', 'two')))
      await waitForText(gateway.url, '/t', 'two', 1000)
    } finally {
      await gateway.stop()
      await unlink(join(dir, 'gateway.toml')).catch(() => {})
    }
  })

  test('SIGHUP reloads', async () => {
    const gateway = await startGateway(config(mock('/h', 'h')))
    try {
      const from = gateway.stderr().length
      gateway.proc.kill('SIGHUP')
      await sleep(100)
      // Unchanged file: nothing to do, still serving.
      assert.equal(await (await fetch(`${gateway.url}/h`)).text(), 'h')
      await writeFile(gateway.configPath, config(mock('/h', 'h'), mock('/hup', 'hup')))
      gateway.proc.kill('SIGHUP')
      await waitForStatus(gateway.url, '/hup', 200, 1000)
      assert.match(gateway.stderr().slice(from), /config reloaded \((SIGHUP|file changed)\)/)
    } finally {
      await gateway.stop()
    }
  })
})
