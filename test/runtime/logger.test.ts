/**
 * The process logger's access buffer (src/runtime/logger.ts): access lines are written into one
 * byte buffer as they come. Whatever the sizes, every line must come out whole, in order, once.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type AccessFields, accessLineMaxBytes } from '../../src/core/access-log.ts'
import { createProcessLogger } from '../../src/runtime/logger.ts'

const BUFFER_BYTES = 64 * 1024

function entry(path: string): AccessFields {
  return {
    remoteAddress: '127.0.0.1',
    httpVersion: '1.1',
    method: 'GET',
    path,
    status: 200,
    durationMs: 0.25,
    route: 'r1',
    requestId: undefined,
    upstream: '127.0.0.1:8080',
  }
}

function capture() {
  const writes: Uint8Array[] = []
  // Kept as written, not copied: a logger that wrote into bytes it had handed over would show.
  const logger = createProcessLogger((bytes) => writes.push(bytes))
  const text = () => new TextDecoder().decode(Buffer.concat(writes))
  /** The paths of the lines written so far, each line parsed as JSON. */
  const paths = () => linesOf(text()).map((line) => line.path)
  return { logger, writes, text, paths }
}

/** Every line must be a complete JSON object ending in a newline. */
function linesOf(text: string): { path: string; time: string }[] {
  assert.ok(text === '' || text.endsWith('\n'), 'the output ends on a line boundary')
  return text
    .split('\n')
    .slice(0, -1)
    .map((line) => JSON.parse(line))
}

describe('process logger: access lines', () => {
  test('nothing is written before a flush; a flush writes every pending line once, in order', () => {
    const { logger, writes, paths, text } = capture()
    const sent = ['/a', '/é/😀', '/\u0000']
    for (const path of sent) logger.access(entry(path))
    assert.equal(writes.length, 0, 'small lines wait for the buffer or the timer')
    logger.flush()
    assert.equal(writes.length, 1, 'one write for all pending lines')
    assert.deepEqual(paths(), sent)
    assert.match(linesOf(text())[0]!.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    logger.flush()
    assert.equal(writes.length, 1, 'an empty flush writes nothing')
  })

  test('lines beyond the buffer are written as it fills, none split or lost', () => {
    const { logger, writes, paths } = capture()
    const sent = Array.from({ length: 2000 }, (_, i) => `/${i}/${'é'.repeat(i % 97)}`)
    for (const path of sent) logger.access(entry(path))
    assert.ok(writes.length >= 2, `the buffer filled and was written (${writes.length} writes)`)
    logger.flush()
    assert.deepEqual(paths(), sent)
    // Each write ends on a line boundary: no line is split across two writes.
    for (const bytes of writes) assert.equal(bytes.at(-1), 0x0a)
  })

  test('a line larger than the whole buffer goes out on its own, after the lines before it', () => {
    const { logger, writes, paths } = capture()
    const huge = `/${'x'.repeat(200 * 1024)}`
    logger.access(entry('/first'))
    logger.access(entry(huge))
    logger.access(entry('/last'))
    logger.flush()
    assert.deepEqual(paths(), ['/first', huge, '/last'])
    assert.equal(writes.length, 3)
  })

  test('a line whose worst case just fits is buffered; lone surrogates come out escaped', () => {
    const { logger, writes, paths, text } = capture()
    // The longest path whose worst case (accessLineMaxBytes + the newline) is the whole buffer:
    // it is buffered, not written alone. Its bytes take half the buffer, but the worst case of a
    // second one does not fit beside them, so the first goes out on its own.
    const spare = BUFFER_BYTES - (accessLineMaxBytes(entry('')) + 1)
    const longest = '€'.repeat(Math.floor(spare / 6))
    assert.ok(accessLineMaxBytes(entry(longest)) + 1 <= BUFFER_BYTES)
    assert.ok(accessLineMaxBytes(entry(`${longest}€`)) + 1 > BUFFER_BYTES)
    logger.access(entry(longest))
    assert.equal(writes.length, 0, 'a line that fits the empty buffer waits in it')
    logger.access(entry(longest))
    assert.equal(writes.length, 1, 'the second one did not fit: the first went out')
    logger.access(entry('/lone\ud800x\udc00'))
    logger.flush()
    assert.deepEqual(paths(), [longest, longest, '/lone\ud800x\udc00'])
    // A lone surrogate cannot be UTF-8: JSON.stringify escapes it, never broken bytes.
    assert.ok(text().includes('"path":"/lone\\ud800x\\udc00"'))
    assert.equal(writes.length, 2)
  })

  test('an entry that cannot be written is dropped; the request and later lines are not affected', () => {
    const { logger, paths } = capture()
    const broken = {
      ...entry('/x'),
      get path(): string {
        throw new Error('a plugin stored something odd')
      },
    }
    assert.doesNotThrow(() => logger.access(broken))
    logger.access(entry('/after'))
    logger.flush()
    assert.deepEqual(paths(), ['/after'])
  })

  test('a sink that throws loses those lines, not the logger', () => {
    let fail = true
    const written: string[] = []
    const logger = createProcessLogger((bytes) => {
      if (fail) throw new Error('ENOSPC')
      written.push(new TextDecoder().decode(bytes))
    })
    logger.access(entry('/lost'))
    assert.doesNotThrow(() => logger.flush())
    fail = false
    logger.access(entry('/kept'))
    logger.flush()
    assert.deepEqual(
      linesOf(written.join('')).map((line) => line.path),
      ['/kept'],
    )
  })

  test('pending lines are written within the flush interval without an explicit flush', async () => {
    const { logger, paths } = capture()
    logger.access(entry('/late'))
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.deepEqual(paths(), ['/late'])
  })
})
