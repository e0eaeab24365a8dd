/**
 * The access log line written byte by byte (src/core/access-log.ts) must be exactly what
 * JSON.stringify of the same entry gives, whatever bytes a client put in the path.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  type AccessFields,
  accessLine,
  accessLineMaxBytes,
  writeAccessLine,
} from '../../src/core/access-log.ts'

const fields: AccessFields = {
  remoteAddress: '::1',
  httpVersion: '1.1',
  method: 'GET',
  path: '/',
  status: 200,
  durationMs: 0,
  route: 'r',
  requestId: 'id',
  upstream: 'u',
}

/** The entry as JSON.stringify writes it: what every line must equal. */
function reference(f: AccessFields, nowMs: number): string {
  return JSON.stringify({
    time: new Date(nowMs).toISOString(),
    remote_addr: f.remoteAddress,
    protocol: f.httpVersion === undefined ? null : f.httpVersion === '2' ? 'HTTP/2' : 'HTTP/1.1',
    method: f.method,
    path: f.path,
    status: f.status,
    duration_ms: Math.round(f.durationMs * 1000) / 1000,
    route: f.route ?? null,
    request_id: f.requestId ?? null,
    upstream: f.upstream ?? null,
  })
}

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

  test('the time follows the clock across milliseconds, seconds, days and years', () => {
    const instants = [
      Date.UTC(2026, 0, 1),
      Date.UTC(2026, 0, 1) + 1,
      Date.UTC(2026, 0, 1) + 999,
      Date.UTC(2026, 0, 1) + 1000,
      Date.UTC(2026, 11, 31, 23, 59, 59, 999),
      Date.UTC(2027, 0, 1),
      Date.UTC(2026, 0, 1) + 10, // back in time: the cached second must not stick
      0,
    ]
    for (const now of instants) assert.equal(accessLine(fields, now), reference(fields, now), String(now))
  })

  test('durations print as Math.round(ms * 1000) / 1000 does', () => {
    const now = Date.UTC(2026, 11, 5)
    const durations = [0, 0.0004, 0.0005, 0.001, 0.01, 0.1, 0.5, 1, 1.5, 2.25, 3.125, 10, 99.999, 1234.5678]
    let seed = 7
    for (let i = 0; i < 2000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      durations.push((seed / 2 ** 31) * 10 ** (i % 7))
    }
    for (const durationMs of durations) {
      const f = { ...fields, durationMs }
      assert.equal(accessLine(f, now), reference(f, now), `duration ${durationMs}`)
    }
  })

  test('status codes print as numbers', () => {
    const now = Date.UTC(2026, 11, 5)
    for (const status of [100, 200, 204, 404, 499, 502, 599]) {
      const f = { ...fields, status }
      assert.equal(accessLine(f, now), reference(f, now))
    }
  })

  test('written at an offset, the line leaves the bytes before it alone and stays within its bound', () => {
    const now = Date.UTC(2026, 11, 5)
    // The worst case per character: a control character JSON.stringify writes as \u001f.
    const hostile = { ...fields, path: '\u001f'.repeat(300), route: '\u001f', requestId: '"', upstream: '\\' }
    const out = new Uint8Array(10 + accessLineMaxBytes(hostile)).fill(0xee)
    const end = writeAccessLine(hostile, out, 10, now)
    assert.ok(out.subarray(0, 10).every((byte) => byte === 0xee))
    assert.ok(end <= out.length)
    assert.equal(new TextDecoder().decode(out.subarray(10, end)), reference(hostile, now))
  })

  test('fields that are not strings at run time: missing ones print null, others as their text', () => {
    const now = Date.UTC(2026, 11, 5)
    const odd = {
      ...fields,
      remoteAddress: undefined as unknown as string,
      route: 42 as unknown as string,
      requestId: null as unknown as string,
    }
    const line = JSON.parse(accessLine(odd, now)) as Record<string, unknown>
    assert.equal(line.remote_addr, null)
    assert.equal(line.route, '42')
    assert.equal(line.request_id, null)
  })
})
