/**
 * @module
 * Deep freezing of validated config values.
 */

/** Freezes `value` and everything in it; an object already frozen is taken as frozen all through. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    if (Array.isArray(value)) for (const item of value) deepFreeze(item)
    else for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key])
  }
  return value
}
