/**
 * @module
 * The fields every serverless plugin shares (APISIX's names and defaults), around a
 * plugin-specific `authorization` table.
 */
import { z } from 'zod'
import { milliseconds } from '../../config/schema.ts'

export const functionUri = z
  .string()
  .refine(
    (value) => {
      try {
        const url = new URL(value)
        return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== ''
      } catch {
        return false
      }
    },
    { message: 'must be a valid http(s) URL' },
  )
  .describe('The function endpoint (API Gateway URL, Lambda function URL, Azure Function URL).')

export function serverlessSchema<A extends z.ZodType>(authorization: A) {
  return z.strictObject({
    function_uri: functionUri,
    authorization: authorization.optional(),
    timeout: milliseconds(100).default(3000).describe('ms for the whole call to the function'),
    ssl_verify: z.boolean().default(true),
    keepalive: z.boolean().default(true),
    keepalive_pool: z.int().min(1).default(5).describe('idle connections kept to the function'),
    keepalive_timeout: milliseconds(1000).default(60000),
    max_req_body_size: z
      .int()
      .min(0)
      .default(6291456)
      .describe('bytes; a larger request body is answered with 413 before calling the function'),
  })
}

export type ServerlessConfig = z.output<ReturnType<typeof serverlessSchema>>
