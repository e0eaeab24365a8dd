/**
 * @module
 * gateway.toml -> smol-toml -> `${ENV}` substitution -> zod -> a deep-frozen config.
 * Never throws for bad input: returns every issue, each naming file, line (when known), key
 * path and reason.
 *
 * Incremental loading: with a `LoadCache` (by default one per plugin list), the text is split
 * into its `[[routes]]` tables and the rest (`segments.ts`); a route whose text (and the
 * environment variables it read) is the same as in the previous load is not parsed or validated
 * again: the previous load's frozen object is returned for it, which also lets
 * `Gateway.compile` keep its compiled chain. Only the new or changed routes and the small rest
 * go through smol-toml and zod. The result is the same config the whole-file path gives; whenever
 * anything is not plainly valid (a syntax error, a schema or environment issue, a duplicate id, a
 * layout the splitter does not handle) the whole file goes through the whole-file path, so
 * errors and their lines are exactly the same as without a cache.
 */
import { readFile } from 'node:fs/promises'
import { basename, resolve } from 'node:path'
import { parse, TomlError } from 'smol-toml'
import type { z } from 'zod'
import type { Plugin } from '../core/plugin.ts'
import { type CachedRoute, LoadCache } from './cache.ts'
import { type EnvIssue, substituteEnv } from './env.ts'
import { deepFreeze } from './freeze.ts'
import { type ConfigIssue, locateLine } from './issues.ts'
import { readPlainRoute } from './plain-toml.ts'
import { configSchemas, type GatewayConfig, type RouteConfig } from './schema.ts'
import { detach, splitRoutes } from './segments.ts'
import { runSliced, runToEnd, type Steps } from './slices.ts'

export { LoadCache }

export type LoadResult =
  | { readonly ok: true; readonly config: GatewayConfig; readonly text: string }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[]; readonly text?: string }

export interface LoadOptions {
  readonly plugins: readonly Plugin[]
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Name used in messages; defaults to the file's base name. */
  readonly displayName?: string
  /**
   * What the previous load of this file is remembered in, so unchanged routes are not parsed and
   * validated again (see the module comment). Default: one cache shared by every load with the
   * same plugin list (the start-up load and the reloader's, in a gateway); `null`: load from scratch.
   */
  readonly cache?: LoadCache | null
}

const defaultCaches = new WeakMap<readonly Plugin[], LoadCache>()

function cacheFor(options: LoadOptions): LoadCache | undefined {
  if (options.cache !== undefined) return options.cache ?? undefined
  let cache = defaultCaches.get(options.plugins)
  if (!cache) {
    cache = new LoadCache()
    defaultCaches.set(options.plugins, cache)
  }
  return cache
}

export async function loadConfigFile(path: string, options: LoadOptions): Promise<LoadResult> {
  const file = options.displayName ?? basename(path)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable'
    // The full path: run from the wrong directory, a relative one would not show it.
    return { ok: false, issues: [{ file, path: [], message: `cannot read ${resolve(path)} (${code})` }] }
  }
  return parseConfigText(text, { ...options, displayName: file })
}

export function parseConfigText(text: string, options: LoadOptions): LoadResult {
  return runToEnd(loadSteps(text, options))
}

/**
 * `parseConfigText` that gives the event loop a turn every few milliseconds (see `slices.ts`):
 * for reloads, so a big file does not stop the gateway while it is parsed and validated.
 */
export function parseConfigTextSliced(text: string, options: LoadOptions): Promise<LoadResult> {
  return runSliced(loadSteps(text, options))
}

function* loadSteps(text: string, options: LoadOptions): Steps<LoadResult> {
  const cache = cacheFor(options)
  if (cache) {
    const config = yield* incrementalLoad(text, options, cache)
    if (config) return { ok: true, text, config }
  }
  yield
  return yield* wholeLoad(text, options)
}

/** How many routes are validated between two chances to pause. */
const ROUTES_PER_STEP = 16

/**
 * The incremental path: undefined whenever the whole-file path must decide (any issue at all, or
 * a layout `splitRoutes` does not handle).
 */
function* incrementalLoad(
  text: string,
  options: LoadOptions,
  cache: LoadCache,
): Steps<GatewayConfig | undefined> {
  const split = splitRoutes(text)
  if (!split) return undefined
  yield
  const env = options.env ?? process.env
  cache.begin(options.plugins)
  const config = yield* loadPieces(split.rest, split.routes, options.plugins, env, cache)
  if (!config) cache.abandon()
  return config
}

function* loadPieces(
  restText: string,
  pieces: readonly string[],
  plugins: readonly Plugin[],
  env: Env,
  cache: LoadCache,
): Steps<GatewayConfig | undefined> {
  const rest = parseOrUndefined(detach(restText))
  if (!rest || Object.hasOwn(rest, 'routes')) return undefined
  const envIssues: EnvIssue[] = []
  const restChecked = configSchemas(plugins).rest.safeParse(substituteEnv(rest, env, envIssues))
  if (!restChecked.success || envIssues.length > 0) return undefined

  const work: Work = {
    pieces,
    plugins,
    env,
    cache,
    routes: new Array(pieces.length),
    remembered: new Map(),
    ids: new Set(),
  }
  for (let from = 0; from < pieces.length; from += ROUTES_PER_STEP) {
    if (!loadRoutes(work, from, Math.min(from + ROUTES_PER_STEP, pieces.length))) return undefined
    yield
  }
  cache.commit(plugins, work.remembered)
  return deepFreeze({ ...restChecked.data, routes: Object.freeze(work.routes) }) as GatewayConfig
}

interface Work {
  readonly pieces: readonly string[]
  readonly plugins: readonly Plugin[]
  readonly env: Env
  readonly cache: LoadCache
  readonly routes: RouteConfig[]
  /** What the cache keeps after this load. */
  readonly remembered: Map<string, CachedRoute>
  readonly ids: Set<string>
}

/** Routes `from` to `to` (exclusive), remembered or loaded; false for any issue (or a duplicate id). */
function loadRoutes(work: Work, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const piece = work.pieces[i] as string
    const entry =
      work.cache.route(piece, work.plugins, work.env) ?? loadRoute(piece, work.plugins, work.env, work.cache)
    if (!entry) return false
    const id = entry.route.id
    if (id !== undefined) {
      if (work.ids.has(id)) return false
      work.ids.add(id)
    }
    work.remembered.set(piece, entry)
    work.routes[i] = entry.route
  }
  return true
}

type Env = Readonly<Record<string, string | undefined>>

/** One route's text on its own: read, substituted, validated and frozen; undefined for any issue. */
function loadRoute(
  piece: string,
  plugins: readonly Plugin[],
  env: Env,
  cache: LoadCache,
): CachedRoute | undefined {
  // readPlainRoute copies the strings it keeps; smol-toml's would be views into the text.
  const plain = readPlainRoute(piece, cache.values)
  const document = plain ?? parseOrUndefined(detach(piece))
  if (!document) return undefined
  const list = document.routes
  if (Object.keys(document).length !== 1 || !Array.isArray(list) || list.length !== 1) return undefined
  let raw = list[0]
  let lookups: Map<string, string | undefined> | undefined
  // Only an escape (inside a value smol-toml read) can make a `${` that is not in the text.
  if (!plain || piece.includes('${') || piece.includes('\\')) {
    const issues: EnvIssue[] = []
    lookups = new Map()
    raw = substituteEnv(raw, env, issues, [], lookups)
    if (issues.length > 0) return undefined
  }
  const checked = cache.routeSchema(plugins).safeParse(raw)
  if (!checked.success) return undefined
  return {
    route: deepFreeze(checked.data),
    env: lookups && lookups.size > 0 ? [...lookups] : undefined,
  }
}

function parseOrUndefined(text: string): Record<string, unknown> | undefined {
  try {
    return parse(text)
  } catch {
    return undefined
  }
}

/** The whole file as one document: the path that reports issues (and pauses between its three big steps). */
function* wholeLoad(text: string, options: LoadOptions): Steps<LoadResult> {
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
  yield

  const envIssues: EnvIssue[] = []
  const substituted = substituteEnv(document, options.env ?? process.env, envIssues)
  const envConfigIssues: ConfigIssue[] = envIssues.map((issue) => ({
    ...issue,
    file,
    line: locateLine(text, issue.path),
  }))

  yield
  const result = configSchemas(options.plugins).config.safeParse(substituted)
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
  // A value that fits none of a union's shapes: zod says only "Invalid input". Report the shape
  // the value was meant for (the branch that did not fail on the value's type itself), so
  // `nodes = { "a:99999" = 1 }` names the bad node.
  if (issue.code === 'invalid_union') {
    const meant = issue.errors.find(
      (branch) => branch.length > 0 && !branch.some((e) => e.code === 'invalid_type' && e.path.length === 0),
    )
    if (meant)
      return meant.flatMap((inner) =>
        zodIssueToConfigIssues(
          { ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue,
          file,
          text,
          plugins,
        ),
      )
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
