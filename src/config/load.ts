/**
 * @module
 * gateway.toml -> smol-toml -> `${ENV}` substitution -> zod -> a deep-frozen config.
 * Never throws for bad input: returns every issue, each naming file, line (when known), key
 * path and reason.
 */
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { parse, TomlError } from 'smol-toml'
import type { z } from 'zod'
import type { Plugin } from '../core/plugin.ts'
import { type EnvIssue, substituteEnv } from './env.ts'
import { type ConfigIssue, locateLine } from './issues.ts'
import { buildConfigSchema, type GatewayConfig } from './schema.ts'

export type LoadResult =
  | { readonly ok: true; readonly config: GatewayConfig; readonly text: string }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[]; readonly text?: string }

export interface LoadOptions {
  readonly plugins: readonly Plugin[]
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Name used in messages; defaults to the file's base name. */
  readonly displayName?: string
}

export async function loadConfigFile(path: string, options: LoadOptions): Promise<LoadResult> {
  const file = options.displayName ?? basename(path)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable'
    return { ok: false, issues: [{ file, path: [], message: `cannot read the file (${code})` }] }
  }
  return parseConfigText(text, { ...options, displayName: file })
}

export function parseConfigText(text: string, options: LoadOptions): LoadResult {
  const file = options.displayName ?? 'gateway.toml'
  let document: unknown
  try {
    document = parse(text)
  } catch (error) {
    if (error instanceof TomlError) {
      // Only the first line of smol-toml's message: the rest quotes the source, which may hold secrets.
      const reason = error.message.split('\n')[0]?.replace(/^Invalid TOML document: /, '') ?? 'invalid TOML'
      return {
        ok: false,
        text,
        issues: [
          { file, line: error.line, column: error.column, path: [], message: `invalid TOML: ${reason}` },
        ],
      }
    }
    throw error
  }

  const envIssues: EnvIssue[] = []
  const substituted = substituteEnv(document, options.env ?? process.env, envIssues)
  const envConfigIssues: ConfigIssue[] = envIssues.map((issue) => ({
    ...issue,
    file,
    line: locateLine(text, issue.path),
  }))

  const schema = buildConfigSchema(options.plugins)
  const result = schema.safeParse(substituted)
  if (!result.success || envConfigIssues.length > 0) {
    const schemaIssues = result.success
      ? []
      : result.error.issues.flatMap((issue) => zodIssueToConfigIssues(issue, file, text, options.plugins))
    // A missing variable leaves an empty string behind; the schema's complaint about that value
    // would only repeat the real cause.
    const caused = (issue: ConfigIssue) => envIssues.some((env) => startsWith(issue.path, env.path))
    return { ok: false, text, issues: [...envConfigIssues, ...schemaIssues.filter((i) => !caused(i))] }
  }
  return { ok: true, text, config: deepFreeze(result.data) }
}

function zodIssueToConfigIssues(
  issue: z.core.$ZodIssue,
  file: string,
  text: string,
  plugins: readonly Plugin[],
): ConfigIssue[] {
  if (issue.code === 'unrecognized_keys') {
    const inPlugins = issue.path[issue.path.length - 1] === 'plugins'
    return issue.keys.map((key) => {
      const path = [...issue.path, key]
      const message = inPlugins ? unknownPluginMessage(key, path, plugins) : 'unknown key'
      return { file, line: locateLine(text, path), path, message }
    })
  }
  // For a bad record key, zod says "Invalid key in record"; the key's own rule says why.
  const message = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message
  return [{ file, line: locateLine(text, issue.path), path: issue.path, message }]
}

function unknownPluginMessage(
  name: string,
  path: readonly PropertyKey[],
  plugins: readonly Plugin[],
): string {
  const global = path[0] === 'plugins'
  const plugin = plugins.find((p) => p.name === name)
  if (plugin && global) return `plugin ${name} answers requests, so it can only be set on a route`
  const names = plugins
    .filter((p) => !global || p.phase !== 'upstream')
    .map((p) => p.name)
    .join(', ')
  return `unknown plugin (known: ${names})`
}

function startsWith(path: readonly PropertyKey[], prefix: readonly PropertyKey[]): boolean {
  return prefix.length <= path.length && prefix.every((segment, i) => path[i] === segment)
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const item of Object.values(value)) deepFreeze(item)
  }
  return value
}
