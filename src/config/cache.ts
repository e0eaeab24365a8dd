/**
 * @module
 * What the incremental loader (load.ts) remembers from one load to the next, all of it pure
 * functions of their keys:
 * - each route by its text: the validated, frozen route, and the environment variables its
 *   substitution read with the values they had (an entry counts only while they are the same);
 * - TOML values (arrays, inline tables ...) by their text (see plain-toml.ts);
 * - validated `upstream` and `plugins` tables by their input data: 10,000 routes often share a
 *   handful of upstreams, and zod then runs once per distinct table, not once per route. Equal
 *   inputs share one frozen output object.
 * Everything is kept for one load: what the last successful load used is what the next one may
 * find. Entries are only valid for the plugin list they were made with; another list starts over.
 */
import { z } from 'zod'
import type { Plugin } from '../core/plugin.ts'
import { deepFreeze } from './freeze.ts'
import type { ValueMemo } from './plain-toml.ts'
import { configSchemas, type RouteConfig, routeSchemaWith, type SchemaWrapper } from './schema.ts'

export interface CachedRoute {
  readonly route: RouteConfig
  /** Variables the route's substitution read, with their values then; undefined: none. */
  readonly env: readonly (readonly [string, string | undefined])[] | undefined
}

type Env = Readonly<Record<string, string | undefined>>

export class LoadCache {
  #plugins: readonly Plugin[] | undefined
  #routes = new Map<string, CachedRoute>()
  #routeSchema: z.ZodType<RouteConfig> | undefined
  /** @internal Raw TOML values by their text. */
  readonly values = new Memo()
  /** @internal Validated tables by their input. */
  readonly validated = new Memo()

  /** Routes remembered from the last successful load. */
  get size(): number {
    return this.#routes.size
  }

  /** @internal Called before a load: a different plugin list makes everything remembered useless. */
  begin(plugins: readonly Plugin[]): void {
    if (plugins === this.#plugins) return
    this.#plugins = plugins
    this.#routes = new Map()
    this.#routeSchema = undefined
    this.values.clear()
    this.validated.clear()
  }

  /** @internal The route remembered for `text`, unless a variable it read has changed. */
  route(text: string, plugins: readonly Plugin[], env: Env): CachedRoute | undefined {
    if (plugins !== this.#plugins) return undefined
    const entry = this.#routes.get(text)
    if (entry?.env) {
      for (const [name, value] of entry.env) if (env[name] !== value) return undefined
    }
    return entry
  }

  /** @internal The route schema, with its `upstream` and `plugins` tables validated through `validated`. */
  routeSchema(plugins: readonly Plugin[]): z.ZodType<RouteConfig> {
    // Another load with another plugin list has begun meanwhile: no memo for this one.
    if (plugins !== this.#plugins) return configSchemas(plugins).route as z.ZodType<RouteConfig>
    this.#routeSchema ??= routeSchemaWith(plugins, memoizing(this.validated)) as z.ZodType<RouteConfig>
    return this.#routeSchema
  }

  /** @internal After a successful load: `routes` are its routes, and what it used is what is kept. */
  commit(plugins: readonly Plugin[], routes: Map<string, CachedRoute>): void {
    if (plugins !== this.#plugins) return
    this.#routes = routes
    this.values.commit()
    this.validated.commit()
  }

  /** @internal After a load that failed: keep what the last successful load left. */
  abandon(): void {
    this.values.abandon()
    this.validated.abandon()
  }
}

/** A memo kept for one load: entries the current load used, and those of the last committed one. */
export class Memo implements ValueMemo {
  #known = new Map<string, unknown>()
  #used = new Map<string, unknown>()

  get(key: string): unknown {
    let value = this.#used.get(key)
    if (value === undefined) {
      value = this.#known.get(key)
      if (value !== undefined) this.#used.set(key, value)
    }
    return value
  }

  set(key: string, value: unknown): void {
    this.#used.set(key, value)
  }

  commit(): void {
    this.#known = this.#used
    this.#used = new Map()
  }

  abandon(): void {
    this.#used = new Map()
  }

  clear(): void {
    this.#known = new Map()
    this.#used = new Map()
  }
}

/**
 * Wraps a schema so that data equal to data it validated before gets the same (frozen) output
 * without running it again. Invalid input fails with a placeholder issue: the incremental loader
 * never reports issues itself (the whole-file path does).
 */
function memoizing(memo: Memo): SchemaWrapper {
  let schemas = 0
  return <T extends z.ZodType>(schema: T): T => {
    const tag = `${schemas++}:`
    return z.any().transform((value, ctx) => {
      const key = dataKey(value)
      if (key !== undefined) {
        const known = memo.get(tag + key)
        if (known !== undefined) return known
      }
      const result = schema.safeParse(value)
      if (!result.success) {
        ctx.addIssue({ code: 'custom', message: 'invalid' })
        return z.NEVER
      }
      const frozen = deepFreeze(result.data)
      if (key !== undefined) memo.set(tag + key, frozen)
      return frozen
    }) as unknown as T
  }
}

/**
 * A string equal for two values exactly when they are the same data (JSON of strings, finite
 * numbers, booleans, arrays and tables, keys in order), or undefined for values it cannot tell
 * apart that way (dates, -0, NaN, other objects).
 */
export function dataKey(value: unknown): string | undefined {
  return isData(value) ? JSON.stringify(value) : undefined
}

function isData(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0)
    case 'object': {
      if (value === null) return false
      if (Array.isArray(value)) return value.every(isData)
      const proto = Object.getPrototypeOf(value)
      if (proto !== null && proto !== Object.prototype) return false
      for (const key of Object.keys(value)) if (!isData((value as Record<string, unknown>)[key])) return false
      return true
    }
    default:
      return false
  }
}
