/**
 * @module
 * Splits gateway.toml's text into one piece per `[[routes]]` table and the rest, without parsing
 * values, so the loader can parse and validate only the routes whose text changed.
 *
 * A route's piece runs from its `[[routes]]` header line (with the comment and blank lines just
 * above it) to the next header that is not one of its own sub-tables (`[routes.upstream]`,
 * `[routes.plugins.x]`, `[[routes.x]]`) and the comments above that one. The rest is
 * everything before the first route and every other root table after it (`[server]`,
 * `[plugin_metadata.x]` ...), in file order. Parsed alone, a route's piece gives
 * `{ routes: [route] }` and the rest gives the document without `routes`: TOML keys and tables
 * never reach across a table header except through the header's own key path, and the pieces
 * share no key path but `routes`, where each `[[routes]]` appends one element.
 *
 * The scanner knows just enough TOML to find header lines: it skips strings (basic, literal and
 * their multi-line forms), comments, and arrays and inline tables spanning lines. Anything it
 * does not recognise (a malformed or unusual header such as `["routes"]`, `[routes.x]` outside a
 * route, an unterminated string) makes it give up and return `undefined`: the caller then
 * parses the whole text as one document, which also yields the exact error for a broken file.
 */

export interface RouteSplit {
  /** The text outside `[[routes]]` tables, in file order. */
  readonly rest: string
  /** One piece per `[[routes]]` table, in file order (never empty). */
  readonly routes: readonly string[]
}

const NL = 0x0a
const CR = 0x0d
const SPACE = 0x20
const TAB = 0x09
const HASH = 0x23
const DQUOTE = 0x22
const SQUOTE = 0x27
const OPEN = 0x5b
const CLOSE = 0x5d
const DOT = 0x2e
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const BACKSLASH = 0x5c
const BOM = 0xfeff

/**
 * A copy of `text` that does not keep the string it was sliced from alive. V8 makes substrings
 * of 13 characters or more (the pieces, and the strings parsers cut from them) views into their
 * parent string: a route kept from an earlier load would otherwise keep that load's whole file in
 * memory, and one more file per reload.
 */
export function detach(text: string): string {
  return ` ${text}`.slice(1)
}

/** Returns undefined when the text has no `[[routes]]` table or is not laid out as expected. */
export function splitRoutes(text: string): RouteSplit | undefined {
  const rest: string[] = []
  const routes: string[] = []
  /** Start of the piece being collected, and whether it is a route. */
  let pieceStart = 0
  let inRoute = false
  const close = (end: number) => {
    if (end > pieceStart) (inRoute ? routes : rest).push(text.slice(pieceStart, end))
    pieceStart = end
  }

  /** Start of the comment and blank lines just before the current line: they go with a header that follows. */
  let gapStart = -1
  let pos = 0
  while (pos < text.length) {
    // At the start of a line, outside any statement.
    const lineStart = pos
    let p = pos
    for (let c = text.charCodeAt(p); c === SPACE || c === TAB || c === CR || (p === 0 && c === BOM); ) {
      c = text.charCodeAt(++p)
    }
    if (p >= text.length) break
    const c = text.charCodeAt(p)
    if (c === NL || c === HASH) {
      if (gapStart === -1) gapStart = lineStart
      const end = text.indexOf('\n', p)
      pos = end === -1 ? text.length : end + 1
      continue
    }
    const boundary = gapStart === -1 ? lineStart : gapStart
    gapStart = -1
    if (c === OPEN) {
      const header = readHeader(text, p)
      if (!header) return undefined
      if (header.kind === 'route') {
        close(boundary)
        inRoute = true
      } else if (header.kind === 'route-table') {
        if (!inRoute) return undefined
      } else if (inRoute) {
        close(boundary)
        inRoute = false
      }
      pos = header.end
      continue
    }
    const end = skipStatement(text, p)
    if (end === undefined) return undefined
    pos = end
  }
  close(text.length)
  if (routes.length === 0) return undefined
  return { rest: rest.join(''), routes }
}

/**
 * The header line at `p` (`[a.b]` or `[[a.b]]`): `route` for `[[routes]]`, `route-table` for a
 * table inside the current route (`[routes.x]`, `[[routes.x]]`), `other` for any other table; and
 * the position after its line. Undefined for a header it does not recognise (`[routes]`, quoted
 * keys with escapes ...).
 */
function readHeader(
  text: string,
  p: number,
): { readonly kind: 'route' | 'route-table' | 'other'; readonly end: number } | undefined {
  // The usual spellings first: a header line's text does not matter here beyond its first key.
  if (text.startsWith('[[routes]]', p)) {
    const end = lineEnd(text, p + 10)
    if (end !== undefined) return { kind: 'route', end }
  } else if (text.startsWith('[routes.', p) || text.startsWith('[[routes.', p)) {
    const end = text.indexOf('\n', p)
    return { kind: 'route-table', end: end === -1 ? text.length : end + 1 }
  }
  const array = text.charCodeAt(p + 1) === OPEN
  p += array ? 2 : 1
  const keys: string[] = []
  for (;;) {
    p = skipBlanks(text, p)
    const c = text.charCodeAt(p)
    if (c === DQUOTE || c === SQUOTE) {
      const end = text.indexOf(c === DQUOTE ? '"' : "'", p + 1)
      if (end === -1) return undefined
      const key = text.slice(p + 1, end)
      if (key.includes('\\') || key.includes('\n')) return undefined
      keys.push(key)
      p = end + 1
    } else {
      const start = p
      while (isBareKeyChar(text.charCodeAt(p))) p++
      if (p === start) return undefined
      keys.push(text.slice(start, p))
    }
    p = skipBlanks(text, p)
    const next = text.charCodeAt(p)
    if (next === DOT) {
      p++
      continue
    }
    if (next !== CLOSE) return undefined
    p++
    break
  }
  if (array) {
    if (text.charCodeAt(p) !== CLOSE) return undefined
    p++
  }
  const end = lineEnd(text, p)
  if (end === undefined) return undefined
  if (keys[0] !== 'routes') return { kind: 'other', end }
  if (keys.length === 1) return array ? { kind: 'route', end } : undefined
  return { kind: 'route-table', end }
}

/** After a header's closing bracket at `p`: blanks and a comment may follow; the position after the line. */
function lineEnd(text: string, p: number): number | undefined {
  p = skipBlanks(text, p)
  if (text.charCodeAt(p) === HASH) {
    const end = text.indexOf('\n', p)
    p = end === -1 ? text.length : end
  }
  if (text.charCodeAt(p) === CR) p++
  if (p < text.length && text.charCodeAt(p) !== NL) return undefined
  return p + 1
}

/** A-Z a-z 0-9 _ - */
function isBareKeyChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x5f ||
    c === 0x2d
  )
}

function skipBlanks(text: string, p: number): number {
  for (let c = text.charCodeAt(p); c === SPACE || c === TAB; c = text.charCodeAt(++p));
  return p
}

/**
 * A key/value statement starting at `p`: returns the position after the newline that ends it
 * (a newline outside strings, comments, arrays and inline tables), or undefined for a string that
 * does not end or brackets that do not match.
 */
function skipStatement(text: string, p: number): number | undefined {
  let depth = 0
  for (; p < text.length; p++) {
    switch (text.charCodeAt(p)) {
      case NL:
        if (depth === 0) return p + 1
        break
      case HASH: {
        const end = text.indexOf('\n', p)
        if (end === -1) return depth === 0 ? text.length : undefined
        p = end - 1
        break
      }
      case DQUOTE:
      case SQUOTE: {
        const end = skipString(text, p)
        if (end === undefined) return undefined
        p = end - 1
        break
      }
      case OPEN:
      case OPEN_BRACE:
        depth++
        break
      case CLOSE:
      case CLOSE_BRACE:
        if (--depth < 0) return undefined
        break
    }
  }
  return depth === 0 ? text.length : undefined
}

/** The position after the string starting at `i` (any of TOML's four kinds). */
function skipString(text: string, i: number): number | undefined {
  const quote = text.charCodeAt(i)
  const basic = quote === DQUOTE
  const q = basic ? '"' : "'"
  if (text.charCodeAt(i + 1) === quote && text.charCodeAt(i + 2) === quote) {
    // Multi-line: ends at the first unescaped triple quote; up to two more quotes belong to it.
    let from = i + 3
    for (;;) {
      const end = text.indexOf(q + q + q, from)
      if (end === -1) return undefined
      if (basic) {
        const backslash = text.indexOf('\\', from)
        if (backslash !== -1 && backslash < end) {
          from = backslash + 2
          continue
        }
      }
      let after = end + 3
      if (text.charCodeAt(after) === quote) after++
      if (text.charCodeAt(after) === quote) after++
      return after
    }
  }
  // Single-line: ends at the next unescaped quote on the same line.
  for (let p = i + 1; p < text.length; p++) {
    const c = text.charCodeAt(p)
    if (c === quote) return p + 1
    if (c === NL) return undefined
    if (basic && c === BACKSLASH) p++ // skip the escaped character
  }
  return undefined
}
