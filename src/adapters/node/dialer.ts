/**
 * @module
 * `node:net` / `node:tls` sockets for the shared pooled HTTP/1.1 client
 * (src/adapters/socket-client). Node buffers writes itself, so a write is either `sent` or, past
 * the socket's high-water mark, `queued` until 'drain'.
 *
 * Plain TCP sockets on Node read into one shared buffer (`onread`) instead of a fresh 64 KiB
 * allocation per read; the client copies what it keeps (transport.ts). Measured with a 64 KiB
 * upstream body: see the commit that added it. TLS sockets, and Deno (whose node:net may not
 * honour `onread`), use 'data' events.
 */
import net from 'node:net'
import tls from 'node:tls'
import type { Dial, RawSocket, SocketEvents, WriteResult } from '../socket-client/transport.ts'

/** Shared by every plain socket: reads are delivered synchronously, one at a time. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024)
const SHARED_READS = typeof (globalThis as { Deno?: unknown }).Deno === 'undefined'

class NodeRawSocket implements RawSocket {
  connected = false

  constructor(
    readonly socket: net.Socket,
    /** 'data' events hand over fresh buffers; the shared `onread` buffer is reused by the next read. */
    readonly keepsReads: boolean,
  ) {}

  write(bytes: Uint8Array): WriteResult {
    const { socket } = this
    if (!this.connected || socket.destroyed || !socket.writable) return 'closed'
    return socket.write(bytes) ? 'sent' : 'queued'
  }

  end(): void {
    this.socket.end()
  }

  destroy(): void {
    this.socket.destroy()
  }

  pause(): void {
    this.socket.pause()
  }

  resume(): void {
    this.socket.resume()
  }

  get open(): boolean {
    return this.connected && !this.socket.destroyed && this.socket.writable
  }
}

function connect(target: Parameters<Dial>[0], events: SocketEvents): net.Socket {
  const { hostname: host, port } = target
  if (target.tls) {
    return tls.connect({
      host,
      port,
      rejectUnauthorized: target.tls.rejectUnauthorized,
      ALPNProtocols: ['http/1.1'],
      // Without a name Node would send the host as SNI; an IP address never goes there.
      servername: target.tls.serverName ?? '',
    })
  }
  if (!SHARED_READS) return net.connect({ host, port })
  return net.connect({
    host,
    port,
    onread: {
      buffer: READ_BUFFER,
      callback: (bytes: number, buffer: Uint8Array) => {
        events.onData((buffer as Buffer).subarray(0, bytes))
        return true
      },
    },
  })
}

export const dialNode: Dial = (target, events) => {
  const socket = connect(target, events)
  // Small requests written in pieces (head, then body) would otherwise wait on Nagle + delayed ACK.
  socket.setNoDelay(true)
  const dataEvents = target.tls !== undefined || !SHARED_READS
  const raw = new NodeRawSocket(socket, dataEvents)
  let failure: Error | undefined
  socket.once(target.tls ? 'secureConnect' : 'connect', () => {
    raw.connected = true
    events.onConnected()
  })
  if (dataEvents) socket.on('data', (data: Buffer) => events.onData(data))
  socket.on('drain', () => events.onDrain())
  socket.on('end', () => events.onEnd())
  socket.on('error', (error: Error) => {
    failure = error
    if (raw.connected) events.onError(error)
    else events.onConnectError(error)
  })
  socket.on('close', () => events.onClose(failure))
  return raw
}
