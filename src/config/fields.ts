/**
 * @module
 * Small zod fields shared by plugin schemas, so values that would only fail at request time
 * (a newline in a key, a hop-by-hop header) fail when the config loads instead.
 */
import { z } from 'zod'
import { isReservedHeader } from '../core/headers.ts'

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/** A header name a plugin may set: a valid token, not hop-by-hop, not framing, not Host. */
export const settableHeaderName = z
  .string()
  .regex(TOKEN, 'must be a header name')
  .refine((name) => !isReservedHeader(name), {
    message: 'is managed by the gateway (hop-by-hop, Content-Length or Host) and cannot be set',
  })

/** A value sent in a header (API keys, tokens): no control characters, no surrounding spaces. */
export const headerValue = z
  .string()
  .min(1)
  .refine((value) => !hasControlCharacter(value), {
    message: 'must not contain control characters (a stray newline in an environment variable?)',
  })
  .refine((value) => value.trim() === value, { message: 'must not start or end with spaces' })
  .refine((value) => !hasWideCharacter(value), {
    // The HTTP/1.1 writers send header values as Latin-1 and refuse anything else per request.
    message: 'must be ASCII (or Latin-1) text: a header value cannot carry other characters',
  })

/**
 * Any value a response header may carry as configured (mocking's headers): empty is fine, but
 * no control character but tab and nothing beyond Latin-1, which every writer would refuse
 * per request (an empty reply, where the config said it was valid).
 */
export const fieldValue = z
  .string()
  .refine((value) => !hasControlCharacter(value, true), {
    message: 'must be one line without control characters',
  })
  .refine((value) => !hasWideCharacter(value), {
    message: 'must be ASCII (or Latin-1) text: a header value cannot carry other characters',
  })

function hasWideCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0xff) return true
  return false
}

function hasControlCharacter(value: string, allowTab = false): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if ((code < 0x20 && !(allowTab && code === 0x09)) || code === 0x7f) return true
  }
  return false
}

/** One part of an AWS credential scope (access key id, region, service): no spaces or "/". */
export const scopePart = z
  .string()
  .min(1)
  .regex(/^[^\s/]+$/, 'must not contain spaces or "/"')
