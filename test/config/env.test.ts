// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are ${VAR} placeholders under test, not template mistakes
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { parse as parseToml } from 'smol-toml'
import { type EnvIssue, substituteEnv } from '../../src/config/env.ts'
import { formatIssue, formatKeyPath } from '../../src/config/issues.ts'
import { type LoadResult, parseConfigText } from '../../src/config/load.ts'
import { builtinPlugins } from '../../src/plugins/index.ts'

function substitute(value: unknown, env: Record<string, string | undefined>) {
  const issues: EnvIssue[] = []
  const out = substituteEnv(value, env, issues)
  return { out, issues }
}

function load(text: string, env: Record<string, string | undefined>): LoadResult {
  return parseConfigText(text, { plugins: builtinPlugins, env })
}

/** Body of the first route's mocking plugin after loading. */
function mockBody(body: string, env: Record<string, string | undefined>): string {
  const result = load(
    `[[routes]]\nuri = "/m"\n[routes.plugins.mocking]\nbody = ${JSON.stringify(body)}\n`,
    env,
  )
  if (!result.ok) assert.fail(result.issues.map(formatIssue).join('\n'))
  return (result.config.routes[0]!.plugins.mocking as { body: string }).body
}

describe('substituteEnv (on plain values)', () => {
  test('${VAR} is replaced, text around it kept', () => {
    const { out, issues } = substitute('https://${HOST}:${PORT}/x', { HOST: 'api.example', PORT: '8443' })
    assert.equal(out, 'https://api.example:8443/x')
    assert.deepEqual(issues, [])
  })

  test('${VAR:-default} uses the variable when set, the default when unset', () => {
    assert.equal(substitute('${A:-fallback}', { A: 'set' }).out, 'set')
    assert.equal(substitute('${A:-fallback}', {}).out, 'fallback')
    assert.equal(substitute('${A:-fallback}', { A: undefined }).out, 'fallback')
  })

  test('an empty variable falls to the default', () => {
    assert.equal(substitute('${A:-fallback}', { A: '' }).out, 'fallback')
  })

  test('an empty default is allowed', () => {
    const { out, issues } = substitute('[${A:-}]', {})
    assert.equal(out, '[]')
    assert.deepEqual(issues, [])
  })

  test('the default is taken literally, up to the first "}"', () => {
    assert.equal(substitute('${A:-x:-y z}', {}).out, 'x:-y z')
  })

  test('an unset variable without default is an issue naming the variable and the path', () => {
    const { issues } = substitute({ a: { b: ['ok', 'key=${API_KEY}'] } }, { OTHER: 'x' })
    assert.equal(issues.length, 1)
    assert.deepEqual(issues[0]!.path, ['a', 'b', 1])
    assert.match(issues[0]!.message, /\bAPI_KEY\b/)
  })

  test('an empty variable without default is an issue too (fails closed)', () => {
    const { issues } = substitute({ k: '${TOKEN}' }, { TOKEN: '' })
    assert.equal(issues.length, 1)
    assert.match(issues[0]!.message, /\bTOKEN\b/)
  })

  test('issues never contain the values of other variables', () => {
    const secret = 'p4ssw0rd-value-123'
    const { issues } = substitute(
      { user: '${DB_USER}', pass: '${DB_PASS}', url: '${MISSING}' },
      { DB_USER: 'admin-user-xyz', DB_PASS: secret },
    )
    assert.equal(issues.length, 1)
    const text = JSON.stringify(issues)
    assert.ok(!text.includes(secret))
    assert.ok(!text.includes('admin-user-xyz'))
    assert.ok(text.includes('MISSING'))
  })

  test('each unset variable is reported', () => {
    const { issues } = substitute({ a: '${X}-${Y}', b: '${Z:-z}' }, {})
    assert.deepEqual(
      issues.map((i) => [i.path, /\b(X|Y)\b/.exec(i.message)?.[1]]),
      [
        [['a'], 'X'],
        [['a'], 'Y'],
      ],
    )
  })

  test('$${ writes a literal ${ and is not substituted', () => {
    const { out, issues } = substitute('cost: $${PRICE} and ${PRICE}', { PRICE: '5' })
    assert.equal(out, 'cost: ${PRICE} and 5')
    assert.deepEqual(issues, [])
  })

  test('$${ does not need a set variable', () => {
    const { out, issues } = substitute('$${NOT_SET}', {})
    assert.equal(out, '${NOT_SET}')
    assert.deepEqual(issues, [])
  })

  test('a variable value is not substituted again', () => {
    assert.equal(substitute('${A}', { A: '${B}', B: 'no' }).out, '${B}')
  })

  test('strings without ${ and non-strings pass through unchanged', () => {
    const input = { a: 'plain $HOME', n: 5, b: true, nil: null, list: [1, 'x'] }
    const { out, issues } = substitute(input, {})
    assert.deepEqual(out, input)
    assert.deepEqual(issues, [])
  })

  test('a malformed reference is an issue, not literal text (a typo must not become an API key)', () => {
    for (const value of ['${1ABC}', '${A-B}', 'key=${KEY', '${UNSET-default} (bash, not ours)']) {
      const { issues } = substitute({ k: value }, { KEY: 'secret-value' })
      assert.equal(issues.length, 1, value)
      assert.match(issues[0]!.message, /malformed \$\{\.\.\.\} reference/)
      assert.doesNotMatch(issues[0]!.message, /secret-value/)
    }
    assert.equal(substitute('$${1ABC}', {}).out, '${1ABC}', '$${ still writes a literal')
  })

  test('arrays and nested tables are substituted, input untouched', () => {
    const input = { server: { listen: ['${H}:1', 'x:${P:-2}'] }, r: [{ up: { host: '${H}' } }] }
    const { out, issues } = substitute(input, { H: 'h' })
    assert.deepEqual(out, { server: { listen: ['h:1', 'x:2'] }, r: [{ up: { host: 'h' } }] })
    assert.deepEqual(issues, [])
    assert.equal(input.server.listen[0], '${H}:1')
  })

  test('the values of a parsed TOML document (null-prototype tables) are substituted', () => {
    const document = parseToml('[t]\nv = "${A}"\n[[r]]\nw = ["${A}"]\n')
    const { out, issues } = substitute(document, { A: 'a' })
    assert.deepEqual(JSON.parse(JSON.stringify(out)), { t: { v: 'a' }, r: [{ w: ['a'] }] })
    assert.deepEqual(issues, [])
  })

  test('a value from the environment cannot change the TOML structure', () => {
    // Substitution runs on the parsed tree: quotes and newlines in a value stay inside the string.
    const document = JSON.parse(JSON.stringify(parseToml('[m]\nbody = "${A}"\nstatus = 200\n')))
    const evil = '"\nstatus = 500\n[server]\naccess_log = false\n#'
    const { out } = substitute(document, { A: evil })
    assert.deepEqual(out, { m: { body: evil, status: 200 } })
  })
})

describe('parseConfigText with environment variables', () => {
  test('${VAR} in a route plugin value is replaced', () => {
    assert.equal(mockBody('hello ${NAME}', { NAME: 'world' }), 'hello world')
  })

  test('${VAR:-default} and an empty variable use the default', () => {
    assert.equal(mockBody('${UNSET:-d1}|${EMPTY:-d2}|${SET:-d3}', { EMPTY: '', SET: 's' }), 'd1|d2|s')
  })

  test('$${ is a literal ${', () => {
    assert.equal(mockBody('$${NOT_A_VAR}', {}), '${NOT_A_VAR}')
  })

  test('an unset variable fails the load, naming the variable, key path and line', () => {
    const secret = 'zz-secret-value-991'
    const text = `[[routes]]
uri = "/a"
[routes.plugins.mocking]
body = "ok"
[[routes]]
uri = "/b"
[routes.plugins.mocking]
headers = { x-key = "\${KNOWN}" }
body = "\${MISSING_TOKEN}"
`
    const result = load(text, { KNOWN: secret })
    assert.equal(result.ok, false)
    if (result.ok) return
    assert.equal(result.issues.length, 1)
    const issue = result.issues[0]!
    assert.equal(formatKeyPath(issue.path), 'routes[1].plugins.mocking.body')
    assert.equal(issue.line, 9)
    assert.match(issue.message, /\bMISSING_TOKEN\b/)
    const shown = formatIssue(issue)
    assert.ok(shown.startsWith('gateway.toml:9: routes[1].plugins.mocking.body: '), shown)
    assert.ok(!shown.includes(secret))
  })

  test('an env value with quotes and newlines cannot alter the TOML structure', () => {
    const evil = '"\nstatus = 500\n[server]\naccess_log = false\n#'
    const result = load('[[routes]]\nuri = "/a"\n[routes.plugins.mocking]\nbody = "${EVIL}"\n', {
      EVIL: evil,
    })
    if (!result.ok) assert.fail(result.issues.map(formatIssue).join('\n'))
    const mocking = result.config.routes[0]!.plugins.mocking as { body: string; status: number }
    assert.equal(mocking.body, evil)
    assert.equal(mocking.status, 200)
    assert.equal(result.config.server.access_log, true)
  })

  test('substitution reaches arrays and nested tables', () => {
    const text = `[server]
listen = ["\${BIND:-127.0.0.1}:\${PORT}", "[::1]:\${PORT}"]
[[routes]]
uri = "/a"
[routes.upstream]
nodes = { "backend:80" = 1 }
pass_host = "rewrite"
upstream_host = "\${UPSTREAM_HOST}"
[[routes]]
uri = "/b"
[routes.plugins.mocking]
json = { list = ["\${A}", { deep = "\${A}-\${A}" }] }
`
    const result = load(text, { PORT: '9999', UPSTREAM_HOST: 'svc.internal', A: 'x' })
    if (!result.ok) assert.fail(result.issues.map(formatIssue).join('\n'))
    assert.deepEqual(result.config.server.listen, ['127.0.0.1:9999', '[::1]:9999'])
    assert.equal(result.config.routes[0]!.upstream!.upstream_host, 'svc.internal')
    assert.deepEqual(JSON.parse(JSON.stringify(result.config.routes[1]!.plugins.mocking)).json, {
      list: ['x', { deep: 'x-x' }],
    })
  })

  test('env and schema errors are reported together, without repeating the env cause', () => {
    const text = `bogus = 1
[server]
listen = ["\${LISTEN_ADDR}"]
[[routes]]
uri = "/a"
[routes.plugins.mocking]
status = 99
`
    const result = load(text, {})
    assert.equal(result.ok, false)
    if (result.ok) return
    assert.deepEqual(result.issues.map(formatIssue).sort(), [
      'gateway.toml:1: bogus: unknown key',
      'gateway.toml:3: server.listen[0]: environment variable LISTEN_ADDR is not set (use ${LISTEN_ADDR:-default} for a default)',
      `gateway.toml:7: routes[0].plugins.mocking.status: ${
        result.issues.find((i) => formatKeyPath(i.path) === 'routes[0].plugins.mocking.status')?.message
      }`,
    ])
  })

  test('variables in comments are ignored (the shipped example mentions ${LAMBDA_API_KEY})', () => {
    const result = load('# key = "${NEVER_SET}"\n[server]\naccess_log = false\n', {})
    assert.equal(result.ok, true)
  })
})
