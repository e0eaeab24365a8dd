/**
 * @module
 * Route matching with deterministic precedence:
 *   1. an exact uri beats any prefix uri (`/api/*`);
 *   2. a longer prefix beats a shorter one;
 *   3. then higher `priority`;
 *   4. then file order.
 * Host and method only constrain: a route whose host or method does not fit is skipped and the
 * search goes on. When some route fits the path and host but none the method, the answer is
 * 405 with an `Allow` header. HEAD is accepted wherever GET is.
 *
 * Lookup cost does not grow with the number of routes: exact uris are one map lookup, prefixes
 * one map lookup per distinct prefix length whose last character the path has at that place
 * (prefixes mostly end in '/': a path is looked up at its slashes only, and no string is cut
 * for the other lengths).
 */

export interface RouteSpec<T> {
  readonly uris: readonly string[]
  readonly methods?: readonly string[] | undefined
  readonly hosts?: readonly string[] | undefined
  readonly priority: number
  readonly value: T
}

export type Match<T> =
  | { readonly kind: 'found'; readonly value: T; readonly suffix: string }
  | { readonly kind: 'method-not-allowed'; readonly allow: readonly string[] }
  | { readonly kind: 'not-found' }

interface Entry<T> {
  readonly value: T
  readonly methods: ReadonlySet<string> | undefined
  readonly host: HostMatcher | undefined
  readonly priority: number
  readonly order: number
}

type HostMatcher = (host: string) => boolean

/** A length some prefix uri has, and the characters (codes) such prefixes end with. */
interface PrefixLength {
  readonly length: number
  readonly lastChars: ReadonlySet<number>
}

const NOT_FOUND = { kind: 'not-found' } as const

export function compileHosts(hosts: readonly string[] | undefined): HostMatcher | undefined {
  if (!hosts || hosts.length === 0 || hosts.includes('*')) return undefined
  const exact = new Set<string>()
  const suffixes: string[] = []
  for (const host of hosts) {
    const lower = host.toLowerCase()
    if (lower.startsWith('*.')) suffixes.push(lower.slice(1))
    else exact.add(lower)
  }
  return (host) => exact.has(host) || suffixes.some((s) => host.length > s.length && host.endsWith(s))
}

export class Router<T> {
  readonly #exact = new Map<string, Entry<T>[]>()
  readonly #prefixes = new Map<string, Entry<T>[]>()
  readonly #prefixLengths: readonly PrefixLength[]

  constructor(specs: readonly RouteSpec<T>[]) {
    specs.forEach((spec, order) => {
      const entry: Entry<T> = {
        value: spec.value,
        methods: spec.methods ? new Set(spec.methods) : undefined,
        host: compileHosts(spec.hosts),
        priority: spec.priority,
        order,
      }
      for (const uri of spec.uris) {
        const prefix = uri.endsWith('*')
        const table = prefix ? this.#prefixes : this.#exact
        const key = prefix ? uri.slice(0, -1) : uri
        const list = table.get(key)
        if (list) list.push(entry)
        else table.set(key, [entry])
      }
    })
    const byPrecedence = (a: Entry<T>, b: Entry<T>) => b.priority - a.priority || a.order - b.order
    for (const list of this.#exact.values()) list.sort(byPrecedence)
    for (const list of this.#prefixes.values()) list.sort(byPrecedence)
    const lastChars = new Map<number, Set<number>>()
    for (const key of this.#prefixes.keys()) {
      // Keys are never empty: every uri starts with '/'.
      const chars = lastChars.get(key.length) ?? new Set<number>()
      chars.add(key.charCodeAt(key.length - 1))
      lastChars.set(key.length, chars)
    }
    this.#prefixLengths = [...lastChars]
      .map(([length, chars]) => ({ length, lastChars: chars }))
      .sort((a, b) => b.length - a.length)
  }

  /** `host` must be lower case without port; `path` is the request's pathname. */
  match(method: string, host: string, path: string): Match<T> {
    let allow: Set<string> | undefined
    const consider = (list: Entry<T>[] | undefined): Entry<T> | undefined => {
      if (!list) return undefined
      for (const entry of list) {
        if (entry.host && !entry.host(host)) continue
        if (!entry.methods || entry.methods.has(method) || (method === 'HEAD' && entry.methods.has('GET'))) {
          return entry
        }
        allow ??= new Set()
        for (const m of entry.methods) allow.add(m)
      }
      return undefined
    }

    const exact = consider(this.#exact.get(path))
    if (exact) return { kind: 'found', value: exact.value, suffix: '' }
    for (const { length, lastChars } of this.#prefixLengths) {
      if (length > path.length || !lastChars.has(path.charCodeAt(length - 1))) continue
      const prefix = path.length === length ? path : path.slice(0, length)
      const found = consider(this.#prefixes.get(prefix))
      if (found) return { kind: 'found', value: found.value, suffix: path.slice(length) }
    }
    if (allow) {
      if (allow.has('GET')) allow.add('HEAD')
      return { kind: 'method-not-allowed', allow: [...allow].sort() }
    }
    return NOT_FOUND
  }
}
