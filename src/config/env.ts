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

export function substituteEnv(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  issues: EnvIssue[],
  path: (string | number)[] = [],
): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value
    return value.replace(PATTERN, (whole, name: string | undefined, fallback: string | undefined) => {
      if (whole === '$${') return '${'
      const found = env[name as string]
      if (found !== undefined && found !== '') return found
      if (fallback !== undefined) return fallback
      issues.push({
        path,
        message: `environment variable ${name} is not set (use \${${name}:-default} for a default)`,
      })
      return ''
    })
  }
  if (Array.isArray(value)) return value.map((item, i) => substituteEnv(item, env, issues, [...path, i]))
  if (isPlainTable(value)) {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value))
      out[key] = substituteEnv(item, env, issues, [...path, key])
    return out
  }
  return value
}

/** TOML tables: smol-toml makes them with a null prototype; dates and other objects are left alone. */
function isPlainTable(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false
  const proto = Object.getPrototypeOf(value)
  return proto === null || proto === Object.prototype
}
