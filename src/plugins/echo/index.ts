/**
 * @module
 * `echo`: answers with what it received (method, path, query, headers, body) as JSON, like
 * httpbin's /anything. The shipped gateway.toml proxies to it so the proxy works offline.
 */
import { z } from 'zod'
import { GatewayError } from '../../core/errors.ts'
import { definePlugin } from '../../core/plugin.ts'
import { pathAndQueryOf } from '../../core/request.ts'
import { jsonResponse } from '../../core/response.ts'

const schema = z.strictObject({
  max_body_size: z
    .int()
    .min(0)
    .default(1048576)
    .describe('Bytes of request body echoed at most; more -> 413.'),
})

export const echo = definePlugin({
  name: 'echo',
  schema,
  phase: 'upstream',
  priority: 10800,
  create(config) {
    return async function echoHandler(c) {
      const declared = Number(c.req.header('content-length') ?? 0)
      if (declared > config.max_body_size) {
        throw new GatewayError('BODY_TOO_LARGE', `request body over ${config.max_body_size} bytes`)
      }
      const body = c.req.raw.body ? await c.req.text() : ''
      if (body.length > config.max_body_size) {
        throw new GatewayError('BODY_TOO_LARGE', `request body over ${config.max_body_size} bytes`)
      }
      const target = pathAndQueryOf(c.req.url)
      const query = target.includes('?') ? target.slice(target.indexOf('?') + 1) : ''
      return jsonResponse({
        method: c.req.method,
        path: c.req.path,
        query: Object.fromEntries(new URLSearchParams(query)),
        headers: Object.fromEntries(c.req.raw.headers),
        body,
      })
    }
  },
})
