/**
 * @module
 * Request bodies bounded by `max_req_body_size`: read whole (when a signature needs the hash)
 * or streamed through a byte counter.
 */
import { GatewayError } from '../../core/errors.ts'

export const tooLarge = (max: number) =>
  new GatewayError('BODY_TOO_LARGE', `request body is larger than ${max} bytes`)

/**
 * Reads the whole body: 413 as soon as it passes `max` bytes, 408 when the client sends nothing
 * for `idleMs` (per pause, as APISIX's `timeout` applies to each operation: a large body over a
 * slow link is fine while it keeps coming), 499 when the client goes away mid-body.
 */
export async function readBounded(
  body: ReadableStream<Uint8Array> | null,
  max: number,
  idleMs: number,
): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0)
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = body.getReader()
  let timer: ReturnType<typeof setTimeout> | undefined
  for (;;) {
    let chunk: Awaited<ReturnType<typeof reader.read>>
    try {
      chunk = await Promise.race([
        reader.read(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new GatewayError('REQUEST_TIMEOUT', `request body idle for ${idleMs} ms`)),
            idleMs,
          )
        }),
      ])
    } catch (error) {
      await reader.cancel().catch(() => {})
      if (error instanceof GatewayError) throw error
      throw new GatewayError('CLIENT_CLOSED', 'the client closed the request mid-body', { cause: error })
    } finally {
      clearTimeout(timer)
    }
    const { done, value } = chunk
    if (done) break
    size += value.byteLength
    if (size > max) {
      await reader.cancel().catch(() => {})
      throw tooLarge(max)
    }
    chunks.push(value)
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array
  const whole = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    whole.set(chunk, offset)
    offset += chunk.byteLength
  }
  return whole
}

/** Streams `body`, erroring the stream once it passes `max` bytes; `exceeded()` tells why it failed. */
export function limitBody(
  body: ReadableStream<Uint8Array>,
  max: number,
): { body: ReadableStream<Uint8Array>; exceeded: () => boolean } {
  let size = 0
  let over = false
  const counted = body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        size += chunk.byteLength
        if (size > max) {
          over = true
          controller.error(tooLarge(max))
          return
        }
        controller.enqueue(chunk)
      },
    }),
  )
  return { body: counted, exceeded: () => over }
}
