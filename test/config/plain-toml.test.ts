import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { parse } from 'smol-toml'
import { Memo } from '../../src/config/cache.ts'
import { readPlainRoute } from '../../src/config/plain-toml.ts'
import { splitRoutes } from '../../src/config/segments.ts'
import { mutate, prng, randomDocument } from './toml-fixtures.ts'

/** smol-toml's result with plain objects for tables, for deepStrictEqual. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain)
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
  }
  return value
}

function smol(text: string): unknown {
  try {
    return plain(parse(text))
  } catch {
    return undefined
  }
}

/** readPlainRoute's answer must be smol-toml's whenever it gives one. */
function assertAgrees(piece: string, memo = new Memo()): unknown {
  const read = readPlainRoute(piece, memo)
  if (read !== undefined) assert.deepStrictEqual(read, smol(piece), `for:\n${piece}`)
  return read
}

describe('readPlainRoute', () => {
  test('reads a typical route like smol-toml, scalars directly and other values through smol-toml', () => {
    const piece = `# comment
[[routes]]
id = "r-1"  # trailing comment
uri = '/api/*'
priority = -12
methods = ["GET", "POST"]
[routes.plugins.request-id]
[routes.plugins.mocking]
status = 201
body = "a \\"quoted\\" body"
headers = { x-a = "1", "x b" = "2" }
json = { list = [1, { deep = true }], n = 1.5 }
delay = 0
[routes.plugins]
[routes.upstream]
nodes = { "127.0.0.1:8080" = 1 }
tls.verify = false
`
    // `tls.verify` is a dotted key: left to smol-toml.
    assert.equal(readPlainRoute(piece, new Memo()), undefined)
    const read = assertAgrees(piece.replace('tls.verify = false', 'retries = 0'))
    assert.ok(read)
  })

  test('values other than plain scalars are remembered by their text', () => {
    const memo = new Memo()
    const a = readPlainRoute('[[routes]]\nmethods = ["GET"]\n', memo)!
    const b = readPlainRoute('[[routes]]\nmethods = ["GET"]\n', memo)!
    assert.equal(a.routes[0].methods, b.routes[0].methods)
    assert.deepEqual(memo.get('["GET"]'), ['GET'])
  })

  test('anything outside the plain subset is left to smol-toml', () => {
    const outside = [
      'uri = "/a"\n', // no [[routes]] header first
      '[[routes]]\n"quoted key" = 1\n',
      '[[routes]]\na.b = 1\n',
      '[[routes]]\nx = [\n1]\n',
      '[[routes]]\nx = """\nmulti\n"""\n',
      '[[routes]]\r\nx = 1\r\n',
      '[[routes]]\n[[routes.x]]\n',
      '[[routes]]\n[[routes]]\n',
      '[[routes]]\n[ routes.x ]\n',
      '[[routes]]\n[routes."x"]\n',
      '[[routes]]\n__proto__ = 1\n',
      '[[routes]]\nx = 1979-05-27\n',
      '[[routes]]\nx = {}\n[routes.x.y]\n',
    ]
    for (const piece of outside) assert.equal(readPlainRoute(piece, new Memo()), undefined, piece)
  })

  test('invalid TOML is never accepted', () => {
    const invalid = [
      '[[routes]]\nx = 1\nx = 2\n',
      '[[routes]]\n[routes.a]\n[routes.a]\n',
      '[[routes]]\na = 1\n[routes.a]\n',
      '[[routes]]\n[routes.a.b]\n[routes.a]\nb = 1\n',
      '[[routes]]\nx = "unterminated\n',
      '[[routes]]\nx = "a" "b"\n',
      '[[routes]]\nx = 007\n',
      '[[routes]]\nx = truex\n',
      '[[routes]]\nx =\n',
      '[[routes]]\nx = "tab\x01"\n',
      '[[routes]]\nx = 1 # bell \x07\n',
      '[[routes]] x = 1\n',
    ]
    for (const piece of invalid) {
      assert.equal(readPlainRoute(piece, new Memo()), undefined, JSON.stringify(piece))
      assert.equal(smol(piece), undefined, `smol-toml accepts ${JSON.stringify(piece)}`)
    }
  })

  test('random and randomly broken routes: whenever it answers, smol-toml agrees', () => {
    const random = prng(0xbeef)
    let answered = 0
    for (let round = 0; round < 1500; round++) {
      const split = splitRoutes(mutate(randomDocument(random), random, round % 3))
      for (const piece of split?.routes ?? []) if (assertAgrees(piece) !== undefined) answered++
    }
    assert.ok(answered > 300, `only ${answered} pieces were read`)
  })
})
