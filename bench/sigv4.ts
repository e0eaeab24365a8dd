/**
 * SigV4 signing throughput: our `SigV4Signer` (src/aws/sigv4.ts) against `@smithy/signature-v4` (the
 * AWS SDK for JavaScript v3 signer, async) and `aws4`, in the same process and the same run.
 *
 *   node --import tsx bench/sigv4.ts
 *   SIGV4_ROUNDS=5 SIGV4_ROUND_MS=1000 node --import tsx bench/sigv4.ts   # the defaults
 *
 * One operation = what the aws-lambda plugin does per IAM request once it has the body: SHA-256 of a
 * 200-byte JSON body (hex, as x-amz-content-sha256), then sign POST /default/greet?name=APISIX&x=1 with
 * content-type, x-amz-date and x-amz-content-sha256 (plus host) for execute-api in us-east-1. The hash is
 * computed by the caller, the same way (node:crypto), inside every contender's operation: all three get
 * the x-amz-content-sha256 header and use it as the payload hash, none hashes the body a second time.
 * Each operation also builds its request object (all three libraries need one per request).
 *
 * Before timing, each contender's operation runs once and the three Authorization headers must be
 * byte-identical (same credentials, same date): if not, the script exits 1 without timing anything.
 * Then a short warm-up per contender, then interleaved rounds (A B C, A B C, ...) of a fixed duration
 * each; the table shows the median ops/s of the rounds. Total run time is about
 * 3 x (0.5 s warm-up + ROUNDS x ROUND_MS): 16.5 s with the defaults.
 *
 * Markdown report on stdout and in bench/results/<YYYY-MM-DD>-sigv4.md; progress on stderr.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, release } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Hash } from '@smithy/hash-node'
import { SignatureV4 } from '@smithy/signature-v4'
import type { HttpRequest } from '@smithy/types'
import aws4 from 'aws4'
import { SigV4Signer, sha256Hex } from '../src/aws/sigv4.ts'
import { cpuAffinity, intFromEnv, median, packageVersion, ROOT, revision } from './util.ts'

const ROUNDS = intFromEnv('sigv4', 'SIGV4_ROUNDS', 5, 1, 15)
const ROUND_MS = intFromEnv('sigv4', 'SIGV4_ROUND_MS', 1000, 100, 3000)
const WARMUP_MS = 500
/** Operations between two clock reads (a clock read costs about as much as a tenth of a signature). */
const BATCH = 64

// ---------------------------------------------------------------------------------------------------
// The request: a typical API Gateway call, as the aws-lambda plugin sends it.

const ACCESS_KEY_ID = 'AKIDBENCHEXAMPLE'
const SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
const REGION = 'us-east-1'
const SERVICE = 'execute-api'
const HOST = 'abc123.execute-api.us-east-1.amazonaws.com'
const METHOD = 'POST'
const PATH = '/default/greet'
const QUERY = 'name=APISIX&x=1'
const CONTENT_TYPE = 'application/json'
const DATE = new Date('2026-11-25T12:34:56Z')
const AMZ_DATE = '20261125T123456Z'
const SIGNED_HEADERS = 'content-type;host;x-amz-content-sha256;x-amz-date'

/** A 200-byte JSON body. */
const BODY = (() => {
  const base = { name: 'APISIX', greeting: 'Hello', items: [1, 2, 3], note: '' }
  const fill = 200 - Buffer.byteLength(JSON.stringify(base))
  const text = JSON.stringify({ ...base, note: 'x'.repeat(fill) })
  const bytes = Buffer.from(text, 'utf8')
  if (bytes.byteLength !== 200) throw new Error(`body is ${bytes.byteLength} bytes, not 200`)
  JSON.parse(text)
  return bytes
})()

// ---------------------------------------------------------------------------------------------------
// Contenders. Each operation hashes the body, builds the request, signs it and returns the
// Authorization header (returned so the work cannot be optimised away, and checked once up front).

type Op = () => string | Promise<string>

interface Contender {
  readonly key: string
  readonly label: string
  readonly async: boolean
  readonly op: Op
}

const ours = new SigV4Signer({ accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY })
const oursOptions = { region: REGION, service: SERVICE, date: DATE }

function signOurs(): string {
  const payloadHash = sha256Hex(BODY)
  return ours.sign(
    {
      method: METHOD,
      host: HOST,
      path: PATH,
      query: QUERY,
      headers: {
        'content-type': CONTENT_TYPE,
        'x-amz-date': AMZ_DATE,
        'x-amz-content-sha256': payloadHash,
      },
      payloadHash,
    },
    oursOptions,
  ).authorization
}

const smithy = new SignatureV4({
  credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
  region: REGION,
  service: SERVICE,
  // Smithy calls `new sha256(secret?)`; Hash's first argument is the algorithm.
  sha256: Hash.bind(null, 'sha256'),
})
const smithyOptions = { signingDate: DATE }

async function signSmithy(): Promise<string> {
  const payloadHash = sha256Hex(BODY)
  const request: HttpRequest = {
    method: METHOD,
    protocol: 'https:',
    hostname: HOST,
    path: PATH,
    query: { name: 'APISIX', x: '1' },
    headers: {
      host: HOST,
      'content-type': CONTENT_TYPE,
      'x-amz-date': AMZ_DATE,
      'x-amz-content-sha256': payloadHash,
    },
    body: BODY,
  }
  const signed = await smithy.sign(request, smithyOptions)
  return signed.headers.authorization!
}

const aws4Credentials = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY }

function signAws4(): string {
  const payloadHash = sha256Hex(BODY)
  // No `body`: aws4 would add and sign a Content-Length header. It takes the payload hash from
  // x-amz-content-sha256 like the others, and the date from x-amz-date.
  const signed = aws4.sign(
    {
      method: METHOD,
      host: HOST,
      path: `${PATH}?${QUERY}`,
      service: SERVICE,
      region: REGION,
      headers: {
        'content-type': CONTENT_TYPE,
        'x-amz-date': AMZ_DATE,
        'x-amz-content-sha256': payloadHash,
      },
    },
    aws4Credentials,
  )
  return String(signed.headers!.Authorization)
}

const CONTENDERS: readonly Contender[] = [
  { key: 'sluice', label: 'Sluice `SigV4Signer` (sync)', async: false, op: signOurs },
  { key: 'smithy', label: '`@smithy/signature-v4` (async)', async: true, op: signSmithy },
  { key: 'aws4', label: '`aws4.sign` (sync)', async: false, op: signAws4 },
]

// ---------------------------------------------------------------------------------------------------
// Measurement

let sink = 0

/** Runs `op` for about `ms` milliseconds; returns operations per second. */
async function measure(c: Contender, ms: number): Promise<number> {
  let ops = 0
  const start = performance.now()
  const deadline = start + ms
  let now = start
  if (c.async) {
    while (now < deadline) {
      for (let i = 0; i < BATCH; i++) sink += (await c.op()).length
      ops += BATCH
      now = performance.now()
    }
  } else {
    const op = c.op as () => string
    while (now < deadline) {
      for (let i = 0; i < BATCH; i++) sink += op().length
      ops += BATCH
      now = performance.now()
    }
  }
  return (ops * 1000) / (now - start)
}

function log(message: string): void {
  process.stderr.write(`[sigv4] ${message}\n`)
}

async function verify(): Promise<string> {
  const results = new Map<string, string>()
  for (const c of CONTENDERS) results.set(c.key, await c.op())
  const expected = results.get('sluice')!
  let ok = expected.includes(`SignedHeaders=${SIGNED_HEADERS}, `)
  for (const value of results.values()) if (value !== expected) ok = false
  if (!ok) {
    console.error('[sigv4] error: the signers disagree on the same request; nothing was timed.')
    for (const [key, value] of results) console.error(`  ${key.padEnd(6)} ${value}`)
    console.error(`  (expected SignedHeaders=${SIGNED_HEADERS})`)
    process.exit(1)
  }
  return expected
}

// ---------------------------------------------------------------------------------------------------
// Report

function machineHeader(): string[] {
  const cpu = cpus()
  const rev = revision('src/aws')
  return [
    `- machine: ${cpu.length} CPUs, ${cpu[0]?.model.trim() ?? 'unknown'}, Linux ${release()}; this process may run on CPUs ${cpuAffinity()}`,
    `- node ${process.version}, sluice ${rev}, @smithy/signature-v4 ${packageVersion('@smithy/signature-v4')} (+ @smithy/hash-node ${packageVersion('@smithy/hash-node')}), aws4 ${packageVersion('aws4')}`,
    `- operation: SHA-256 of a ${BODY.byteLength}-byte JSON body + build the request + sign \`${METHOD} ${PATH}?${QUERY}\` (signed headers \`${SIGNED_HEADERS}\`, ${SERVICE}, ${REGION}); one credential, one date (signing keys cached by all three)`,
    `- ${ROUNDS} interleaved rounds of ${ROUND_MS} ms per contender after ${WARMUP_MS} ms warm-up each; medians shown`,
  ]
}

async function main(): Promise<void> {
  const authorization = await verify()
  log(`all three signers produce the same Authorization header: ${authorization}`)

  for (const c of CONTENDERS) {
    log(`warm-up ${c.key}`)
    await measure(c, WARMUP_MS)
  }

  const rounds = new Map<string, number[]>(CONTENDERS.map((c) => [c.key, []]))
  for (let round = 1; round <= ROUNDS; round++) {
    for (const c of CONTENDERS) {
      const opsPerSecond = await measure(c, ROUND_MS)
      rounds.get(c.key)!.push(opsPerSecond)
      log(`round ${round} ${c.key}: ${Math.round(opsPerSecond)} ops/s`)
    }
  }
  if (sink === 0) throw new Error('unreachable: no signature was produced')

  const med = new Map(CONTENDERS.map((c) => [c.key, median(rounds.get(c.key)!)]))
  const smithyOps = med.get('smithy')!
  const aws4Ops = med.get('aws4')!
  const now = new Date()
  // Local date, like `date +%F` in proxy.sh.
  const date = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`
  const lines = [
    `# SigV4 signing benchmark, ${date} (node)`,
    '',
    ...machineHeader(),
    '',
    '| signer | ops/s (median) | µs/op | ratio to smithy | ratio to aws4 |',
    '|---|---:|---:|---:|---:|',
    ...CONTENDERS.map((c) => {
      const ops = med.get(c.key)!
      return `| ${c.label} | ${Math.round(ops)} | ${(1e6 / ops).toFixed(2)} | ${(ops / smithyOps).toFixed(2)} | ${(ops / aws4Ops).toFixed(2)} |`
    }),
    '',
    "Ratios are ops/s divided by the other signer's ops/s (above 1: faster). Before timing, all three",
    'produced the same Authorization header for the same request and date:',
    '',
    `    ${authorization}`,
    '',
    'The body hash is in every operation: each computes sha256(body) with node:crypto and passes it as',
    'x-amz-content-sha256, which all three use as the payload hash. smithy is measured with `await` per',
    'operation, as it is used; its promise overhead is part of its cost.',
    '',
    'Per-round ops/s:',
    '',
    ...CONTENDERS.map(
      (c) =>
        `- ${c.key}: ${rounds
          .get(c.key)!
          .map((v) => Math.round(v))
          .join(' ')}`,
    ),
    '',
  ]
  const report = lines.join('\n')
  const dir = join(ROOT, 'bench', 'results')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${date}-sigv4.md`)
  writeFileSync(file, report)
  process.stdout.write(report)
  log(`written to ${file.slice(ROOT.length + 1)}`)
}

await main()
