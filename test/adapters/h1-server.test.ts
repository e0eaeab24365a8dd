/**
 * Unit tests for the Node HTTP/1.1 server's pure parts: request heads (h1-head.ts), request
 * URLs (request-target.ts) and response heads (h1-response.ts). The wire behaviour on top is
 * tested end to end in test/e2e/http1-wire.test.ts.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { HeadError, parseRequestHead } from '../../src/adapters/node/h1-head.ts'
import { responseHead } from '../../src/adapters/node/h1-response.ts'
import { requestUrl } from '../../src/adapters/request-target.ts'
import { HeaderLineMemo } from '../../src/adapters/socket-client/http1.ts'

const kindOf = (text: string): string => {
  try {
    parseRequestHead(text)
  } catch (error) {
    assert.ok(error instanceof HeadError)
    return error.kind
  }
  return 'accepted'
}

describe('parseRequestHead', () => {
  test('reads method, target, version, lower-case names and trimmed values', () => {
    const head = parseRequestHead(
      'PATCH /a?b=1 HTTP/1.1\r\nHost: example.com\r\nX-Thing:  v a l \t\r\ncookie: a=1',
    )
    assert.equal(head.method, 'PATCH')
    assert.equal(head.target, '/a?b=1')
    assert.equal(head.minor, 1)
    assert.deepEqual(head.raw, ['host', 'example.com', 'x-thing', 'v a l', 'cookie', 'a=1'])
    assert.equal(head.host, 'example.com')
    assert.deepEqual(head.framing, { kind: 'none' })
    assert.equal(head.keepAlive, true)
  })

  test('framing: a length, chunked, a zero length, repeated equal lengths', () => {
    assert.deepEqual(parseRequestHead('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12').framing, {
      kind: 'length',
      length: 12,
    })
    assert.deepEqual(parseRequestHead('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked').framing, {
      kind: 'chunked',
    })
    assert.deepEqual(parseRequestHead('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0').framing, {
      kind: 'none',
    })
    assert.deepEqual(
      parseRequestHead('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3').framing,
      { kind: 'length', length: 3 },
    )
  })

  test('keep-alive: HTTP/1.1 unless close; HTTP/1.0 only with keep-alive', () => {
    const keep = (text: string) => parseRequestHead(text).keepAlive
    assert.equal(keep('GET / HTTP/1.1\r\nHost: a\r\nConnection: Close'), false)
    assert.equal(keep('GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade, close'), false)
    assert.equal(keep('GET / HTTP/1.1\r\nHost: a\r\nConnection: closed'), true)
    assert.equal(keep('GET / HTTP/1.0'), false)
    assert.equal(keep('GET / HTTP/1.0\r\nConnection: Keep-Alive'), true)
    // HTTP/1.0 with Transfer-Encoding may be framed wrongly: never reused (RFC 9112 6.1).
    assert.equal(keep('POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked'), false)
  })

  test('Expect: 100-continue matters only for HTTP/1.1 requests with a body', () => {
    const head = (text: string) => parseRequestHead(text).expectContinue
    assert.equal(head('POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1'), true)
    assert.equal(head('GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue'), false)
    assert.equal(head('POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1'), false)
  })

  test('refuses what could be read two ways, naming the answer', () => {
    assert.equal(
      kindOf('GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 1'),
      'BAD_REQUEST',
    )
    assert.equal(kindOf('GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2'), 'BAD_REQUEST')
    assert.equal(kindOf('GET / HTTP/1.1\r\nHost: a\r\nContent-Length: +1'), 'BAD_REQUEST')
    assert.equal(kindOf('GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1234567890123456'), 'BAD_REQUEST')
    assert.equal(kindOf('GET / HTTP/1.1\r\nHost: a\r\n folded'), 'BAD_REQUEST')
    assert.equal(kindOf('GET / HTTP/1.1\r\nHost : a'), 'BAD_REQUEST')
    assert.equal(kindOf('GET / HTTP/1.1\r\nHost: a\r\nX: a\rb'), 'BAD_REQUEST')
    assert.equal(kindOf('GET / HTTP/1.1\r\nHost: a\r\nX: a\0b'), 'BAD_REQUEST')
    assert.equal(kindOf('GET / HTTP/1.1\r\nHost: a\r\nHost: b'), 'BAD_REQUEST')
    assert.equal(kindOf('GET / HTTP/1.1'), 'BAD_REQUEST')
    assert.equal(kindOf('GET /\x7f HTTP/1.1\r\nHost: a'), 'BAD_REQUEST')
    assert.equal(kindOf('G(T / HTTP/1.1\r\nHost: a'), 'BAD_REQUEST')
    assert.equal(kindOf('GET / HTTP/1.2\r\nHost: a'), 'VERSION_NOT_SUPPORTED')
    assert.equal(kindOf('GET / HTTP/2.0\r\nHost: a'), 'VERSION_NOT_SUPPORTED')
    assert.equal(kindOf('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked'), 'NOT_IMPLEMENTED')
    assert.equal(
      kindOf('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked'),
      'NOT_IMPLEMENTED',
    )
    assert.equal(kindOf('GET / HTTP/1.1\r\nHost: a\r\nExpect: later'), 'EXPECTATION_FAILED')
    assert.equal(kindOf(`GET / HTTP/1.1\r\nHost: a${'\r\nX: 1'.repeat(200)}`), 'HEADERS_TOO_LARGE')
    assert.equal(kindOf(`GET / HTTP/1.1\r\nHost: a${'\r\nX: 1'.repeat(199)}`), 'accepted')
    assert.equal(kindOf('GET / HTTP/1.0'), 'accepted', 'HTTP/1.0 needs no Host')
  })
})

describe('parseRequestHead with a HeaderLineMemo (the previous head of a client connection)', () => {
  const outcome = (text: string, memo?: HeaderLineMemo) => {
    try {
      const { method, target, minor, raw, host, framing, keepAlive, expectContinue } = parseRequestHead(
        text,
        memo,
      )
      return { method, target, minor, raw, host, framing, keepAlive, expectContinue }
    } catch (error) {
      return { error: (error as HeadError).kind, message: (error as Error).message }
    }
  }

  test('every head of a sequence parses as it would alone: changed, added, dropped, malformed lines', () => {
    const heads = [
      ['GET / HTTP/1.1', 'Host: a', 'User-Agent: x', 'Accept: */*'],
      ['GET /b HTTP/1.1', 'Host: a', 'User-Agent: x', 'Accept: */*'],
      ['POST / HTTP/1.1', 'Host: a', 'User-Agent: x', 'Content-Length: 3'],
      ['POST / HTTP/1.1', 'Host: a', 'User-Agent: x', 'Content-Length: 3', 'Content-Length: 4'],
      ['GET / HTTP/1.1', 'Host: a', 'Host: a'], // a second Host where the memo has User-Agent
      ['GET / HTTP/1.1', 'Host: a', 'User-Agent: x', 'Connection: close'],
      ['GET / HTTP/1.1', 'Host: a', 'User-Agent: x', 'Connection: CLOSE'],
      // Same length as the memo's line at that place, different text: parsed, and refused.
      ['GET / HTTP/1.1', 'Host: a', 'User-Agent:\u0001x', 'Connection: close'],
      ['GET / HTTP/1.1', 'Host: a', ' User-Agent: x'], // folded
      ['GET / HTTP/1.1', 'Host: a'], // fewer lines than before
      ['GET / HTTP/1.0'],
      ['GET / HTTP/1.1', 'Host: a', 'Expect: 100-continue', 'Content-Length: 3'],
      ['GET / HTTP/1.1', 'Host: a', 'Expect: 100-continue', 'Content-Length: 3'],
    ]
    const memo = new HeaderLineMemo()
    for (const lines of heads) {
      const text = lines.join('\r\n')
      assert.deepEqual(outcome(text, memo), outcome(text), text)
    }
    assert.equal(memo.lines.length, 3, 'the memo holds the last head that parsed')
  })

  test('cookies and credentials are not remembered', () => {
    const memo = new HeaderLineMemo()
    parseRequestHead(
      'GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer t\r\nCookie: s=1\r\nAccept: */*',
      memo,
    )
    assert.deepEqual(
      memo.lines.map((line) => line?.name),
      ['host', undefined, undefined, 'accept'],
    )
  })
})

describe('requestUrl', () => {
  test('plain paths are used as they are', () => {
    assert.equal(requestUrl('http', 'a:8080', '/x/y?z=1&q=%20'), 'http://a:8080/x/y?z=1&q=%20')
  })
  test('dot segments are resolved; a path starting with // stays a path', () => {
    assert.equal(requestUrl('http', 'a', '/x/../y/./z'), 'http://a/y/z')
    assert.equal(requestUrl('http', 'a', '/x/%2e%2e/y'), 'http://a/y')
    assert.equal(requestUrl('http', 'a', '/x/.%2E/y'), 'http://a/y')
    assert.equal(requestUrl('http', 'a', '/x/%2e/y'), 'http://a/x/y')
    assert.equal(requestUrl('http', 'a', '/x/%2ex'), 'http://a/x/%2ex')
    assert.equal(requestUrl('https', 'a', '//evil.example/x'), 'https://a//evil.example/x')
  })
  test('only the path is normalised: the query goes on byte for byte, without a fragment', () => {
    // `[` makes the target unusual; WHATWG URL would also turn the query's `'` into %27.
    assert.equal(
      requestUrl('http', 'a', "/s/../v?filter[name]=O'Brien&sig=a+b%2F"),
      "http://a/v?filter[name]=O'Brien&sig=a+b%2F",
    )
    assert.equal(requestUrl('http', 'a', '/u/a{b}?x=1#frag'), 'http://a/u/a%7Bb%7D?x=1')
    assert.equal(requestUrl('http', 'a', '/u/a#frag'), 'http://a/u/a')
    assert.equal(requestUrl('http', 'a:80', '/x/./y?'), 'http://a/x/y?')
  })
  test('backslashes in the path are refused, in the query they are left alone', () => {
    assert.equal(requestUrl('http', 'a', '/x\\..\\y'), undefined)
    assert.equal(requestUrl('http', 'a', '/x?q=\\'), 'http://a/x?q=\\')
  })
  test('absolute form: its authority wins, the connection keeps its scheme, no credentials', () => {
    assert.equal(requestUrl('http', 'ignored', 'HTTP://B.example:81/p?q'), 'http://b.example:81/p?q')
    assert.equal(requestUrl('https', 'ignored', 'http://b/p'), 'https://b/p')
    assert.equal(requestUrl('http', 'a', 'http://user:pw@b/p'), undefined)
    assert.equal(requestUrl('http', 'a', 'ftp://b/p'), undefined)
    assert.equal(requestUrl('http', 'a', '*'), undefined)
    assert.equal(requestUrl('http', 'a', 'b.example:443'), undefined)
  })
})

describe('responseHead', () => {
  const bytes = new TextEncoder().encode('hello')
  const stream = () => new ReadableStream<Uint8Array>()

  test('bytes: their length; headers and repeated Set-Cookie as lines; a Date is added', () => {
    const plan = responseHead(
      { status: 201, headers: { 'x-a': '1', 'set-cookie': ['a=1', 'b=2'] }, body: bytes },
      'GET',
      1,
      true,
    )
    assert.equal(plan.mode, 'length')
    assert.equal(plan.close, false)
    assert.match(plan.head, /^HTTP\/1\.1 201 Created\r\n/)
    assert.match(plan.head, /\r\nx-a: 1\r\nset-cookie: a=1\r\nset-cookie: b=2\r\n/)
    assert.match(plan.head, /\r\ncontent-length: 5\r\n/)
    assert.match(plan.head, /\r\ndate: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT\r\n/)
    // Kept alive as node:http says it, so Node's http.Agent retires idle sockets in time.
    assert.ok(plan.head.endsWith('\r\nconnection: keep-alive\r\nkeep-alive: timeout=5\r\n\r\n'))
  })

  test("framing headers from the response are replaced by the connection's own", () => {
    const plan = responseHead(
      {
        status: 200,
        headers: {
          connection: 'x-secret',
          'transfer-encoding': 'gzip',
          'content-length': '99',
          'keep-alive': '1',
        },
        body: bytes,
      },
      'GET',
      1,
      false,
    )
    assert.doesNotMatch(plan.head, /x-secret|gzip|99|keep-alive/)
    assert.match(plan.head, /\r\ncontent-length: 5\r\nconnection: close\r\n\r\n$/)
    assert.equal(plan.close, true)
  })

  test('streams: the declared length, else chunked for 1.1 and close-delimited for 1.0', () => {
    const known = responseHead(
      { status: 200, headers: { 'content-length': '7' }, body: stream() },
      'GET',
      1,
      true,
    )
    assert.deepEqual([known.mode, known.length], ['length', 7])
    const chunked = responseHead({ status: 200, headers: {}, body: stream() }, 'GET', 1, true)
    assert.equal(chunked.mode, 'chunked')
    assert.match(chunked.head, /\r\ntransfer-encoding: chunked\r\n/)
    const old = responseHead({ status: 200, headers: {}, body: stream() }, 'GET', 0, true)
    assert.deepEqual([old.mode, old.close], ['close', true])
    assert.doesNotMatch(old.head, /transfer-encoding/)
  })

  test('no body: HEAD keeps the announced length, 204/304 announce none, null bodies say 0', () => {
    const head = responseHead(
      { status: 200, headers: { 'content-length': '7' }, body: stream() },
      'HEAD',
      1,
      true,
    )
    assert.equal(head.mode, 'none')
    assert.match(head.head, /\r\ncontent-length: 7\r\n/)
    const noContent = responseHead(
      { status: 204, headers: { 'content-length': '7' }, body: null },
      'GET',
      1,
      true,
    )
    assert.equal(noContent.mode, 'none')
    assert.doesNotMatch(noContent.head, /content-length/)
    const empty = responseHead({ status: 200, headers: {}, body: null }, 'GET', 1, true)
    assert.match(empty.head, /\r\ncontent-length: 0\r\n/)
  })

  test('HTTP/1.0 keep-alive is said out loud', () => {
    assert.match(
      responseHead({ status: 200, headers: {}, body: bytes }, 'GET', 0, true).head,
      /\r\nconnection: keep-alive\r\nkeep-alive: timeout=5\r\n\r\n$/,
    )
  })

  test('a header value or name that would split the response is refused', () => {
    assert.throws(() =>
      responseHead({ status: 200, headers: { 'x-a': 'b\r\nx-evil: 1' }, body: null }, 'GET', 1, true),
    )
    assert.throws(() => responseHead({ status: 200, headers: { 'x a': 'b' }, body: null }, 'GET', 1, true))
  })
})
