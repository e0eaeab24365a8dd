/**
 * The aws-lambda and azure-functions plugins end to end: the real gateway process calls fake
 * API Gateway / Azure endpoints on loopback that verify API keys and re-check SigV4 signatures
 * with @smithy/signature-v4. Follows the APISIX article's flows, over HTTP/1.1 and h2c.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import http from 'node:http'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { type FakeAws, startFakeAws } from '../helpers/fake-aws.ts'
import { makeTempDir, type RunningGateway, startGateway, TARGET } from '../helpers/gateway.ts'
import { h2once } from '../helpers/h2.ts'
import { selfSignedCert } from '../helpers/tls.ts'
import { closedPort } from '../helpers/upstream.ts'

const run = promisify(execFile)

const API_KEY = 'test-api-key-9f8e7d'
const IAM = {
  accessKeyId: 'AKIDSLUICETEST',
  secretAccessKey: 'sluice/secret+key=value',
  region: 'eu-west-1',
  service: 'execute-api',
}
const STS = { ...IAM, accessKeyId: 'ASIASLUICETEST', sessionToken: 'FQoGZXIvYXdzEXAMPLEtoken//+=' }
const AZURE_KEY = 'azure-route-key-123'
const AZURE_MASTER = 'azure-master-key-456'
const SECRETS = [API_KEY, IAM.secretAccessKey, STS.sessionToken, AZURE_KEY, AZURE_MASTER]

/**
 * One request through node:http, for what fetch will not send (a GET's body, a body written in
 * pauses): `send` writes and ends it. Resolves with the status and the whole answer as text.
 */
function httpText(
  url: string,
  options: http.RequestOptions,
  send: (req: http.ClientRequest) => void,
): Promise<{ status: number; text: string }> {
  return new Promise((ok, fail) => {
    const req = http.request(url, options, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        text += chunk
      })
      res.on('end', () => ok({ status: res.statusCode ?? 0, text }))
    })
    req.on('error', fail)
    send(req)
  })
}

const lambda = (uri: string, fields: string) => `
[[routes]]
uri = "${uri}"
[routes.plugins.aws-lambda]
${fields}
`

describe('aws-lambda and azure-functions', () => {
  let apikeyFake: FakeAws
  let iamFake: FakeAws
  let stsFake: FakeAws
  let tlsFake: FakeAws
  let azureFake: FakeAws
  let azureMasterFake: FakeAws
  let functionUrlFake: FakeAws
  let gateway: RunningGateway
  let toml: string

  before(async () => {
    const dir = await makeTempDir()
    const tls = await selfSignedCert(dir)
    apikeyFake = await startFakeAws({ apikey: API_KEY })
    iamFake = await startFakeAws({ iam: IAM })
    stsFake = await startFakeAws({ iam: STS })
    functionUrlFake = await startFakeAws({ iam: { ...IAM, service: 'lambda' } })
    tlsFake = await startFakeAws({ apikey: API_KEY, tls })
    azureFake = await startFakeAws({ requiredHeaders: { 'x-functions-key': AZURE_KEY } })
    azureMasterFake = await startFakeAws({
      requiredHeaders: { 'x-functions-key': AZURE_MASTER, 'x-functions-clientid': 'client-7' },
    })
    const down = await closedPort()
    const iam = (creds: typeof IAM & { sessionToken?: string }) =>
      `authorization.iam = { accesskey = "${creds.accessKeyId}", secretkey = "\${SECRET_${creds === IAM ? 'IAM' : 'STS'}}", aws_region = "${creds.region}"${
        creds.sessionToken ? `, session_token = "\${STS_TOKEN}"` : ''
      } }`
    toml = `[server]
listen = ["127.0.0.1:0"]
[plugins.request-id]
[plugin_metadata.azure-functions]
master_apikey = "\${AZURE_MASTER}"
master_clientid = "client-7"
${lambda('/aws', `function_uri = "${apikeyFake.origin}/default/greet"\nauthorization.apikey = "\${LAMBDA_API_KEY}"`)}
${lambda('/aws/*', `function_uri = "${apikeyFake.origin}/default/echo?stage=test"\nauthorization.apikey = "\${LAMBDA_API_KEY}"`)}
${lambda('/iam', `function_uri = "${iamFake.origin}/default/greet"\n${iam(IAM)}`)}
${lambda('/iam/*', `function_uri = "${iamFake.origin}/default/echo?stage=test"\n${iam(IAM)}`)}
${lambda('/iam-quick', `function_uri = "${iamFake.origin}/default/echo"\n${iam(IAM)}\ntimeout = 300`)}
${lambda('/aws-quick', `function_uri = "${apikeyFake.origin}/default/echo"\nauthorization.apikey = "\${LAMBDA_API_KEY}"\ntimeout = 300`)}
${lambda('/sts', `function_uri = "${stsFake.origin}/default/greet"\n${iam(STS)}`)}
${lambda('/function-url', `function_uri = "${functionUrlFake.origin}/greet"\n${iam(IAM).replace(' }', ', service = "lambda" }')}`)}
${lambda('/wrong-key', `function_uri = "${apikeyFake.origin}/default/greet"\nauthorization.apikey = "not-the-key"`)}
${lambda('/wrong-secret', `function_uri = "${iamFake.origin}/default/greet"\nauthorization.iam = { accesskey = "${IAM.accessKeyId}", secretkey = "wrong", aws_region = "${IAM.region}" }`)}
${lambda('/small', `function_uri = "${apikeyFake.origin}/default/echo"\nauthorization.apikey = "\${LAMBDA_API_KEY}"\nmax_req_body_size = 16`)}
${lambda('/small-iam', `function_uri = "${iamFake.origin}/default/echo"\n${iam(IAM)}\nmax_req_body_size = 16`)}
${lambda('/down', `function_uri = "http://127.0.0.1:${down}/default/greet"`)}
${lambda('/slow', `function_uri = "${apikeyFake.origin}/default/slow?ms=3000"\nauthorization.apikey = "\${LAMBDA_API_KEY}"\ntimeout = 300`)}
${lambda('/fail', `function_uri = "${apikeyFake.origin}/default/fail"\nauthorization.apikey = "\${LAMBDA_API_KEY}"`)}
${lambda('/tls', `function_uri = "${tlsFake.origin}/default/greet"\nauthorization.apikey = "\${LAMBDA_API_KEY}"\nssl_verify = false`)}
${lambda('/tls-verified', `function_uri = "${tlsFake.origin}/default/greet"\nauthorization.apikey = "\${LAMBDA_API_KEY}"`)}
${lambda('/café/*', `function_uri = "${apikeyFake.origin}/default/echo"\nauthorization.apikey = "\${LAMBDA_API_KEY}"`)}
${lambda('/both/*', `function_uri = "${apikeyFake.origin}/default/echo"\nauthorization.apikey = "\${LAMBDA_API_KEY}"\n${iam(IAM)}`)}
${lambda('/iam-alias/*', `function_uri = "${iamFake.origin}/default/echo"\nauthorization.iam = { accesskey = "${IAM.accessKeyId}", secret_key = "\${SECRET_IAM}", aws_region = "${IAM.region}", session_token = "\${NO_SUCH_TOKEN:-}" }`)}
[[routes]]
uri = "/azure"
[routes.plugins.azure-functions]
function_uri = "${azureFake.origin}/api/greet"
authorization.apikey = "\${AZURE_KEY}"
[[routes]]
uri = "/azure-master"
[routes.plugins.azure-functions]
function_uri = "${azureMasterFake.origin}/api/greet"
`
    gateway = await startGateway(toml, {
      env: {
        LAMBDA_API_KEY: API_KEY,
        SECRET_IAM: IAM.secretAccessKey,
        SECRET_STS: STS.secretAccessKey,
        STS_TOKEN: STS.sessionToken,
        AZURE_KEY,
        AZURE_MASTER,
      },
    })
  })

  after(async () => {
    await gateway?.stop()
    await Promise.all(
      [apikeyFake, iamFake, stsFake, tlsFake, azureFake, azureMasterFake, functionUrlFake].map((f) =>
        f?.close(),
      ),
    )
  })

  const port = () => new URL(gateway.url).port

  test("the article's API-key flow, verbatim with curl: HTTP/1.1", async () => {
    const { stdout } = await run('curl', ['-i', '-XGET', `localhost:${port()}/aws?name=APISIX`])
    const [head, body] = stdout.split('\r\n\r\n')
    assert.match(head as string, /^HTTP\/1\.1 200 OK/)
    assert.match(head as string, /content-type: application\/json/i)
    assert.match(head as string, /x-amz-apigw-id: /i)
    assert.match(head as string, /x-amzn-requestid: /i)
    assert.equal(body, '"Hello, APISIX!"')
  })

  test("the article's API-key flow, verbatim with curl: HTTP/2 prior knowledge", async () => {
    const { stdout } = await run('curl', [
      '-i',
      '-XGET',
      '--http2',
      '--http2-prior-knowledge',
      `localhost:${port()}/aws?name=APISIX`,
    ])
    const [head, body] = stdout.split('\r\n\r\n')
    assert.match(head as string, /^HTTP\/2 200/)
    assert.match(head as string, /content-length: 16/)
    assert.doesNotMatch(head as string, /^(connection|keep-alive):/im)
    assert.equal(body, '"Hello, APISIX!"')
  })

  test('POST with a JSON body: the function takes the name from it (API key and IAM, h1 and h2c)', async () => {
    for (const path of ['/aws', '/iam', '/sts']) {
      const res = await fetch(`${gateway.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Sluice' }),
      })
      assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`)
      assert.equal(await res.json(), 'Hello, Sluice!')
      const h2 = await h2once(gateway.url, path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'h2' }),
      })
      assert.equal(h2.status, 200, `${path} over h2c`)
      assert.equal(JSON.parse(h2.body.toString()), 'Hello, h2!')
    }
  })

  test('IAM: signed requests with odd paths, queries and headers pass the independent verifier', async () => {
    const queries = [
      'name=APISIX',
      'b=2&a=1&a=0',
      'empty=&flag',
      'sp=a%20b&star=*&tilde=~&plus=a+b',
      'u=%E1%88%B4&k%C3%A9y=v',
    ]
    for (const query of queries) {
      const res = await fetch(`${gateway.url}/iam/some/deep%20path/x*y?${query}`, {
        headers: { 'x-amz-meta-custom': '  spaced   value ', 'content-type': 'text/plain' },
      })
      const text = await res.text()
      assert.equal(res.status, 200, `query ${query}: ${text} (${iamFake.rejections.at(-1)})`)
      const echoed = JSON.parse(text) as { path: string; query: string; headers: Record<string, string> }
      assert.equal(echoed.path, '/default/echo/some/deep%20path/x*y')
      assert.match(
        echoed.headers.authorization ?? '',
        /^AWS4-HMAC-SHA256 Credential=AKIDSLUICETEST\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-custom, Signature=/,
      )
    }
    const h2 = await h2once(gateway.url, '/iam?name=h2c')
    assert.equal(JSON.parse(h2.body.toString()), 'Hello, h2c!')
    const functionUrl = await fetch(`${gateway.url}/function-url?name=url`)
    assert.equal(
      await functionUrl.json(),
      'Hello, url!',
      'service = "lambda" (function URLs) signs for lambda',
    )
    assert.match(
      String(functionUrlFake.invocations.at(-1)?.headers.authorization),
      /\/eu-west-1\/lambda\/aws4_request/,
    )
    const sts = await fetch(`${gateway.url}/sts?name=temp`)
    assert.equal(await sts.json(), 'Hello, temp!')
    assert.equal(stsFake.invocations.at(-1)?.headers['x-amz-security-token'], STS.sessionToken)
  })

  test("IAM keeps the client's query order (repeated keys too), encoded as it was signed", async () => {
    const res = await fetch(`${gateway.url}/iam/q?b=2&a=1&a=0&plus=a+b&flag&sp=x%20y`)
    assert.equal(res.status, 200)
    const echoed = (await res.json()) as { query: string }
    assert.equal(echoed.query, 'stage=test&b=2&a=1&a=0&plus=a%2Bb&flag&sp=x%20y')
  })

  test('IAM: a client that sends its body too slowly gets 408, and the function is not called', async () => {
    const before = iamFake.invocations.length
    const status = await new Promise<number>((ok, fail) => {
      const req = http.request(
        `${gateway.url}/iam-quick`,
        { method: 'POST', headers: { 'content-length': '100' } },
        (res) => {
          res.resume()
          ok(res.statusCode ?? 0)
          req.destroy()
        },
      )
      req.on('error', () => {})
      req.write('only ten b')
      setTimeout(() => fail(new Error('no answer within 3 s')), 3000)
    })
    assert.equal(status, 408)
    assert.equal(iamFake.invocations.length, before)
  })

  test('a GET with a body reaches the function (signed with IAM) where the runtime keeps it', async () => {
    // Bun.serve and Deno.serve drop a GET's body (their Request cannot carry one): Node only.
    const keeps = TARGET === 'node'
    const body = JSON.stringify({ name: 'from-body' })
    for (const path of ['/aws/echo', '/iam/echo']) {
      const { status, text } = await httpText(
        `${gateway.url}${path}`,
        {
          method: 'GET',
          headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
        },
        (req) => req.end(body),
      )
      // The IAM fake answers 403 unless the signature, body hash included, checks out.
      assert.equal(status, 200, `${path}: ${text}`)
      assert.equal((JSON.parse(text) as { bodyBytes: number }).bodyBytes, keeps ? body.length : 0, path)
    }
  })

  test('`timeout` bounds each pause, not the whole call: a slow but steady upload goes through', async () => {
    // 100 bytes in 5 parts, 150 ms apart: 600 ms in all against a 300 ms timeout.
    const upload = (path: string) =>
      httpText(`${gateway.url}${path}`, { method: 'POST', headers: { 'content-length': '100' } }, (req) => {
        let part = 0
        const next = () => {
          req.write('x'.repeat(20))
          if (++part < 5) setTimeout(next, 150)
          else req.end()
        }
        next()
      })
    for (const path of ['/aws-quick', '/iam-quick']) {
      const { status, text } = await upload(path)
      assert.equal(status, 200, `${path}: ${text}`)
      assert.equal((JSON.parse(text) as { bodyBytes: number }).bodyBytes, 100, path)
    }
  })

  test('a prefix the client percent-encoded (non-ASCII route) keeps the rest of the path as sent', async () => {
    const res = await fetch(`${gateway.url}/caf%C3%A9/users/a%2Fb%3Fc`)
    assert.equal(res.status, 200)
    const echoed = (await res.json()) as { path: string }
    assert.equal(echoed.path, '/default/echo/users/a%2Fb%3Fc')
  })

  test('wildcard routes append the suffix to the function path and merge the query', async () => {
    const res = await fetch(`${gateway.url}/aws/users/42%2Fx/profile?x=1&x=2`)
    const echoed = (await res.json()) as { path: string; query: string; headers: Record<string, string> }
    assert.equal(echoed.path, '/default/echo/users/42%2Fx/profile')
    assert.equal(echoed.query, 'stage=test&x=1&x=2')
    assert.equal(echoed.headers.host, new URL(apikeyFake.origin).host)
    assert.equal(echoed.headers['x-forwarded-for'], '127.0.0.1')
  })

  test("configured credentials win: the client's own key is never forwarded, its authorization only with an API key", async () => {
    const res = await fetch(`${gateway.url}/aws/whoami`, {
      headers: { 'x-api-key': 'client-supplied', authorization: 'Bearer client-token' },
    })
    const echoed = (await res.json()) as { headers: Record<string, string> }
    assert.equal(echoed.headers['x-api-key'], API_KEY)
    // As APISIX: API Gateway may check a JWT or Cognito token beside the key.
    assert.equal(echoed.headers.authorization, 'Bearer client-token')

    const signed = await fetch(`${gateway.url}/iam/whoami`, {
      headers: {
        authorization: 'Bearer client-token',
        'x-amz-date': '20000101T000000Z',
        'x-api-key': 'client',
      },
    })
    assert.equal(signed.status, 200)
    const viaIam = (await signed.json()) as { headers: Record<string, string> }
    assert.match(viaIam.headers.authorization ?? '', /^AWS4-HMAC-SHA256 /)
    assert.equal(viaIam.headers['x-api-key'], undefined)
  })

  test('a route with both an API key and IAM credentials uses the API key, as APISIX does', async () => {
    const res = await fetch(`${gateway.url}/both/whoami`)
    assert.equal(res.status, 200)
    const echoed = (await res.json()) as { headers: Record<string, string> }
    assert.equal(echoed.headers['x-api-key'], API_KEY)
    assert.equal(echoed.headers.authorization, undefined, 'not signed')
    assert.equal(echoed.headers['x-amz-date'], undefined)
  })

  test("`secret_key` (the spelling of APISIX's schema table) signs as `secretkey`; an empty session_token sends none", async () => {
    const before = iamFake.invocations.length
    const res = await fetch(`${gateway.url}/iam-alias/whoami?x=1`)
    // The fake re-checks the signature with @smithy/signature-v4 and answers 403 if it is wrong.
    assert.equal(res.status, 200, await res.clone().text())
    const seen = iamFake.invocations.at(-1)
    assert.equal(iamFake.invocations.length, before + 1)
    assert.match(String(seen?.headers.authorization), /^AWS4-HMAC-SHA256 Credential=AKID/)
    assert.equal(seen?.headers['x-amz-security-token'], undefined)
  })

  test("the function's own errors and AWS's auth errors pass through unchanged", async () => {
    const fail = await fetch(`${gateway.url}/fail`)
    assert.equal(fail.status, 400)
    assert.equal(fail.headers.get('x-function-error'), 'yes')
    assert.deepEqual(await fail.json(), { error: 'bad input' })

    const wrongKey = await fetch(`${gateway.url}/wrong-key?name=x`)
    assert.equal(wrongKey.status, 403)
    assert.deepEqual(await wrongKey.json(), { message: 'Forbidden' })

    const wrongSecret = await fetch(`${gateway.url}/wrong-secret?name=x`)
    assert.equal(wrongSecret.status, 403)
    assert.equal(wrongSecret.headers.get('x-amzn-errortype'), 'InvalidSignatureException')
    assert.equal(iamFake.rejections.at(-1), 'signature mismatch')
  })

  test('413 before calling the function when the body is too large (declared or streamed)', async () => {
    const before = apikeyFake.invocations.length
    const declared = await fetch(`${gateway.url}/small`, { method: 'POST', body: 'x'.repeat(17) })
    assert.equal(declared.status, 413)
    assert.equal(
      ((await declared.json()) as { error: { code: string } }).error.code,
      'SLUICE_E_BODY_TOO_LARGE',
    )
    assert.equal(apikeyFake.invocations.length, before, 'the function was not called')

    for (const path of ['/small', '/small-iam']) {
      const chunked = await chunkedPost(`${gateway.url}${path}`, ['0123456789', '0123456789'])
      assert.equal(chunked.status, 413, path)
    }
    const fits = await fetch(`${gateway.url}/small-iam`, { method: 'POST', body: 'x'.repeat(16) })
    assert.equal(fits.status, 200)
    assert.equal(((await fits.json()) as { bodyBytes: number }).bodyBytes, 16)
  })

  test('cannot connect -> 502, too slow -> 504, bad certificate -> 502, each with a JSON body', async () => {
    const down = await fetch(`${gateway.url}/down`)
    assert.equal(down.status, 502)
    assert.equal(((await down.json()) as { error: { code: string } }).error.code, 'SLUICE_E_UPSTREAM_CONNECT')

    const slow = await fetch(`${gateway.url}/slow`)
    assert.equal(slow.status, 504)
    assert.equal(((await slow.json()) as { error: { code: string } }).error.code, 'SLUICE_E_UPSTREAM_TIMEOUT')

    const verified = await fetch(`${gateway.url}/tls-verified?name=x`)
    assert.equal(verified.status, 502)
    const unverified = await fetch(`${gateway.url}/tls?name=self-signed`)
    assert.equal(unverified.status, 200)
    assert.equal(await unverified.json(), 'Hello, self-signed!')
  })

  test('azure-functions: the route key, else the plugin_metadata master key; client keys dropped', async () => {
    const routeKey = await fetch(`${gateway.url}/azure?name=Azure`, {
      headers: { 'x-functions-key': 'client' },
    })
    assert.equal(routeKey.status, 200)
    assert.equal(await routeKey.json(), 'Hello, Azure!')
    const master = await fetch(`${gateway.url}/azure-master?name=Master`)
    assert.equal(master.status, 200)
    assert.equal(await master.json(), 'Hello, Master!')
  })

  test('hot update of function_uri takes effect without a restart', async () => {
    const updated = toml.replace(
      `${apikeyFake.origin}/default/greet"\nauthorization.apikey`,
      `${apikeyFake.origin}/default/echo"\nauthorization.apikey`,
    )
    assert.notEqual(updated, toml)
    await writeFile(gateway.configPath, updated)
    const started = Date.now()
    for (;;) {
      const body = await (await fetch(`${gateway.url}/aws?name=APISIX`)).text()
      if (body.includes('"path":"/default/echo"')) break
      assert.ok(Date.now() - started < 1000, `still answering ${body}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  })

  test('no secret appears in the logs', async () => {
    // Access lines are flushed every 50 ms: let the last ones in.
    await new Promise((r) => setTimeout(r, 150))
    const logs = gateway.stdout() + gateway.stderr()
    for (const secret of SECRETS) assert.ok(!logs.includes(secret), 'a secret leaked into the logs')
    assert.match(logs, /"route":"\/aws|"upstream":"127\.0\.0\.1:\d+"/)
  })
})

/** A POST with Transfer-Encoding: chunked (no Content-Length), written chunk by chunk. */
function chunkedPost(url: string, chunks: string[]): Promise<{ status: number }> {
  return new Promise((ok, fail) => {
    const req = http.request(url, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
      res.resume()
      res.on('end', () => ok({ status: res.statusCode ?? 0 }))
    })
    req.on('error', fail)
    for (const chunk of chunks) req.write(chunk)
    req.end()
  })
}
