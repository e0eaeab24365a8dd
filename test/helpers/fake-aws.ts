/**
 * A fake API Gateway on loopback that verifies what it receives the way AWS does: a missing or
 * wrong `x-api-key` gets 403, a missing or bad SigV4 signature gets 403
 * `InvalidSignatureException`. Signatures are re-computed with `@smithy/signature-v4`, an
 * implementation independent of ours, and the body hash is checked against the body received.
 *
 * Functions (by path under /default):
 *   /greet  the article's Lambda: name from the query, else from the JSON body
 *   /echo   answers with what arrived (method, path, query, headers, body size and hash)
 *   /slow   answers after ?ms= milliseconds
 *   /fail   the function's own 400, with a header of its own
 */
import { createHash, randomUUID } from 'node:crypto'
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { Hash } from '@smithy/hash-node'
import { SignatureV4 } from '@smithy/signature-v4'

export interface FakeIam {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string
  readonly region: string
  readonly service: string
}

export interface FakeAwsOptions {
  readonly apikey?: string
  readonly iam?: FakeIam
  /** Headers that must arrive with exactly these values (e.g. Azure's x-functions-key), else 401. */
  readonly requiredHeaders?: Readonly<Record<string, string>>
  /** Serve HTTPS with this certificate (self-signed in tests). */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer }
}

export interface FakeAws {
  readonly port: number
  readonly origin: string
  /** Requests that reached a function (passed authentication). */
  readonly invocations: { method: string; path: string; headers: http.IncomingHttpHeaders }[]
  /** Requests rejected, with the reason. */
  readonly rejections: string[]
  close(): Promise<void>
}

export async function startFakeAws(options: FakeAwsOptions): Promise<FakeAws> {
  const invocations: FakeAws['invocations'] = []
  const rejections: string[] = []

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readAll(req)
    const target = req.url ?? '/'
    const queryAt = target.indexOf('?')
    const path = queryAt === -1 ? target : target.slice(0, queryAt)
    const query = queryAt === -1 ? '' : target.slice(queryAt + 1)

    const denied = await authenticate(req, path, query, body, options)
    if (denied) {
      rejections.push(denied.reason)
      return send(
        res,
        403,
        { message: denied.message },
        denied.errorType ? { 'x-amzn-errortype': denied.errorType } : {},
      )
    }
    invocations.push({ method: req.method ?? '', path, headers: req.headers })
    const params = new URLSearchParams(query)
    const fn = path.replace(/^\/(default|api)(?=\/)/, '')
    if (fn === '/greet' || fn.startsWith('/greet/')) {
      let name = params.get('name') ?? undefined
      if (!name && body.length > 0) name = (JSON.parse(body.toString()) as { name?: string }).name
      return send(res, 200, `Hello, ${name}!`)
    }
    if (fn.startsWith('/echo')) {
      return send(res, 200, {
        method: req.method,
        path,
        query,
        headers: req.headers,
        bodyBytes: body.length,
        bodySha256: createHash('sha256').update(body).digest('hex'),
      })
    }
    if (fn === '/slow') {
      setTimeout(() => send(res, 200, 'slow'), Number(params.get('ms') ?? 1000))
      return
    }
    if (fn === '/fail') return send(res, 400, { error: 'bad input' }, { 'x-function-error': 'yes' })
    return send(res, 404, { message: 'Not Found' })
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handler(req, res).catch((error: Error) => send(res, 500, { message: error.message }))
  }
  const server = options.tls
    ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, listener)
    : http.createServer(listener)
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  const port = (server.address() as AddressInfo).port
  return {
    port,
    origin: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    invocations,
    rejections,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections()
        server.close(() => ok())
      }),
  }
}

interface Denial {
  readonly reason: string
  readonly message: string
  readonly errorType?: string
}

async function authenticate(
  req: IncomingMessage,
  path: string,
  query: string,
  body: Buffer,
  options: FakeAwsOptions,
): Promise<Denial | undefined> {
  for (const [name, value] of Object.entries(options.requiredHeaders ?? {})) {
    if (req.headers[name] !== value) return { reason: `header ${name}`, message: 'Unauthorized' }
  }
  if (options.apikey !== undefined && req.headers['x-api-key'] !== options.apikey) {
    return { reason: 'api key', message: 'Forbidden' }
  }
  if (!options.iam) return undefined
  const iam = options.iam
  const authorization = req.headers.authorization
  const parsed =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      authorization ?? '',
    )
  if (!parsed)
    return {
      reason: 'no signature',
      message: 'Missing Authentication Token',
      errorType: 'MissingAuthenticationTokenException',
    }
  const [, accessKey, day, region, service, signedHeaders, signature] = parsed as unknown as string[]
  const invalid = (reason: string): Denial => ({
    reason,
    message: 'The request signature we calculated does not match the signature you provided.',
    errorType: 'InvalidSignatureException',
  })
  if (accessKey !== iam.accessKeyId) return invalid('unknown access key')
  if (region !== iam.region || service !== iam.service) return invalid('wrong scope')
  const amzDate = String(req.headers['x-amz-date'] ?? '')
  const signingDate = parseAmzDate(amzDate)
  if (!signingDate || amzDate.slice(0, 8) !== day) return invalid('bad x-amz-date')
  if (Math.abs(Date.now() - signingDate.getTime()) > 5 * 60_000) return invalid('signature expired')
  if (iam.sessionToken !== undefined && req.headers['x-amz-security-token'] !== iam.sessionToken) {
    return invalid('session token')
  }
  const bodyHash = createHash('sha256').update(body).digest('hex')
  if (req.headers['x-amz-content-sha256'] !== undefined && req.headers['x-amz-content-sha256'] !== bodyHash) {
    return invalid('body hash')
  }

  const names = (signedHeaders as string).split(';')
  if (!names.includes('host') || !names.includes('x-amz-date'))
    return invalid('host and x-amz-date must be signed')
  const headers: Record<string, string> = {}
  for (const name of names) {
    const value = req.headers[name]
    if (value === undefined) return invalid(`signed header ${name} missing`)
    headers[name] = Array.isArray(value) ? value.join(',') : value
  }
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: iam.accessKeyId,
      secretAccessKey: iam.secretAccessKey,
      ...(iam.sessionToken ? { sessionToken: iam.sessionToken } : {}),
    },
    region: iam.region,
    service: iam.service,
    sha256: Hash.bind(null, 'sha256'),
  })
  const [hostname, port] = String(req.headers.host).split(':')
  const expected = await signer.sign(
    {
      method: req.method ?? 'GET',
      protocol: 'http:',
      hostname: hostname ?? '',
      ...(port ? { port: Number(port) } : {}),
      path,
      query: decodeQuery(query),
      headers: { ...headers, 'x-amz-content-sha256': bodyHash },
      body,
    },
    { signingDate, signableHeaders: new Set(names) },
  )
  const expectedSignature = /Signature=([0-9a-f]{64})/.exec(String(expected.headers.authorization))?.[1]
  const expectedSigned = /SignedHeaders=([^,]+)/.exec(String(expected.headers.authorization))?.[1]
  if (expectedSigned !== signedHeaders)
    return invalid(`signed headers differ: ${expectedSigned} vs ${signedHeaders}`)
  if (expectedSignature !== signature) return invalid('signature mismatch')
  return undefined
}

function decodeQuery(query: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  if (query === '') return out
  for (const pair of query.split('&')) {
    const at = pair.indexOf('=')
    const key = decodeURIComponent(at === -1 ? pair : pair.slice(0, at))
    const value = at === -1 ? '' : decodeURIComponent(pair.slice(at + 1))
    const prior = out[key]
    out[key] = prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [prior, value]
  }
  return out
}

function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value)
  if (!m) return undefined
  return new Date(
    Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])),
  )
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => ok(Buffer.concat(chunks)))
    req.on('error', fail)
  })
}

function send(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amz-apigw-id': randomUUID().slice(0, 16),
    'x-amzn-requestid': randomUUID(),
    // Real API Gateway answers with these; they must not reach HTTP/2 clients.
    connection: 'keep-alive',
    'keep-alive': 'timeout=60',
    ...extra,
  })
  res.end(text)
}
