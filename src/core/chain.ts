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

/**
 * Composes middlewares into one handler (koa/Hono onion). A middleware may return a Response or
 * set `c.res`; the chain's result is the last response set. Config validation guarantees a
 * terminal link, so an unanswered chain is a bug (500), never a hang.
 */
export function buildChain(
  links: readonly ChainLink[],
  onError: (error: unknown, c: GatewayContext) => Response,
): RouteHandler {
  const middlewares = orderLinks(links).map((link) => link.middleware)
  return async (c) => {
    let reached = -1
    const dispatch = async (i: number): Promise<void> => {
      // A plugin calling next() twice would run the terminal twice (a POST sent twice).
      if (i <= reached) throw new Error('next() called more than once')
      reached = i
      const middleware = middlewares[i]
      if (!middleware) return
      let result: unknown
      try {
        result = await middleware(c, () => dispatch(i + 1))
      } catch (error) {
        // Answered where it was thrown, so outer links (request-id, response plugins) still
        // decorate error responses the way they decorate successful ones.
        result = onError(error, c)
      }
      if (result instanceof Response) c.res = result
    }
    await dispatch(0)
    if (!c.finalized) throw new GatewayError('INTERNAL', 'no plugin answered the request')
    return c.res
  }
}
