/**
 * Responses built from a header record (src/core/response.ts): byte bodies are kept as given,
 * unless a runtime asked for large ones as streams (`streamBodiesFrom`, Bun's listener does).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { installLightweightResponse } from '../../src/adapters/node/lightweight-response.ts'
import { responseFromRecord, responseParts, streamBodiesFrom } from '../../src/core/response.ts'

// The lightweight Response keeps the body it was given, so what the runtime would write is visible.
installLightweightResponse()

const bytes = (size: number) => new Uint8Array(size).map((_, i) => i % 251)

test('byte bodies from the threshold on become one-chunk streams with the same bytes', async (t) => {
  t.after(() => streamBodiesFrom(Number.POSITIVE_INFINITY))
  const init = () => ({ status: 200, headers: { 'content-type': 'application/octet-stream' } })
  assert.ok(responseParts(responseFromRecord(bytes(100_000), init())).body instanceof Uint8Array)

  streamBodiesFrom(1000)
  assert.ok(responseParts(responseFromRecord(bytes(999), init())).body instanceof Uint8Array)
  const large = responseFromRecord(bytes(1000), init())
  assert.ok(responseParts(large).body instanceof ReadableStream)
  assert.deepEqual(new Uint8Array(await large.arrayBuffer()), bytes(1000))
  assert.equal(large.headers.get('content-type'), 'application/octet-stream')
  assert.equal(responseParts(responseFromRecord(null, { status: 204, headers: {} })).body, null)
})
