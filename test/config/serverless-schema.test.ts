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
        /routes\[1\]\.plugins\.aws-lambda\.authorization\.iam\.secret_key: unknown key/.test(e),
      ),
      found.join('\n'),
    )
    assert.ok(!found.join('\n').includes('very-secret-value'))
  })

  test('apikey and iam together are rejected', () => {
    const found = errors(
      `[[routes]]\nuri = "/aws"\n[routes.plugins.aws-lambda]\nfunction_uri = "https://x.example/f"\nauthorization = { apikey = "k", iam = { accesskey = "a", secretkey = "s" } }\n`,
    )
    assert.ok(
      found.some((e) => /authorization: set `apikey` or `iam`, not both/.test(e)),
      found.join('\n'),
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
