/**
 * Unit tests for the pooled socket client's HTTP/1.1 wire format (src/adapters/socket-client/http1.ts).
 * The module has no socket code and must stay runtime-agnostic, so it is tested under plain Node.
 * The client on top of it (client.ts) is exercised end to end on every runtime by test/e2e.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  bodyDecoder,
  chunkFrame,
  type Framing,
  HeaderLineMemo,
  LAST_CHUNK,
  MAX_HEAD_BYTES,
  ProtocolError,
  parseResponseHead,
  requestHead,
} from '../../src/adapters/socket-client/http1.ts'

const enc = new TextEncoder()
const bytes = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0))
const latin1 = (data: Uint8Array): string => Buffer.from(data).toString('latin1')

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.byteLength
  }
  return out
}

const emptyStream = (): ReadableStream<Uint8Array> => new ReadableStream<Uint8Array>()

/** Splits a request head into its request line and header fields (in order), checking the CRLF framing. */
function splitHead(head: string): { line: string; fields: [string, string][] } {
  assert.ok(head.endsWith('\r\n\r\n'), 'head ends with CRLFCRLF')
  const [line, ...rest] = head.slice(0, -4).split('\r\n')
  const fields = rest.map((field): [string, string] => {
    const at = field.indexOf(': ')
    assert.ok(at > 0, `field line ${JSON.stringify(field)}`)
    return [field.slice(0, at), field.slice(at + 2)]
  })
  return { line: line as string, fields }
}

const fieldValues = (head: string, name: string): string[] =>
  splitHead(head)
    .fields.filter(([n]) => n === name)
    .map(([, v]) => v)

const isProtocolError = (error: unknown): boolean => error instanceof ProtocolError

/** Feeds `pieces` to a decoder until it reports the body's end, as the socket client does. */
function decode(
  framing: Framing,
  pieces: readonly Uint8Array[],
): { body: string; chunks: number[]; consumed: number; ended: boolean } {
  const chunks: Uint8Array[] = []
  const decoder = bodyDecoder(framing, (b) => chunks.push(b.slice()))
  let offset = 0
  let consumed = -1
  for (const piece of pieces) {
    const used = decoder.push(piece)
    if (used >= 0) {
      assert.ok(used <= piece.byteLength, 'cannot use more than it was given')
      consumed = offset + used
      break
    }
    offset += piece.byteLength
  }
  return {
    body: latin1(concat(...chunks)),
    chunks: chunks.map((c) => c.byteLength),
    consumed,
    ended: decoder.end(),
  }
}

const oneByteAtATime = (data: Uint8Array): Uint8Array[] =>
  Array.from({ length: data.byteLength }, (_, i) => data.subarray(i, i + 1))

// ---------------------------------------------------------------------------------------------

describe('requestHead: request line and headers', () => {
  test('serializes the request line, headers in order, then its own Connection header', () => {
    const { head, chunked, declaredLength } = requestHead(
      'GET',
      '/p/a?q=1&r=%20',
      { host: 'example.com', 'x-a': '1', accept: '*/*' },
      null,
      true,
    )
    assert.equal(
      head,
      'GET /p/a?q=1&r=%20 HTTP/1.1\r\nhost: example.com\r\nx-a: 1\r\naccept: */*\r\nconnection: keep-alive\r\n\r\n',
    )
    assert.equal(chunked, false)
    assert.equal(declaredLength, -1)
  })

  test('keepAlive picks connection: keep-alive or close, and the client Connection/Keep-Alive never cross', () => {
    const headers = { host: 'h', connection: 'upgrade, x-private', 'keep-alive': 'timeout=5', 'x-b': '2' }
    const open = requestHead('GET', '/', headers, null, true).head
    const closed = requestHead('GET', '/', headers, null, false).head
    assert.deepEqual(fieldValues(open, 'connection'), ['keep-alive'])
    assert.deepEqual(fieldValues(closed, 'connection'), ['close'])
    for (const head of [open, closed]) {
      assert.deepEqual(fieldValues(head, 'keep-alive'), [])
      assert.deepEqual(fieldValues(head, 'x-b'), ['2'])
      assert.equal(head.indexOf('\r\n\r\n'), head.length - 4, 'one blank line, at the end')
    }
  })

  test('header values may carry HTAB, inner spaces and latin1 (obs-text) bytes', () => {
    const { head } = requestHead('GET', '/', { 'x-t': 'a\tb c', 'x-l': 'caf\u00e9' }, null, true)
    assert.deepEqual(fieldValues(head, 'x-t'), ['a\tb c'])
    assert.deepEqual(fieldValues(head, 'x-l'), ['caf\u00e9'])
  })

  test('accepts any token method and an origin-form or asterisk target', () => {
    assert.ok(requestHead('PATCH', '/x', {}, null, true).head.startsWith('PATCH /x HTTP/1.1\r\n'))
    assert.ok(requestHead('M-SEARCH', '*', {}, null, true).head.startsWith('M-SEARCH * HTTP/1.1\r\n'))
  })

  test('rejects a method that is not a token (CR/LF, space, empty)', () => {
    for (const method of ['GET\r\nX-Evil: 1\r\n', 'GET\n', 'GE T', '', 'GET\0', 'G(E)T']) {
      assert.throws(() => requestHead(method, '/', {}, null, true), isProtocolError, JSON.stringify(method))
    }
  })

  test('rejects a path with CR, LF, whitespace or NUL, and an empty path', () => {
    for (const path of [
      '/a\r\nX-Evil: 1',
      '/a\rb',
      '/a\nb',
      '/a b',
      '/a\tb',
      '/a\0b',
      '/ HTTP/1.1\r\nHost: evil\r\n\r\nGET /',
      '',
    ]) {
      assert.throws(() => requestHead('GET', path, {}, null, true), isProtocolError, JSON.stringify(path))
    }
  })

  test('rejects a path with characters above latin1 (they would be truncated to CR/LF on the wire)', {}, () => {
    const path = '/a\u010d\u010aX-Evil:1'
    // What the socket client would write if this were accepted:
    assert.equal(Buffer.from(path, 'latin1').toString('latin1'), '/a\r\nX-Evil:1')
    assert.throws(() => requestHead('GET', path, { host: 'h' }, null, true), isProtocolError)
  })

  test('rejects header names that are not tokens', () => {
    for (const name of ['x\r\ny', 'x\ny', 'x y', 'x:y', '', 'x\0', 'caf\u00e9']) {
      assert.throws(
        () => requestHead('GET', '/', { [name]: 'v' }, null, true),
        isProtocolError,
        JSON.stringify(name),
      )
    }
  })

  test('rejects header values with CR, LF, NUL, other controls, DEL or characters above latin1', () => {
    for (const value of [
      'a\r\nx-evil: 1',
      'a\rb',
      'a\nb',
      'a\0b',
      'a\x01b',
      'a\x7fb',
      'a\u010ab',
      'a\u2028b',
      '\r\n',
    ]) {
      assert.throws(
        () => requestHead('GET', '/', { 'x-v': value }, null, true),
        isProtocolError,
        JSON.stringify(value),
      )
    }
  })

  test('a Content-Length value with CR/LF is never written raw (the stream goes chunked)', () => {
    const { head, chunked } = requestHead(
      'POST',
      '/',
      { 'content-length': '5\r\nx-evil: 1' },
      emptyStream(),
      true,
    )
    assert.equal(chunked, true)
    assert.ok(!head.includes('evil'))
    assert.deepEqual(fieldValues(head, 'content-length'), [])
  })
})

describe('requestHead: body framing (as framedHeaders in the Node client)', () => {
  test('no body: no Content-Length and no Transfer-Encoding, even when the client declared them', () => {
    const { head, chunked, declaredLength } = requestHead(
      'GET',
      '/',
      { host: 'h', 'content-length': '5', 'transfer-encoding': 'chunked' },
      null,
      true,
    )
    assert.deepEqual(fieldValues(head, 'content-length'), [])
    assert.deepEqual(fieldValues(head, 'transfer-encoding'), [])
    assert.equal(chunked, false)
    assert.equal(declaredLength, -1)
  })

  test('bytes: their exact length, whatever the client declared, never chunked', () => {
    const { head, chunked, declaredLength } = requestHead(
      'POST',
      '/',
      { 'content-length': '999', 'transfer-encoding': 'chunked' },
      enc.encode('héllo'),
      true,
    )
    assert.deepEqual(fieldValues(head, 'content-length'), ['6'])
    assert.deepEqual(fieldValues(head, 'transfer-encoding'), [])
    assert.equal(chunked, false)
    assert.equal(declaredLength, -1)
  })

  test('no body on a method that defines one (POST, PUT, PATCH) or declared 0: content-length: 0', () => {
    for (const method of ['POST', 'PUT', 'PATCH']) {
      assert.deepEqual(fieldValues(requestHead(method, '/', {}, null, true).head, 'content-length'), ['0'])
    }
    const declared = requestHead('DELETE', '/', { 'content-length': '0' }, null, true).head
    assert.deepEqual(fieldValues(declared, 'content-length'), ['0'])
    for (const method of ['GET', 'DELETE', 'OPTIONS']) {
      assert.deepEqual(fieldValues(requestHead(method, '/', {}, null, true).head, 'content-length'), [])
    }
  })

  test('empty bytes: content-length: 0', () => {
    const { head } = requestHead('POST', '/', {}, new Uint8Array(0), true)
    assert.deepEqual(fieldValues(head, 'content-length'), ['0'])
  })

  test('bytes that are a view into a larger buffer: the view length', () => {
    const view = new Uint8Array(100).subarray(10, 17)
    assert.deepEqual(fieldValues(requestHead('PUT', '/', {}, view, true).head, 'content-length'), ['7'])
  })

  test('a stream without a declared length: transfer-encoding: chunked (the client TE dropped)', () => {
    const { head, chunked, declaredLength } = requestHead(
      'DELETE',
      '/',
      { 'transfer-encoding': 'gzip, chunked' },
      emptyStream(),
      true,
    )
    assert.deepEqual(fieldValues(head, 'transfer-encoding'), ['chunked'])
    assert.deepEqual(fieldValues(head, 'content-length'), [])
    assert.equal(chunked, true)
    assert.equal(declaredLength, -1)
  })

  test('a stream with a declared length: that length, not chunked', () => {
    for (const [declared, expected] of [
      ['42', 42],
      [' 42 ', 42],
      ['0', 0],
      ['999999999999999', 999999999999999],
    ] as const) {
      const { head, chunked, declaredLength } = requestHead(
        'POST',
        '/',
        { 'content-length': declared, 'transfer-encoding': 'chunked' },
        emptyStream(),
        false,
      )
      assert.deepEqual(fieldValues(head, 'content-length'), [String(expected)], declared)
      assert.deepEqual(fieldValues(head, 'transfer-encoding'), [], declared)
      assert.equal(chunked, false)
      assert.equal(declaredLength, expected)
    }
  })

  test('a stream with an unusable declared length falls back to chunked', () => {
    for (const declared of ['', 'abc', '-1', '4x', '1e3', '5, 5', '0x10', '1234567890123456']) {
      const { head, chunked, declaredLength } = requestHead(
        'POST',
        '/',
        { 'content-length': declared },
        emptyStream(),
        true,
      )
      assert.equal(chunked, true, JSON.stringify(declared))
      assert.equal(declaredLength, -1)
      assert.deepEqual(fieldValues(head, 'transfer-encoding'), ['chunked'])
      assert.deepEqual(fieldValues(head, 'content-length'), [])
    }
  })

  test('exactly one framing header and one Connection header in every case', () => {
    const bodies = [null, enc.encode('abc'), emptyStream()]
    const declared: Record<string, string>[] = [
      {},
      { 'content-length': '3' },
      { 'transfer-encoding': 'chunked', connection: 'close' },
    ]
    for (const body of bodies) {
      for (const headers of declared) {
        for (const keepAlive of [true, false]) {
          const { fields } = splitHead(requestHead('POST', '/', headers, body, keepAlive).head)
          const framing = fields.filter(([n]) => n === 'content-length' || n === 'transfer-encoding')
          // A POST without a body still says so: content-length: 0.
          assert.deepEqual(framing.length, 1)
          if (body === null) assert.deepEqual(framing[0], ['content-length', '0'])
          assert.equal(fields.filter(([n]) => n === 'connection').length, 1)
        }
      }
    }
  })
})

describe('chunkFrame and LAST_CHUNK', () => {
  test('LAST_CHUNK is "0\\r\\n\\r\\n"', () => {
    assert.equal(latin1(LAST_CHUNK), '0\r\n\r\n')
  })

  test('a frame is lower-case hex size, CRLF, the data, CRLF', () => {
    assert.equal(latin1(chunkFrame(bytes('abc'))), '3\r\nabc\r\n')
    const big = new Uint8Array(255).fill(0x61)
    assert.equal(latin1(chunkFrame(big)), `ff\r\n${'a'.repeat(255)}\r\n`)
    const page = new Uint8Array(4096).fill(0x62)
    assert.equal(latin1(chunkFrame(page)), `1000\r\n${'b'.repeat(4096)}\r\n`)
    assert.equal(chunkFrame(new Uint8Array(0x10000)).byteLength, '10000\r\n'.length + 0x10000 + 2)
  })

  test('binary data (CR, LF, NUL, 0xff) is copied as is', () => {
    const data = new Uint8Array([13, 10, 0, 255, 48, 13, 10, 13, 10])
    assert.deepEqual(chunkFrame(data), concat(bytes('9\r\n'), data, bytes('\r\n')))
  })

  test('a view with an offset frames only the viewed bytes', () => {
    const backing = bytes('xxhelloyy')
    assert.equal(latin1(chunkFrame(backing.subarray(2, 7))), '5\r\nhello\r\n')
  })

  test('an empty frame is the last chunk: callers must skip empty reads (the socket client does)', () => {
    assert.deepEqual(chunkFrame(new Uint8Array(0)), LAST_CHUNK)
  })

  test('frames plus LAST_CHUNK decode back to the original body', () => {
    const parts = ['Hello, ', 'chunked ', 'world', '\r\n0\r\n\r\n', 'x'.repeat(300)].map(bytes)
    const wire = concat(...parts.map(chunkFrame), LAST_CHUNK)
    const { body, consumed, ended } = decode({ kind: 'chunked' }, [wire])
    assert.equal(body, parts.map(latin1).join(''))
    assert.equal(consumed, wire.byteLength)
    assert.equal(ended, true)
  })
})

describe('parseResponseHead: status line', () => {
  test('HTTP/1.1 and HTTP/1.0, with, without and with an empty reason phrase', () => {
    const cases: [string, number, string][] = [
      ['HTTP/1.1 200 OK', 200, 'OK'],
      ['HTTP/1.0 404 Not Found', 404, 'Not Found'],
      ['HTTP/1.1 204', 204, ''],
      ['HTTP/1.1 500 ', 500, ''],
      ['HTTP/1.1 418 I\u2019m a teapot'.replace('\u2019', "'"), 418, "I'm a teapot"],
      ['HTTP/1.1 299 caf\u00e9  two  spaces', 299, 'caf\u00e9  two  spaces'],
    ]
    for (const [line, status, statusText] of cases) {
      const head = parseResponseHead(`${line}\r\ncontent-length: 0`, 'GET')
      assert.equal(head.status, status, line)
      assert.equal(head.statusText, statusText, line)
    }
  })

  test('rejects malformed status lines', () => {
    for (const line of [
      '',
      'HTTP/1.1',
      'HTTP/1.1 ',
      'HTTP/1.1 20 OK',
      'HTTP/1.1 2000 OK',
      'HTTP/1.1 abc OK',
      'HTTP/1.1  200 OK',
      'HTTP/1.1 200\tOK',
      'HTTP/2 200 OK',
      'HTTP/2.0 200 OK',
      'HTTP/1.2 200 OK',
      'http/1.1 200 OK',
      'HTTP/1.1 200 OK\n',
      ' HTTP/1.1 200 OK',
      'ICY 200 OK',
    ]) {
      assert.throws(() => parseResponseHead(line, 'GET'), isProtocolError, JSON.stringify(line))
    }
  })
})

describe('parseResponseHead: headers', () => {
  test('names are lower-cased, values trimmed of surrounding whitespace, empty values kept', () => {
    const { headers } = parseResponseHead(
      'HTTP/1.1 200 OK\r\nContent-Type:   text/plain  \r\nX-Empty:\r\nX-Tab:\tv\t\r\nContent-Length: 0',
      'GET',
    )
    assert.deepEqual(
      { ...headers },
      {
        'content-type': 'text/plain',
        'x-empty': '',
        'x-tab': 'v',
        'content-length': '0',
      },
    )
  })

  test('values keep their case, Latin-1 letters included, while names are lower-cased', () => {
    // Names are cut from a lower-cased copy of the head, values from the head itself.
    const { headers } = parseResponseHead(
      'HTTP/1.1 200 OK\r\nX-Name: \u00c4BC def \u00de\r\nLOCATION: /A/B?C=D\r\nContent-Length: 0',
      'GET',
    )
    assert.deepEqual(
      { ...headers },
      { 'x-name': '\u00c4BC def \u00de', location: '/A/B?C=D', 'content-length': '0' },
    )
  })

  test('only spaces and tabs count as whitespace around a value: other bytes stay, or are refused', () => {
    const { headers } = parseResponseHead(
      'HTTP/1.1 200 OK\r\nX-Nbsp: \u00a0v\u00a0\r\nContent-Length: 0',
      'GET',
    )
    assert.equal((headers as Record<string, string>)['x-nbsp'], '\u00a0v\u00a0')
    for (const edge of ['\u000b', '\u000c', '\r', '\u0000']) {
      assert.throws(
        () => parseResponseHead(`HTTP/1.1 200 OK\r\nX-Odd: ${edge}v\r\nContent-Length: 0`, 'GET'),
        isProtocolError,
        JSON.stringify(edge),
      )
    }
  })

  test('Content-Length: repeats of one value are that value; other whitespace or values are refused', () => {
    const length = (value: string) => {
      const { framing } = parseResponseHead(`HTTP/1.1 200 OK\r\nContent-Length: ${value}`, 'GET')
      return framing.kind === 'length' ? framing.length : framing.kind
    }
    assert.equal(length('5'), 5)
    assert.equal(length('5, 5'), 5)
    assert.equal(length('5,\t5'), 5)
    for (const bad of ['\u00a05', '5\u00a0, 5', '5, 6', '+5', '5,', '-1', '0x5']) {
      assert.throws(() => length(bad), isProtocolError, JSON.stringify(bad))
    }
  })

  test('Connection decides reuse: HTTP/1.1 unless close, HTTP/1.0 only with keep-alive', () => {
    const cases: [string, string | undefined, boolean][] = [
      ['1', undefined, true],
      ['1', 'keep-alive', true],
      ['1', 'close', false],
      ['1', 'Upgrade, Close', false],
      ['1', 'x-closed', true],
      ['0', undefined, false],
      ['0', 'Keep-Alive', true],
      ['0', 'x-custom, keep-alive', true],
      ['0', 'close', false],
    ]
    for (const [minor, connection, reuse] of cases) {
      const line = connection === undefined ? '' : `\r\nConnection: ${connection}`
      const head = parseResponseHead(`HTTP/1.${minor} 200 OK${line}\r\nContent-Length: 0`, 'GET')
      assert.equal(head.keepAlive, reuse, `HTTP/1.${minor} ${connection}`)
    }
  })

  test('repeated headers are joined with ", " in order (names compared case-insensitively)', () => {
    const { headers } = parseResponseHead(
      'HTTP/1.1 200 OK\r\nVary: accept\r\nx-a: 1\r\nVARY: origin\r\nvary: cookie\r\ncontent-length: 0',
      'GET',
    )
    assert.deepEqual({ ...headers }, { vary: 'accept, origin, cookie', 'x-a': '1', 'content-length': '0' })
  })

  test('Set-Cookie is never joined: the pairs form, other headers first, cookies in order', () => {
    const { headers } = parseResponseHead(
      'HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT\r\nx-a: 1\r\nset-cookie: b=2\r\nX-A: 2\r\ncontent-length: 0',
      'GET',
    )
    assert.deepEqual(headers, [
      ['x-a', '1, 2'],
      ['content-length', '0'],
      ['set-cookie', 'a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT'],
      ['set-cookie', 'b=2'],
    ])
  })

  test('a single Set-Cookie also uses the pairs form (as the Node client)', () => {
    const { headers } = parseResponseHead('HTTP/1.1 200 OK\r\nset-cookie: a=1\r\ncontent-length: 0', 'GET')
    assert.deepEqual(headers, [
      ['content-length', '0'],
      ['set-cookie', 'a=1'],
    ])
  })

  test('hop-by-hop headers are removed; Content-Length is kept', () => {
    const { headers } = parseResponseHead(
      [
        'HTTP/1.1 200 OK',
        'Connection: keep-alive',
        'Keep-Alive: timeout=5',
        'Proxy-Connection: keep-alive',
        'TE: trailers',
        'Trailer: x-checksum',
        'Upgrade: h2c',
        'Proxy-Authenticate: Basic',
        'Proxy-Authorization: Basic Zm9v',
        'HTTP2-Settings: AAMAAABkAAQAAP__',
        'Content-Length: 2',
        'X-Kept: yes',
      ].join('\r\n'),
      'GET',
    )
    assert.deepEqual({ ...headers }, { 'content-length': '2', 'x-kept': 'yes' })
  })

  test('Transfer-Encoding is removed from the forwarded headers', () => {
    const { headers, framing } = parseResponseHead(
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nx-a: 1',
      'GET',
    )
    assert.deepEqual({ ...headers }, { 'x-a': '1' })
    assert.deepEqual(framing, { kind: 'chunked' })
  })

  test('headers named in Connection are removed, from every Connection header, case-insensitively', () => {
    const { headers, keepAlive } = parseResponseHead(
      [
        'HTTP/1.1 200 OK',
        'Connection: X-Private ,  x-other',
        'x-private: 1',
        'X-Other: 2',
        'connection: x-third',
        'x-third: 3',
        'x-public: 4',
        'content-length: 0',
      ].join('\r\n'),
      'GET',
    )
    assert.deepEqual({ ...headers }, { 'x-public': '4', 'content-length': '0' })
    assert.equal(keepAlive, true)
  })

  test('rejects obs-fold continuation lines', () => {
    for (const text of [
      'HTTP/1.1 200 OK\r\nx-a: 1\r\n continued',
      'HTTP/1.1 200 OK\r\nx-a: 1\r\n\tcontinued',
      'HTTP/1.1 200 OK\r\nx-a: 1\r\n x-b: 2',
    ]) {
      assert.throws(() => parseResponseHead(text, 'GET'), isProtocolError, JSON.stringify(text))
    }
  })

  test('rejects malformed header lines, names and values', () => {
    for (const line of [
      'no colon here',
      ': empty name',
      'x-a : space before colon',
      'x a: space in name',
      'x\0a: nul in name',
      'caf\u00e9: non-token name',
      'x-a: bare\nLF',
      'x-a: bare\rCR',
      'x-a: nul\0byte',
      'x-a: control\x01byte',
      'x-a: del\x7fbyte',
      '',
    ]) {
      const text = `HTTP/1.1 200 OK\r\ncontent-length: 0\r\n${line}`
      assert.throws(() => parseResponseHead(text, 'GET'), isProtocolError, JSON.stringify(line))
    }
  })

  test('latin1 (obs-text) values are accepted as is', () => {
    const { headers } = parseResponseHead(
      'HTTP/1.1 200 OK\r\nx-a: caf\u00e9\u00ff\r\ncontent-length: 0',
      'GET',
    )
    assert.deepEqual({ ...headers }, { 'x-a': 'caf\u00e9\u00ff', 'content-length': '0' })
  })

  test('header names that are Object.prototype properties are forwarded as sent', {}, () => {
    const { headers } = parseResponseHead(
      'HTTP/1.1 200 OK\r\nConstructor: a\r\n__proto__: b\r\ncontent-length: 0',
      'GET',
    )
    assert.deepEqual(Object.entries(headers), [
      ['constructor', 'a'],
      ['__proto__', 'b'],
      ['content-length', '0'],
    ])
  })

  test('MAX_HEAD_BYTES is 64 KiB and the parser itself takes a head of that size (the socket client caps it)', () => {
    assert.equal(MAX_HEAD_BYTES, 64 * 1024)
    const prefix = 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\nx-big: '
    const text = prefix + 'v'.repeat(MAX_HEAD_BYTES - prefix.length)
    assert.equal(text.length, MAX_HEAD_BYTES)
    const { headers } = parseResponseHead(text, 'GET')
    assert.equal((headers as Record<string, string>)['x-big']?.length, MAX_HEAD_BYTES - prefix.length)
  })
})

describe('parseResponseHead with a HeaderLineMemo (the previous head of a connection)', () => {
  /** Everything a caller reads from a parsed head, in plain values. */
  const outcome = (text: string, memo?: HeaderLineMemo) => {
    try {
      const head = parseResponseHead(text, 'GET', memo)
      const headers = Array.isArray(head.headers) ? head.headers : Object.entries(head.headers)
      return { status: head.status, headers, framing: head.framing, keepAlive: head.keepAlive }
    } catch (error) {
      return { error: (error as Error).message }
    }
  }

  test('every head of a sequence parses as it would alone: changed, added, dropped, malformed lines', () => {
    const base = ['Server: nginx', 'Date: Sat, 05 Dec 2026 22:48:54 GMT', 'Content-Length: 3']
    const heads = [
      base,
      base,
      ['Server: nginx', 'Date: Sat, 05 Dec 2026 22:48:55 GMT', 'Content-Length: 3'], // a new second
      ['Server: nginx', 'Date: Sat, 05 Dec 2026 22:48:55 GMT', 'Content-Length: 30'],
      ['Server: nginx', 'Date: Sat, 05 Dec 2026 22:48:55 GMT', 'Content-Length: 3', 'Connection: close'],
      ['Server: nginx', 'Date: Sat, 05 Dec 2026 22:48:55 GMT', 'Content-Length: 3', 'Connection: CLOSE'],
      ['Server: nginx', 'Date: Sat, 05 Dec 2026 22:48:55 GMT', 'Content-Length: 3', 'Connection: x-a'],
      ['Server: nginx', 'X-A: 1', 'Content-Length: 3'],
      // Same length as the memo's line at that place, different text: parsed, and refused.
      ['Server: nginx', 'X-A:\u00001', 'Content-Length: 3'],
      ['Server: nginx', 'X-A: 1', 'Content-Length: 3'],
      ['Transfer-Encoding: chunked', 'X-A: 1', 'Content-Length: 3'], // both framings
      ['Server: nginx'], // fewer lines than before
      ['Server: nginx', 'Set-Cookie: a=1', 'Set-Cookie: b=2', 'Content-Length: 3'],
      ['Server: nginx', 'Set-Cookie: a=1', 'Set-Cookie: b=2', 'Content-Length: 3'],
      ['Server: nginx', 'Content-Length: 3'],
    ]
    const memo = new HeaderLineMemo()
    for (const lines of heads) {
      const text = `HTTP/1.1 200 OK\r\n${lines.join('\r\n')}`
      assert.deepEqual(outcome(text, memo), outcome(text), text)
    }
    assert.equal(memo.lines.length, 2, 'the memo holds the last head that parsed')
  })

  test('cookies and credentials are not remembered (a pooled connection serves many clients)', () => {
    const memo = new HeaderLineMemo()
    parseResponseHead(
      'HTTP/1.1 200 OK\r\nServer: nginx\r\nSet-Cookie: session=secret\r\nContent-Length: 0',
      'GET',
      memo,
    )
    assert.deepEqual(
      memo.lines.map((line) => line?.text),
      ['Server: nginx', undefined, 'Content-Length: 0'],
    )
  })
})

describe('parseResponseHead: framing and keep-alive', () => {
  const head = (text: string, method = 'GET') => parseResponseHead(text, method)

  test('Content-Length: a length framing, the connection reusable on HTTP/1.1', () => {
    const h = head('HTTP/1.1 200 OK\r\nContent-Length: 12')
    assert.deepEqual(h.framing, { kind: 'length', length: 12 })
    assert.equal(h.keepAlive, true)
    assert.deepEqual(head('HTTP/1.1 200 OK\r\ncontent-length: 0').framing, { kind: 'length', length: 0 })
    assert.deepEqual(head('HTTP/1.1 200 OK\r\ncontent-length:  7 ').framing, { kind: 'length', length: 7 })
    assert.deepEqual(head('HTTP/1.1 200 OK\r\ncontent-length: 007').framing, { kind: 'length', length: 7 })
  })

  test('repeated identical Content-Length values (one header or several) are one length', () => {
    assert.deepEqual(head('HTTP/1.1 200 OK\r\ncontent-length: 5, 5').framing, { kind: 'length', length: 5 })
    assert.deepEqual(head('HTTP/1.1 200 OK\r\ncontent-length: 5\r\nContent-Length: 5').framing, {
      kind: 'length',
      length: 5,
    })
    // Forwarded once: "5, 5" is malformed over HTTP/2 (a client refuses the stream).
    for (const text of [
      'HTTP/1.1 200 OK\r\ncontent-length: 5, 5\r\nx-a: 1',
      'HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-a: 1\r\nContent-Length: 05',
    ]) {
      assert.deepEqual({ ...head(text).headers }, { 'content-length': '5', 'x-a': '1' })
    }
  })

  test('rejects conflicting or non-numeric Content-Length', () => {
    for (const values of [
      ['5, 6'],
      ['5', '6'],
      ['abc'],
      ['-1'],
      ['+5'],
      ['5.0'],
      ['0x10'],
      ['1e3'],
      [''],
      ['5,'],
      [', 5'],
      ['5 5'],
      ['1234567890123456'],
    ]) {
      const text = ['HTTP/1.1 200 OK', ...values.map((v) => `content-length: ${v}`)].join('\r\n')
      assert.throws(() => head(text), isProtocolError, JSON.stringify(values))
    }
  })

  test('Transfer-Encoding chunked wins over Content-Length, and the connection is not reused', () => {
    const h = head('HTTP/1.1 200 OK\r\nContent-Length: 10\r\nTransfer-Encoding: chunked')
    assert.deepEqual(h.framing, { kind: 'chunked' })
    assert.equal(h.keepAlive, false)
    // The losing Content-Length is not even parsed.
    assert.deepEqual(head('HTTP/1.1 200 OK\r\nContent-Length: x\r\nTransfer-Encoding: chunked').framing, {
      kind: 'chunked',
    })
  })

  test('with Transfer-Encoding, the losing Content-Length is not forwarded (it would desync the client)', () => {
    // RFC 9112 6.3: a recipient MUST remove it before forwarding. The gateway's server would
    // otherwise announce 10 bytes and send the whole de-chunked body after them.
    const h = head('HTTP/1.1 200 OK\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\nX-Kept: 1')
    assert.deepEqual({ ...h.headers }, { 'x-kept': '1' })
  })

  test('chunked alone keeps the connection reusable', () => {
    const h = head('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked')
    assert.deepEqual(h.framing, { kind: 'chunked' })
    assert.equal(h.keepAlive, true)
    assert.deepEqual(head('HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED').framing, { kind: 'chunked' })
  })

  test('any transfer coding but chunked alone is refused (502), as nginx does: it would reach the client unannounced', () => {
    for (const te of ['gzip, chunked', 'gzip', 'chunked, gzip', 'identity', '', 'chunked, chunked']) {
      assert.throws(
        () => head(`HTTP/1.1 200 OK\r\nTransfer-Encoding: ${te}\r\nContent-Length: 3`),
        isProtocolError,
        te,
      )
    }
    assert.throws(
      () => head('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked'),
      isProtocolError,
    )
    assert.deepEqual(head('HTTP/1.1 200 OK\r\nTransfer-Encoding:  Chunked ').framing, { kind: 'chunked' })
  })

  test('neither length nor chunked: read until close, never reused', () => {
    const h = head('HTTP/1.1 200 OK\r\ncontent-type: text/plain')
    assert.deepEqual(h.framing, { kind: 'close' })
    assert.equal(h.keepAlive, false)
    assert.equal(head('HTTP/1.1 200 OK\r\nConnection: keep-alive').keepAlive, false)
  })

  test('HEAD, 1xx, 204 and 304 have no body whatever the framing headers say', () => {
    const framings = ['content-length: 100', 'transfer-encoding: chunked', 'content-type: x']
    for (const framingHeader of framings) {
      for (const [status, method] of [
        [200, 'HEAD'],
        [404, 'HEAD'],
        [100, 'GET'],
        [103, 'GET'],
        [199, 'POST'],
        [204, 'GET'],
        [304, 'GET'],
      ] as const) {
        const h = head(`HTTP/1.1 ${status} X\r\n${framingHeader}`, method)
        assert.deepEqual(h.framing, { kind: 'none' }, `${method} ${status} ${framingHeader}`)
        assert.equal(h.keepAlive, true, `${method} ${status} ${framingHeader}`)
      }
    }
  })

  test('HEAD ignores an invalid Content-Length (no body is read)', () => {
    assert.deepEqual(head('HTTP/1.1 200 OK\r\ncontent-length: nope', 'HEAD').framing, { kind: 'none' })
  })

  test('other statuses (200, 205, 404, 500) are framed by their headers', () => {
    for (const status of [200, 205, 404, 500]) {
      assert.deepEqual(head(`HTTP/1.1 ${status} X\r\ncontent-length: 3`).framing, {
        kind: 'length',
        length: 3,
      })
    }
  })

  test('Connection: close ends reuse on HTTP/1.1, in any case and position', () => {
    for (const value of [
      'close',
      'Close',
      'CLOSE',
      'keep-alive, close',
      'close, x-a',
      'x-a ,close ',
      'close ',
    ]) {
      const h = head(`HTTP/1.1 200 OK\r\nconnection: ${value}\r\ncontent-length: 0`)
      assert.equal(h.keepAlive, false, value)
    }
    const split = head('HTTP/1.1 200 OK\r\nconnection: x-a\r\nconnection: close\r\ncontent-length: 0')
    assert.equal(split.keepAlive, false)
  })

  test('tokens that merely contain "close" do not', () => {
    for (const value of ['closed', 'x-close', 'close-later', 'keep-alive']) {
      const h = head(`HTTP/1.1 200 OK\r\nconnection: ${value}\r\ncontent-length: 0`)
      assert.equal(h.keepAlive, true, value)
    }
  })

  test('HTTP/1.0 is reused only with Connection: keep-alive and a known length', () => {
    assert.equal(head('HTTP/1.0 200 OK\r\ncontent-length: 0').keepAlive, false)
    assert.equal(head('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\ncontent-length: 0').keepAlive, true)
    assert.equal(head('HTTP/1.0 200 OK\r\nConnection: x-a, keep-alive\r\ncontent-length: 0').keepAlive, true)
    assert.equal(head('HTTP/1.0 200 OK\r\nConnection: keep-alives\r\ncontent-length: 0').keepAlive, false)
    assert.equal(head('HTTP/1.0 200 OK\r\nConnection: keep-alive').keepAlive, false, 'close-delimited')
    assert.equal(head('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nkeep-alive: timeout=5').keepAlive, false)
  })
})

describe('bodyDecoder: Content-Length', () => {
  const framing = (length: number): Framing => ({ kind: 'length', length })

  test('exactly the body in one push: returns its length and ends', () => {
    const body = enc.encode('hello world')
    const r = decode(framing(11), [body])
    assert.equal(r.body, 'hello world')
    assert.equal(r.consumed, 11)
    assert.equal(r.ended, true)
  })

  test('split across many pushes: -1 until the last, which returns the bytes it used', () => {
    const seen: string[] = []
    const decoder = bodyDecoder(framing(10), (b) => seen.push(latin1(b)))
    assert.equal(decoder.end(), false)
    assert.equal(decoder.push(bytes('0')), -1)
    assert.equal(decoder.push(bytes('12')), -1)
    assert.equal(decoder.push(bytes('345')), -1)
    assert.equal(decoder.end(), false, 'a close now is a truncated body')
    assert.equal(decoder.push(bytes('6789')), 4)
    assert.deepEqual(seen, ['0', '12', '345', '6789'])
    assert.equal(decoder.end(), true)
  })

  test('one byte at a time', () => {
    const body = enc.encode('The quick brown fox')
    const r = decode(framing(body.byteLength), oneByteAtATime(body))
    assert.equal(r.body, 'The quick brown fox')
    assert.equal(r.consumed, body.byteLength)
    assert.deepEqual(r.chunks, new Array(body.byteLength).fill(1))
  })

  test('extra bytes after the body are not passed on and not counted', () => {
    const r = decode(framing(5), [bytes('abc'), bytes('deHTTP/1.1 200 OK\r\n')])
    assert.equal(r.body, 'abcde')
    assert.equal(r.consumed, 5)
    assert.equal(r.ended, true)
    const seen: string[] = []
    const decoder = bodyDecoder(framing(3), (b) => seen.push(latin1(b)))
    assert.equal(decoder.push(bytes('abcdef')), 3)
    assert.deepEqual(seen, ['abc'])
  })

  test('after the end it uses nothing more', () => {
    const seen: Uint8Array[] = []
    const decoder = bodyDecoder(framing(2), (b) => seen.push(b))
    assert.equal(decoder.push(bytes('ab')), 2)
    assert.equal(decoder.push(bytes('cd')), 0)
    assert.equal(seen.length, 1)
  })

  test('a zero length is complete at once', () => {
    const seen: Uint8Array[] = []
    const decoder = bodyDecoder(framing(0), (b) => seen.push(b))
    assert.equal(decoder.end(), true)
    assert.equal(decoder.push(new Uint8Array(0)), 0)
    assert.equal(decoder.push(bytes('x')), 0)
    assert.equal(seen.length, 0)
  })

  test('binary bytes are passed through untouched', () => {
    const body = Uint8Array.from({ length: 256 }, (_, i) => i)
    const out: Uint8Array[] = []
    const decoder = bodyDecoder(framing(256), (b) => out.push(b.slice()))
    assert.equal(decoder.push(body.subarray(0, 100)), -1)
    assert.equal(decoder.push(body.subarray(100)), 156)
    assert.deepEqual(concat(...out), body)
  })
})

describe('bodyDecoder: chunked', () => {
  const chunked: Framing = { kind: 'chunked' }
  const binary = new Uint8Array([0, 13, 10, 255, 48, 13, 10, 13, 10, 59])
  /** Sizes in both cases, extensions (with and without BWS, quoted), binary data, a last chunk with an extension, trailers. */
  const sample = concat(
    bytes('4;name=value\r\nWiki\r\n'),
    bytes('5 ; ext ; q="a;b"\r\npedia\r\n'),
    bytes('E\r\n in\r\n\r\nchunks.\r\n'),
    bytes('a\r\n'),
    binary,
    bytes('\r\n'),
    bytes('1A\r\nabcdefghijklmnopqrstuvwxyz\r\n'),
    bytes('0;last=1\r\nExpires: never\r\nX-Checksum: abc\r\n\r\n'),
  )
  const expected = `Wikipedia in\r\n\r\nchunks.${latin1(binary)}abcdefghijklmnopqrstuvwxyz`
  const next = bytes('HTTP/1.1 200 OK\r\n')
  const wire = concat(sample, next)

  test('all at once: the decoded body, trailers discarded, the bytes used end at the last CRLF', () => {
    const r = decode(chunked, [wire])
    assert.equal(r.body, expected)
    assert.equal(r.consumed, sample.byteLength)
    assert.equal(r.ended, true)
    assert.ok(!r.body.includes('Expires') && !r.body.includes('X-Checksum'))
  })

  test('one byte at a time gives the same body and the same end', () => {
    const all = decode(chunked, [wire])
    const single = decode(chunked, oneByteAtATime(wire))
    assert.equal(single.body, all.body)
    assert.equal(single.consumed, all.consumed)
    assert.equal(single.ended, true)
    assert.ok(
      single.chunks.every((n) => n > 0),
      'no empty chunks passed on',
    )
  })

  test('split in two at every byte boundary gives the same body and the same end', () => {
    for (let i = 0; i <= wire.byteLength; i++) {
      const r = decode(chunked, [wire.subarray(0, i), wire.subarray(i)])
      assert.equal(r.body, expected, `split at ${i}`)
      assert.equal(r.consumed, sample.byteLength, `split at ${i}`)
      assert.equal(r.ended, true, `split at ${i}`)
    }
  })

  test('split in three at every pair of byte boundaries gives the same body and the same end', () => {
    for (let i = 1; i < sample.byteLength; i++) {
      for (let j = i + 1; j < sample.byteLength; j++) {
        const r = decode(chunked, [wire.subarray(0, i), wire.subarray(i, j), wire.subarray(j)])
        if (r.body !== expected || r.consumed !== sample.byteLength) {
          assert.fail(`split at ${i}, ${j}: ${JSON.stringify(r.body)} consumed ${r.consumed}`)
        }
      }
    }
  })

  test('not ended until the last chunk and its trailer section are complete', () => {
    const decoder = bodyDecoder(chunked, () => {})
    const upToLast = sample.byteLength - 2
    assert.equal(decoder.push(sample.subarray(0, upToLast)), -1)
    assert.equal(decoder.end(), false)
    assert.equal(decoder.push(sample.subarray(upToLast, upToLast + 1)), -1)
    assert.equal(decoder.end(), false)
    assert.equal(decoder.push(sample.subarray(upToLast + 1)), 1)
    assert.equal(decoder.end(), true)
    assert.equal(decoder.push(bytes('more')), 0, 'nothing used after the end')
  })

  test('an empty body: the last chunk alone, with or without trailers', () => {
    assert.deepEqual(decode(chunked, [bytes('0\r\n\r\n')]), {
      body: '',
      chunks: [],
      consumed: 5,
      ended: true,
    })
    assert.deepEqual(decode(chunked, [bytes('000\r\nx: y\r\n\r\nNEXT')]), {
      body: '',
      chunks: [],
      consumed: 13,
      ended: true,
    })
  })

  test('chunk sizes up to 13 hex digits parse (big sizes wait for their data)', () => {
    const decoder = bodyDecoder(chunked, () => {})
    assert.equal(decoder.push(bytes('fffffffffffff\r\nabc')), -1)
    assert.equal(decoder.end(), false)
  })

  test('rejects bad chunk sizes', () => {
    for (const line of [
      'g\r\n',
      '\r\n',
      ' \r\n',
      '-1\r\n',
      '+1\r\n',
      '0x1\r\n',
      '1.5\r\n',
      ';ext\r\n',
      '12345678901234\r\n',
      '5\n',
      '5\r5\r\n',
      // Strict, because request bodies are decoded here too (a lenient reader can be desynced):
      '5\r\r\n',
      ' 5\r\n',
      '5 \r\n',
      '5\t\r\n',
      '2;\rx\r\n',
      '2;a\x00b\r\n',
    ]) {
      assertChunkedRejects(line)
    }
  })

  test('chunk extensions (with optional whitespace before ";") are accepted and ignored', () => {
    for (const line of ['3;name=value\r\n', '3 ;name\r\n', '3\t; a="q"\r\n']) {
      assert.equal(decode(chunked, [bytes(`${line}abc\r\n0\r\n\r\n`)]).body, 'abc', JSON.stringify(line))
    }
  })

  test('rejects trailer lines that are not fields', () => {
    for (const trailer of ['no colon\r\n', ': no name\r\n', 'x y: z\r\n', 'x: a\rb\r\n']) {
      assertChunkedRejects(`0\r\n${trailer}\r\n`)
    }
  })

  test('rejects a bad size after good chunks', () => {
    const out: string[] = []
    const decoder = bodyDecoder(chunked, (b) => out.push(latin1(b)))
    assert.throws(() => decoder.push(bytes('3\r\nabc\r\nzz\r\n')), isProtocolError)
    assert.deepEqual(out, ['abc'])
  })

  test('rejects a size line longer than 4 KiB, even before its LF', () => {
    const decoder = bodyDecoder(chunked, () => {})
    assert.equal(decoder.push(bytes(`1;${'x'.repeat(4000)}`)), -1)
    assert.throws(() => decoder.push(bytes('x'.repeat(200))), isProtocolError)
  })

  test('rejects chunk data not followed by CRLF', () => {
    for (const text of [
      '3\r\nabcd\r\n0\r\n\r\n',
      '3\r\nabc\n0\r\n\r\n',
      '3\r\nabc\r0\r\n\r\n',
      '3\r\nabc\n\r\n',
      '3\r\nabcXY0\r\n\r\n',
      '1\r\na\n\r1\r\nb\r\n0\r\n\r\n',
    ]) {
      assertChunkedRejects(text)
    }
  })

  test('rejects a trailer line ending in a bare LF', () => {
    assert.throws(() => bodyDecoder(chunked, () => {}).push(bytes('0\r\nx: y\n\r\n')), isProtocolError)
    assert.throws(() => bodyDecoder(chunked, () => {}).push(bytes('0\r\n\n')), isProtocolError)
  })

  test('rejects trailers larger than MAX_HEAD_BYTES, in one push or many', () => {
    const line = `x-pad: ${'p'.repeat(1000)}\r\n`
    const many = Math.ceil(MAX_HEAD_BYTES / line.length) + 1
    const big = bytes(`0\r\n${line.repeat(many)}\r\n`)
    assert.throws(() => bodyDecoder(chunked, () => {}).push(big), isProtocolError)
    assert.throws(() => {
      const decoder = bodyDecoder(chunked, () => {})
      for (let i = 0; i < big.byteLength; i += 700) decoder.push(big.subarray(i, i + 700))
    }, isProtocolError)
    // Trailers under the cap are fine.
    const fits = bytes(`0\r\n${line.repeat(10)}\r\n`)
    assert.equal(bodyDecoder(chunked, () => {}).push(fits), fits.byteLength)
  })
})

describe('bodyDecoder: until close and none', () => {
  test('close-delimited: every byte passes through, never complete until the upstream closes', () => {
    const seen: string[] = []
    const decoder = bodyDecoder({ kind: 'close' }, (b) => seen.push(latin1(b)))
    assert.equal(decoder.push(bytes('HTTP/1.1 0\r\n\r\n')), -1)
    assert.equal(decoder.push(new Uint8Array(0)), -1)
    assert.equal(decoder.push(bytes('more')), -1)
    assert.deepEqual(seen, ['HTTP/1.1 0\r\n\r\n', 'more'], 'empty pushes are not passed on')
    assert.equal(decoder.end(), true, 'the close ends the body')
  })

  test('none: uses nothing, passes nothing, and a close is not an end of body', () => {
    const seen: Uint8Array[] = []
    const decoder = bodyDecoder({ kind: 'none' }, (b) => seen.push(b))
    assert.equal(decoder.push(bytes('stray')), 0)
    assert.equal(seen.length, 0)
    assert.equal(decoder.end(), false)
  })
})

const CHUNKED: Framing = { kind: 'chunked' }

/** A chunked decoder rejects `text`, in one push and when it arrives one byte at a time. */
function assertChunkedRejects(text: string): void {
  assert.throws(() => bodyDecoder(CHUNKED, () => {}).push(bytes(text)), isProtocolError, JSON.stringify(text))
  assert.throws(
    () => {
      const decoder = bodyDecoder(CHUNKED, () => {})
      for (const b of oneByteAtATime(bytes(text))) decoder.push(b)
    },
    isProtocolError,
    JSON.stringify(text),
  )
}
