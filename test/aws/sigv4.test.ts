import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, test } from 'node:test'
import {
  amzDate,
  canonicalQueryString,
  clearSigningKeyCache,
  type SignableRequest,
  type SignOptions,
  SigV4Signer,
  sha256Hex,
  signingKeyCacheSize,
} from '../../src/aws/sigv4.ts'

const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
const TOKEN = 'FQoGZXIvYXdzEXAMPLETOKENVALUE//////////wEaDEXAMPLE=='
const DATE = new Date('2015-08-30T12:36:00Z')

function baseRequest(overrides: Partial<SignableRequest> = {}): SignableRequest {
  return {
    method: 'GET',
    host: 'example.amazonaws.com',
    path: '/',
    query: '',
    headers: { 'x-amz-date': '20150830T123600Z' },
    payloadHash: EMPTY,
    ...overrides,
  }
}

const OPTIONS: SignOptions = { region: 'us-east-1', service: 'service', date: DATE }

function canonicalUriOf(path: string, options: Partial<SignOptions> = {}): string {
  const signer = new SigV4Signer({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET })
  return signer.sign(baseRequest({ path }), { ...OPTIONS, ...options }).canonicalRequest.split('\n')[1]!
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

describe('amzDate', () => {
  test('formats UTC as YYYYMMDDTHHMMSSZ, dropping milliseconds', () => {
    assert.equal(amzDate(new Date('2015-08-30T12:36:00Z')), '20150830T123600Z')
    assert.equal(amzDate(new Date('2024-02-29T23:59:59.999Z')), '20240229T235959Z')
    assert.equal(amzDate(new Date(Date.UTC(2001, 0, 2, 3, 4, 5))), '20010102T030405Z')
  })

  test('rejects invalid and out-of-range dates', () => {
    assert.throws(() => amzDate(new Date('nope')), RangeError)
    assert.throws(() => amzDate(new Date(Date.UTC(10000, 0, 1))), RangeError)
  })

  test('one second formatted once is still each date its own second', () => {
    // The last second formatted is remembered: dates within it, before and after it.
    assert.equal(amzDate(new Date('2026-12-06T02:35:43.100Z')), '20261206T023543Z')
    assert.equal(amzDate(new Date('2026-12-06T02:35:43.999Z')), '20261206T023543Z')
    assert.equal(amzDate(new Date('2026-12-06T02:35:44.000Z')), '20261206T023544Z')
    assert.equal(amzDate(new Date('2026-12-06T02:35:43.999Z')), '20261206T023543Z')
    assert.equal(amzDate(new Date('1970-01-01T00:00:00.000Z')), '19700101T000000Z')
    assert.equal(amzDate(new Date('1969-12-31T23:59:59.500Z')), '19691231T235959Z')
    assert.throws(() => amzDate(new Date('nope')), RangeError)
    // A date that throws is never the remembered one.
    assert.throws(() => amzDate(new Date(Date.UTC(10000, 0, 1))), RangeError)
    assert.throws(() => amzDate(new Date(Date.UTC(10000, 0, 1))), RangeError)
    assert.equal(amzDate(new Date('1969-12-31T23:59:59.000Z')), '19691231T235959Z')
  })
})

describe('sha256Hex', () => {
  test('hashes strings as UTF-8 and bytes as is', () => {
    assert.equal(sha256Hex(''), EMPTY)
    assert.equal(sha256Hex(new Uint8Array(0)), EMPTY)
    assert.equal(sha256Hex('é'), sha256Hex(new Uint8Array([0xc3, 0xa9])))
    assert.equal(sha256Hex('é'), createHash('sha256').update('é', 'utf8').digest('hex'))
    const bytes = new Uint8Array(1000).map((_, i) => i % 256)
    assert.equal(sha256Hex(bytes), createHash('sha256').update(bytes).digest('hex'))
  })
})

describe('canonicalQueryString', () => {
  test('empty', () => {
    assert.equal(canonicalQueryString(''), '')
  })

  test('`a` and `a=` both become `a=`; empty pieces are dropped', () => {
    assert.equal(canonicalQueryString('a'), 'a=')
    assert.equal(canonicalQueryString('a='), 'a=')
    assert.equal(canonicalQueryString('b&a=&&c'), 'a=&b=&c=')
  })

  test("'+' is a literal plus, spaces are %20", () => {
    assert.equal(canonicalQueryString('q=a+b'), 'q=a%2Bb')
    assert.equal(canonicalQueryString('q=a%2Bb'), 'q=a%2Bb')
    assert.equal(canonicalQueryString('q=a%20b'), 'q=a%20b')
  })

  test('decodes then re-encodes: unreserved kept, the rest %XX upper case, UTF-8', () => {
    assert.equal(canonicalQueryString('%7e%41=%2d%5F'), '~A=-_')
    assert.equal(canonicalQueryString('k=%e1%88%b4'), 'k=%E1%88%B4')
    assert.equal(canonicalQueryString('k=\u1234'), 'k=%E1%88%B4')
    assert.equal(canonicalQueryString('k=😀'), 'k=%F0%9F%98%80')
    assert.equal(canonicalQueryString("k=!'()*"), 'k=%21%27%28%29%2A')
    assert.equal(canonicalQueryString('k=a/b?c:d@e'), 'k=a%2Fb%3Fc%3Ad%40e')
  })

  test('a value keeps its later `=` signs', () => {
    assert.equal(canonicalQueryString('k=a=b'), 'k=a%3Db')
  })

  test('a `%` that does not start an escape is a literal %; bytes that are not UTF-8 survive', () => {
    assert.equal(canonicalQueryString('k=100%'), 'k=100%25')
    assert.equal(canonicalQueryString('k=%zz%4'), 'k=%25zz%254')
    assert.equal(canonicalQueryString('k=%FF%fe'), 'k=%FF%FE')
  })

  test('sorts by encoded key, then by encoded value (not by the joined pair)', () => {
    assert.equal(canonicalQueryString('b=1&a=2&a=1'), 'a=1&a=2&b=1')
    // By key, `a` < `a-`; sorting "key=value" strings would put `a-=` first ('-' < '=').
    assert.equal(canonicalQueryString('a-=1&a=2'), 'a=2&a-=1')
    // Upper case sorts before lower case (code point order).
    assert.equal(canonicalQueryString('b=1&B=2&a=3&A=4'), 'A=4&B=2&a=3&b=1')
    // Sorting happens on the encoded form: `%E1...` < `P`.
    assert.equal(
      canonicalQueryString('Param-3=Value3&Param=Value2&%E1%88%B4=Value1'),
      '%E1%88%B4=Value1&Param=Value2&Param-3=Value3',
    )
    assert.equal(canonicalQueryString('k=%20&k=!'), 'k=%20&k=%21')
  })
})

describe('canonical URI', () => {
  test('non-s3: normalised, then every segment encoded once more', () => {
    assert.equal(canonicalUriOf(''), '/')
    assert.equal(canonicalUriOf('/'), '/')
    assert.equal(canonicalUriOf('//a//b//'), '/a/b/')
    assert.equal(canonicalUriOf('/a/./b/../c'), '/a/c')
    assert.equal(canonicalUriOf('/a/b/..'), '/a')
    assert.equal(canonicalUriOf('/a/b/../'), '/a/')
    assert.equal(canonicalUriOf('/../..'), '/')
    assert.equal(canonicalUriOf('/a%20b/c%2Fd'), '/a%2520b/c%252Fd')
    assert.equal(canonicalUriOf('/fn:name/invocations'), '/fn%3Aname/invocations')
    assert.equal(canonicalUriOf("/!$&'()*+,;=@"), '/%21%24%26%27%28%29%2A%2B%2C%3B%3D%40')
    assert.equal(canonicalUriOf('/-._~'), '/-._~')
  })

  test('normalizePath: false keeps dot segments and slashes but still encodes', () => {
    assert.equal(canonicalUriOf('//a/./b/..', { normalizePath: false }), '//a/./b/..')
    assert.equal(canonicalUriOf('/a%20b', { normalizePath: false }), '/a%2520b')
  })

  test('s3: the wire path as is, no normalisation and no second encoding', () => {
    const s3 = { service: 's3' }
    assert.equal(canonicalUriOf('/bucket/my%20key', s3), '/bucket/my%20key')
    assert.equal(canonicalUriOf('//a/./b/../c%2Fd', s3), '//a/./b/../c%2Fd')
    assert.equal(canonicalUriOf('/a+b=c', s3), '/a+b=c')
    // Characters that cannot be on the wire are encoded, as a client must before sending.
    assert.equal(canonicalUriOf('/a b/é', s3), '/a%20b/%C3%A9')
    assert.equal(canonicalUriOf('', s3), '/')
  })
})

describe('SigV4Signer.sign', () => {
  test('AWS documentation example (IAM ListUsers), default signHeader', () => {
    const signer = new SigV4Signer({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET })
    const result = signer.sign(
      baseRequest({
        host: 'iam.amazonaws.com',
        query: 'Action=ListUsers&Version=2010-05-08',
        headers: {
          'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
          'x-amz-date': '20150830T123600Z',
        },
      }),
      { region: 'us-east-1', service: 'iam', date: DATE },
    )
    assert.equal(
      result.canonicalRequest,
      [
        'GET',
        '/',
        'Action=ListUsers&Version=2010-05-08',
        'content-type:application/x-www-form-urlencoded; charset=utf-8',
        'host:iam.amazonaws.com',
        'x-amz-date:20150830T123600Z',
        '',
        'content-type;host;x-amz-date',
        EMPTY,
      ].join('\n'),
    )
    assert.equal(
      result.stringToSign,
      'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n' +
        'f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59',
    )
    assert.equal(result.signature, '5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7')
    assert.equal(
      result.authorization,
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, ' +
        'SignedHeaders=content-type;host;x-amz-date, ' +
        'Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
    )
  })

  test('AWS documentation example (S3 GET Object with Range)', () => {
    const signer = new SigV4Signer({
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    })
    const result = signer.sign(
      baseRequest({
        host: 'examplebucket.s3.amazonaws.com',
        path: '/test.txt',
        headers: { range: 'bytes=0-9', 'x-amz-content-sha256': EMPTY, 'x-amz-date': '20130524T000000Z' },
      }),
      {
        region: 'us-east-1',
        service: 's3',
        date: new Date('2013-05-24T00:00:00Z'),
        signHeader: (name) => name === 'range' || name.startsWith('x-amz-'),
      },
    )
    assert.equal(result.signedHeaders, 'host;range;x-amz-content-sha256;x-amz-date')
    assert.equal(result.signature, 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41')
  })

  test('default signHeader: host, content-type and x-amz-* only; authorization never', () => {
    const signer = new SigV4Signer({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET })
    const result = signer.sign(
      baseRequest({
        headers: {
          'x-amz-date': '20150830T123600Z',
          'x-amz-target': 'Svc.Op',
          'x-amzn-trace-id': 'Root=1',
          'content-type': 'application/json',
          'content-length': '2',
          'user-agent': 'ua',
          authorization: 'stale',
        },
      }),
      OPTIONS,
    )
    assert.equal(result.signedHeaders, 'content-type;host;x-amz-date;x-amz-target')
    const all = signer.sign(
      baseRequest({ headers: { 'x-amz-date': '20150830T123600Z', authorization: 'x' } }),
      {
        ...OPTIONS,
        signHeader: () => true,
      },
    )
    assert.equal(all.signedHeaders, 'host;x-amz-date')
  })

  test('header values: trimmed, SP/HTAB/CR/LF runs collapsed, repeated values joined with ","', () => {
    const signer = new SigV4Signer({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET })
    const result = signer.sign(
      baseRequest({
        host: '  example.amazonaws.com ',
        headers: {
          'x-amz-date': '20150830T123600Z',
          'x-amz-meta-a': '  a \t  b\r\n   c  ',
          'x-amz-meta-b': [' one ', 'two  2', '\tthree'],
          'x-amz-meta-c': '"a   b"',
          'x-amz-meta-d': 'Mixed CASE kept',
        },
      }),
      OPTIONS,
    )
    const lines = result.canonicalRequest.split('\n')
    assert.deepEqual(lines.slice(3, 9), [
      'host:example.amazonaws.com',
      'x-amz-date:20150830T123600Z',
      'x-amz-meta-a:a b c',
      'x-amz-meta-b:one,two 2,three',
      'x-amz-meta-c:"a b"',
      'x-amz-meta-d:Mixed CASE kept',
    ])
  })

  test('upper-case header names are lower-cased and merged; a host entry in headers is ignored', () => {
    const signer = new SigV4Signer({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET })
    const result = signer.sign(
      baseRequest({
        headers: { 'X-Amz-Date': '20150830T123600Z', 'X-Amz-Meta-A': '1', 'x-amz-meta-a': '2', host: 'evil' },
      }),
      OPTIONS,
    )
    assert.match(result.canonicalRequest, /\nhost:example\.amazonaws\.com\n/)
    assert.match(result.canonicalRequest, /\nx-amz-meta-a:1,2\n/)
    assert.equal(result.signedHeaders, 'host;x-amz-date;x-amz-meta-a')
  })

  test('x-amz-date: the header value wins; without it, derived from options.date and still signed', () => {
    const signer = new SigV4Signer({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET })
    const given = signer.sign(baseRequest(), { ...OPTIONS, date: new Date('2020-01-01T00:00:00Z') })
    assert.equal(given.amzDate, '20150830T123600Z')
    assert.match(given.stringToSign, /^AWS4-HMAC-SHA256\n20150830T123600Z\n20150830\/us-east-1\/service\//)

    const derived = signer.sign(baseRequest({ headers: {} }), OPTIONS)
    assert.equal(derived.amzDate, '20150830T123600Z')
    assert.equal(derived.signedHeaders, 'host;x-amz-date')
    // Identical to signing with the header set by the caller (the get-vanilla vector).
    assert.equal(derived.signature, '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31')
    assert.equal(signer.sign(baseRequest(), OPTIONS).signature, derived.signature)
  })

  test('non-ASCII header bytes are hashed as bytes (latin1), as HTTP stacks send them', () => {
    const signer = new SigV4Signer({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET })
    const result = signer.sign(
      baseRequest({ headers: { 'x-amz-date': '20150830T123600Z', 'x-amz-meta-n': 'caf\u00e9' } }),
      OPTIONS,
    )
    const bytes = Uint8Array.from(result.canonicalRequest, (ch) => ch.charCodeAt(0))
    assert.equal(result.stringToSign.split('\n')[3], sha256Hex(bytes))
  })

  test('is pure: deeply frozen input works and gives the same result twice', () => {
    const signer = new SigV4Signer({
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: SECRET,
      sessionToken: TOKEN,
    })
    const request = deepFreeze(
      baseRequest({
        path: '/a/../b c',
        query: 'z=1&a=2',
        headers: {
          'x-amz-date': '20150830T123600Z',
          'x-amz-security-token': TOKEN,
          'x-amz-meta-list': [' a ', 'b'],
        },
      }),
    )
    const options = deepFreeze({ ...OPTIONS, signHeader: () => true })
    const first = signer.sign(request, options)
    assert.deepEqual(signer.sign(request, options), first)
    assert.deepEqual(request.headers['x-amz-meta-list'], [' a ', 'b'])
  })

  test('errors never quote secrets, tokens or header values', () => {
    const signer = new SigV4Signer({
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: SECRET,
      sessionToken: TOKEN,
    })
    const attempts: (() => unknown)[] = [
      () => signer.sign(baseRequest({ headers: {} }), { ...OPTIONS, date: new Date(Number.NaN) }),
      () => signer.sign(baseRequest(), { ...OPTIONS, region: '' }),
      () => signer.sign(baseRequest(), { ...OPTIONS, service: 'a/b' }),
      () => signer.sign(baseRequest({ method: 'GET /' }), OPTIONS),
      () => signer.sign(baseRequest({ payloadHash: TOKEN }), OPTIONS),
      () => signer.sign(baseRequest({ headers: { 'x-amz-date': TOKEN } }), OPTIONS),
      () => signer.sign(baseRequest({ headers: { 'x-amz-date': ['20150830T123600Z'] } }), OPTIONS),
      () =>
        signer.sign(
          baseRequest({
            headers: { 'x-amz-date': '20150830T123600Z', 'x-amz-security-token': `${TOKEN}\u2603` },
          }),
          OPTIONS,
        ),
      () => new SigV4Signer({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: '' }),
      () => new SigV4Signer({ accessKeyId: `${SECRET} `, secretAccessKey: SECRET }),
    ]
    for (const attempt of attempts) {
      assert.throws(attempt, (error: unknown) => {
        assert.ok(error instanceof Error)
        assert.match(error.message, /^SigV4: /)
        assert.ok(!error.message.includes(SECRET), error.message)
        assert.ok(!error.message.includes(TOKEN), error.message)
        return true
      })
    }
  })
})

describe('signing-key cache', () => {
  const request = baseRequest()

  test('same secret/day/region/service reuses one key, also across signer instances', () => {
    clearSigningKeyCache()
    const a = new SigV4Signer({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET })
    const first = a.sign(request, OPTIONS)
    assert.equal(signingKeyCacheSize(), 1)
    assert.deepEqual(a.sign(request, OPTIONS), first)
    assert.equal(signingKeyCacheSize(), 1)
    const b = new SigV4Signer({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET })
    assert.deepEqual(b.sign(request, OPTIONS), first)
    assert.equal(signingKeyCacheSize(), 1)
    // Same result as a freshly derived key.
    clearSigningKeyCache()
    assert.deepEqual(
      new SigV4Signer({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET }).sign(request, OPTIONS),
      first,
    )
  })

  test('a different secret, day, region or service gets its own key', () => {
    clearSigningKeyCache()
    const signer = new SigV4Signer({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET })
    const other = new SigV4Signer({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: `${SECRET}2` })
    const base = signer.sign(request, OPTIONS)
    const otherSecret = other.sign(request, OPTIONS)
    assert.equal(signingKeyCacheSize(), 2)
    assert.notEqual(otherSecret.signature, base.signature)
    assert.equal(otherSecret.stringToSign, base.stringToSign)
    // Back to the first secret: still its own signature (no cross-talk through the cache).
    assert.equal(signer.sign(request, OPTIONS).signature, base.signature)

    const nextDay = signer.sign(baseRequest({ headers: { 'x-amz-date': '20150831T000000Z' } }), OPTIONS)
    const region = signer.sign(request, { ...OPTIONS, region: 'eu-west-1' })
    const service = signer.sign(request, { ...OPTIONS, service: 'lambda' })
    assert.equal(signingKeyCacheSize(), 5)
    assert.equal(new Set([base, nextDay, region, service].map((r) => r.signature)).size, 4)
  })

  test('is bounded: it never holds more than 100 keys', () => {
    clearSigningKeyCache()
    const signer = new SigV4Signer({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET })
    let max = 0
    for (let i = 0; i < 250; i++) {
      signer.sign(request, { ...OPTIONS, region: `region-${i}` })
      max = Math.max(max, signingKeyCacheSize())
    }
    assert.equal(max, 100)
    assert.ok(signingKeyCacheSize() <= 100)
  })
})
