/**
 * @module
 * A fast reader for the plain TOML most `[[routes]]` tables are written in, tried by the
 * incremental loader before smol-toml: one `[[routes]]` header, then `key = value` lines and
 * `[routes.a.b]` sub-table headers, bare keys only, one statement per line, comments. Plain
 * strings (no escapes), small integers and booleans are read directly; any other value (arrays,
 * inline tables, strings with escapes, floats ...) is parsed by smol-toml itself, alone, and
 * remembered by its text, since the same `nodes = { ... }` or `methods = [...]` recurs across
 * routes.
 *
 * It returns the data smol-toml's `parse` returns for the same text (`{ routes: [table] }`; tables
 * are plain objects here, where smol-toml's have a null prototype), or `undefined` as soon as the
 * text uses anything else or breaks a TOML rule (a key set twice, a table defined twice, a
 * value smol-toml rejects): the caller then lets smol-toml read the text, which also reports the
 * exact error.
 */
import { parse } from 'smol-toml'
import { detach } from './segments.ts'

type Table = Record<string, unknown>

/**
 * Values other than plain scalars, parsed by smol-toml, by their text after `=` (comment
 * included). Values are shared between routes and never modified.
 */
export interface ValueMemo {
  get(text: string): unknown
  set(text: string, value: unknown): void
}

const SPACE = 0x20
const TAB = 0x09
const HASH = 0x23
const DQUOTE = 0x22
const SQUOTE = 0x27

/** Header lines, matched where the line starts (`lastIndex`) up to its end. */
const ROUTES_HEADER = /\[\[[ \t]*routes[ \t]*\]\][ \t]*(?:#[^\n]*)?(?:\n|$)/y
const SUB_HEADER = /\[routes((?:\.[A-Za-z0-9_-]+)+)\][ \t]*(?:#[^\n]*)?(?:\n|$)/y
/** Control characters TOML allows nowhere (tab and newline aside; a carriage return is left to smol-toml). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters looked for
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

/**
 * `piece`: one route's text as `splitRoutes` cuts it; `values`: see `ValueMemo`.
 */
export function readPlainRoute(piece: string, values: ValueMemo): { routes: [Table] } | undefined {
  if (CONTROL.test(piece)) return undefined
  const root: Table = {}
  const opened: Opened = { tables: [root], defined: [true] }
  let current: Table | undefined
  for (let start = 0; start < piece.length; ) {
    let end = piece.indexOf('\n', start)
    if (end === -1) end = piece.length
    let p = start
    start = end + 1
    while (piece.charCodeAt(p) === SPACE || piece.charCodeAt(p) === TAB) p++
    if (p === end) continue
    const c = piece.charCodeAt(p)
    if (c === HASH) continue
    if (c === 0x5b) {
      // [
      if (current === undefined) {
        ROUTES_HEADER.lastIndex = p
        if (!ROUTES_HEADER.test(piece)) return undefined
        current = root
        continue
      }
      SUB_HEADER.lastIndex = p
      const match = SUB_HEADER.exec(piece)
      if (!match) return undefined
      current = openTable(root, opened, (match[1] as string).slice(1).split('.'))
      if (!current) return undefined
      continue
    }
    if (current === undefined) return undefined
    // key = value
    const keyStart = p
    while (isBareKeyChar(piece.charCodeAt(p))) p++
    if (p === keyStart) return undefined
    const key = piece.slice(keyStart, p)
    while (piece.charCodeAt(p) === SPACE || piece.charCodeAt(p) === TAB) p++
    if (piece.charCodeAt(p) !== 0x3d) return undefined // =
    p++
    while (piece.charCodeAt(p) === SPACE || piece.charCodeAt(p) === TAB) p++
    if (UNSAFE_KEYS.has(key) || Object.hasOwn(current, key)) return undefined
    const value = readScalar(piece, p, end) ?? readOther(piece.slice(p, end), values)
    if (value === undefined) return undefined
    current[key] = value
  }
  if (current === undefined) return undefined
  return { routes: [root] }
}

/**
 * The tables headers have opened so far, and for each whether its own header was seen (else it
 * was only implied by a longer one, as `routes.plugins` is by `[routes.plugins.mocking]`).
 */
interface Opened {
  readonly tables: Table[]
  readonly defined: boolean[]
}

/** The table a `[routes.a.b]` header opens, or undefined when TOML forbids that header here. */
function openTable(root: Table, opened: Opened, keys: readonly string[]): Table | undefined {
  let table = root
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string
    if (UNSAFE_KEYS.has(key)) return undefined
    const last = i === keys.length - 1
    if (Object.hasOwn(table, key)) {
      // Only a table a header opened may be entered again, and only one header may define it.
      const child = table[key] as Table
      const at = opened.tables.indexOf(child)
      if (at === -1 || (last && opened.defined[at])) return undefined
      if (last) opened.defined[at] = true
      table = child
    } else {
      const child: Table = {}
      table[key] = child
      opened.tables.push(child)
      opened.defined.push(last)
      table = child
    }
  }
  return table
}

/**
 * A plain string, small integer or boolean spanning `piece[p, end)` (blanks and a comment may
 * follow it), or undefined.
 */
function readScalar(piece: string, p: number, end: number): string | number | boolean | undefined {
  const c = piece.charCodeAt(p)
  let value: string | number | boolean
  let after: number
  if (c === DQUOTE || c === SQUOTE) {
    const close = piece.indexOf(c === DQUOTE ? '"' : "'", p + 1)
    if (close === -1 || close >= end || close === p + 1) return undefined // "" may open a multi-line string
    if (c === DQUOTE) {
      const backslash = piece.indexOf('\\', p + 1)
      if (backslash !== -1 && backslash < close) return undefined
    }
    // A copy: `piece` is a view into the whole file, which a kept route must not keep alive.
    value = close - p - 1 >= 13 ? detach(piece.slice(p + 1, close)) : piece.slice(p + 1, close)
    after = close + 1
  } else if (piece.startsWith('true', p)) {
    value = true
    after = p + 4
  } else if (piece.startsWith('false', p)) {
    value = false
    after = p + 5
  } else {
    // 0, or [-]1-9 followed by at most 14 digits: exact as a number, no underscores or signs to read.
    let q = c === 0x2d ? p + 1 : p
    const first = piece.charCodeAt(q)
    if (first === 0x30) q++
    else if (first >= 0x31 && first <= 0x39) {
      const digits = q
      while (isDigit(piece.charCodeAt(q))) q++
      if (q - digits > 15) return undefined
    } else return undefined
    if (first === 0x30 && q - p !== 1) return undefined // -0
    value = Number(piece.slice(p, q))
    after = q
  }
  while (piece.charCodeAt(after) === SPACE || piece.charCodeAt(after) === TAB) after++
  return after === end || piece.charCodeAt(after) === HASH ? value : undefined
}

/** Any other value, by smol-toml (remembered by its text); undefined when smol-toml rejects it. */
function readOther(text: string, values: ValueMemo): unknown {
  let value = values.get(text)
  if (value === undefined) {
    value = parseValue(text)
    if (value !== undefined) values.set(detach(text), value)
  }
  return value
}

function parseValue(text: string): unknown {
  let document: Table
  try {
    document = parse(`v = ${text}`)
  } catch {
    return undefined
  }
  return Object.keys(document).length === 1 ? plainData(document.v) : undefined
}

/** A copy with plain objects for tables; undefined for values other than strings, numbers, booleans, arrays and tables (dates). */
function plainData(value: unknown): unknown {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value
  if (Array.isArray(value)) {
    const out = value.map(plainData)
    return out.includes(undefined) ? undefined : out
  }
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === null) {
    const out: Table = {}
    for (const key of Object.keys(value)) {
      if (UNSAFE_KEYS.has(key)) return undefined
      const item = plainData((value as Table)[key])
      if (item === undefined) return undefined
      out[key] = item
    }
    return out
  }
  return undefined
}

/** A-Z a-z 0-9 _ - */
function isBareKeyChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || isDigit(c) || c === 0x5f || c === 0x2d
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39
}
