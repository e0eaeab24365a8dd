/**
 * @module
 * Logging capability handed to the core and plugins. Human-readable lines go to stderr through
 * `info/warn/error`; the JSON access log goes to `access` (stdout). Never pass secrets here.
 */
import type { AccessFields } from './access-log.ts'

export interface Logger {
  info(message: string): void
  warn(message: string): void
  error(message: string): void
  /** One request's access log entry; loggers write it with `writeAccessLine` (core/access-log.ts). */
  access(fields: AccessFields): void
}

export const silentLogger: Logger = {
  info() {},
  warn() {},
  error() {},
  access() {},
}
