/**
 * Gateway.fetch itself (src/core/gateway.ts): whatever goes wrong inside, the caller gets an
 * answer or a rejected promise, never a synchronous throw, and a logged route logs every answer.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { formatIssue } from '../../src/config/issues.ts'
import { parseConfigText } from '../../src/config/load.ts'
import type { AccessFields } from '../../src/core/access-log.ts'
import { Gateway } from '../../src/core/gateway.ts'
import type { Logger } from '../../src/core/logger.ts'
import { builtinPlugins } from '../../src/plugins/index.ts'
import { UpstreamError } from '../../src/upstream/types.ts'

const CONFIG = `[server]
listen = ["127.0.0.1:0"]
access_log = true

[[routes]]
id = "down"
uri = "/*"
[routes.upstream]
nodes = { "127.0.0.1:9" = 1 }
retries = 0
`

function gatewayWith(logger: Logger, compiled = true) {
  const gateway = new Gateway({
    plugins: builtinPlugins,
    deps: {
      upstream: {
        send: () => Promise.reject(new UpstreamError('reset', 'upstream reset the connection')),
        close() {},
      },
      logger,
      configDir: '/nonexistent',
    },
  })
  if (!compiled) return gateway
  const loaded = parseConfigText(CONFIG, { plugins: builtinPlugins, env: {} })
  if (!loaded.ok) assert.fail(loaded.issues.map(formatIssue).join('\n'))
  gateway.swap(gateway.compile(loaded.config))
  return gateway
}

const conn = { remoteAddress: '127.0.0.1', scheme: 'http' as const }

describe('Gateway.fetch', () => {
  test('an error that escapes the chain (its error handler threw) still gets a JSON 500 and an access line', async () => {
    const access: AccessFields[] = []
    let warnings = 0
    const logger: Logger = {
      info() {},
      error() {},
      warn() {
        // The first warning is the chain's own error handler logging the upstream failure.
        if (++warnings === 1) throw new Error('stderr is gone')
      },
      access: (fields) => access.push(fields),
    }
    const gateway = gatewayWith(logger)
    const response = await gateway.fetch(new Request('http://gw.test/x'), conn)
    // What escaped is the logger's error: an internal one.
    assert.equal(response.status, 500)
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'SLUICE_E_INTERNAL')
    assert.equal(access.length, 1)
    assert.equal(access[0]?.status, 500)
    assert.equal(access[0]?.route, 'down')
  })

  test('never throws synchronously, even when every logger call throws', async () => {
    const throwing = () => {
      throw 'not an Error' // Hono rethrows non-Errors synchronously
    }
    const logger = { info: throwing, warn: throwing, error: throwing, access: throwing }
    // Before its first snapshot the gateway answers 503 at once and logs it: the synchronous path.
    for (const gateway of [gatewayWith(logger, false), gatewayWith(logger)]) {
      let answer: Response | Promise<Response> | undefined
      assert.doesNotThrow(() => {
        answer = gateway.fetch(new Request('http://gw.test/x'), conn)
      })
      await assert.rejects(Promise.resolve(answer), (error) => error === 'not an Error')
    }
  })
})
