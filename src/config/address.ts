/**
 * @module
 * "host:port" parsing shared by listeners and upstream nodes. IPv6 literals use brackets.
 */

export interface HostPort {
  /** Without brackets for IPv6. */
  readonly host: string
  readonly port: number
}

/** Parses "host:port", "[v6]:port", or "host" when `defaultPort` is given. */
export function parseHostPort(text: string, defaultPort: number | undefined): HostPort | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s/]+))(?::(\d{1,5}))?$/.exec(text)
  if (!match) return undefined
  const host = match[1] ?? match[2]
  const port = match[3] === undefined ? defaultPort : Number(match[3])
  if (host === undefined || port === undefined || port > 65535) return undefined
  return { host, port }
}

/** "host:port" with brackets around IPv6 literals. */
export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}
