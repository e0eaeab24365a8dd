/**
 * @module
 * Logging capability handed to the core and plugins. Human-readable lines go to stderr through
 * `info/warn/error`; the JSON access log goes to `access` (stdout). Never pass secrets here.
 */
export interface Logger {
  info(message: string): void
  warn(message: string): void
  error(message: string): void
  /** One JSON object, serialised (core/access-log.ts), without its newline; adapters buffer these writes. */
  access(line: string): void
}

export const silentLogger: Logger = {
  info() {},
  warn() {},
  error() {},
  access() {},
}
