/**
 * The hand-serialised access log line (src/core/access-log.ts) must be exactly what
 * JSON.stringify of the same entry gives, whatever bytes a client put in the path.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { accessLine, isoTime } from '../../src/core/access-log.ts'

describe('accessLine', () => {
  test('equals JSON.stringify of the entry, with hostile strings escaped', () => {
    const fields = {
      remoteAddress: '::ffff:127.0.0.1',
      httpVersion: '2' as const,
      method: 'GET',
      path: '/a"b\\c\n\u0000\u2028é/😀',
      status: 404,
      durationMs: 1.23456789,
      route: 'r"1',
      requestId: undefined,
      upstream: '127.0.0.1:8080',
    }
    const now = Date.UTC(2026, 10, 25, 12, 0, 0, 7)
    const line = accessLine(fields, now)
    assert.equal(
      line,
      JSON.stringify({
        time: '2026-11-25T12:00:00.007Z',
        remote_addr: fields.remoteAddress,
        protocol: 'HTTP/2',
        method: 'GET',
        path: fields.path,
        status: 404,
        duration_ms: 1.235,
        route: 'r"1',
        request_id: null,
        upstream: '127.0.0.1:8080',
      }),
    )
    assert.equal((JSON.parse(line) as { path: string }).path, fields.path)
  })

  test('every ASCII character in a field is escaped exactly as JSON.stringify does', () => {
    // Strings of plain printable ASCII skip JSON.stringify; this walks the edge of that fast path.
    const now = Date.UTC(2026, 11, 5, 20, 0, 0, 42)
    for (let code = 0; code < 0x80; code++) {
      const char = String.fromCharCode(code)
      const fields = {
        remoteAddress: `1${char}`,
        httpVersion: '1.1' as const,
        method: char,
        path: `/a${char}b`,
        status: 200,
        durationMs: 0,
        route: char,
        requestId: `${char}${char}`,
        upstream: char,
      }
      const expected = JSON.stringify({
        time: '2026-12-05T20:00:00.042Z',
        remote_addr: fields.remoteAddress,
        protocol: 'HTTP/1.1',
        method: char,
        path: fields.path,
        status: 200,
        duration_ms: 0,
        route: char,
        request_id: fields.requestId,
        upstream: char,
      })
      assert.equal(accessLine(fields, now), expected, `character ${code}`)
    }
  })

  test('protocol is null when the runtime does not tell, HTTP/1.1 otherwise', () => {
    const base = {
      remoteAddress: '',
      method: 'POST',
      path: '/',
      status: 200,
      durationMs: 0,
      route: undefined,
      requestId: 'id',
      upstream: undefined,
    }
    assert.equal(JSON.parse(accessLine({ ...base, httpVersion: undefined })).protocol, null)
    assert.equal(JSON.parse(accessLine({ ...base, httpVersion: '1.1' })).protocol, 'HTTP/1.1')
  })

  test('isoTime follows the clock across milliseconds', () => {
    const t = Date.UTC(2026, 0, 1)
    assert.equal(isoTime(t), '2026-01-01T00:00:00.000Z')
    assert.equal(isoTime(t), '2026-01-01T00:00:00.000Z')
    assert.equal(isoTime(t + 1), '2026-01-01T00:00:00.001Z')
  })
})
