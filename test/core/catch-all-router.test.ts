/**
 * The gateway's Hono router (src/core/catch-all-router.ts): one handler for every request, and
 * a loud failure for any other use, so it can never route a request wrongly.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Hono } from 'hono'
import { CatchAllRouter } from '../../src/core/catch-all-router.ts'

describe('CatchAllRouter', () => {
  test('every method and path reaches the one handler, with path and query as sent', async () => {
    const app = new Hono({ router: new CatchAllRouter() })
    app.all('*', (c) => c.text(`${c.req.method} ${c.req.path} ${new URL(c.req.url).search}`))
    for (const [method, target] of [
      ['GET', '/'],
      ['POST', '/a/b?x=1'],
      ['DELETE', '/%E2%82%AC/x'],
      ['PATCH', '//double'],
      ['OPTIONS', '/deep/er/than/any/route'],
    ] as const) {
      const res = await app.request(target, { method })
      assert.equal(res.status, 200)
      const query = target.includes('?') ? target.slice(target.indexOf('?')) : ''
      const path = decodeURI(target.split('?')[0] as string)
      assert.equal(await res.text(), `${method} ${path} ${query}`)
    }
    const head = await app.request('/x', { method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.equal(await head.text(), '')
  })

  test('a second handler, or any route but all *, is refused when it is added', () => {
    const app = new Hono({ router: new CatchAllRouter() })
    assert.throws(
      () => app.get('/users', (c) => c.text('no')),
      /one app\.all\('\*'\) handler, not GET \/users/,
    )
    app.all('*', (c) => c.text('yes'))
    assert.throws(() => app.all('*', (c) => c.text('twice')), /not ALL \/\*/)
  })
})
