/**
 * @module
 * Free bytes in front of a buffered response body, where an HTTP/1.1 server writes the response
 * head so head and body leave as one buffer without copying the body behind the head (Node's
 * server, h1-connection.ts). The socket client allocates buffered bodies this way; any other
 * writer just ignores the room.
 *
 * Why not copy, or write head and body separately: for a 64 KiB answer the copy is one more
 * 64 KiB allocation (external memory, which drives V8's scavenges) and a 64 KiB memcpy per
 * answer; two writes are a `writev` and two write requests on the socket.
 *
 * The room is marked on the body view itself, and only bodies allocated here carry the mark, so
 * no one else's bytes are ever written. It is claimed once: a body handed to two writers (a
 * cached answer) lends its room only to the first, whose bytes may still be queued in a socket.
 */

/** Room for a head of up to this many bytes; larger heads are written the ordinary way. */
const ROOM_BYTES = 1024
/** Smaller bodies are copied: a pooled allocation is cheaper than a fresh one with room. */
export const HEAD_ROOM_MIN_BODY_BYTES = 4096

const ROOM = Symbol('sluice.headRoom')
type WithRoom = Uint8Array & { [ROOM]?: boolean }

/** A body buffer of `length` bytes, not zero-filled, with unclaimed head room in front. */
export function bodyWithHeadRoom(length: number): Buffer<ArrayBuffer> {
  // allocUnsafeSlow: never a slice of Node's shared pool, so the bytes in front are ours.
  const body = Buffer.allocUnsafeSlow(ROOM_BYTES + length).subarray(ROOM_BYTES)
  ;(body as WithRoom)[ROOM] = true
  return body
}

/**
 * `head` (latin1, one byte per character) and `body` as one buffer, the head written into the
 * room in front of the body; undefined when the body has no unclaimed room that fits the head.
 */
export function headInRoom(head: string, body: Uint8Array): Buffer | undefined {
  const withRoom = body as WithRoom
  if (withRoom[ROOM] !== true || head.length > body.byteOffset) return undefined
  withRoom[ROOM] = false
  const whole = Buffer.from(body.buffer, body.byteOffset - head.length, head.length + body.byteLength)
  whole.write(head, 0, 'latin1')
  return whole
}
