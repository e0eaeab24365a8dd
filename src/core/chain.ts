/**
 * @module
 * Builds a route's handler from its plugins: global plugins before route plugins within a phase,
 * phases in `PHASES` order, higher priority first, and the terminal handler last.
 */
import { GatewayError } from './errors.ts'
import { type GatewayContext, type GatewayMiddleware, PHASES, type Phase } from './plugin.ts'

export interface ChainLink {
  readonly name: string
  readonly phase: Phase
  readonly priority: number
  readonly global: boolean
  readonly middleware: GatewayMiddleware
}

export type RouteHandler = (c: GatewayContext) => Promise<Response>

const phaseRank = (phase: Phase): number => PHASES.indexOf(phase)

/** Ties keep their order (the sort is stable). */
export function orderLinks(links: readonly ChainLink[]): ChainLink[] {
  return links
    .slice()
    .sort(
      (a, b) =>
        phaseRank(a.phase) - phaseRank(b.phase) ||
        Number(b.global) - Number(a.global) ||
        b.priority - a.priority,
    )
}

const DONE: Promise<void> = Promise.resolve()

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as PromiseLike<unknown> | null)?.then === 'function'

/**
 * Composes middlewares into one handler (koa/Hono onion). A middleware may return a Response or
 * set `c.res`; the chain's result is the last response set. Config validation guarantees a
 * terminal link, so an unanswered chain is a bug (500), never a hang.
 * No async functions here: a link that answers synchronously costs no promise, and one that
 * returns a promise costs one `then`, where an `async` dispatch cost a promise and an await per
 * link on every request.
 */
export function buildChain(
  links: readonly ChainLink[],
  onError: (error: unknown, c: GatewayContext) => Response,
): RouteHandler {
  const middlewares = orderLinks(links).map((link) => link.middleware)
  return (c) => {
    let reached = -1
    const settle = (result: unknown): void => {
      if (result instanceof Response) c.res = result
    }
    // Answered where it was thrown, so outer links (request-id, response plugins) still
    // decorate error responses the way they decorate successful ones.
    const answerError = (error: unknown): void => settle(onError(error, c))
    const dispatch = (i: number): Promise<void> => {
      // A plugin calling next() twice would run the terminal twice (a POST sent twice).
      if (i <= reached) return Promise.reject(new Error('next() called more than once'))
      reached = i
      const middleware = middlewares[i]
      if (!middleware) return DONE
      // As from the async function this replaces, next() never throws: whatever goes wrong here
      // (onError or Hono's c.res setter throwing) becomes the returned promise's rejection.
      try {
        let result: unknown
        try {
          result = middleware(c, () => dispatch(i + 1))
          // Inside the try: a `then` getter that throws is the link's error, as with `await`.
          if (isThenable(result)) return Promise.resolve(result).then(settle, answerError)
        } catch (error) {
          answerError(error)
          return DONE
        }
        settle(result)
        return DONE
      } catch (error) {
        return Promise.reject(error)
      }
    }
    return dispatch(0).then(() => {
      if (!c.finalized) throw new GatewayError('INTERNAL', 'no plugin answered the request')
      return c.res
    })
  }
}
