/**
 * @module
 * `mocking`: answers with a configured response, like APISIX's mocking plugin. Useful for
 * stubbing an API before its backend exists, and for health endpoints.
 *
 * @example
 * [routes.plugins.mocking]
 * status = 200
 * json = { message = "Hello" }
 */
import { z } from 'zod'
import { fieldValue, settableHeaderName } from '../../config/fields.ts'
import { definePlugin } from '../../core/plugin.ts'
import { responseFromRecord } from '../../core/response.ts'

const schema = z
  .strictObject({
    status: z.int().min(200).max(599).default(200),
    headers: z.record(settableHeaderName, fieldValue).default({}),
    body: z.string().optional().describe('Body as text; default content type text/plain.'),
    json: z.json().optional().describe('Body as JSON (any TOML value); content type application/json.'),
    content_type: fieldValue.pipe(z.string().min(1)).optional(),
    delay: z.int().min(0).max(60000).default(0).describe('ms to wait before answering'),
  })
  .refine((c) => c.body === undefined || c.json === undefined, { message: 'set `body` or `json`, not both' })

export const mocking = definePlugin({
  name: 'mocking',
  schema,
  phase: 'upstream',
  priority: 10900,
  create(config) {
    const payload = config.json !== undefined ? JSON.stringify(config.json) : (config.body ?? '')
    const bytes = new TextEncoder().encode(payload)
    const contentType =
      config.content_type ?? (config.json !== undefined ? 'application/json' : 'text/plain; charset=utf-8')
    const headers: Record<string, string> = { 'content-type': contentType, ...config.headers }
    const nullBody = config.status === 204 || config.status === 205 || config.status === 304
    return async function mockingHandler() {
      if (config.delay > 0) await new Promise((resolve) => setTimeout(resolve, config.delay))
      // A fresh header record per response: plugins may edit it (core/response.ts).
      return responseFromRecord(nullBody ? null : bytes, { status: config.status, headers: { ...headers } })
    }
  },
})
