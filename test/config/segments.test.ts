import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parse } from 'smol-toml'
import { type RouteSplit, splitRoutes } from '../../src/config/segments.ts'
import { mutate, prng, randomDocument } from './toml-fixtures.ts'

const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

/** smol-toml's result with plain objects for tables, for deepStrictEqual. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain)
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
  }
  return value
}

function tryParse(text: string): Record<string, unknown> | undefined {
  try {
    return parse(text)
  } catch {
    return undefined
  }
}

/**
 * What the incremental loader relies on: the rest parses to the document without `routes`, each
 * piece to `{ routes: [that route] }`; and when the whole text does not parse, some piece does not.
 */
function assertFaithful(text: string, split: RouteSplit): void {
  assert.equal([split.rest, ...split.routes].join('').length, text.length, 'pieces cover the text')
  const whole = tryParse(text)
  const rest = tryParse(split.rest)
  const pieces = split.routes.map(tryParse)
  const piecesOk = rest !== undefined && !('routes' in rest) && pieces.every((p) => p !== undefined)
  const shapesOk =
    piecesOk &&
    pieces.every((p) => Object.keys(p!).length === 1 && Array.isArray(p!.routes) && p!.routes.length === 1)
  if (whole === undefined) {
    assert.ok(!shapesOk, 'an invalid document must not come apart into valid pieces')
    return
  }
  assert.ok(shapesOk, 'a valid document comes apart into valid pieces')
  const { routes, ...others } = plain(whole) as { routes: unknown[] }
  assert.deepStrictEqual(plain(rest), others)
  assert.deepStrictEqual(
    pieces.map((p) => plain((p as { routes: unknown[] }).routes[0])),
    routes,
  )
}

describe('splitRoutes', () => {
  test('the shipped gateway.toml: the rest and one piece per route, comments above a route go with it', () => {
    const text = readFileSync(join(repoRoot, 'gateway.toml'), 'utf8')
    const split = splitRoutes(text)
    assert.ok(split)
    assert.equal(split.routes.length, 3)
    assert.match(split.rest, /^\[server\]$/m)
    assert.match(split.rest, /^\[plugins\.request-id\]$/m)
    assert.ok(split.routes[0]!.trimStart().startsWith('# GET /hello'), split.routes[0])
    assert.match(split.routes[1]!, /\[routes\.upstream\]/)
    assertFaithful(text, split)
  })

  test('root tables after the routes go to the rest', () => {
    const text = `[[routes]]
uri = "/a"
[routes.plugins.mocking]
body = "a"

[plugin_metadata.azure-functions]
master_apikey = "k"

[[routes]]
uri = "/b"
[routes.upstream]
nodes = { "a:1" = 1 }
[server]
access_log = false
`
    const split = splitRoutes(text)
    assert.ok(split)
    assert.equal(split.routes.length, 2)
    assert.match(split.rest, /plugin_metadata/)
    assert.match(split.rest, /\[server\]/)
    assertFaithful(text, split)
  })

  test('headers inside multi-line strings and arrays are not split points', () => {
    const text = `[[routes]]
uri = "/a"
[routes.plugins.mocking]
body = """
[[routes]]
uri = "/not-a-route"
\\"""
[server]
"""
headers = { x-a = "1" }
[[routes]]
uri = '''/b'''
methods = [
  "GET", # [[routes]]
  "POST",
]
[routes.plugins.mocking]
body = '''
[[routes]]
'''
json = [
[1],
[2]
]
`
    const split = splitRoutes(text)
    assert.ok(split)
    assert.equal(split.routes.length, 2)
    assertFaithful(text, split)
  })

  test('CRLF line ends, indentation, spaced and quoted header keys', () => {
    const text =
      '[server]\r\naccess_log = false\r\n  [[ routes ]]  # first\r\nuri = "/a"\r\n[ routes . upstream ]\r\nnodes = { "a:1" = 1 }\r\n[["routes"]]\r\nuri = "/b"\r\n["routes".plugins.echo]\r\n'
    const split = splitRoutes(text)
    assert.ok(split)
    assert.equal(split.routes.length, 2)
    assertFaithful(text, split)
  })

  test('layouts it does not handle are left to the whole-file parse', () => {
    assert.equal(splitRoutes(''), undefined, 'no routes')
    assert.equal(splitRoutes('[server]\n'), undefined, 'no routes')
    assert.equal(splitRoutes('[routes]\nx = 1\n'), undefined, '[routes] is not an array of tables')
    assert.equal(
      splitRoutes('[[routes]]\nuri = "/a"\n[server]\n[routes.upstream]\n'),
      undefined,
      'a route table after another root table',
    )
    assert.equal(splitRoutes('[routes.upstream]\n[[routes]]\n'), undefined, 'a route table before any route')
    assert.equal(splitRoutes('[[routes]]\nuri = "/a\n'), undefined, 'a string that does not end')
    assert.equal(splitRoutes('[[routes]]\nx = [1\n'), undefined, 'an array that does not end')
    assert.equal(splitRoutes('[[routes]]\nx = 1]\n'), undefined, 'a bracket that closes nothing')
    assert.equal(splitRoutes('[[routes]]\n["rou\\u0074es".x]\n'), undefined, 'escapes in header keys')
  })

  test('random documents: the pieces always say what the whole document says', () => {
    const random = prng(0x5eed)
    for (let round = 0; round < 1500; round++) {
      const text = mutate(randomDocument(random), random, round % 3)
      const split = splitRoutes(text)
      if (split) assertFaithful(text, split)
    }
  })
})
