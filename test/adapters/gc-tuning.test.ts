/**
 * Which V8 flags the Node adapter sets (src/adapters/node/gc-tuning.ts): pretenuring off on Node
 * unless the operator keeps V8's default, never under Bun or Deno (where the Node adapter can run
 * with SLUICE_ADAPTER=node and V8 flags mean nothing, or throw).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { garbageCollectionFlags, tuneGarbageCollection } from '../../src/adapters/node/gc-tuning.ts'

describe('garbageCollectionFlags', () => {
  test('on Node: allocation-site pretenuring off', () => {
    assert.equal(garbageCollectionFlags({}, {}), '--no-allocation-site-pretenuring')
  })

  test('SLUICE_V8_PRETENURING=1 keeps V8 default; other values do not', () => {
    assert.equal(garbageCollectionFlags({ SLUICE_V8_PRETENURING: '1' }, {}), undefined)
    assert.equal(
      garbageCollectionFlags({ SLUICE_V8_PRETENURING: '0' }, {}),
      '--no-allocation-site-pretenuring',
    )
  })

  test('under Bun or Deno: nothing', () => {
    assert.equal(garbageCollectionFlags({}, { bun: '1.4.5' }), undefined)
    assert.equal(garbageCollectionFlags({}, { deno: {} }), undefined)
  })

  test('applying it in this process does not throw', () => {
    assert.doesNotThrow(() => tuneGarbageCollection())
  })
})
