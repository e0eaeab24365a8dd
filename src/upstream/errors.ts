/**
 * @module
 * Maps outbound failures to the gateway's answers: nothing reachable -> 502, too slow -> 504,
 * a client too slow sending its body -> 408.
 */
import { GatewayError } from '../core/errors.ts'
import { UpstreamError } from './types.ts'

/** `what` names the target for the client ("upstream", "function"); never include secrets. */
export function toGatewayError(error: unknown, what: string): GatewayError {
  if (error instanceof GatewayError) return error
  if (!(error instanceof UpstreamError)) {
    return new GatewayError('UPSTREAM_RESET', `${what} failed`, { cause: error })
  }
  switch (error.failure) {
    case 'connect':
      return new GatewayError('UPSTREAM_CONNECT', `cannot connect to the ${what}`, { cause: error })
    case 'connect-timeout':
      return new GatewayError('UPSTREAM_TIMEOUT', `timed out connecting to the ${what}`, { cause: error })
    case 'timeout':
      return new GatewayError('UPSTREAM_TIMEOUT', `the ${what} did not answer in time`, { cause: error })
    case 'client-timeout':
      return new GatewayError('REQUEST_TIMEOUT', 'the request body was not received in time', {
        cause: error,
      })
    case 'reset':
      return new GatewayError('UPSTREAM_RESET', `the ${what} closed the connection`, { cause: error })
    case 'aborted':
      return new GatewayError('CLIENT_CLOSED', 'the client closed the request', { cause: error })
  }
}
