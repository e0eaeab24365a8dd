/**
 * @module
 * Request bodies bounded by `max_req_body_size`: read whole (when a signature needs the hash)
 * or streamed through a byte counter.
 */
import { GatewayError } from '../../core/errors.ts'

export const tooLarge = (max: number) =>
  new GatewayError('BODY_TOO_LARGE', `request body is larger than ${max} bytes`)

/** Reads the whole body, failing with 413 as soon as it passes `max` bytes. */
export async function readBounded(body: ReadableStream<Uint8Array> | null, max: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0)
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
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
