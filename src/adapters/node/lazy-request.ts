/**
 * @module
 * A Request stand-in for the Node listeners that parse requests themselves (raw HTTP/2 streams,
 * the HTTP/1.1 connection handler). url, method and headers are read directly; anything else
 * (the body, text(), signal...) goes to a real Request built on first use. Building a real
 * Request per request costs Node several microseconds, and most proxied requests never need one.
 */

export class LazyRequest {
  readonly url: string
  readonly method: string
  readonly #rawHeaders: readonly string[]
  readonly #body: () => ReadableStream<Uint8Array> | null
  #headers: Headers | undefined
  #real: Request | undefined
  /** The body stream once asked for (`#body` is called at most once). */
  #stream: ReadableStream<Uint8Array> | null | undefined

  /**
   * `rawHeaders`: flat `[name, value, ...]`; names starting with ':' (HTTP/2 pseudo-headers) are
   * left out of `headers`. `body` is called at most once, when something first asks for the body.
   */
  constructor(
    url: string,
    method: string,
    rawHeaders: readonly string[],
    body: () => ReadableStream<Uint8Array> | null,
  ) {
    this.url = url
    this.method = method
    this.#rawHeaders = rawHeaders
    this.#body = body
  }

  get headers(): Headers {
    if (!this.#headers) {
      const headers = new Headers()
      const raw = this.#rawHeaders
      for (let i = 0; i + 1 < raw.length; i += 2) {
        const name = raw[i] as string
        if (name.charCodeAt(0) !== 58 /* ':' */) headers.append(name, raw[i + 1] as string)
      }
      this.#headers = headers
    }
    return this.#headers
  }

  /** Whether anything asked for the body (if not, the adapter discards it after the response). */
  get bodyRequested(): boolean {
    return this.#stream !== undefined
  }

  /**
   * The body as the client sent it, whatever the method: a GET's too, which a real Request
   * cannot carry (ConnInfo.requestBody). The same stream the real Request would read.
   */
  bodyStream(): ReadableStream<Uint8Array> | null {
    if (this.#stream === undefined) this.#stream = this.#body()
    return this.#stream
  }

  /** A body stream made but never read: cancelled, which drains the rest (see requestBody). */
  discardUnreadBody(): void {
    const stream = this.#stream
    if (stream && !stream.locked) void stream.cancel().catch(() => {})
  }

  /** A real Request over the same body, made once (bodies, signal, anything unusual). */
  real(): Request {
    if (!this.#real) {
      const body = this.method === 'GET' || this.method === 'HEAD' ? null : this.bodyStream()
      this.#real = new Request(this.url, {
        method: this.method,
        headers: this.headers,
        body,
        ...(body ? { duplex: 'half' } : {}),
      } as RequestInit)
    }
    return this.#real
  }

  get body(): ReadableStream<Uint8Array> | null {
    return this.real().body
  }
  get bodyUsed(): boolean {
    return this.#real?.bodyUsed ?? false
  }
  get signal(): AbortSignal {
    return this.real().signal
  }
  text(): Promise<string> {
    return this.real().text()
  }
  json(): Promise<unknown> {
    return this.real().json()
  }
  arrayBuffer(): Promise<ArrayBuffer> {
    return this.real().arrayBuffer()
  }
  blob(): Promise<Blob> {
    return this.real().blob()
  }
  formData(): Promise<FormData> {
    return this.real().formData()
  }
  clone(): Request {
    return this.real().clone()
  }
}
