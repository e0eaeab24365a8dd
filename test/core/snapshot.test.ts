import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { formatIssue } from '../../src/config/issues.ts'
import { LoadCache, parseConfigText } from '../../src/config/load.ts'
import type { GatewayConfig } from '../../src/config/schema.ts'
import { Gateway } from '../../src/core/gateway.ts'
import { silentLogger } from '../../src/core/logger.ts'
import { type CompiledRoute, type Snapshot, sameData } from '../../src/core/snapshot.ts'
import { builtinPlugins } from '../../src/plugins/index.ts'
import type { OutboundRequest, UpstreamClient } from '../../src/upstream/types.ts'

/** Answers every proxied request with `node host:port` and counts them. */
function fakeUpstream(): UpstreamClient & { readonly sent: OutboundRequest[] } {
  const sent: OutboundRequest[] = []
  return {
    sent,
    async send(request) {
      sent.push(request)
      return new Response(`node ${request.origin.host}:${request.origin.port}`)
    },
    close() {},
  }
}

/** A gateway and a loader with its own cache, reloading as ConfigReloader does (load, compile, swap). */
function setup() {
  const upstream = fakeUpstream()
  const gateway = new Gateway({
    plugins: builtinPlugins,
    deps: { upstream, logger: silentLogger, configDir: '/nonexistent' },
  })
  const cache = new LoadCache()
  const load = (text: string): GatewayConfig => {
    const result = parseConfigText(text, { plugins: builtinPlugins, env: {}, cache })
    if (!result.ok) assert.fail(result.issues.map(formatIssue).join('\n'))
    return result.config
  }
  const reload = (text: string): Snapshot => {
    const snapshot = gateway.compile(load(text))
    gateway.swap(snapshot)
    return snapshot
  }
  const get = async (path: string, host = 'localhost'): Promise<string> => {
    const response = await gateway.fetch(new Request(`http://${host}${path}`), {
      remoteAddress: '127.0.0.1',
      scheme: 'http',
    })
    return `${response.status} ${await response.text()}`
  }
  return { gateway, upstream, load, reload, get }
}

const compiledOf = (snapshot: Snapshot, id: string): CompiledRoute => {
  const entry = snapshot.compiled.routes.get(id)
  assert.ok(entry, `no route ${id}`)
  return entry.route
}

const TWO_NODES = 'nodes = { "10.0.0.1:80" = 1, "10.0.0.2:80" = 1 }'

const table = (extra = '', second = TWO_NODES) => `
[[routes]]
id = "one"
uri = "/one"
[routes.upstream]
${TWO_NODES}

[[routes]]
id = "two"
uri = "/two"
${extra}
[routes.upstream]
${second}

[[routes]]
uri = "/m"
[routes.plugins.mocking]
body = "mocked"
`

describe('compiling against the previous snapshot', () => {
  test('an unchanged route keeps its compiled chain and its round-robin position', async () => {
    const { reload, get } = setup()
    const first = reload(table())
    assert.equal(await get('/one'), '200 node 10.0.0.1:80')
    // Another route changes; "one" is reused, so its balancer goes on to the second node.
    const second = reload(table('', 'nodes = { "10.0.0.3:80" = 1 }'))
    assert.equal(compiledOf(second, 'one'), compiledOf(first, 'one'))
    assert.notEqual(compiledOf(second, 'two'), compiledOf(first, 'two'))
    assert.equal(compiledOf(second, 'routes[2]'), compiledOf(first, 'routes[2]'))
    assert.equal(await get('/one'), '200 node 10.0.0.2:80')
    assert.equal(await get('/two'), '200 node 10.0.0.3:80')
  })

  test('a changed route is compiled anew: its balancer starts over', async () => {
    const { reload, get } = setup()
    reload(table())
    assert.equal(await get('/two'), '200 node 10.0.0.1:80')
    reload(table('', 'nodes = { "10.0.0.1:80" = 1, "10.0.0.2:80" = 1 }\nretries = 0'))
    assert.equal(await get('/two'), '200 node 10.0.0.1:80')
  })

  test('a new uri, method or priority re-routes without recompiling the chain', async () => {
    const { reload, get } = setup()
    const first = reload(table())
    const second = reload(table().replace('uri = "/two"', 'uri = "/deux"\nmethods = ["GET"]\npriority = 4'))
    assert.equal(compiledOf(second, 'two'), compiledOf(first, 'two'))
    assert.equal(
      await get('/two'),
      '404 {"error":{"code":"SLUICE_E_NO_ROUTE","message":"no route for GET /two"}}',
    )
    assert.match(await get('/deux'), /^200 node /)
  })

  test('a route whose id changes is a new route', () => {
    const { reload } = setup()
    const first = reload(table())
    const second = reload(table().replace('id = "two"', 'id = "deux"'))
    assert.notEqual(compiledOf(second, 'deux'), compiledOf(first, 'two'))
    assert.equal(second.compiled.routes.has('two'), false)
  })

  test('a route without id moved to another position gets another default id, so it is compiled again', () => {
    const { reload } = setup()
    const first = reload(table())
    const moved = reload(`[[routes]]\nuri = "/first"\n[routes.plugins.echo]\n${table()}`)
    assert.notEqual(compiledOf(moved, 'routes[3]'), compiledOf(first, 'routes[2]'))
    assert.equal(compiledOf(moved, 'one'), compiledOf(first, 'one'))
  })

  test('changed global plugins or plugin metadata recompile every route', async () => {
    const { reload, get } = setup()
    const first = reload(table())
    const withGlobal = reload(`[plugins.request-id]\n${table()}`)
    for (const id of ['one', 'two', 'routes[2]'])
      assert.notEqual(compiledOf(withGlobal, id), compiledOf(first, id))
    const sameGlobal = reload(
      `[plugins.request-id]\n${table()}`.replace('id = "two"', 'id = "two"\npriority = 1'),
    )
    assert.equal(compiledOf(sameGlobal, 'one'), compiledOf(withGlobal, 'one'))
    const otherHeader = reload(`[plugins.request-id]\nheader_name = "X-Trace"\n${table()}`)
    assert.notEqual(compiledOf(otherHeader, 'one'), compiledOf(sameGlobal, 'one'))
    const metadata = reload(`[plugin_metadata.azure-functions]\nmaster_apikey = "k"\n${table()}`)
    assert.notEqual(compiledOf(metadata, 'one'), compiledOf(otherHeader, 'one'))
    assert.match(await get('/one'), /^200 node /)
  })

  test('tables with the same entries in another order are changed config: compiled anew', async () => {
    const { reload, get } = setup()
    const mocked = (json: string) =>
      `[[routes]]\nid = "m"\nuri = "/m"\n[routes.plugins.mocking]\njson = ${json}\n`
    const first = reload(mocked('{ a = 1, b = 2 }'))
    assert.equal(await get('/m'), '200 {"a":1,"b":2}')
    const second = reload(mocked('{ b = 2, a = 1 }'))
    assert.notEqual(compiledOf(second, 'm'), compiledOf(first, 'm'))
    assert.equal(await get('/m'), '200 {"b":2,"a":1}')
    // An upstream's nodes in another order: the balancer starts over, on the new first node.
    reload(table())
    assert.equal(await get('/one'), '200 node 10.0.0.1:80')
    assert.equal(await get('/one'), '200 node 10.0.0.2:80')
    reload(table().replace(TWO_NODES, 'nodes = { "10.0.0.2:80" = 1, "10.0.0.1:80" = 1 }'))
    assert.equal(await get('/one'), '200 node 10.0.0.2:80')
  })

  test("an explicit id equal to another route's default id: the two never share a chain", async () => {
    const { reload, get } = setup()
    const text = `[[routes]]\nid = "routes[1]"\nuri = "/a"\n[routes.upstream]\n${TWO_NODES}\n[[routes]]\nuri = "/b"\n[routes.upstream]\n${TWO_NODES}\n`
    reload(text)
    assert.equal(await get('/b'), '200 node 10.0.0.1:80')
    reload(text)
    // Each route has a balancer of its own, as a fresh compile gives: /a has not sent anything yet.
    assert.equal(await get('/a'), '200 node 10.0.0.1:80')
  })

  test('requests in flight finish on the snapshot they started with', async () => {
    const { reload, get } = setup()
    reload('[[routes]]\nuri = "/slow"\n[routes.plugins.mocking]\nbody = "old"\ndelay = 50\n')
    const inFlight = get('/slow')
    reload('[[routes]]\nuri = "/slow"\n[routes.plugins.mocking]\nbody = "new"\n')
    assert.equal(await get('/slow'), '200 new')
    assert.equal(await inFlight, '200 old')
  })

  test('compileSliced compiles the same snapshot', async () => {
    const { gateway, load, get } = setup()
    const text = Array.from(
      { length: 300 },
      (_, i) => `[[routes]]\nid = "r${i}"\nuri = "/r${i}"\n[routes.plugins.mocking]\nbody = "${i}"\n`,
    ).join('')
    const config = load(text)
    const sync = gateway.compile(config)
    const sliced = await gateway.compileSliced(config)
    assert.equal(sliced.routeCount, 300)
    assert.deepEqual([...sliced.compiled.routes.keys()], [...sync.compiled.routes.keys()])
    gateway.swap(sliced)
    assert.equal(await get('/r123'), '200 123')
  })
})

describe('sameData', () => {
  test('compares validated config values structurally', () => {
    assert.ok(sameData({ a: [1, { b: 'x' }] }, { a: [1, { b: 'x' }] }))
    assert.ok(!sameData({ a: 1 }, { a: 1, b: 2 }))
    assert.ok(!sameData({ a: 1, b: undefined }, { a: 1, c: undefined }))
    assert.ok(!sameData([1], { 0: 1 }))
    assert.ok(!sameData(0, -0))
    assert.ok(sameData(Number.NaN, Number.NaN))
    assert.ok(!sameData(undefined, {}))
    assert.ok(!sameData({ a: 1, b: 2 }, { b: 2, a: 1 }), 'key order is part of the data')
  })
})
