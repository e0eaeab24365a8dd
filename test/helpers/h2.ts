/**
 * A minimal HTTP/2 client over `node:http2` for h2c prior knowledge and TLS h2 tests.
 */
import http2 from 'node:http2'

export interface H2Response {
  readonly status: number
  readonly headers: http2.IncomingHttpHeaders
  readonly body: Buffer
}

export interface H2RequestOptions {
  readonly method?: string
  readonly headers?: Record<string, string>
  readonly body?: string | Buffer
  /** For TLS: accept the test's self-signed certificate. */
  readonly ca?: string | Buffer
}

export function h2connect(origin: string, ca?: string | Buffer): http2.ClientHttp2Session {
  return http2.connect(origin, ca ? { ca, rejectUnauthorized: true } : {})
}

export function h2request(
  session: http2.ClientHttp2Session,
  path: string,
  options: H2RequestOptions = {},
): Promise<H2Response> {
  return new Promise((done, fail) => {
    // A body is sent whatever the method (Node's client would end a GET's stream with its HEADERS).
    const stream = session.request(
      { ':method': options.method ?? 'GET', ':path': path, ...options.headers },
      options.body !== undefined ? { endStream: false } : {},
    )
    const chunks: Buffer[] = []
    let headers: http2.IncomingHttpHeaders = {}
    stream.on('response', (h) => {
      headers = h
    })
    stream.on('data', (c: Buffer) => chunks.push(c))
    // Complete only if the stream also closed cleanly: a reset with an error code (a body cut
    // short) can arrive after 'end'.
    stream.on('close', () => {
      if (stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) {
        fail(new Error(`stream reset with code ${stream.rstCode}`))
      } else done({ status: Number(headers[':status']), headers, body: Buffer.concat(chunks) })
    })
    stream.on('error', fail)
    stream.end(options.body)
  })
}

/** One request on a fresh session, closed afterwards. */
export async function h2once(
  origin: string,
  path: string,
  options: H2RequestOptions = {},
): Promise<H2Response> {
  const session = h2connect(origin, options.ca)
  session.on('error', () => {})
  try {
    return await h2request(session, path, options)
  } finally {
    session.close()
  }
}
