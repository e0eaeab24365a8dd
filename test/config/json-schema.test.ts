import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { configJsonSchema } from '../../src/config/json-schema.ts'
import { HTTP_METHODS } from '../../src/config/schema.ts'
import { builtinPlugins } from '../../src/plugins/index.ts'

type Schema = {
  type?: string
  title?: string
  $schema?: string
  properties?: Record<string, Schema>
  items?: Schema
  required?: string[]
  additionalProperties?: boolean | Schema
  default?: unknown
  enum?: unknown[]
  anyOf?: Schema[]
  pattern?: string
  minimum?: number
  maximum?: number
}

const schema = configJsonSchema(builtinPlugins) as Schema

function at(root: Schema, ...keys: string[]): Schema {
  let node = root
  for (const key of keys) {
    const next = key === '[]' ? node.items : node.properties?.[key]
    assert.ok(next, `no schema at ${keys.join('.')} (missing ${key})`)
    node = next
  }
  return node
}

describe('configJsonSchema', () => {
  test('is a JSON Schema document for an object with server, plugins and routes', () => {
    assert.match(schema.$schema ?? '', /^https:\/\/json-schema\.org\//)
    assert.equal(schema.type, 'object')
    assert.equal(schema.title, 'Sluice gateway.toml')
    assert.deepEqual(Object.keys(schema.properties ?? {}).sort(), [
      'plugin_metadata',
      'plugins',
      'routes',
      'server',
    ])
  })

  test('survives a JSON round trip (what `sluice schema` prints)', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(schema)), schema)
  })

  test('describes the input: keys with defaults are not required', () => {
    assert.ok(!(schema.required ?? []).includes('server'))
    assert.ok(!(schema.required ?? []).includes('routes'))
    assert.deepEqual(at(schema, 'server', 'listen').default, ['127.0.0.1:9080'])
    assert.equal(at(schema, 'server', 'access_log').type, 'boolean')
    assert.equal(at(schema, 'server', 'access_log').default, true)
    assert.ok(!(at(schema, 'routes', '[]').required ?? []).includes('priority'))
  })

  test('routes are an array of objects with the route keys', () => {
    const routes = at(schema, 'routes')
    assert.equal(routes.type, 'array')
    const route = at(routes, '[]')
    assert.equal(route.type, 'object')
    for (const key of ['id', 'uri', 'uris', 'methods', 'host', 'hosts', 'priority', 'plugins', 'upstream']) {
      assert.ok(route.properties?.[key], `route.${key}`)
    }
    assert.deepEqual(at(route, 'methods', '[]').enum, [...HTTP_METHODS])
  })

  test('route plugins include every built-in plugin with its own schema', () => {
    const plugins = at(schema, 'routes', '[]', 'plugins')
    assert.deepEqual(Object.keys(plugins.properties ?? {}).sort(), [
      'aws-lambda',
      'azure-functions',
      'echo',
      'mocking',
      'request-id',
    ])
    assert.equal(at(plugins, 'mocking', 'status').default, 200)
    assert.equal(at(plugins, 'mocking', 'status').minimum, 200)
    assert.equal(at(plugins, 'request-id', 'header_name').default, 'X-Request-Id')
    assert.equal(at(plugins, 'echo', 'max_body_size').type, 'integer')
  })

  test('global plugins exclude terminal plugins', () => {
    const plugins = at(schema, 'plugins')
    assert.deepEqual(Object.keys(plugins.properties ?? {}), ['request-id'])
  })

  test('strict objects forbid additional properties', () => {
    const strict: [string, Schema][] = [
      ['root', schema],
      ['server', at(schema, 'server')],
      ['server.tls[]', at(schema, 'server', 'tls', '[]')],
      ['plugins', at(schema, 'plugins')],
      ['routes[]', at(schema, 'routes', '[]')],
      ['routes[].plugins', at(schema, 'routes', '[]', 'plugins')],
      ['routes[].plugins.mocking', at(schema, 'routes', '[]', 'plugins', 'mocking')],
      ['routes[].plugins.echo', at(schema, 'routes', '[]', 'plugins', 'echo')],
      ['routes[].plugins.request-id', at(schema, 'routes', '[]', 'plugins', 'request-id')],
      ['routes[].upstream', at(schema, 'routes', '[]', 'upstream')],
      ['routes[].upstream.timeout', at(schema, 'routes', '[]', 'upstream', 'timeout')],
      ['routes[].upstream.keepalive_pool', at(schema, 'routes', '[]', 'upstream', 'keepalive_pool')],
      ['routes[].upstream.tls', at(schema, 'routes', '[]', 'upstream', 'tls')],
    ]
    for (const [where, node] of strict) assert.equal(node.additionalProperties, false, where)
  })

  test('maps stay open: upstream nodes and mocking headers', () => {
    const nodes = at(schema, 'routes', '[]', 'upstream', 'nodes')
    const record = nodes.anyOf?.find((s) => s.type === 'object')
    assert.ok(record, 'nodes accepts a { "host:port" = weight } table')
    assert.equal((record.additionalProperties as Schema).type, 'integer')
    const array = nodes.anyOf?.find((s) => s.type === 'array')
    assert.ok(array, 'nodes accepts an array of { host, port, weight }')
    assert.deepEqual([...(array.items?.required ?? [])].sort(), ['host', 'port', 'weight'])
    const headers = at(schema, 'routes', '[]', 'plugins', 'mocking', 'headers')
    assert.equal((headers.additionalProperties as Schema).type, 'string')
  })

  test('follows the plugin list it is given', () => {
    const without = configJsonSchema(builtinPlugins.filter((p) => p.name !== 'echo')) as Schema
    assert.deepEqual(Object.keys(at(without, 'routes', '[]', 'plugins').properties ?? {}).sort(), [
      'aws-lambda',
      'azure-functions',
      'mocking',
      'request-id',
    ])
  })
})
