import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Hono } from 'hono'
import { buildChain, type ChainLink, orderLinks, type RouteHandler } from '../../src/core/chain.ts'
import { GatewayError } from '../../src/core/errors.ts'
import type { Deps, GatewayContext, GatewayEnv, GatewayMiddleware, Phase } from '../../src/core/plugin.ts'
import { PHASES } from '../../src/core/plugin.ts'
import { requestId } from '../../src/plugins/request-id/index.ts'

const noop: GatewayMiddleware = async (_c, next) => {
  await next()
}

function link(name: string, phase: Phase, priority = 0, global = false, middleware = noop): ChainLink {
  return { name, phase, priority, global, middleware }
}

const names = (links: readonly ChainLink[]) => links.map((l) => l.name)

describe('orderLinks', () => {
  test('phases follow PHASES, whatever the input order and priorities', () => {
    const shuffled = [...PHASES].reverse().map((phase, i) => link(phase, phase, i * 1000))
    assert.deepEqual(names(orderLinks(shuffled)), [...PHASES])
  })

  test('within a phase, global links come before route links, even with a lower priority', () => {
    const ordered = orderLinks([
      link('route-high', 'access', 9000, false),
      link('global-low', 'access', 1, true),
    ])
    assert.deepEqual(names(ordered), ['global-low', 'route-high'])
  })

  test('a route link in an earlier phase still runs before a global link in a later phase', () => {
    const ordered = orderLinks([
      link('global-response', 'response', 0, true),
      link('route-rewrite', 'rewrite'),
    ])
    assert.deepEqual(names(ordered), ['route-rewrite', 'global-response'])
  })

  test('higher priority first within the same phase and scope', () => {
    const ordered = orderLinks([link('p1', 'access', 1), link('p3', 'access', 3), link('p2', 'access', 2)])
    assert.deepEqual(names(ordered), ['p3', 'p2', 'p1'])
  })

  test('ties keep file order (stable)', () => {
    const ordered = orderLinks([
      link('first', 'log', 5),
      link('second', 'log', 5),
      link('third', 'log', 5),
      link('g-first', 'log', 5, true),
      link('g-second', 'log', 5, true),
    ])
    assert.deepEqual(names(ordered), ['g-first', 'g-second', 'first', 'second', 'third'])
  })

  test('a mixed set sorts by phase, then scope, then priority, then position', () => {
    const input = [
      link('upstream', 'upstream', 0),
      link('r-access-10', 'access', 10),
      link('g-log', 'log', 0, true),
      link('r-rewrite', 'rewrite', 99999),
      link('g-access-1', 'access', 1, true),
      link('r-access-20', 'access', 20),
      link('g-rewrite', 'rewrite', 0, true),
      link('r-response', 'response', 5),
    ]
    assert.deepEqual(names(orderLinks(input)), [
      'g-rewrite',
      'r-rewrite',
      'g-access-1',
      'r-access-20',
      'r-access-10',
      'g-log',
      'r-response',
      'upstream',
    ])
  })

  test('does not modify its input', () => {
    const input = [link('b', 'upstream'), link('a', 'rewrite')]
    orderLinks(input)
    assert.deepEqual(names(input), ['b', 'a'])
  })
})

/** A Hono app whose only handler runs `handler`; errors escaping the chain are captured. */
function appFor(handler: RouteHandler) {
  const escaped: unknown[] = []
  const app = new Hono<GatewayEnv>()
  app.all('*', async (c) => {
    try {
      return await handler(c)
    } catch (error) {
      escaped.push(error)
      return c.text('escaped', 599 as 500)
    }
  })
  return { app, escaped }
}

const failOnError = (error: unknown): Response => {
  throw new Error(`onError was not expected, got ${String(error)}`)
}

describe('buildChain', () => {
  test('onion order: before effects outside-in, after effects inside-out', async () => {
    const events: string[] = []
    const wrap =
      (name: string): GatewayMiddleware =>
      async (c, next) => {
        events.push(`${name}:before`)
        await next()
        events.push(`${name}:after`)
        c.header(`x-${name}`, String(events.length))
      }
    const terminal: GatewayMiddleware = async (c) => {
      events.push('terminal')
      return c.text(`answered ${c.req.method} ${c.req.path}`, 201)
    }
    const handler = buildChain(
      [
        link('upstream', 'upstream', 0, false, terminal),
        link('response', 'response', 0, false, wrap('response')),
        link('access', 'access', 0, false, wrap('access')),
        link('rewrite', 'rewrite', 0, true, wrap('rewrite')),
      ],
      failOnError,
    )
    const { app, escaped } = appFor(handler)
    const res = await app.request('/things/1', { method: 'POST' })
    assert.deepEqual(escaped, [])
    assert.equal(res.status, 201)
    assert.equal(await res.text(), 'answered POST /things/1')
    assert.deepEqual(events, [
      'rewrite:before',
      'access:before',
      'response:before',
      'terminal',
      'response:after',
      'access:after',
      'rewrite:after',
    ])
    // Each outer link saw the response and decorated it after the inner ones.
    assert.equal(res.headers.get('x-response'), '5')
    assert.equal(res.headers.get('x-access'), '6')
    assert.equal(res.headers.get('x-rewrite'), '7')
  })

  test('state set by an outer link is visible to inner links', async () => {
    const handler = buildChain(
      [
        link('set', 'rewrite', 0, false, async (c, next) => {
          c.set('routeId', 'r-42')
          await next()
        }),
        link('upstream', 'upstream', 0, false, async (c) => c.text(c.get('routeId'))),
      ],
      failOnError,
    )
    const res = await appFor(handler).app.request('/')
    assert.equal(await res.text(), 'r-42')
  })

  test('an error thrown in the terminal goes to onError, and outer links still decorate the answer', async () => {
    const boom = new GatewayError('UPSTREAM_TIMEOUT', 'upstream took too long')
    const seen: { error: unknown; path: string }[] = []
    const afterEffects: string[] = []
    const handler = buildChain(
      [
        link('outer', 'rewrite', 0, true, async (c, next) => {
          await next()
          afterEffects.push(`outer saw ${c.res.status}`)
          c.header('x-outer', 'yes')
        }),
        link('inner', 'response', 0, false, async (c, next) => {
          await next()
          afterEffects.push(`inner saw ${c.res.status}`)
          c.header('x-inner', 'yes')
        }),
        link('upstream', 'upstream', 0, false, async () => {
          throw boom
        }),
      ],
      (error, c) => {
        seen.push({ error, path: c.req.path })
        return (error as GatewayError).toResponse()
      },
    )
    const { app, escaped } = appFor(handler)
    const res = await app.request('/slow')
    assert.deepEqual(escaped, [])
    assert.equal(seen.length, 1)
    assert.equal(seen[0]!.error, boom)
    assert.equal(seen[0]!.path, '/slow')
    assert.equal(res.status, 504)
    assert.deepEqual(await res.json(), {
      error: { code: 'SLUICE_E_UPSTREAM_TIMEOUT', message: 'upstream took too long' },
    })
    assert.equal(res.headers.get('x-outer'), 'yes')
    assert.equal(res.headers.get('x-inner'), 'yes')
    assert.deepEqual(afterEffects, ['inner saw 504', 'outer saw 504'])
  })

  test('the real request-id plugin decorates an error response', async () => {
    const deps = {} as Deps
    const handler = buildChain(
      [
        link('upstream', 'upstream', 0, false, async () => {
          throw new Error('kaboom')
        }),
        link(
          'request-id',
          requestId.phase,
          requestId.priority,
          true,
          requestId.create({ header_name: 'X-Request-Id' }, deps),
        ),
      ],
      () => new GatewayError('INTERNAL', 'internal error').toResponse(),
    )
    const res = await appFor(handler).app.request('/', { headers: { 'x-request-id': 'trace-abc' } })
    assert.equal(res.status, 500)
    assert.equal(res.headers.get('x-request-id'), 'trace-abc')
  })

  test('an error before next() is answered there: inner links do not run, outer ones decorate', async () => {
    const ran: string[] = []
    const handler = buildChain(
      [
        link('outer', 'rewrite', 0, false, async (c, next) => {
          await next()
          c.header('x-outer', 'yes')
        }),
        link('auth', 'access', 0, false, async () => {
          throw new GatewayError('BAD_REQUEST', 'no credentials')
        }),
        link('upstream', 'upstream', 0, false, async (c) => {
          ran.push('terminal')
          return c.text('secret')
        }),
      ],
      (error) => (error as GatewayError).toResponse(),
    )
    const res = await appFor(handler).app.request('/')
    assert.equal(res.status, 400)
    assert.equal(res.headers.get('x-outer'), 'yes')
    assert.deepEqual(ran, [])
  })

  test('an error after next() replaces the terminal answer with the onError one', async () => {
    const handler = buildChain(
      [
        link('checker', 'response', 0, false, async (_c, next) => {
          await next()
          throw new Error('response check failed')
        }),
        link('upstream', 'upstream', 0, false, async (c) => c.text('fine')),
      ],
      () => new Response('replaced', { status: 502 }),
    )
    const res = await appFor(handler).app.request('/')
    assert.equal(res.status, 502)
    assert.equal(await res.text(), 'replaced')
  })

  test('a link may answer without calling next (short circuit)', async () => {
    const ran: string[] = []
    const handler = buildChain(
      [
        link('cache', 'access', 0, false, async () => new Response('from cache', { status: 203 })),
        link('upstream', 'upstream', 0, false, async (c) => {
          ran.push('terminal')
          return c.text('origin')
        }),
      ],
      failOnError,
    )
    const res = await appFor(handler).app.request('/')
    assert.equal(res.status, 203)
    assert.equal(await res.text(), 'from cache')
    assert.deepEqual(ran, [])
  })

  test('a link may replace the response after next()', async () => {
    const handler = buildChain(
      [
        link('rewrite-body', 'response', 0, false, async (c, next) => {
          await next()
          const original = await c.res.text()
          return new Response(original.toUpperCase(), { status: 200 })
        }),
        link('upstream', 'upstream', 0, false, async (c) => c.text('quiet')),
      ],
      failOnError,
    )
    const res = await appFor(handler).app.request('/')
    assert.equal(await res.text(), 'QUIET')
  })

  test('a chain that nobody answers fails with an INTERNAL GatewayError instead of hanging', async () => {
    const handler = buildChain([link('only-rewrite', 'rewrite', 0, true)], failOnError)
    const { app, escaped } = appFor(handler)
    const res = await app.request('/')
    assert.equal(res.status, 599)
    assert.equal(escaped.length, 1)
    assert.ok(escaped[0] instanceof GatewayError)
    assert.equal((escaped[0] as GatewayError).kind, 'INTERNAL')
  })

  test('links run in orderLinks order, not input order', async () => {
    const events: string[] = []
    const record =
      (name: string): GatewayMiddleware =>
      async (_c, next) => {
        events.push(name)
        await next()
      }
    const handler = buildChain(
      [
        link('upstream', 'upstream', 0, false, async (c: GatewayContext) => c.text('ok')),
        link('route-access-low', 'access', 1, false, record('route-access-low')),
        link('route-access-high', 'access', 2, false, record('route-access-high')),
        link('global-access', 'access', 0, true, record('global-access')),
        link('log', 'log', 0, false, record('log')),
      ],
      failOnError,
    )
    await appFor(handler).app.request('/')
    assert.deepEqual(events, ['global-access', 'route-access-high', 'route-access-low', 'log'])
  })

  test('each request runs the chain afresh', async () => {
    let count = 0
    const handler = buildChain(
      [link('upstream', 'upstream', 0, false, async (c) => c.text(String(++count)))],
      failOnError,
    )
    const { app } = appFor(handler)
    assert.equal(await (await app.request('/')).text(), '1')
    assert.equal(await (await app.request('/')).text(), '2')
  })

  test('next() never throws: an onError that throws becomes its rejection, and outer links still run', async () => {
    const events: string[] = []
    const handler = buildChain(
      [
        link('outer', 'rewrite', 0, false, (_c, next) => {
          let promise: Promise<void>
          try {
            promise = next()
          } catch {
            events.push('next() threw')
            return Promise.resolve()
          }
          return promise.finally(() => events.push('outer cleanup'))
        }),
        // Not async: it throws synchronously, and onError throws in turn.
        link('upstream', 'upstream', 0, false, () => {
          throw new Error('terminal failed')
        }),
      ],
      () => {
        throw new Error('onError failed too')
      },
    )
    const { app, escaped } = appFor(handler)
    await app.request('/')
    // Had next() thrown, the outer link would have recorded 'next() threw' and no cleanup.
    assert.deepEqual(events, ['outer cleanup'])
    assert.equal(escaped.length, 1)
    assert.match(String(escaped[0]), /onError failed too/)
  })
})
