/**
 * @module
 * Where a serverless call goes: the function URI's origin, its path with the route's suffix
 * appended (`/aws/*` routes), and its query merged with the client's (APISIX drops the former).
 */
import type { Origin } from '../../upstream/types.ts'

export interface FunctionTarget {
  readonly origin: Origin
  /** Host header value: host, plus the port when it is not the scheme's default. */
  readonly host: string
  readonly path: string
  readonly query: string
}

export function parseFunctionUri(uri: string): FunctionTarget {
  const url = new URL(uri)
  const scheme = url.protocol === 'https:' ? 'https' : 'http'
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
  return {
    origin: { scheme, host: hostname, port: url.port ? Number(url.port) : scheme === 'https' ? 443 : 80 },
    host: url.host,
    path: url.pathname || '/',
    query: url.search.slice(1),
  }
}

/** "/default/greet" + "a/b" -> "/default/greet/a/b"; no suffix leaves the path as it is. */
export function appendPath(base: string, suffix: string): string {
  if (suffix === '') return base
  return `${base.endsWith('/') ? base.slice(0, -1) : base}/${suffix.startsWith('/') ? suffix.slice(1) : suffix}`
}

export function mergeQuery(first: string, second: string): string {
  if (first === '') return second
  if (second === '') return first
  return `${first}&${second}`
}
