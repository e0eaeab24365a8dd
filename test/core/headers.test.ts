/**
 * Header hygiene for outbound requests built from a server's raw header list
 * (src/core/headers.ts: `endToEndRequestFromRaw`, `endToEndFromRaw`).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  endToEndFromRaw,
  endToEndRecord,
  endToEndRequestFromRaw,
  HOP_BY_HOP_HEADERS,
  hopByHopFilter,
} from '../../src/core/headers.ts'

describe('endToEndRequestFromRaw', () => {
  test('lower-cases names, drops pseudo-headers, hop-by-hop ones and what Connection names', () => {
    const out = endToEndRequestFromRaw([
      ':method',
      'GET',
      ':path',
      '/x',
      'Host',
      'example.test',
      'Connection',
      'keep-alive, X-Secret',
      'connection',
      'X-Other',
      'X-Secret',
      's',
      'x-other',
      'o',
      'TE',
      'trailers',
      'Transfer-Encoding',
      'chunked',
      'Accept',
      'text/plain',
    ])
    assert.deepEqual({ ...out }, { host: 'example.test', accept: 'text/plain' })
  })

  test('joins repeats with ", " and cookies with "; "', () => {
    const out = endToEndRequestFromRaw(['Cookie', 'a=1', 'x-m', 'one', 'cookie', 'b=2', 'X-M', 'two'])
    assert.deepEqual({ ...out }, { cookie: 'a=1; b=2', 'x-m': 'one, two' })
  })

  test('leaves out the names in drop, and treats __proto__ as a plain header', () => {
    const out = endToEndRequestFromRaw(
      ['X-Api-Key', 'k', '__proto__', 'p', 'Accept', '*/*'],
      new Set(['x-api-key']),
    )
    assert.equal(out['x-api-key'], undefined)
    assert.equal(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, 'p')
    assert.equal(out.accept, '*/*')
  })
})

describe('header records', () => {
  test('from a Headers object too, __proto__ is a plain header', () => {
    const out = endToEndRecord(
      new Headers([
        ['__proto__', 'p'],
        ['Accept', '*/*'],
        ['Connection', 'close'],
      ]),
    )
    assert.equal(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, 'p')
    assert.deepEqual(Object.keys(out).sort(), ['__proto__', 'accept'])
  })

  test('inherit nothing: names of Object.prototype members are plain headers, and pollution does not show', () => {
    const proto = Object.prototype as Record<string, unknown>
    proto.polluted = 'yes'
    try {
      const request = endToEndRequestFromRaw(['Constructor', 'c', 'toString', 't', 'Accept', '*/*'])
      const response = endToEndFromRaw(['constructor', 'a', 'Constructor', 'b', 'hasOwnProperty', 'h'])
      for (const record of [request, response]) {
        assert.equal('polluted' in record, false)
        const names: string[] = []
        for (const name in record) names.push(name)
        assert.deepEqual(names, Object.keys(record))
      }
      assert.equal(request.constructor, 'c')
      assert.equal(request.tostring, 't')
      assert.equal((response as Record<string, string>).constructor, 'a, b')
      assert.equal((response as Record<string, string>).hasownproperty, 'h')
    } finally {
      delete proto.polluted
    }
  })
})

describe('endToEndFromRaw', () => {
  test('a Connection value passed in filters as the one found in the list', () => {
    const raw = ['Connection', 'X-Hop', 'X-Hop', 'h', 'X-End', 'e']
    assert.deepEqual({ ...endToEndFromRaw(raw) }, { 'x-end': 'e' })
    assert.deepEqual({ ...endToEndFromRaw(raw, 'X-Hop') }, { 'x-end': 'e' })
  })
})

describe('hopByHopFilter', () => {
  test('without a Connection value it drops exactly the fixed list (the length switch agrees with it)', () => {
    const isHop = hopByHopFilter(null)
    for (const name of HOP_BY_HOP_HEADERS) assert.equal(isHop(name), true, name)
    // Names of the same lengths as listed ones, and the usual response headers.
    const others = HOP_BY_HOP_HEADERS.flatMap((name) => [`${name.slice(0, -1)}x`, `x${name.slice(1)}`])
    others.push('content-length', 'content-type', 'server', 'date', 'x-request-id', 'set-cookie', 'trailers')
    for (const name of others) assert.equal(isHop(name), false, name)
  })

  test('a Connection value adds the names it lists, not only the fixed ones', () => {
    const isHop = hopByHopFilter('Keep-Alive, X-Private')
    assert.equal(isHop('x-private'), true)
    assert.equal(isHop('te'), true)
    assert.equal(isHop('x-public'), false)
  })
})
