/**
 * @module
 * An outbound client on the runtime's own `fetch` (Bun, Deno): their fetch is fast (Node's is
 * not, so Node has its own client). Each runtime passes its fetch extras through `extraInit`
 * (Bun: `decompress: false`, TLS verification; Deno: an HTTP client without TLS verification).
 *
 * fetch has no separate connect and read phases, so one timer covers the wait for the response
 * head: connect + read (the upload of a request body included). Connection failures that
 * fetch reports before anything was sent (refused, DNS, unreachable) count as `connect`, so the
 * proxy may try another node; anything else before the head is a `reset`.
 */
import { endToEndFromRaw } from '../../core/headers.ts'
import { type OutboundRequest, type UpstreamClient, UpstreamError } from '../../upstream/types.ts'

/** Response bodies up to this size, with a Content-Length, are read whole instead of streamed. */
const SMALL_BODY_BYTES = 64 * 1024

export type FetchExtras = (request: OutboundRequest) => Record<string, unknown>

const CONNECT_FAILURE =
  /ECONNREFUSED|ConnectionRefused|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|FailedToOpenSocket|ConnectionClosed before|Connection refused|dns error|error trying to connect|certificate|CERT|self.signed|UNABLE_TO_VERIFY/i

export class FetchUpstreamClient implements UpstreamClient {
  readonly #extras: FetchExtras

  constructor(extras: FetchExtras) {
    this.#extras = extras
  }

  async send(request: OutboundRequest): Promise<Response> {
    const { origin, timeouts } = request
    const host = origin.host.includes(':') ? `[${origin.host}]` : origin.host
    const url = `${origin.scheme}://${host}:${origin.port}${request.path}`
    const controller = new AbortController()
    let failure: UpstreamError | undefined
    const abort = (error: UpstreamError) => {
      failure ??= error
      controller.abort(error)
    }
    const waitMs = timeouts.connect + timeouts.read
    const timer = setTimeout(
      () => abort(new UpstreamError('timeout', `no response within ${waitMs} ms`)),
      waitMs,
    )
    const unsubscribe = request.onClientGone?.(() => abort(new UpstreamError('aborted', 'client went away')))
    try {
      const response = await fetch(url, {
        method: request.method,
        headers: fetchHeaders(request.headers),
        // fetch refuses a GET or HEAD with a body: on this client such bodies are not forwarded.
        body: request.method === 'GET' || request.method === 'HEAD' ? null : request.body,
        redirect: 'manual',
        signal: controller.signal,
        ...(request.body instanceof ReadableStream ? { duplex: 'half' } : {}),
        ...this.#extras(request),
      } as RequestInit)
      const length = Number(response.headers.get('content-length') ?? Number.NaN)
      // Small bodies of known length are read whole while the timer still runs (as the Node
      // client does, like nginx's proxy buffering): a cut short body becomes a clean 502.
      const body =
        length <= SMALL_BODY_BYTES && response.body
          ? await response.arrayBuffer()
          : response.body && withIdleTimeout(response.body, timeouts.read, (error) => abort(error))
      return endToEnd(response, body)
    } catch (error) {
      if (failure) throw failure
      const text = `${(error as Error)?.message ?? ''} ${((error as Error)?.cause as Error)?.message ?? ''} ${(error as { code?: string })?.code ?? ''}`
      throw new UpstreamError(CONNECT_FAILURE.test(text) ? 'connect' : 'reset', text.trim(), { cause: error })
    } finally {
      clearTimeout(timer)
      unsubscribe?.()
    }
  }

  close(): void {}
}

/**
 * A streamed body that fails when the upstream goes quiet for `idleMs` while the client is
 * still reading (fetch's own timer stops at the response head).
 */
function withIdleTimeout(
  body: ReadableStream<Uint8Array>,
  idleMs: number,
  abort: (error: UpstreamError) => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const timer = setTimeout(
        () => abort(new UpstreamError('timeout', `upstream idle for ${idleMs} ms`)),
        idleMs,
      )
      try {
        const { done, value } = await reader.read()
        if (done) controller.close()
        else controller.enqueue(value)
      } catch (error) {
        controller.error(error)
      } finally {
        clearTimeout(timer)
      }
    },
    cancel(reason) {
      return reader.cancel(reason)
    },
  })
}

/** fetch frames the body itself (length for bytes, chunked for streams, none for null). */
function fetchHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const { 'content-length': _length, 'transfer-encoding': _encoding, ...rest } = headers
  return rest
}

/** The response without hop-by-hop headers (fetch's own headers are immutable: copy). */
function endToEnd(response: Response, body: ReadableStream<Uint8Array> | ArrayBuffer | null): Response {
  const raw: string[] = []
  for (const [name, value] of response.headers) if (name !== 'set-cookie') raw.push(name, value)
  for (const cookie of response.headers.getSetCookie()) raw.push('set-cookie', cookie)
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: endToEndFromRaw(raw),
  })
}
