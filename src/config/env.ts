/**
 * @module
 * `${VAR}` and `${VAR:-default}` substitution in string values of the parsed TOML tree (after
 * parsing, so a variable's value can never change the document's structure). `$${` writes a
 * literal `${`. An unset variable without a default is an error: config fails closed.
 */

export interface EnvIssue {
  readonly path: readonly (string | number)[]
  readonly message: string
}

const PATTERN = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g

/** The key path to a value as a linked list: built for every value, turned into an array only for issues. */
interface PathLink {
  readonly parent: PathLink | undefined
  readonly key: string | number
}

interface Walk {
  readonly env: Readonly<Record<string, string | undefined>>
  readonly issues: EnvIssue[]
  readonly base: readonly (string | number)[]
  readonly lookups: Map<string, string | undefined> | undefined
}

/**
 * Returns a copy of `value` with every string substituted (tables become plain objects, arrays
 * new arrays; other values are kept). Issues are pushed with `path` prepended to their key path.
 * `lookups`, when given, receives every variable the substitution read and the value it had, so
 * a caller can tell later whether the same input would still substitute to the same output.
 */
export function substituteEnv(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  issues: EnvIssue[],
  path: readonly (string | number)[] = [],
  lookups?: Map<string, string | undefined>,
): unknown {
  return walk(value, { env, issues, base: path, lookups }, undefined, undefined)
}

/** `parent` is the path to `value`'s container and `key` its key there (both undefined for the root). */
function walk(
  value: unknown,
  ctx: Walk,
  parent: PathLink | undefined,
  key: string | number | undefined,
): unknown {
  if (typeof value === 'string') {
    return value.includes('${') ? substitute(value, ctx, key === undefined ? parent : { parent, key }) : value
  }
  if (Array.isArray(value)) {
    const at = key === undefined ? parent : { parent, key }
    const out = new Array<unknown>(value.length)
    for (let i = 0; i < value.length; i++) out[i] = walk(value[i], ctx, at, i)
    return out
  }
  if (isPlainTable(value)) {
    const at = key === undefined ? parent : { parent, key }
    const out: Record<string, unknown> = {}
    for (const name of Object.keys(value)) out[name] = walk(value[name], ctx, at, name)
    return out
  }
  return value
}

function substitute(value: string, ctx: Walk, at: PathLink | undefined): string {
  // A `${` that is neither a reference nor the `$${` escape is a typo (`${KEY` without its
  // brace): failing beats sending the literal text as, say, an API key.
  if (value.replace(PATTERN, '').includes('${')) {
    ctx.issues.push({
      path: pathOf(ctx.base, at),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the message shows the syntax itself
      message: 'has a malformed ${...} reference (write ${NAME} or ${NAME:-default}; $${ for a literal ${)',
    })
    return value
  }
  return value.replace(PATTERN, (whole, name: string | undefined, fallback: string | undefined) => {
    if (whole === '$${') return '${'
    const found = ctx.env[name as string]
    ctx.lookups?.set(name as string, found)
    if (found !== undefined && found !== '') return found
    if (fallback !== undefined) return fallback
    ctx.issues.push({
      path: pathOf(ctx.base, at),
      message: `environment variable ${name} is ${found === '' ? 'empty' : 'not set'} (use \${${name}:-default} for a default)`,
    })
    return ''
  })
}

function pathOf(base: readonly (string | number)[], at: PathLink | undefined): (string | number)[] {
  const keys: (string | number)[] = []
  for (let link = at; link; link = link.parent) keys.push(link.key)
  return [...base, ...keys.reverse()]
}

/** TOML tables: smol-toml makes them with a null prototype; dates and other objects are left alone. */
function isPlainTable(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false
  const proto = Object.getPrototypeOf(value)
  return proto === null || proto === Object.prototype
}
