/**
 * The process logger's access buffer (src/runtime/logger.ts): lines are encoded into one byte
 * buffer as they come. Whatever the sizes, every line must come out whole, in order, once.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createProcessLogger } from '../../src/runtime/logger.ts'

function capture() {
  const writes: Uint8Array[] = []
  // Kept as written, not copied: a logger that wrote into bytes it had handed over would show.
  const logger = createProcessLogger((bytes) => writes.push(bytes))
  const text = () => new TextDecoder().decode(Buffer.concat(writes))
  return { logger, writes, text }
}

describe('process logger: access lines', () => {
  test('nothing is written before a flush; a flush writes every pending line once, in order', () => {
    const { logger, writes, text } = capture()
    const lines = ['{"a":1}', '{"path":"/é/😀"}', '{"b":"\\u0000"}']
    for (const line of lines) logger.access(line)
    assert.equal(writes.length, 0, 'small lines wait for the buffer or the timer')
    logger.flush()
    assert.equal(writes.length, 1, 'one write for all pending lines')
    assert.equal(text(), `${lines.join('\n')}\n`)
    logger.flush()
    assert.equal(writes.length, 1, 'an empty flush writes nothing')
  })

  test('lines beyond the buffer are written as it fills, none split or lost', () => {
    const { logger, writes, text } = capture()
    const lines = Array.from({ length: 2000 }, (_, i) => `{"n":${i},"path":"/${'é'.repeat(i % 97)}"}`)
    for (const line of lines) logger.access(line)
    assert.ok(writes.length >= 2, `the buffer filled and was written (${writes.length} writes)`)
    logger.flush()
    assert.equal(text(), `${lines.join('\n')}\n`)
    // Each write ends on a line boundary: no line is split across two writes.
    for (const bytes of writes) assert.equal(bytes.at(-1), 0x0a)
  })

  test('a line larger than the whole buffer goes out on its own, after the lines before it', () => {
    const { logger, text } = capture()
    const huge = `{"path":"/${'x'.repeat(200 * 1024)}"}`
    logger.access('{"first":true}')
    logger.access(huge)
    logger.access('{"last":true}')
    logger.flush()
    assert.equal(text(), `{"first":true}\n${huge}\n{"last":true}\n`)
  })

  test('a line as large as the buffer can be, and lone surrogates, come out intact', () => {
    const { logger, writes, text } = capture()
    // 21,845 UTF-16 units may take 65,535 bytes + the newline: exactly the buffer, so it is
    // buffered, not written alone. In 3-byte characters it nearly fills it: the next line no
    // longer fits and the first goes out on its own.
    const lines = [`{"a":"${'€'.repeat(21_845 - 8)}"}`, '{"c":3}']
    for (const line of lines) logger.access(line)
    assert.equal(writes.length, 1)
    logger.access('{"lone":"\ud800x\udc00"}')
    logger.flush()
    // A lone surrogate cannot be UTF-8: it is written as U+FFFD, never as broken bytes.
    assert.equal(text(), `${lines.join('\n')}\n{"lone":"\ufffdx\ufffd"}\n`)
    assert.equal(writes.length, 2)
  })

  test('a sink that throws loses those lines, not the logger', () => {
    let fail = true
    const written: string[] = []
    const logger = createProcessLogger((bytes) => {
      if (fail) throw new Error('ENOSPC')
      written.push(new TextDecoder().decode(bytes))
    })
    logger.access('{"lost":1}')
    assert.doesNotThrow(() => logger.flush())
    fail = false
    logger.access('{"kept":1}')
    logger.flush()
    assert.deepEqual(written, ['{"kept":1}\n'])
  })

  test('pending lines are written within the flush interval without an explicit flush', async () => {
    const { logger, text } = capture()
    logger.access('{"late":1}')
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.equal(text(), '{"late":1}\n')
  })
})
