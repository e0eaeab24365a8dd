/**
 * @module
 * Config errors as users read them: `file:line: key.path: reason`. Reasons never quote values,
 * so secrets in the file or the environment cannot leak into logs.
 */

export interface ConfigIssue {
  readonly file: string
  readonly line?: number | undefined
  readonly column?: number | undefined
  readonly path: readonly PropertyKey[]
  readonly message: string
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/

/** `routes[1].plugins.aws-lambda.timeout`; keys that are not bare TOML keys are quoted. */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`
    else {
      const key = String(segment)
      out += out === '' ? '' : '.'
      out += BARE_KEY.test(key) ? key : JSON.stringify(key)
    }
  }
  return out
}

export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}`
  const key = formatKeyPath(issue.path)
  return key === '' ? `${where}: ${issue.message}` : `${where}: ${key}: ${issue.message}`
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * Best-effort line of a key path in the TOML text (smol-toml reports positions only for syntax
 * errors). Finds the n-th `[[routes]]` block for `routes[n]`, then the last named key inside it.
 */
export function locateLine(text: string, path: readonly PropertyKey[]): number | undefined {
  const lines = text.split('\n')
  let start = 0
  let end = lines.length
  let found: number | undefined
  let keysFrom = 0
  // An entry of an array of tables (`routes[n]`, `server.tls[n]`): its `[[...]]` block. An
  // index into a plain array (`listen[0]`, an inline `routes = [...]`) has no such block.
  const at = path.findIndex((segment) => typeof segment === 'number')
  const table = at > 0 ? path.slice(0, at) : []
  if (at > 0 && table.every((s) => typeof s === 'string')) {
    const name = (table as string[]).map(escapeRegExp).join('\\s*\\.\\s*')
    const header = new RegExp(`^\\s*\\[\\[\\s*${name}\\s*\\]\\]`)
    const headers: number[] = []
    lines.forEach((line, i) => {
      if (header.test(line)) headers.push(i)
    })
    if (headers.length > 0) {
      const index = path[at] as number
      const first = headers[index]
      if (first === undefined) return undefined
      start = first
      end = headers[index + 1] ?? lines.length
      found = first
      keysFrom = at + 1
    }
  }
  const keys = path.slice(keysFrom).filter((s): s is string => typeof s === 'string' && s !== 'routes')
  const last = keys[keys.length - 1]
  if (last === undefined) return found === undefined ? undefined : found + 1
  const key = `(?:${escapeRegExp(last)}|"${escapeRegExp(last)}")`
  const pattern = new RegExp(
    `^\\s*(?:${key}\\s*=|\\[[^\\]]*\\b${key}\\s*\\]|[\\w.-]*\\.${key}\\s*=)|[{,]\\s*${key}\\s*=`,
  )
  for (let i = start; i < end; i++) {
    if (pattern.test(lines[i] ?? '')) return i + 1
  }
  return found === undefined ? undefined : found + 1
}
