/**
 * @module
 * One port for HTTP/1.1 and HTTP/2 prior knowledge (h2c): read the first bytes, compare them
 * with the HTTP/2 connection preface, put them back (`unshift`) and hand the socket to the
 * matching server with `emit('connection')`. Measured here: this survives a preface sent one
 * byte at a time, on Node, Bun and Deno; no pause()/resume() around it.
 */
import type { Socket } from 'node:net'

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')

/** Clients that connect and say nothing are closed after this long. */
const SNIFF_TIMEOUT_MS = 10_000

export function sniffProtocol(socket: Socket, decide: (protocol: 'h1' | 'h2c') => void): void {
  let seen: Buffer = Buffer.alloc(0)
  const done = (protocol: 'h1' | 'h2c') => {
    socket.off('readable', onReadable)
    socket.off('end', onEnd)
    socket.setTimeout(0)
    if (seen.length > 0) socket.unshift(seen)
    // Sockets handed over this way lack TCP_NODELAY: without it, 40 ms Nagle stalls (measured).
    socket.setNoDelay(true)
    decide(protocol)
  }
  const onReadable = () => {
    for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk])
    }
    const n = Math.min(seen.length, PREFACE.length)
    if (n === 0) return
    if (seen.compare(PREFACE, 0, n, 0, n) !== 0) done('h1')
    else if (n === PREFACE.length) done('h2c')
  }
  const onEnd = () => socket.destroy()
  socket.on('readable', onReadable)
  socket.on('end', onEnd)
  socket.setTimeout(SNIFF_TIMEOUT_MS, () => socket.destroy())
}
