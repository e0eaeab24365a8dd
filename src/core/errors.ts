/**
 * @module
 * One error family for everything the gateway answers with itself. Codes are stable strings
 * (never reused); every error becomes a JSON body `{ "error": { "code", "message" } }`.
 */

import { jsonResponse } from './response.ts'

export const ErrorCodes = {
  NO_ROUTE: { code: 'SLUICE_E_NO_ROUTE', status: 404 },
  METHOD_NOT_ALLOWED: { code: 'SLUICE_E_METHOD_NOT_ALLOWED', status: 405 },
  BAD_REQUEST: { code: 'SLUICE_E_BAD_REQUEST', status: 400 },
  /** nginx's 499: the client went away first. Nobody reads it; the access log does. */
  CLIENT_CLOSED: { code: 'SLUICE_E_CLIENT_CLOSED', status: 499 },
  REQUEST_TIMEOUT: { code: 'SLUICE_E_REQUEST_TIMEOUT', status: 408 },
  BODY_TOO_LARGE: { code: 'SLUICE_E_BODY_TOO_LARGE', status: 413 },
  EXPECTATION_FAILED: { code: 'SLUICE_E_EXPECTATION_FAILED', status: 417 },
  HEADERS_TOO_LARGE: { code: 'SLUICE_E_HEADERS_TOO_LARGE', status: 431 },
  NOT_IMPLEMENTED: { code: 'SLUICE_E_NOT_IMPLEMENTED', status: 501 },
  VERSION_NOT_SUPPORTED: { code: 'SLUICE_E_VERSION_NOT_SUPPORTED', status: 505 },
  UPSTREAM_CONNECT: { code: 'SLUICE_E_UPSTREAM_CONNECT', status: 502 },
  UPSTREAM_RESET: { code: 'SLUICE_E_UPSTREAM_RESET', status: 502 },
  UPSTREAM_UNAVAILABLE: { code: 'SLUICE_E_UPSTREAM_UNAVAILABLE', status: 503 },
  UPSTREAM_TIMEOUT: { code: 'SLUICE_E_UPSTREAM_TIMEOUT', status: 504 },
  SHUTTING_DOWN: { code: 'SLUICE_E_SHUTTING_DOWN', status: 503 },
  INTERNAL: { code: 'SLUICE_E_INTERNAL', status: 500 },
} as const

export type ErrorKind = keyof typeof ErrorCodes

/** An error the gateway answers itself. `message` must never contain secrets: it is sent to clients. */
export class GatewayError extends Error {
  readonly kind: ErrorKind
  readonly headers: Record<string, string> | undefined

  constructor(
    kind: ErrorKind,
    message: string,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'GatewayError'
    this.kind = kind
    this.headers = options?.headers
  }

  get code(): string {
    return ErrorCodes[this.kind].code
  }

  get status(): number {
    return ErrorCodes[this.kind].status
  }

  toResponse(): Response {
    return errorResponse(this.kind, this.message, this.headers)
  }
}

export function errorResponse(kind: ErrorKind, message: string, headers?: Record<string, string>): Response {
  return jsonResponse(errorBody(kind, message), ErrorCodes[kind].status, headers)
}

/** The JSON body of an error answer (for adapters that answer before any Response exists). */
export function errorBody(kind: ErrorKind, message: string): { error: { code: string; message: string } } {
  return { error: { code: ErrorCodes[kind].code, message } }
}
