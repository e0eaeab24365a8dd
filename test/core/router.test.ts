import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { compileHosts, type Match, Router, type RouteSpec } from '../../src/core/router.ts'

type Spec = Partial<Omit<RouteSpec<string>, 'value'>> & { value: string; uris: readonly string[] }

function router(...specs: Spec[]): Router<string> {
  return new Router<string>(specs.map((s) => ({ priority: 0, ...s })))
}

/** The matched route's value, or the kind of miss. */
function hit(match: Match<string>): string {
  return match.kind === 'found' ? match.value : match.kind
}

const GET = (r: Router<string>, path: string, host = 'example.com') => hit(r.match('GET', host, path))

describe('Router precedence', () => {
  test('an exact uri beats any prefix, whatever the priorities and order', () => {
    const r = router(
      { value: 'prefix', uris: ['/api/*'], priority: 100 },
      { value: 'root', uris: ['/*'], priority: 1000 },
      { value: 'exact', uris: ['/api/users'], priority: -5 },
    )
    assert.equal(GET(r, '/api/users'), 'exact')
    assert.equal(GET(r, '/api/users/1'), 'prefix')
    assert.equal(GET(r, '/other'), 'root')
  })

  test('the longest prefix wins over shorter ones', () => {
    const r = router(
      { value: 'root', uris: ['/*'], priority: 50 },
      { value: 'api', uris: ['/api/*'], priority: 10 },
      { value: 'v1', uris: ['/api/v1/*'] },
    )
    assert.equal(GET(r, '/api/v1/x'), 'v1')
    assert.equal(GET(r, '/api/v2/x'), 'api')
    assert.equal(GET(r, '/apx'), 'root')
  })

  test('same uri: higher priority wins', () => {
    const r = router(
      { value: 'low', uris: ['/x'], priority: 1 },
      { value: 'high', uris: ['/x'], priority: 2 },
      { value: 'neg', uris: ['/x'], priority: -1 },
    )
    assert.equal(GET(r, '/x'), 'high')
  })

  test('same uri, same priority: file order wins', () => {
    const r = router({ value: 'first', uris: ['/p/*'] }, { value: 'second', uris: ['/p/*'] })
    assert.equal(GET(r, '/p/q'), 'first')
    const reversed = router({ value: 'second', uris: ['/p/*'] }, { value: 'first', uris: ['/p/*'] })
    assert.equal(GET(reversed, '/p/q'), 'second')
  })

  test('a route with several uris is found under each', () => {
    const r = router({ value: 'multi', uris: ['/a', '/b/*'] }, { value: 'other', uris: ['/c'] })
    assert.equal(GET(r, '/a'), 'multi')
    assert.equal(GET(r, '/b/1'), 'multi')
    assert.equal(GET(r, '/c'), 'other')
    assert.equal(GET(r, '/b'), 'not-found')
  })
})

describe('Router prefixes', () => {
  test('the suffix is the path after the prefix', () => {
    const r = router({ value: 'api', uris: ['/api/*'] }, { value: 'exact', uris: ['/e'] })
    assert.deepEqual(r.match('GET', 'h', '/api/users/42'), {
      kind: 'found',
      value: 'api',
      suffix: 'users/42',
    })
    assert.deepEqual(r.match('GET', 'h', '/api/'), { kind: 'found', value: 'api', suffix: '' })
    assert.deepEqual(r.match('GET', 'h', '/e'), { kind: 'found', value: 'exact', suffix: '' })
  })

  test('a prefix without a slash before "*" matches on characters', () => {
    const r = router({ value: 'files', uris: ['/files*'] })
    assert.deepEqual(r.match('GET', 'h', '/files'), { kind: 'found', value: 'files', suffix: '' })
    assert.deepEqual(r.match('GET', 'h', '/files-old/x'), { kind: 'found', value: 'files', suffix: '-old/x' })
  })

  test('prefixes of one length ending in different characters are each found, the longest first', () => {
    const r = router(
      { value: 'slash', uris: ['/ab/*'] },
      { value: 'letter', uris: ['/abc*'] },
      { value: 'digit', uris: ['/ab1*'] },
      { value: 'short', uris: ['/a*'] },
      { value: 'root', uris: ['/*'] },
    )
    assert.equal(GET(r, '/ab/x'), 'slash')
    assert.equal(GET(r, '/abcdef'), 'letter')
    assert.equal(GET(r, '/ab1/2'), 'digit')
    assert.equal(GET(r, '/ab2'), 'short')
    assert.equal(GET(r, '/b'), 'root')
    assert.deepEqual(r.match('GET', 'h', '/abc'), { kind: 'found', value: 'letter', suffix: '' })
  })

  test('/api/* does not match /api', () => {
    const r = router({ value: 'api', uris: ['/api/*'] })
    assert.equal(GET(r, '/api'), 'not-found')
    assert.equal(GET(r, '/apix'), 'not-found')
    assert.equal(GET(r, '/'), 'not-found')
  })

  test('exact uris match only exactly', () => {
    const r = router({ value: 'x', uris: ['/x'] })
    assert.equal(GET(r, '/x/'), 'not-found')
    assert.equal(GET(r, '/X'), 'not-found')
    assert.equal(GET(r, '/x'), 'x')
  })

  test('/* matches everything, with the path minus "/" as suffix', () => {
    const r = router({ value: 'all', uris: ['/*'] })
    assert.deepEqual(r.match('DELETE', 'h', '/'), { kind: 'found', value: 'all', suffix: '' })
    assert.deepEqual(r.match('GET', 'h', '/a/b'), { kind: 'found', value: 'all', suffix: 'a/b' })
  })
})

describe('Router hosts', () => {
  test('exact host', () => {
    const r = router({ value: 'h', uris: ['/'], hosts: ['api.example.com'] })
    assert.equal(GET(r, '/', 'api.example.com'), 'h')
    assert.equal(GET(r, '/', 'www.example.com'), 'not-found')
    assert.equal(GET(r, '/', 'api.example.com.evil'), 'not-found')
  })

  test('*.example.com matches subdomains, not example.com itself', () => {
    const r = router({ value: 'wild', uris: ['/'], hosts: ['*.example.com'] })
    assert.equal(GET(r, '/', 'a.example.com'), 'wild')
    assert.equal(GET(r, '/', 'a.b.example.com'), 'wild')
    assert.equal(GET(r, '/', 'example.com'), 'not-found')
    assert.equal(GET(r, '/', 'badexample.com'), 'not-found')
    assert.equal(GET(r, '/', '.example.com'), 'not-found')
  })

  test('configured hosts are case-insensitive (requests arrive lower case)', () => {
    const r = router({ value: 'h', uris: ['/'], hosts: ['API.Example.COM', '*.Other.Org'] })
    assert.equal(GET(r, '/', 'api.example.com'), 'h')
    assert.equal(GET(r, '/', 'x.other.org'), 'h')
  })

  test('"*" or no hosts match any host', () => {
    const r = router({ value: 'star', uris: ['/s'], hosts: ['*'] }, { value: 'none', uris: ['/n'] })
    assert.equal(GET(r, '/s', 'anything.test'), 'star')
    assert.equal(GET(r, '/n', 'anything.test'), 'none')
    assert.equal(compileHosts(['a.com', '*']), undefined)
    assert.equal(compileHosts([]), undefined)
  })

  test('a host mismatch skips the route and the search goes on', () => {
    const r = router(
      { value: 'echo', uris: ['/api/*'], hosts: ['echo.internal'], priority: 10 },
      { value: 'api', uris: ['/api/*'] },
      { value: 'exact-other-host', uris: ['/api/x'], hosts: ['other'] },
    )
    assert.equal(GET(r, '/api/x', 'echo.internal'), 'echo')
    assert.equal(GET(r, '/api/x', 'public.example'), 'api')
    assert.equal(GET(r, '/api/x', 'other'), 'exact-other-host')
  })

  test('a route on another host never causes a 405', () => {
    const r = router({ value: 'post-only', uris: ['/x'], hosts: ['a.test'], methods: ['POST'] })
    assert.equal(GET(r, '/x', 'b.test'), 'not-found')
    assert.equal(GET(r, '/x', 'a.test'), 'method-not-allowed')
  })
})

describe('Router methods', () => {
  test('the method constrains; no methods means all', () => {
    const r = router({ value: 'post', uris: ['/x'], methods: ['POST'] }, { value: 'any', uris: ['/y'] })
    assert.equal(hit(r.match('POST', 'h', '/x')), 'post')
    assert.equal(hit(r.match('PURGE', 'h', '/y')), 'any')
  })

  test('HEAD is accepted wherever GET is', () => {
    const r = router({ value: 'get', uris: ['/x'], methods: ['GET'] })
    assert.equal(hit(r.match('HEAD', 'h', '/x')), 'get')
  })

  test('GET is not accepted where only HEAD is', () => {
    const r = router({ value: 'head', uris: ['/x'], methods: ['HEAD'] })
    assert.deepEqual(r.match('GET', 'h', '/x'), { kind: 'method-not-allowed', allow: ['HEAD'] })
  })

  test('a method mismatch falls through to the next route for the same uri', () => {
    const r = router(
      { value: 'post', uris: ['/x'], methods: ['POST'], priority: 5 },
      { value: 'get', uris: ['/x'], methods: ['GET'] },
    )
    assert.equal(GET(r, '/x'), 'get')
    assert.equal(hit(r.match('POST', 'h', '/x')), 'post')
  })

  test('405 lists every method allowed for the path and host, sorted, with HEAD for GET', () => {
    const r = router(
      { value: 'a', uris: ['/x'], methods: ['POST', 'GET'] },
      { value: 'b', uris: ['/x'], methods: ['PUT'] },
      { value: 'c', uris: ['/*'], methods: ['DELETE'] },
      { value: 'other-host', uris: ['/x'], methods: ['PATCH'], hosts: ['elsewhere'] },
    )
    assert.deepEqual(r.match('OPTIONS', 'h', '/x'), {
      kind: 'method-not-allowed',
      allow: ['DELETE', 'GET', 'HEAD', 'POST', 'PUT'],
    })
  })

  test('before a 405, a shorter prefix route that allows the method wins', () => {
    const r = router(
      { value: 'exact-post', uris: ['/api/users'], methods: ['POST'] },
      { value: 'long-put', uris: ['/api/users/*'], methods: ['PUT'] },
      { value: 'api-get', uris: ['/api/*'], methods: ['GET'] },
    )
    assert.deepEqual(r.match('GET', 'h', '/api/users'), { kind: 'found', value: 'api-get', suffix: 'users' })
    assert.deepEqual(r.match('GET', 'h', '/api/users/1'), {
      kind: 'found',
      value: 'api-get',
      suffix: 'users/1',
    })
    assert.deepEqual(r.match('DELETE', 'h', '/api/users'), {
      kind: 'method-not-allowed',
      allow: ['GET', 'HEAD', 'POST'],
    })
  })

  test('not-found when no route fits the path', () => {
    const r = router({ value: 'x', uris: ['/x'], methods: ['GET'] })
    assert.deepEqual(r.match('GET', 'h', '/y'), { kind: 'not-found' })
  })
})

describe('Router at scale', () => {
  test('10,000 exact and 10,000 prefix routes still match correctly', () => {
    const N = 10_000
    const specs: Spec[] = []
    for (let i = 0; i < N; i++) {
      specs.push({ value: `exact-${i}`, uris: [`/svc/${i}`] })
      specs.push({ value: `prefix-${i}`, uris: [`/svc/${i}/*`], methods: i % 2 === 0 ? ['GET'] : ['POST'] })
    }
    specs.push({ value: 'host-specific', uris: ['/svc/7'], hosts: ['*.tenant.test'], priority: 1 })
    specs.push({ value: 'fallback', uris: ['/*'] })
    const r = router(...specs)

    for (const i of [0, 1, 2, 9, 10, 99, 100, 999, 1234, 5000, 9998, 9999]) {
      assert.equal(GET(r, `/svc/${i}`, 'plain.test'), `exact-${i}`)
      assert.deepEqual(r.match(i % 2 === 0 ? 'GET' : 'POST', 'h', `/svc/${i}/a/b`), {
        kind: 'found',
        value: `prefix-${i}`,
        suffix: 'a/b',
      })
      // The wrong method for this prefix falls back to the catch-all route.
      assert.deepEqual(r.match(i % 2 === 0 ? 'POST' : 'GET', 'h', `/svc/${i}/a`), {
        kind: 'found',
        value: 'fallback',
        suffix: `svc/${i}/a`,
      })
    }
    assert.equal(GET(r, '/svc/7', 'x.tenant.test'), 'host-specific')
    assert.equal(GET(r, '/svc/7', 'plain.test'), 'exact-7')
    assert.equal(GET(r, '/svc/10000'), 'fallback')
    assert.equal(GET(r, '/svc/12/'), 'prefix-12')
  })
})
