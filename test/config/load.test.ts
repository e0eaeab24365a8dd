import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { type ConfigIssue, formatIssue, formatKeyPath, locateLine } from '../../src/config/issues.ts'
import { type LoadResult, loadConfigFile, parseConfigText } from '../../src/config/load.ts'
import { builtinPlugins } from '../../src/plugins/index.ts'

const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

/** Parses with the built-in plugins and an empty environment (never the process's). */
function parse(text: string, env: Record<string, string | undefined> = {}): LoadResult {
  return parseConfigText(text, { plugins: builtinPlugins, env })
}

function expectIssues(text: string): readonly ConfigIssue[] {
  const result = parse(text)
  assert.equal(result.ok, false, 'expected the config to be rejected')
  if (result.ok) throw new Error('unreachable')
  assert.ok(result.issues.length > 0)
  return result.issues
}

function expectConfig(text: string) {
  const result = parse(text)
  if (!result.ok) assert.fail(`expected a valid config, got:\n${result.issues.map(formatIssue).join('\n')}`)
  return result.config
}

const formatted = (issues: readonly ConfigIssue[]) => issues.map(formatIssue)

/** The one issue whose formatted key path is `key`. */
function issueAt(issues: readonly ConfigIssue[], key: string): ConfigIssue {
  const found = issues.filter((i) => formatKeyPath(i.path) === key)
  assert.equal(found.length, 1, `expected one issue at ${key}, got: ${formatted(issues).join(' | ')}`)
  return found[0]!
}

const MOCK_ROUTE = '[[routes]]\nuri = "/m"\n[routes.plugins.mocking]\n'

describe('parseConfigText: valid configs', () => {
  test('an empty document gets every default', () => {
    const config = expectConfig('')
    assert.deepEqual(config.server.listen, ['127.0.0.1:9080'])
    assert.deepEqual(config.server.tls, [])
    assert.equal(config.server.access_log, true)
    assert.equal(config.server.drain_timeout, 10000)
    assert.deepEqual(config.plugins, {})
    assert.deepEqual(config.routes, [])
  })

  test('a minimal route gets route and upstream defaults', () => {
    const config = expectConfig(`
[[routes]]
uri = "/api/*"
[routes.upstream]
nodes = { "10.0.0.1:8080" = 1 }
`)
    assert.equal(config.routes.length, 1)
    const route = config.routes[0]!
    assert.equal(route.id, undefined)
    assert.equal(route.uri, '/api/*')
    assert.equal(route.priority, 0)
    assert.deepEqual(route.plugins, {})
    assert.equal(route.methods, undefined)
    const upstream = route.upstream!
    assert.equal(upstream.type, 'roundrobin')
    assert.equal(upstream.scheme, 'http')
    assert.equal(upstream.pass_host, 'pass')
    assert.deepEqual(upstream.timeout, { connect: 5000, send: 60000, read: 60000 })
    assert.deepEqual(upstream.keepalive_pool, { size: 320, idle_timeout: 60000 })
    assert.deepEqual(upstream.tls, { verify: true })
    assert.deepEqual({ ...upstream.nodes }, { '10.0.0.1:8080': 1 })
  })

  test('partial tables keep the keys they set and default the rest', () => {
    const config = expectConfig(`
[server]
access_log = false
[[routes]]
uri = "/a"
[routes.upstream]
nodes = [{ host = "a", port = 81, weight = 2 }]
timeout = { read = 1500 }
`)
    assert.equal(config.server.access_log, false)
    assert.deepEqual(config.server.listen, ['127.0.0.1:9080'])
    assert.deepEqual(config.routes[0]!.upstream!.timeout, { connect: 5000, send: 60000, read: 1500 })
  })

  test('plugin defaults are applied from the plugin schema', () => {
    const config = expectConfig(`
[plugins.request-id]
${MOCK_ROUTE}status = 201
`)
    assert.deepEqual({ ...(config.plugins['request-id'] as object) }, { header_name: 'X-Request-Id' })
    const mocking = config.routes[0]!.plugins.mocking as Record<string, unknown>
    assert.equal(mocking.status, 201)
    assert.equal(mocking.delay, 0)
  })

  test('the shipped gateway.toml is valid', () => {
    const text = readFileSync(join(repoRoot, 'gateway.toml'), 'utf8')
    const result = parse(text)
    if (!result.ok) assert.fail(formatted(result.issues).join('\n'))
    assert.deepEqual(
      result.config.routes.map((r) => r.id),
      ['hello', 'api', 'echo'],
    )
    assert.equal(result.config.routes[1]!.upstream!.pass_host, 'rewrite')
    assert.equal(result.config.routes[1]!.upstream!.upstream_host, 'echo.internal')
    assert.ok('request-id' in result.config.plugins)
    assert.equal(result.text, text)
  })

  test('loadConfigFile reads the shipped file and names it by its base name', async () => {
    const result = await loadConfigFile(join(repoRoot, 'gateway.toml'), { plugins: builtinPlugins, env: {} })
    assert.equal(result.ok, true)
  })

  test('loadConfigFile reports an unreadable file with its code, not a throw', async () => {
    const result = await loadConfigFile(join(repoRoot, 'does-not-exist.toml'), {
      plugins: builtinPlugins,
      env: {},
    })
    assert.equal(result.ok, false)
    if (result.ok) return
    assert.equal(formatted(result.issues).length, 1)
    assert.match(
      formatted(result.issues)[0]!,
      /^does-not-exist\.toml: cannot read \/.*\/does-not-exist\.toml \(ENOENT\)$/,
    )
  })

  test('displayName is used in messages', () => {
    const result = parseConfigText('nope = 1', { plugins: builtinPlugins, env: {}, displayName: 'prod.toml' })
    assert.equal(result.ok, false)
    if (result.ok) return
    assert.deepEqual(formatted(result.issues), ['prod.toml:1: nope: unknown key'])
  })
})

describe('parseConfigText: TOML syntax errors', () => {
  const SECRET = 'sk-live-7f3a9c1e5b2d'

  test('an unterminated string reports line and column, never the source text', () => {
    const text = `[server]\naccess_log = true\napi_key = "${SECRET}\n`
    const issues = expectIssues(text)
    assert.equal(issues.length, 1)
    const issue = issues[0]!
    assert.equal(issue.line, 3)
    assert.equal(typeof issue.column, 'number')
    assert.ok(issue.column! > 1)
    assert.deepEqual(issue.path, [])
    assert.match(issue.message, /^invalid TOML: /)
    assert.ok(!issue.message.includes('\n'), 'only the first line of the parser message')
    assert.match(formatIssue(issue), /^gateway\.toml:3: invalid TOML: /)
    for (const line of formatted(issues)) assert.ok(!line.includes(SECRET), `leaked: ${line}`)
    assert.ok(!issue.message.includes('api_key'))
  })

  test('garbage after a value reports the right line and hides the value', () => {
    const text = `[[routes]]\nuri = "/a"\ntoken = "${SECRET}" oops\n`
    const issues = expectIssues(text)
    assert.equal(issues.length, 1)
    assert.equal(issues[0]!.line, 3)
    assert.equal(issues[0]!.column, `token = "${SECRET}" `.length + 1)
    assert.ok(!formatIssue(issues[0]!).includes(SECRET))
    assert.ok(!issues[0]!.message.includes(SECRET))
  })

  test('a duplicate key is a syntax error with a line', () => {
    const issues = expectIssues('[server]\naccess_log = true\naccess_log = false\n')
    assert.equal(issues.length, 1)
    assert.equal(issues[0]!.line, 3)
    assert.match(issues[0]!.message, /^invalid TOML: /)
  })
})

describe('parseConfigText: unknown keys', () => {
  test('at the top level', () => {
    const issues = expectIssues('listen = ["127.0.0.1:1"]\n')
    assert.deepEqual(formatted(issues), ['gateway.toml:1: listen: unknown key'])
  })

  test('in [server]', () => {
    const issues = expectIssues('[server]\naccess_log = true\nlisten_port = 80\n')
    assert.deepEqual(formatted(issues), ['gateway.toml:3: server.listen_port: unknown key'])
  })

  test('in a route', () => {
    const issues = expectIssues(`${MOCK_ROUTE}[[routes]]\nuri = "/b"\npath = "/x"\n[routes.plugins.echo]\n`)
    assert.deepEqual(formatted(issues), ['gateway.toml:6: routes[1].path: unknown key'])
  })

  test('in an upstream of the 2nd route', () => {
    const text = `[[routes]]
uri = "/a"
[routes.upstream]
nodes = { "a:1" = 1 }
[[routes]]
uri = "/b"
[routes.upstream]
nodes = { "b:1" = 1 }
foo = 1
`
    const issues = expectIssues(text)
    assert.deepEqual(formatted(issues), ['gateway.toml:9: routes[1].upstream.foo: unknown key'])
  })

  test('in a plugin config', () => {
    const issues = expectIssues(`${MOCK_ROUTE}stauts = 201\n`)
    assert.deepEqual(formatted(issues), ['gateway.toml:4: routes[0].plugins.mocking.stauts: unknown key'])
  })

  test('in an inline table', () => {
    const issues = expectIssues(
      '[[routes]]\nuri = "/a"\n[routes.upstream]\nnodes = { "a:1" = 1 }\ntimeout = { conect = 1 }\n',
    )
    assert.deepEqual(formatted(issues), ['gateway.toml:5: routes[0].upstream.timeout.conect: unknown key'])
  })
})

describe('parseConfigText: plugins', () => {
  test('an unknown route plugin lists every known plugin', () => {
    const issues = expectIssues(`${MOCK_ROUTE}[routes.plugins.rate-limit]\n`)
    assert.equal(issues.length, 1)
    const issue = issues[0]!
    assert.equal(formatKeyPath(issue.path), 'routes[0].plugins.rate-limit')
    assert.equal(issue.line, 4)
    for (const name of builtinPlugins.map((p) => p.name)) assert.ok(issue.message.includes(name), name)
    assert.match(issue.message, /^unknown plugin \(known: /)
  })

  test('an unknown global plugin lists only the plugins allowed globally', () => {
    const issues = expectIssues('[plugins.rate-limit]\n')
    assert.equal(issues.length, 1)
    assert.equal(formatKeyPath(issues[0]!.path), 'plugins.rate-limit')
    assert.equal(issues[0]!.message, 'unknown plugin (known: request-id)')
    assert.equal(issues[0]!.line, 1)
  })

  test('a terminal plugin under global [plugins] is rejected', () => {
    const issues = expectIssues(`[plugins.mocking]\nstatus = 200\n${MOCK_ROUTE}`)
    assert.deepEqual(formatted(issues), [
      'gateway.toml:1: plugins.mocking: plugin mocking answers requests, so it can only be set on a route',
    ])
  })

  test('a route with neither upstream nor a terminal plugin is rejected', () => {
    const issues = expectIssues('[[routes]]\nuri = "/a"\n[routes.plugins.request-id]\n')
    assert.equal(issues.length, 1)
    assert.equal(formatKeyPath(issues[0]!.path), 'routes[0]')
    assert.match(
      issues[0]!.message,
      /needs an `upstream` or a terminal plugin \(mocking, echo, aws-lambda, azure-functions\)/,
    )
  })

  test('a route with an upstream and a terminal plugin is rejected', () => {
    const issues = expectIssues(`${MOCK_ROUTE}[routes.upstream]\nnodes = { "a:1" = 1 }\n`)
    assert.equal(issues.length, 1)
    assert.equal(formatKeyPath(issues[0]!.path), 'routes[0]')
    assert.equal(issues[0]!.message, 'has more than one answer: plugin mocking, upstream')
  })

  test('a route with two terminal plugins is rejected', () => {
    const issues = expectIssues(`${MOCK_ROUTE}[routes.plugins.echo]\n`)
    assert.equal(issues[0]!.message, 'has more than one answer: plugin mocking, plugin echo')
  })

  test('a non-terminal plugin on a route is fine next to a terminal one', () => {
    const config = expectConfig(`${MOCK_ROUTE}[routes.plugins.request-id]\nheader_name = "X-Trace"\n`)
    assert.deepEqual({ ...(config.routes[0]!.plugins['request-id'] as object) }, { header_name: 'X-Trace' })
  })
})

describe('parseConfigText: route rules', () => {
  test('uri and uris both set is rejected', () => {
    const issues = expectIssues('[[routes]]\nuri = "/a"\nuris = ["/b"]\n[routes.plugins.mocking]\n')
    assert.deepEqual(formatted(issues), ['gateway.toml:2: routes[0].uri: set exactly one of `uri` or `uris`'])
  })

  test('neither uri nor uris is rejected', () => {
    const issues = expectIssues('[[routes]]\nid = "x"\n[routes.plugins.mocking]\n')
    assert.equal(issues.length, 1)
    assert.equal(formatKeyPath(issues[0]!.path), 'routes[0].uri')
    assert.equal(issues[0]!.message, 'set exactly one of `uri` or `uris`')
  })

  test('uris alone is accepted', () => {
    const config = expectConfig('[[routes]]\nuris = ["/a", "/b/*"]\n[routes.plugins.mocking]\n')
    assert.deepEqual(config.routes[0]!.uris, ['/a', '/b/*'])
  })

  test('uri patterns: must start with "/" and "*" only at the end', () => {
    for (const uri of ['api', '/a/*/b', '/a b', '*']) {
      const issues = expectIssues(`[[routes]]\nuri = "${uri}"\n[routes.plugins.mocking]\n`)
      assert.equal(formatKeyPath(issues[0]!.path), 'routes[0].uri', uri)
    }
  })

  test('a bad upstream node is named, in either form of nodes (not "Invalid input")', () => {
    const table = expectIssues(
      '[[routes]]\nuri = "/"\n[routes.upstream]\nnodes = { "127.0.0.1:99999" = 1, "b:80" = -1 }\n',
    )
    assert.deepEqual(formatted(table), [
      'gateway.toml:4: routes[0].upstream.nodes."127.0.0.1:99999": node must be "host" or "host:port"',
      'gateway.toml:4: routes[0].upstream.nodes."b:80": Too small: expected number to be >=0',
    ])
    const list = expectIssues(
      '[[routes]]\nuri = "/"\n[routes.upstream]\nnodes = [{ host = "a", port = 0, weight = 1 }]\n',
    )
    assert.equal(formatKeyPath(list[0]!.path), 'routes[0].upstream.nodes[0].port')
  })

  test('mocking: header values every writer would refuse are rejected at load time', () => {
    const issues = expectIssues(
      '[[routes]]\nuri = "/m"\n[routes.plugins.mocking]\nheaders = { X-Note = "✓ done", X-Bell = "a\\u0007b", X-Empty = "" }\ncontent_type = "text/plain\\u0001"\n',
    )
    const text = formatted(issues).join('\n')
    assert.match(text, /routes\[0\]\.plugins\.mocking\.headers\.X-Note: must be ASCII \(or Latin-1\) text/)
    assert.match(
      text,
      /routes\[0\]\.plugins\.mocking\.headers\.X-Bell: must be one line without control characters/,
    )
    assert.match(
      text,
      /routes\[0\]\.plugins\.mocking\.content_type: must be one line without control characters/,
    )
    assert.doesNotMatch(text, /X-Empty/)
  })

  test("an error in the 2nd [[server.tls]] entry points at that entry's line", () => {
    const issues = expectIssues(
      '[server]\nlisten = ["127.0.0.1:0"]\n\n[[server.tls]]\nlisten = "127.0.0.1:0"\ncert = "a"\nkey = "b"\n\n[[server.tls]]\nlisten = "bad address"\ncert = "a"\nkey = "b"\n',
    )
    assert.deepEqual(formatted(issues), [
      'gateway.toml:10: server.tls[1].listen: must be "host:port" (e.g. "127.0.0.1:9080" or "[::1]:9080")',
    ])
  })

  test('host and hosts both set is rejected', () => {
    const issues = expectIssues(`${MOCK_ROUTE.replace('\n[', '\nhost = "a.com"\nhosts = ["b.com"]\n[')}`)
    assert.equal(formatKeyPath(issues[0]!.path), 'routes[0].host')
    assert.equal(issues[0]!.message, 'set at most one of `host` or `hosts`')
  })

  test('duplicate route ids are rejected, naming the first use', () => {
    const text = `[[routes]]
id = "dup"
uri = "/a"
[routes.plugins.mocking]
[[routes]]
id = "other"
uri = "/b"
[routes.plugins.mocking]
[[routes]]
id = "dup"
uri = "/c"
[routes.plugins.mocking]
`
    const issues = expectIssues(text)
    assert.deepEqual(formatted(issues), [
      'gateway.toml:10: routes[2].id: duplicate id (first used by routes[0])',
    ])
  })

  test('an invalid method is rejected at its index', () => {
    const issues = expectIssues(
      '[[routes]]\nuri = "/a"\nmethods = ["GET", "get"]\n[routes.plugins.mocking]\n',
    )
    assert.equal(issues.length, 1)
    assert.equal(formatKeyPath(issues[0]!.path), 'routes[0].methods[1]')
    assert.equal(issues[0]!.line, 3)
  })

  test('an empty methods list is rejected', () => {
    const issues = expectIssues('[[routes]]\nuri = "/a"\nmethods = []\n[routes.plugins.mocking]\n')
    assert.equal(formatKeyPath(issues[0]!.path), 'routes[0].methods')
  })
})

describe('parseConfigText: upstream rules', () => {
  const route = (upstream: string) => `[[routes]]\nuri = "/a"\n[routes.upstream]\n${upstream}\n`

  test('pass_host = "rewrite" without upstream_host is rejected', () => {
    const issues = expectIssues(route('nodes = { "a:1" = 1 }\npass_host = "rewrite"'))
    assert.equal(issues.length, 1)
    assert.equal(formatKeyPath(issues[0]!.path), 'routes[0].upstream.upstream_host')
    assert.equal(issues[0]!.message, 'is required when pass_host = "rewrite"')
  })

  test('pass_host = "rewrite" with upstream_host is accepted', () => {
    const config = expectConfig(route('nodes = { "a:1" = 1 }\npass_host = "rewrite"\nupstream_host = "b"'))
    assert.equal(config.routes[0]!.upstream!.upstream_host, 'b')
  })

  test('all weights 0 is rejected (record form)', () => {
    const issues = expectIssues(route('nodes = { "a:1" = 0, "b:2" = 0 }'))
    assert.deepEqual(formatted(issues), [
      'gateway.toml:4: routes[0].upstream.nodes: needs at least one node with weight > 0',
    ])
  })

  test('all weights 0 is rejected (array form)', () => {
    const issues = expectIssues(route('nodes = [{ host = "a", port = 1, weight = 0 }]'))
    assert.equal(formatKeyPath(issues[0]!.path), 'routes[0].upstream.nodes')
    assert.equal(issues[0]!.message, 'needs at least one node with weight > 0')
  })

  test('an empty node set is rejected', () => {
    const issues = expectIssues(route('nodes = {}'))
    assert.equal(formatKeyPath(issues[0]!.path), 'routes[0].upstream.nodes')
  })

  test('one zero weight among positive ones is fine', () => {
    const config = expectConfig(route('nodes = { "a:1" = 0, "b:2" = 3 }'))
    assert.deepEqual({ ...config.routes[0]!.upstream!.nodes }, { 'a:1': 0, 'b:2': 3 })
  })

  test('a node key that is not host[:port] is rejected', () => {
    const issues = expectIssues(route('nodes = { "a:99999" = 1 }'))
    assert.ok(formatKeyPath(issues[0]!.path).startsWith('routes[0].upstream.nodes'))
  })

  test('a node key without a port is accepted', () => {
    expectConfig(route('nodes = { "backend.internal" = 1, "[::1]:8080" = 1 }'))
  })

  test('timeouts must be positive', () => {
    const issues = expectIssues(route('nodes = { "a:1" = 1 }\ntimeout = { connect = 0 }'))
    assert.equal(formatKeyPath(issues[0]!.path), 'routes[0].upstream.timeout.connect')
    assert.equal(issues[0]!.message, 'must be >= 1 (milliseconds)')
    assert.equal(issues[0]!.line, 5)
  })
})

describe('parseConfigText: listen addresses', () => {
  test('valid listen addresses', () => {
    const config = expectConfig('[server]\nlisten = ["0.0.0.0:80", "[::1]:9080", "localhost:65535"]\n')
    assert.deepEqual(config.server.listen, ['0.0.0.0:80', '[::1]:9080', 'localhost:65535'])
  })

  for (const bad of ['127.0.0.1', ':9080', '127.0.0.1:65536', '::1:9080', 'http://a:80', 'a:b']) {
    test(`"${bad}" is rejected`, () => {
      const issues = expectIssues(`[server]\nlisten = ["127.0.0.1:9080", "${bad}"]\n`)
      assert.equal(issues.length, 1)
      assert.equal(formatKeyPath(issues[0]!.path), 'server.listen[1]')
      assert.equal(issues[0]!.line, 2)
      assert.match(issues[0]!.message, /^must be "host:port"/)
    })
  }

  test('a bad TLS listen address is rejected with its path', () => {
    const issues = expectIssues('[[server.tls]]\nlisten = "nope"\ncert = "c.pem"\nkey = "k.pem"\n')
    assert.equal(formatKeyPath(issues[0]!.path), 'server.tls[0].listen')
  })
})

describe('parseConfigText: multiple errors', () => {
  test('all errors are reported at once, each at its own line', () => {
    const text = `bogus = 1
[server]
listen = ["nowhere"]
[[routes]]
uri = "no-slash"
[routes.plugins.mocking]
[[routes]]
uri = "/b"
methods = ["FETCH"]
[routes.upstream]
nodes = { "a:1" = 0 }
`
    const issues = expectIssues(text)
    assert.deepEqual(formatted(issues).sort(), [
      'gateway.toml:11: routes[1].upstream.nodes: needs at least one node with weight > 0',
      'gateway.toml:1: bogus: unknown key',
      'gateway.toml:3: server.listen[0]: must be "host:port" (e.g. "127.0.0.1:9080" or "[::1]:9080")',
      'gateway.toml:5: routes[0].uri: must start with "/"; a trailing "*" makes it a prefix match, "*" elsewhere is not allowed',
      `gateway.toml:9: routes[1].methods[0]: ${issueAt(issues, 'routes[1].methods[0]').message}`,
    ])
  })
})

describe('parseConfigText: the result is deep-frozen', () => {
  const config = expectConfig(`[plugins.request-id]
[[routes]]
uri = "/a"
methods = ["GET"]
[routes.upstream]
nodes = { "a:1" = 1 }
[[routes]]
uri = "/b"
[routes.plugins.mocking]
headers = { x-a = "1" }
json = { list = [1, { deep = true }] }
`)

  test('every object and array is frozen', () => {
    const seen: unknown[] = []
    const walk = (value: unknown, path: string) => {
      if (value === null || typeof value !== 'object') return
      assert.ok(Object.isFrozen(value), `${path} is not frozen`)
      seen.push(value)
      for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`)
    }
    walk(config, 'config')
    assert.ok(seen.length > 15, `walked only ${seen.length} objects`)
  })

  test('mutation throws in strict mode', () => {
    assert.throws(() => {
      ;(config.server as { access_log: boolean }).access_log = false
    }, TypeError)
    assert.throws(() => {
      ;(config.server.listen as string[]).push('0.0.0.0:1')
    }, TypeError)
    assert.throws(() => {
      ;(config.routes as unknown[]).pop()
    }, TypeError)
    const mocking = config.routes[1]!.plugins.mocking as { headers: Record<string, string> }
    assert.throws(() => {
      mocking.headers['x-b'] = '2'
    }, TypeError)
    assert.equal(config.server.access_log, true)
    assert.equal(config.routes.length, 2)
  })
})

describe('locateLine', () => {
  const text = `# header comment
[server]
listen = ["127.0.0.1:9080"]

# [[routes]] commented out: not a block
[[routes]]
id = "one"
uri = "/a"
methods = ["GET"]
[routes.upstream]
nodes = { "a:1" = 1 }
timeout = { connect = 1, read = 2 }

[[routes]]
id = "two"
uri = "/b"
methods = ["POST"]
[routes.upstream]
nodes = { "b:1" = 1 }
timeout = { connect = 3, read = 4 }
keepalive_pool.size = 5
[routes.plugins.request-id]
header_name = "x"
`

  test('keys of the 2nd [[routes]] block resolve inside that block', () => {
    assert.equal(locateLine(text, ['routes', 1]), 14)
    assert.equal(locateLine(text, ['routes', 1, 'id']), 15)
    assert.equal(locateLine(text, ['routes', 1, 'uri']), 16)
    assert.equal(locateLine(text, ['routes', 1, 'methods', 0]), 17)
    assert.equal(locateLine(text, ['routes', 1, 'upstream']), 18)
    assert.equal(locateLine(text, ['routes', 1, 'upstream', 'nodes']), 19)
    assert.equal(locateLine(text, ['routes', 1, 'upstream', 'timeout', 'read']), 20)
    assert.equal(locateLine(text, ['routes', 1, 'upstream', 'keepalive_pool', 'size']), 21)
    assert.equal(locateLine(text, ['routes', 1, 'plugins', 'request-id']), 22)
    assert.equal(locateLine(text, ['routes', 1, 'plugins', 'request-id', 'header_name']), 23)
  })

  test('keys of the 1st block do not leak into the 2nd and vice versa', () => {
    assert.equal(locateLine(text, ['routes', 0]), 6)
    assert.equal(locateLine(text, ['routes', 0, 'uri']), 8)
    assert.equal(locateLine(text, ['routes', 0, 'upstream', 'timeout', 'connect']), 12)
    // header_name only exists in the 2nd block: the 1st block's header is the best answer.
    assert.equal(locateLine(text, ['routes', 0, 'plugins', 'request-id', 'header_name']), 6)
  })

  test('a key that is absent falls back to its block header', () => {
    assert.equal(locateLine(text, ['routes', 1, 'hosts']), 14)
  })

  test('top-level keys and missing blocks', () => {
    assert.equal(locateLine(text, ['server', 'listen', 0]), 3)
    assert.equal(locateLine(text, ['server']), 2)
    assert.equal(locateLine(text, ['routes', 2, 'uri']), undefined)
    assert.equal(locateLine(text, ['nothing_here']), undefined)
    assert.equal(locateLine(text, []), undefined)
  })

  test('quoted keys are found', () => {
    assert.equal(locateLine('[[routes]]\nnodes = { "a:1" = 1 }\n', ['routes', 0, 'nodes', 'a:1']), 2)
  })
})

describe('formatIssue and formatKeyPath', () => {
  test('file:line: path: message', () => {
    assert.equal(
      formatIssue({
        file: 'g.toml',
        line: 7,
        path: ['routes', 1, 'upstream', 'foo'],
        message: 'unknown key',
      }),
      'g.toml:7: routes[1].upstream.foo: unknown key',
    )
  })

  test('no line and no path', () => {
    assert.equal(formatIssue({ file: 'g.toml', path: [], message: 'bad' }), 'g.toml: bad')
  })

  test('keys that are not bare TOML keys are quoted', () => {
    assert.equal(
      formatKeyPath(['routes', 0, 'upstream', 'nodes', '127.0.0.1:80']),
      'routes[0].upstream.nodes."127.0.0.1:80"',
    )
    assert.equal(formatKeyPath(['plugins', 'request-id']), 'plugins.request-id')
  })
})
