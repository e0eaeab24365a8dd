// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders under test
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { formatIssue } from '../../src/config/issues.ts'
import { LoadCache, type LoadResult, parseConfigText, parseConfigTextSliced } from '../../src/config/load.ts'
import type { GatewayConfig } from '../../src/config/schema.ts'
import { builtinPlugins } from '../../src/plugins/index.ts'
import { mutate, prng, randomDocument, randomGatewayToml } from './toml-fixtures.ts'

const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
type Env = Record<string, string | undefined>

function load(text: string, cache: LoadCache | null, env: Env = {}): LoadResult {
  return parseConfigText(text, { plugins: builtinPlugins, env, cache })
}

function config(text: string, cache: LoadCache | null, env: Env = {}): GatewayConfig {
  const result = load(text, cache, env)
  if (!result.ok) assert.fail(result.issues.map(formatIssue).join('\n'))
  return result.config
}

/** The incremental result must be the whole-file result: same data, same key order, same issues. */
function assertSameAsWhole(text: string, cache: LoadCache, env: Env = {}): LoadResult {
  const whole = load(text, null, env)
  const incremental = load(text, cache, env)
  assert.equal(incremental.ok, whole.ok, text)
  if (whole.ok && incremental.ok) {
    assert.deepStrictEqual(incremental.config, whole.config)
    assert.equal(JSON.stringify(incremental.config), JSON.stringify(whole.config))
  } else if (!whole.ok && !incremental.ok) {
    assert.deepStrictEqual(incremental.issues, whole.issues)
  }
  return incremental
}

const route = (i: number, extra = '') => `
[[routes]]
id = "r${i}"
uri = "/r${i}/*"
${extra}
[routes.upstream]
nodes = { "10.0.0.${i % 250}:80" = 1, "10.0.0.1:81" = 2 }
timeout = { connect = 1000 }
`
const table = (n: number, extra: (i: number) => string = () => '') =>
  `[server]\nlisten = ["127.0.0.1:0"]\n${Array.from({ length: n }, (_, i) => route(i, extra(i))).join('')}`

function allFrozen(value: unknown, path = 'config'): void {
  if (value === null || typeof value !== 'object') return
  assert.ok(Object.isFrozen(value), `${path} is not frozen`)
  for (const [k, v] of Object.entries(value)) allFrozen(v, `${path}.${k}`)
}

describe('incremental loading gives what the whole-file path gives', () => {
  test('the shipped gateway.toml and generated tables', () => {
    const cache = new LoadCache()
    assertSameAsWhole(readFileSync(join(repoRoot, 'gateway.toml'), 'utf8'), cache)
    assertSameAsWhole(table(50), cache)
    assertSameAsWhole(
      table(50, (i) => (i % 3 === 0 ? 'methods = ["GET"]\n[routes.plugins.request-id]' : '')),
      cache,
    )
  })

  test('the result is deep-frozen', () => {
    const cache = new LoadCache()
    config(table(5), cache)
    allFrozen(
      config(
        table(5, (i) => (i === 2 ? 'priority = 3' : '')),
        cache,
      ),
    )
  })

  test('plugins, mocking json, escapes, literal strings, env variables, tables after the routes', () => {
    const text = `[plugins.request-id]
header_name = "X-Trace"
[[routes]]
uri = "/m"
[routes.plugins.mocking]
json = { list = [1, { deep = true }], s = "x\\ty" }
headers = { x-a = 'lit\\eral' }
[[routes]]
uri = "/e"
methods = ["POST"]
[routes.plugins.echo]
[[routes]]
uri = "/env"
[routes.plugins.mocking]
body = "\${GREETING:-hi} \${NAME}"
[plugin_metadata.azure-functions]
master_apikey = "\${KEY}"
[[routes]]
uri = "/az"
[routes.plugins.azure-functions]
function_uri = "https://x.azurewebsites.net/api/f"
`
    assertSameAsWhole(text, new LoadCache(), { NAME: 'n', KEY: 'k' })
  })

  test('invalid files: the same issues, with the same lines, as without a cache', () => {
    const cache = new LoadCache()
    config(table(20), cache)
    const broken = [
      table(20).replace('timeout = { connect = 1000 }', 'timeout = { connect = 0 }'),
      table(20).replace('uri = "/r7/*"', 'uri = "r7"'),
      table(20).replace('id = "r9"', 'id = "r3"'),
      table(20).replace('nodes = { "10.0.0.4:80" = 1, "10.0.0.1:81" = 2 }', 'nodes = {'),
      table(20).replace(
        '[routes.upstream]\nnodes = { "10.0.0.5:80" = 1',
        '[routes.plugins.nope]\nnodes = { "10.0.0.5:80" = 1',
      ),
      table(20).replace('id = "r11"', 'id = "r11"\nbody = "${UNSET}"'),
      table(20).replace('[server]', '[server]\nlisten = ["nowhere"]'),
      `${table(20)}\n[server]\n`,
      table(20).replace('id = "r1"', 'id = "r1"\n[routes.upstream]'),
    ]
    for (const text of broken) {
      const result = assertSameAsWhole(text, cache)
      assert.equal(result.ok, false, text)
    }
    const rejected = load(broken[0]!, cache)
    const issues = rejected.ok ? [] : rejected.issues.map(formatIssue)
    assert.deepEqual(issues, [
      'gateway.toml:10: routes[0].upstream.timeout.connect: must be >= 1 (milliseconds)',
    ])
  })

  test('random gateway.toml files, reloaded with random edits', () => {
    const random = prng(0xc0ffee)
    const cache = new LoadCache()
    let valid = 0
    let incremental = 0
    for (let round = 0; round < 300; round++) {
      const text = randomGatewayToml(random)
      if (assertSameAsWhole(text, cache, { NAME: 'n' }).ok) {
        valid++
        // The incremental path answered (rather than handing the file to the whole-file path).
        const fresh = new LoadCache()
        load(text, fresh, { NAME: 'n' })
        if (fresh.size > 0) incremental++
      }
      for (let edit = 1; edit <= 2; edit++)
        assertSameAsWhole(mutate(text, random, edit), cache, { NAME: 'n' })
    }
    assert.ok(valid > 150, `only ${valid} valid files`)
    assert.equal(incremental, valid)
  })

  test('random TOML documents', () => {
    const random = prng(0xfacade)
    const cache = new LoadCache()
    for (let round = 0; round < 300; round++) {
      assertSameAsWhole(mutate(randomDocument(random), random, round % 2), cache)
    }
  })

  test('the sliced load gives the same result', async () => {
    const cache = new LoadCache()
    const text = table(300)
    const sliced = await parseConfigTextSliced(text, { plugins: builtinPlugins, env: {}, cache })
    assert.ok(sliced.ok)
    assert.deepStrictEqual(sliced.config, config(text, null))
  })
})

describe('incremental loading reuses what did not change', () => {
  test('an unchanged route is the same object; a changed one is new, with the new values', () => {
    const cache = new LoadCache()
    const before = config(table(30), cache)
    const after = config(table(30).replace('"10.0.0.12:80" = 1', '"10.0.0.12:80" = 5'), cache)
    for (let i = 0; i < 30; i++) {
      if (i === 12) assert.notEqual(after.routes[i], before.routes[i])
      else assert.equal(after.routes[i], before.routes[i], `routes[${i}]`)
    }
    assert.deepEqual(
      { ...(after.routes[12]!.upstream!.nodes as object) },
      { '10.0.0.12:80': 5, '10.0.0.1:81': 2 },
    )
    assert.equal(cache.size, 30)
  })

  test('routes moved, inserted and removed keep their objects', () => {
    const cache = new LoadCache()
    const before = config(table(10), cache)
    const reordered = `[server]\nlisten = ["127.0.0.1:0"]\n${route(100)}${route(3)}${route(1)}${route(2)}`
    const after = config(reordered, cache)
    assert.equal(after.routes[1], before.routes[3])
    assert.equal(after.routes[2], before.routes[1])
    assert.equal(after.routes[3], before.routes[2])
    assert.equal(after.routes.length, 4)
    assert.equal(cache.size, 4, 'routes no longer in the file are forgotten')
  })

  test('comment lines above a route belong to its text: editing them reads it again (equal data)', () => {
    const cache = new LoadCache()
    const before = config(table(3), cache)
    const after = config(
      table(3).replace('\n[[routes]]\nid = "r1"', '\n# about r1\n[[routes]]\nid = "r1"'),
      cache,
    )
    assert.equal(after.routes[0], before.routes[0])
    assert.notEqual(after.routes[1], before.routes[1])
    assert.deepStrictEqual(after.routes[1], before.routes[1])
    assert.equal(after.routes[2], before.routes[2])
  })

  test('equal upstream tables are validated once and shared', () => {
    const text = `[[routes]]\nuri = "/a"\n[routes.upstream]\nnodes = { "a:1" = 1 }\n[[routes]]\nuri = "/b"\n[routes.upstream]\nnodes = { "a:1" = 1 }\n`
    const loaded = config(text, new LoadCache())
    assert.equal(loaded.routes[0]!.upstream, loaded.routes[1]!.upstream)
    assert.deepStrictEqual(loaded, config(text, null))
  })

  test('a route that reads an environment variable is reused only while the variable is the same', () => {
    const cache = new LoadCache()
    const text =
      '[[routes]]\nuri = "/a"\n[routes.plugins.mocking]\nbody = "${WHO}"\n[[routes]]\nuri = "/b"\n[routes.plugins.echo]\n'
    const first = config(text, cache, { WHO: 'one' })
    const same = config(text, cache, { WHO: 'one' })
    const changed = config(text, cache, { WHO: 'two' })
    assert.equal(same.routes[0], first.routes[0])
    assert.notEqual(changed.routes[0], first.routes[0])
    assert.equal((changed.routes[0]!.plugins.mocking as { body: string }).body, 'two')
    assert.equal(changed.routes[1], first.routes[1])
  })

  test('an escape that spells ${ is substituted too (and so read from the environment)', () => {
    const cache = new LoadCache()
    const text = '[[routes]]\nuri = "/a"\n[routes.plugins.mocking]\nbody = "\\u0024{WHO}"\n'
    const body = (c: GatewayConfig) => (c.routes[0]!.plugins.mocking as { body: string }).body
    assert.equal(body(config(text, cache, { WHO: 'one' })), 'one')
    assert.equal(body(config(text, cache, { WHO: 'two' })), 'two')
    assert.equal(body(config(text, null, { WHO: 'two' })), 'two')
  })

  test('after a rejected file, the routes of the last good one are still remembered', () => {
    const cache = new LoadCache()
    const good = config(table(10), cache)
    assert.equal(load(table(10).replace('id = "r4"', 'id = "r4"\nbogus = 1'), cache).ok, false)
    const fixed = config(table(10).replace('id = "r4"', 'id = "r4"\npriority = 2'), cache)
    for (let i = 0; i < 10; i++) {
      if (i === 4) assert.notEqual(fixed.routes[i], good.routes[i])
      else assert.equal(fixed.routes[i], good.routes[i])
    }
  })

  test('another plugin list starts over', () => {
    const cache = new LoadCache()
    const text = table(3)
    const a = config(text, cache)
    const result = parseConfigText(text, { plugins: [...builtinPlugins], env: {}, cache })
    assert.ok(result.ok)
    assert.notEqual(result.config.routes[0], a.routes[0])
    assert.deepStrictEqual(result.config, a)
  })

  test('the default cache is shared by loads with the same plugin list (start-up, then the reloader)', () => {
    const text = table(4, (i) => `priority = ${i + 1000}`)
    const first = parseConfigText(text, { plugins: builtinPlugins, env: {} })
    const again = parseConfigText(text, { plugins: builtinPlugins, env: {} })
    assert.ok(first.ok && again.ok)
    assert.equal(again.config.routes[2], first.config.routes[2])
  })
})

describe('memory', () => {
  test("routes kept from earlier loads do not keep those loads' whole texts alive", () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const heap = () => {
      gc()
      gc()
      return process.memoryUsage().heapUsed
    }
    const cache = new LoadCache()
    // Strings of 13 characters and more are where V8 makes views into the parent string.
    const base = table(2000).replaceAll('id = "r', 'id = "a-rather-long-route-id-')
    // Each reload changes one route back and forth, so each text leaves a route behind that the
    // next loads keep; were its strings views into that text, every text (about 300 KB) would stay.
    const edited = (i: number) => `${base.replace(`-id-${i}"`, `-id-${i}"\npriority = 1`)}# ${i}\n`
    config(edited(0), cache)
    const start = heap()
    for (let i = 1; i <= 40; i++) config(edited(i), cache)
    const grown = heap() - start
    assert.ok(grown < 3 * 1048576, `the heap grew by ${(grown / 1048576).toFixed(1)} MiB over 40 reloads`)
  })
})
