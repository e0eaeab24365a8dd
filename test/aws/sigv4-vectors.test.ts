/**
 * The AWS SigV4 test suite (awslabs/aws-c-auth, tests/aws-signing-test-suite/v4), read from
 * ../shared/aws-sigv4-test-suite/: every case is signed with the Authorization header and checked
 * against header-canonical-request.txt, header-string-to-sign.txt, header-signature.txt and the
 * Authorization line of header-signed-request.txt.
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, test } from 'node:test'
import { amzDate, SigV4Signer, sha256Hex } from '../../src/aws/sigv4.ts'

const SUITE = path.resolve(import.meta.dirname, '../../../shared/aws-sigv4-test-suite')

interface Context {
  credentials: { access_key_id: string; secret_access_key: string; token?: string }
  normalize: boolean
  region: string
  service: string
  sign_body: boolean
  timestamp: string
  omit_session_token?: boolean
}

interface ParsedRequest {
  method: string
  path: string
  query: string
  host: string
  headers: Record<string, string | string[]>
  body: string
}

/** Parses request.txt: request line, headers (repeated, and obs-fold continuation lines), body. */
function parseRequest(text: string): ParsedRequest {
  const lines = text.split('\n')
  const requestLine = lines[0] ?? ''
  // The target may contain raw spaces ("GET /example space/ HTTP/1.1"): method is before the first
  // space, the version after the last one.
  const firstSpace = requestLine.indexOf(' ')
  const lastSpace = requestLine.lastIndexOf(' ')
  assert.ok(firstSpace > 0 && lastSpace > firstSpace, `bad request line: ${requestLine}`)
  const method = requestLine.slice(0, firstSpace)
  const target = requestLine.slice(firstSpace + 1, lastSpace)
  const q = target.indexOf('?')
  const fields: [string, string][] = []
  let i = 1
  for (; i < lines.length; i++) {
    const line = lines[i]!
    if (line === '') break
    if (line.startsWith(' ') || line.startsWith('\t')) {
      // obs-fold: keep the raw fold in the value; the signer must collapse it.
      const last = fields.at(-1)
      assert.ok(last, 'continuation line before any header')
      last[1] += `\n${line}`
      continue
    }
    const colon = line.indexOf(':')
    assert.ok(colon > 0, `bad header line: ${line}`)
    fields.push([line.slice(0, colon).toLowerCase(), line.slice(colon + 1)])
  }
  let host: string | undefined
  const headers: Record<string, string | string[]> = {}
  for (const [name, value] of fields) {
    if (name === 'host') {
      host = value.trim()
      continue
    }
    const previous = headers[name]
    if (previous === undefined) headers[name] = value
    else if (typeof previous === 'string') headers[name] = [previous, value]
    else previous.push(value)
  }
  assert.ok(host !== undefined, 'request.txt has no Host header')
  return {
    method,
    path: q === -1 ? target : target.slice(0, q),
    query: q === -1 ? '' : target.slice(q + 1),
    host,
    headers,
    body: lines.slice(i + 1).join('\n'),
  }
}

function read(dir: string, file: string): string {
  return readFileSync(path.join(dir, file), 'utf8')
}

/** The reason a case cannot apply to header signing, or undefined when it applies. */
function skipReason(dir: string): string | undefined {
  for (const file of [
    'context.json',
    'request.txt',
    'header-canonical-request.txt',
    'header-signature.txt',
  ]) {
    if (!existsSync(path.join(dir, file))) return `reason: no ${file} (not a header-signing case)`
  }
  const context = JSON.parse(read(dir, 'context.json')) as Partial<Context>
  if (typeof context.sign_body !== 'boolean') return 'reason: context.json has no sign_body flag'
  return undefined
}

describe('AWS SigV4 test suite (header signing)', () => {
  if (!existsSync(SUITE)) {
    test('test suite folder is present', () => {
      assert.fail(
        `AWS SigV4 test suite not found at ${SUITE}: it lives in the shared folder beside the repository ` +
          '(../shared/aws-sigv4-test-suite), which CI provides',
      )
    })
    return
  }
  const cases = readdirSync(SUITE, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()

  test('the suite has its cases', () => {
    assert.ok(cases.length >= 30, `expected the ~38 v4 cases, found ${cases.length}`)
  })

  for (const name of cases) {
    const dir = path.join(SUITE, name)
    const skip = skipReason(dir)
    test(name, skip === undefined ? {} : { skip }, () => {
      const context = JSON.parse(read(dir, 'context.json')) as Context
      const request = parseRequest(read(dir, 'request.txt'))
      const date = new Date(context.timestamp)
      const payloadHash = sha256Hex(request.body)
      const headers: Record<string, string | readonly string[]> = { ...request.headers }
      // What a caller does before signing: x-amz-date always; x-amz-content-sha256 only when the case
      // signs the body (the expected canonical requests have it exactly then); the session token unless
      // the case adds it after signing (post-sts-header-after).
      headers['x-amz-date'] = amzDate(date)
      if (context.sign_body) headers['x-amz-content-sha256'] = payloadHash
      const token = context.credentials.token
      if (token !== undefined && context.omit_session_token !== true) headers['x-amz-security-token'] = token

      const frozen = structuredClone(headers)
      const signer = new SigV4Signer({
        accessKeyId: context.credentials.access_key_id,
        secretAccessKey: context.credentials.secret_access_key,
        sessionToken: token,
      })
      const result = signer.sign(
        {
          method: request.method,
          host: request.host,
          path: request.path,
          query: request.query,
          headers,
          payloadHash,
        },
        {
          region: context.region,
          service: context.service,
          date,
          signHeader: () => true,
          normalizePath: context.normalize,
        },
      )

      assert.equal(result.canonicalRequest, read(dir, 'header-canonical-request.txt'))
      assert.equal(result.stringToSign, read(dir, 'header-string-to-sign.txt'))
      assert.equal(result.signature, read(dir, 'header-signature.txt').trim())
      assert.equal(result.amzDate, headers['x-amz-date'])
      assert.deepEqual(headers, frozen, 'sign must not mutate the headers')

      const signed = read(dir, 'header-signed-request.txt')
      const authLine = signed.split('\n').find((line) => line.toLowerCase().startsWith('authorization:'))
      assert.ok(authLine, 'header-signed-request.txt has an Authorization line')
      assert.equal(result.authorization, authLine.slice('authorization:'.length).trim())
    })
  }
})
