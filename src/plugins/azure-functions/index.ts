/**
 * @module
 * `azure-functions`: calls an Azure Function over HTTP(S). `authorization.apikey` is sent as
 * `x-functions-key`, `authorization.clientid` as `x-functions-clientid`; a route without its
 * own key uses `[plugin_metadata.azure-functions] master_apikey` (and `master_clientid`).
 *
 * @example
 * [routes.plugins.azure-functions]
 * function_uri = "https://myapp.azurewebsites.net/api/greet"
 * authorization.apikey = "${AZURE_FUNCTION_KEY}"
 */
import { z } from 'zod'
import { headerValue } from '../../config/fields.ts'
import { definePlugin } from '../../core/plugin.ts'
import { type Authorizer, createServerlessHandler } from '../serverless/handler.ts'
import { serverlessSchema } from '../serverless/schema.ts'

const metadataSchema = z.strictObject({
  master_apikey: headerValue.optional().describe('x-functions-key for routes that set none'),
  master_clientid: headerValue.optional().describe('x-functions-clientid for routes that set none'),
})

const schema = serverlessSchema(
  z.strictObject({
    apikey: headerValue.optional().describe('sent as x-functions-key'),
    clientid: headerValue.optional().describe('sent as x-functions-clientid'),
  }),
)

const CREDENTIAL_HEADERS = new Set(['x-functions-key', 'x-functions-clientid'])

export const azureFunctions = definePlugin({
  name: 'azure-functions',
  schema,
  metadataSchema,
  phase: 'upstream',
  priority: -1900,
  create(config, deps) {
    const metadata = (deps.metadata['azure-functions'] ?? {}) as z.output<typeof metadataSchema>
    const apikey = config.authorization?.apikey ?? metadata.master_apikey
    const clientid = config.authorization?.clientid ?? metadata.master_clientid
    const configured = apikey !== undefined || clientid !== undefined
    const authorizer: Authorizer = {
      // Configured credentials win: a client cannot override them with its own headers.
      drop: configured ? CREDENTIAL_HEADERS : new Set(),
      needsBody: false,
      authorize(call) {
        if (apikey !== undefined) call.headers['x-functions-key'] = apikey
        if (clientid !== undefined) call.headers['x-functions-clientid'] = clientid
      },
    }
    return createServerlessHandler(config, authorizer, deps)
  },
})
