/**
 * @module
 * `node:net` / `node:tls` sockets for the shared pooled HTTP/1.1 client
 * (src/adapters/socket-client). Node buffers writes itself, so a write is either `sent` or, past
 * the socket's high-water mark, `queued` until 'drain'.
 */
import net from 'node:net'
import tls from 'node:tls'
import type { Dial, RawSocket, WriteResult } from '../socket-client/transport.ts'

class NodeRawSocket implements RawSocket {
  connected = false

  constructor(readonly socket: net.Socket) {}

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

export const dialNode: Dial = (target, events) => {
  const { hostname: host, port } = target
  const socket = target.tls
    ? tls.connect({
        host,
        port,
        rejectUnauthorized: target.tls.rejectUnauthorized,
        ALPNProtocols: ['http/1.1'],
        // Without a name Node would send the host as SNI; an IP address never goes there.
        servername: target.tls.serverName ?? '',
      })
    : net.connect({ host, port })
  // Small requests written in pieces (head, then body) would otherwise wait on Nagle + delayed ACK.
  socket.setNoDelay(true)
  const raw = new NodeRawSocket(socket)
  let failure: Error | undefined
  socket.once(target.tls ? 'secureConnect' : 'connect', () => {
    raw.connected = true
    events.onConnected()
  })
  socket.on('data', (data: Buffer) => events.onData(data))
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
