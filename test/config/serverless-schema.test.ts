/** Config validation of the serverless plugins: APISIX's names and defaults, strict errors. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { formatIssue } from '../../src/config/issues.ts'
import { parseConfigText } from '../../src/config/load.ts'
import { builtinPlugins } from '../../src/plugins/index.ts'

const parse = (toml: string, env: Record<string, string> = {}) =>
  parseConfigText(toml, { plugins: builtinPlugins, env, displayName: 'gateway.toml' })
const errors = (toml: string, env: Record<string, string> = {}) => {
  const result = parse(toml, env)
  assert.equal(result.ok, false, 'expected the config to be rejected')
  return result.ok ? [] : result.issues.map(formatIssue)
}

describe('aws-lambda schema', () => {
  test("APISIX's defaults apply", () => {
    const result = parse(
      `[[routes]]\nuri = "/aws"\n[routes.plugins.aws-lambda]\nfunction_uri = "https://x.execute-api.us-east-1.amazonaws.com/default/greet"\nauthorization.iam = { accesskey = "a", secretkey = "s" }\n`,
    )
    assert.ok(result.ok)
    const plugin = result.config.routes[0]?.plugins['aws-lambda'] as Record<string, unknown>
    assert.equal(plugin.timeout, 3000)
    assert.equal(plugin.ssl_verify, true)
    assert.equal(plugin.keepalive, true)
    assert.equal(plugin.keepalive_pool, 5)
    assert.equal(plugin.keepalive_timeout, 60000)
    assert.equal(plugin.max_req_body_size, 6291456)
    assert.deepEqual((plugin.authorization as { iam: unknown }).iam, {
      accesskey: 'a',
      secretkey: 's',
      aws_region: 'us-east-1',
      service: 'execute-api',
    })
  })

  test('errors name the key path and the reason, never the secret', () => {
    const found = errors(
      `[[routes]]
uri = "/ok"
[routes.plugins.mocking]
[[routes]]
uri = "/aws"
[routes.plugins.aws-lambda]
function_uri = "ftp://nope"
timeout = 50
keepalive_pool = 0
authorization.iam = { accesskey = "AKID", secretkey = "\${SECRET}", secret_key = "x" }
`,
      { SECRET: 'very-secret-value' },
    )
    assert.ok(
      found.includes(
        'gateway.toml:7: routes[1].plugins.aws-lambda.function_uri: must be a valid http(s) URL',
      ),
      found.join('\n'),
    )
    assert.ok(
      found.includes('gateway.toml:8: routes[1].plugins.aws-lambda.timeout: must be >= 100 (milliseconds)'),
      found.join('\n'),
    )
    assert.ok(
      found.some((e) => e.startsWith('gateway.toml:9: routes[1].plugins.aws-lambda.keepalive_pool:')),
      found.join('\n'),
    )
    assert.ok(
      found.some((e) =>
        /routes\[1\]\.plugins\.aws-lambda\.authorization\.iam\.secret_key: set `secretkey` or `secret_key`, not both/.test(
          e,
        ),
      ),
      found.join('\n'),
    )
    assert.ok(!found.join('\n').includes('very-secret-value'))
  })

  test('apikey and iam together are accepted (APISIX uses the API key then)', () => {
    const result = parse(
      `[[routes]]\nuri = "/aws"\n[routes.plugins.aws-lambda]\nfunction_uri = "https://x.example/f"\nauthorization = { apikey = "k", iam = { accesskey = "a", secretkey = "s" } }\n`,
    )
    assert.ok(result.ok, result.ok ? '' : result.issues.map(formatIssue).join('\n'))
  })

  test('the IAM secret: `secretkey` or `secret_key`, exactly one of them', () => {
    const route = (iam: string) =>
      `[[routes]]\nuri = "/aws"\n[routes.plugins.aws-lambda]\nfunction_uri = "https://x.example/f"\nauthorization.iam = { accesskey = "a"${iam} }\n`
    const alias = parse(route(', secret_key = "s"'))
    assert.ok(alias.ok)
    const plugin = alias.config.routes[0]?.plugins['aws-lambda'] as
      | { authorization: { iam: { secret_key?: string } } }
      | undefined
    const iam = plugin?.authorization.iam
    assert.equal(iam?.secret_key, 's')
    assert.ok(
      errors(route('')).some((e) =>
        /authorization\.iam\.secretkey: is required \(the IAM secret access key; `secret_key` is accepted too\)/.test(
          e,
        ),
      ),
    )
  })

  test('an empty session_token is accepted (no token), so one file serves both kinds of credentials', () => {
    const route = `[[routes]]\nuri = "/aws"\n[routes.plugins.aws-lambda]\nfunction_uri = "https://x.example/f"\nauthorization.iam = { accesskey = "a", secretkey = "s", session_token = "\${AWS_SESSION_TOKEN:-}" }\n`
    assert.ok(parse(route).ok)
    assert.ok(parse(route, { AWS_SESSION_TOKEN: 'token' }).ok)
    assert.match(
      errors(route, { AWS_SESSION_TOKEN: ' token' }).join('\n'),
      /session_token: must not start or end with spaces/,
    )
  })

  test('a route cannot have both aws-lambda and an upstream', () => {
    const found = errors(
      `[[routes]]\nuri = "/aws"\n[routes.plugins.aws-lambda]\nfunction_uri = "https://x.example/f"\n[routes.upstream]\nnodes = { "127.0.0.1:1" = 1 }\n`,
    )
    assert.ok(
      found.some((e) => /routes\[0\]: has more than one answer: plugin aws-lambda, upstream/.test(e)),
      found.join('\n'),
    )
  })
})

describe('azure-functions schema', () => {
  test('plugin_metadata is validated strictly', () => {
    const found = errors(
      `[plugin_metadata.azure-functions]\nmaster_key = "x"\n[[routes]]\nuri = "/a"\n[routes.plugins.azure-functions]\nfunction_uri = "https://app.azurewebsites.net/api/f"\n`,
    )
    assert.ok(
      found.includes('gateway.toml:2: plugin_metadata.azure-functions.master_key: unknown key'),
      found.join('\n'),
    )
  })

  test('metadata for a plugin without metadata is an unknown key', () => {
    const found = errors(`[plugin_metadata.aws-lambda]\nx = 1\n`)
    assert.ok(
      found.some((e) => /plugin_metadata\.aws-lambda: unknown key/.test(e)),
      found.join('\n'),
    )
  })
})

describe('values that would only fail at request time fail at load time', () => {
  test('secrets with control characters or spaces, scope parts with spaces', () => {
    const found = errors(
      `[[routes]]
uri = "/a"
[routes.plugins.aws-lambda]
function_uri = "https://x.example/f"
authorization.apikey = "\${KEY}"
[[routes]]
uri = "/b"
[routes.plugins.aws-lambda]
function_uri = "https://x.example/f"
authorization.iam = { accesskey = "AKID EXAMPLE", secretkey = "s", aws_region = "us east 1" }
`,
      { KEY: 'abc123\n' },
    )
    const text = found.join('\n')
    assert.match(
      text,
      /routes\[0\]\.plugins\.aws-lambda\.authorization\.apikey: must not contain control characters/,
    )
    assert.match(
      text,
      /routes\[1\]\.plugins\.aws-lambda\.authorization\.iam\.accesskey: must not contain spaces or "\/"/,
    )
    assert.match(
      text,
      /routes\[1\]\.plugins\.aws-lambda\.authorization\.iam\.aws_region: must not contain spaces or "\/"/,
    )
    assert.ok(!text.includes('abc123'))
  })

  test('a header value with characters beyond Latin-1 is rejected at load time', () => {
    const found = errors(
      `[[routes]]\nuri = "/a"\n[routes.plugins.aws-lambda]\nfunction_uri = "https://x.example/f"\nauthorization.apikey = "\${KEY}"\n`,
      { KEY: 'ключ' },
    )
    assert.match(
      found.join('\n'),
      /routes\[0\]\.plugins\.aws-lambda\.authorization\.apikey: must be ASCII \(or Latin-1\) text/,
    )
    assert.ok(!found.join('\n').includes('ключ'))
  })

  test('timeouts above what timers can hold are rejected', () => {
    const found = errors(
      `[[routes]]\nuri = "/a"\n[routes.plugins.aws-lambda]\nfunction_uri = "https://x.example/f"\ntimeout = 2592000000\n[[routes]]\nuri = "/b"\n[routes.upstream]\nnodes = { "127.0.0.1:1" = 1 }\ntimeout = { connect = 2147483648 }\n`,
    )
    assert.ok(
      found.some((e) => /routes\[0\]\.plugins\.aws-lambda\.timeout: must be <= 2147483647/.test(e)),
      found.join('\n'),
    )
    assert.ok(
      found.some((e) => /routes\[1\]\.upstream\.timeout\.connect: must be <= 2147483647/.test(e)),
      found.join('\n'),
    )
  })

  test('plugins cannot set hop-by-hop, framing or Host headers', () => {
    const found = errors(
      `[plugins.request-id]\nheader_name = "Connection"\n[[routes]]\nuri = "/a"\n[routes.plugins.mocking]\nheaders = { "Transfer-Encoding" = "chunked", "Content-Length" = "5", x-ok = "fine" }\n`,
    )
    const text = found.join('\n')
    assert.match(text, /plugins\.request-id\.header_name: is managed by the gateway/)
    assert.match(text, /routes\[0\]\.plugins\.mocking\.headers\.Transfer-Encoding: is managed by the gateway/)
    assert.match(text, /routes\[0\]\.plugins\.mocking\.headers\.Content-Length: is managed by the gateway/)
    assert.doesNotMatch(text, /x-ok/)
  })

  test('a server with no listener at all is rejected', () => {
    const found = errors(`[server]\nlisten = []\n`)
    assert.ok(
      found.some((e) => /server: needs at least one address/.test(e)),
      found.join('\n'),
    )
  })
})
