/**
 * @module
 * `aws-lambda`: calls an AWS Lambda function through an API Gateway URL (or a Lambda function
 * URL), authorised with an API key (`x-api-key`) or with IAM credentials and AWS Signature V4.
 * Same schema and defaults as APISIX's plugin, plus `iam.session_token` for temporary
 * credentials. As in APISIX, a route with both `apikey` and `iam` uses the API key (the cheaper
 * of the two: no hashing, no signature).
 *
 * @example
 * [routes.plugins.aws-lambda]
 * function_uri = "https://abc.execute-api.us-east-1.amazonaws.com/default/greet"
 * authorization.apikey = "${LAMBDA_API_KEY}"
 */
import { z } from 'zod'
import { amzDate, encodeQueryString, SigV4Signer, sha256Hex } from '../../aws/sigv4.ts'
import { headerValue, scopePart } from '../../config/fields.ts'
import { definePlugin } from '../../core/plugin.ts'
import { type Authorizer, createServerlessHandler, noAuthorizer } from '../serverless/handler.ts'
import { serverlessSchema } from '../serverless/schema.ts'

const iamSchema = z
  .strictObject({
    accesskey: scopePart.describe('IAM access key id'),
    secretkey: headerValue.optional().describe('IAM secret access key (required; or `secret_key`)'),
    // APISIX's schema table spells it `secret_key`, its examples `secretkey`: users copy both.
    secret_key: headerValue.optional().describe('the same as `secretkey`'),
    // "" is no token: `session_token = "${AWS_SESSION_TOKEN:-}"` serves both temporary and
    // long-term credentials from one file.
    session_token: headerValue
      .or(z.literal(''))
      .optional()
      .describe('for temporary credentials (STS); empty: none'),
    aws_region: scopePart.default('us-east-1'),
    service: scopePart
      .default('execute-api')
      .describe('"execute-api" for API Gateway, "lambda" for function URLs'),
  })
  .superRefine((iam, context) => {
    if ((iam.secretkey === undefined) === (iam.secret_key === undefined))
      context.addIssue({
        code: 'custom',
        path: iam.secretkey === undefined ? ['secretkey'] : ['secret_key'],
        message:
          iam.secretkey === undefined
            ? 'is required (the IAM secret access key; `secret_key` is accepted too)'
            : 'set `secretkey` or `secret_key`, not both',
      })
  })

const authorizationSchema = z.strictObject({
  apikey: headerValue.optional().describe('API Gateway API key, sent as x-api-key (wins over `iam`)'),
  iam: iamSchema.optional().describe('IAM credentials: requests are signed with AWS Signature V4'),
})

const schema = serverlessSchema(authorizationSchema)

/**
 * Client headers that would override or confuse the route's own credentials. With an API key
 * the client's `authorization` goes through, as APISIX does: API Gateway may check it too (a
 * JWT or Cognito authorizer beside the key).
 */
const APIKEY_DROP = new Set(['x-api-key'])
const IAM_DROP = new Set([
  'x-api-key',
  'authorization',
  'x-amz-date',
  'x-amz-security-token',
  'x-amz-content-sha256',
])

function apikeyAuthorizer(apikey: string): Authorizer {
  return {
    drop: APIKEY_DROP,
    needsBody: false,
    authorize(call) {
      call.headers['x-api-key'] = apikey
    },
  }
}

function iamAuthorizer(iam: z.output<typeof iamSchema>): Authorizer {
  const sessionToken = iam.session_token || undefined
  const signer = new SigV4Signer({
    accessKeyId: iam.accesskey,
    // The schema makes sure exactly one of the two is set.
    secretAccessKey: (iam.secretkey ?? iam.secret_key) as string,
    sessionToken,
  })
  const options = { region: iam.aws_region, service: iam.service }
  return {
    drop: IAM_DROP,
    needsBody: true,
    authorize(call) {
      const date = new Date()
      const headers = call.headers
      // Sent encoded as it is signed (AWS sorts on its side), in the client's order.
      call.query = encodeQueryString(call.query)
      headers['x-amz-date'] = amzDate(date)
      headers['x-amz-content-sha256'] = sha256Hex(call.body as Uint8Array)
      if (sessionToken !== undefined) headers['x-amz-security-token'] = sessionToken
      const signed = signer.sign(
        {
          method: call.method,
          host: call.host,
          path: call.path,
          query: call.query,
          // A `host` entry in them is not signed: `host` above is (without copying the headers).
          headers,
          payloadHash: headers['x-amz-content-sha256'],
        },
        { ...options, date },
      )
      headers.authorization = signed.authorization
    },
  }
}

export const awsLambda = definePlugin({
  name: 'aws-lambda',
  schema,
  phase: 'upstream',
  priority: -1899,
  create(config, deps) {
    const auth = config.authorization
    const authorizer = auth?.apikey
      ? apikeyAuthorizer(auth.apikey)
      : auth?.iam
        ? iamAuthorizer(auth.iam)
        : noAuthorizer
    return createServerlessHandler(config, authorizer, deps)
  },
})
