/**
 * Generated gateway.toml route tables for bench/routes.sh and bench/config-compile.ts: N routes,
 * of which N-1 never match the benchmark's request path and the last one, in file order, is the
 * plain proxy route `uri = "/*"` that every request hits.
 *
 *   node --import tsx bench/route-table.ts ROUTES UPSTREAM_PORT [VARIANT]   # TOML on stdout
 *
 * The N-1 other routes are a mix of exact uris and prefix uris (`/svc-a-5/p/p/*`), with `methods`
 * on every 4th and a `host` on every 10th; every 7th carries `[routes.plugins.request-id]` and every
 * 50th answers with `[routes.plugins.mocking]` instead of an upstream. The prefixes come in 16
 * depths: with 10,000 routes there are 35 distinct prefix lengths, 19 of them no longer than
 * REQUEST_PATH (26 characters); with 10 routes, 6. The router looks up each of those lengths for
 * every request (one map lookup per distinct prefix length, longest first, and the hit route's `/`
 * is the shortest), which is the part of the match cost that grows with the table. Every generated
 * uri starts with `/svc-`, so none matches REQUEST_PATH.
 *
 * VARIANT (a string, default "a") goes into the generated uris and ids, so two variants are two
 * different, valid files with the same measured route (bench/routes.sh alternates them to reload).
 */
import { fileURLToPath } from 'node:url'

/** The path every benchmark request uses: long enough that most prefix lengths are looked up. */
export const REQUEST_PATH = '/api/v1/orders/12345/items'

export interface RouteTableOptions {
  /** Total routes, the hit route included (>= 1). */
  readonly routes: number
  /** "host:port" of the upstream of every proxy route. */
  readonly upstream: string
  readonly variant?: string
  /** `[server] listen` (default: port 0 on 127.0.0.1). */
  readonly listen?: string
}

export function routeTableToml(options: RouteTableOptions): string {
  const { routes, upstream } = options
  const variant = options.variant ?? 'a'
  if (!Number.isInteger(routes) || routes < 1)
    throw new Error(`routes must be an integer >= 1 (is ${routes})`)
  if (!/^[a-z0-9]+$/.test(variant)) throw new Error(`variant must be [a-z0-9]+ (is ${variant})`)
  const lines = [
    `# Benchmark route table: ${routes} routes (variant ${variant}); only the last one matches ${REQUEST_PATH}.`,
    '[server]',
    `listen = ["${options.listen ?? '127.0.0.1:0'}"]`,
    'access_log = false',
    'drain_timeout = 1000',
    '',
  ]
  for (let i = 1; i < routes; i++) {
    const base = `/svc-${variant}-${i}`
    const uri = i % 2 === 0 ? `${base}/items` : `${base}/${'p/'.repeat((i >> 1) % 16)}*`
    lines.push('[[routes]]', `id = "r-${variant}-${i}"`, `uri = "${uri}"`)
    if (i % 4 === 0) lines.push('methods = ["GET", "POST"]')
    if (i % 10 === 0) lines.push(`host = "svc-${i}.example.com"`)
    if (i % 7 === 0) lines.push('[routes.plugins.request-id]')
    if (i % 50 === 0) {
      lines.push('[routes.plugins.mocking]', `body = "route ${i}"`)
    } else {
      lines.push('[routes.upstream]', `nodes = { "${upstream}" = 1 }`)
    }
    lines.push('')
  }
  lines.push(
    '# The measured route: last in file order.',
    '[[routes]]',
    'id = "hit"',
    'uri = "/*"',
    '[routes.upstream]',
    `nodes = { "${upstream}" = 1 }`,
    '',
  )
  return lines.join('\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [routes, port, variant] = process.argv.slice(2)
  if (!routes || !port || !/^[0-9]+$/.test(port)) {
    process.stderr.write('usage: node --import tsx bench/route-table.ts ROUTES UPSTREAM_PORT [VARIANT]\n')
    process.exit(2)
  }
  process.stdout.write(
    routeTableToml({ routes: Number(routes), upstream: `127.0.0.1:${port}`, variant: variant ?? 'a' }),
  )
}
