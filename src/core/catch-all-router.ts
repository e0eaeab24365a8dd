/**
 * @module
 * Hono's router for an app with one handler for every method and path (`app.all('*', ...)`):
 * the gateway routes with its own router (router.ts), against the current snapshot, so Hono's
 * only has to hand every request to that handler. Hono's default router matched '*' with a
 * regular expression on every request (~0.3 us per request in a Node profile); this one returns
 * the same result every time. Plugged in through Hono's documented `router` option.
 */
import type { Result, Router } from 'hono/router'

export class CatchAllRouter<T> implements Router<T> {
  readonly name = 'CatchAllRouter'
  #result: Result<T> = [[]]

  add(method: string, path: string, handler: T): void {
    // Anything else would need a real router: fail at start-up rather than route wrongly.
    if (method !== 'ALL' || path !== '/*' || this.#result[0].length > 0) {
      throw new Error(`CatchAllRouter takes one app.all('*') handler, not ${method} ${path}`)
    }
    this.#result = [[[handler, {}]]]
  }

  match(): Result<T> {
    return this.#result
  }
}
