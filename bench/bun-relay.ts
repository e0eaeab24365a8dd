// A byte relay for bench/bun-servers.sh: Bun.listen on one port, every connection copied both
// ways to TARGET_PORT with Bun.connect. It stands for the one way a Bun.listen HTTP/1.1 server
// could share its port with Bun.serve's h2c: Bun.serve cannot take over a socket accepted
// elsewhere, so h2c connections would have to be relayed to it. The benchmark measures what the
// relay costs per h2c request.
//
//   node_modules/bun/bin/bun.exe bench/bun-relay.ts TARGET_PORT
//
// Listens on 127.0.0.1 on a port the kernel picks and prints "listening on http://127.0.0.1:PORT"
// to stderr. Bytes a socket does not take at once wait for its drain, in order.
import type { Socket } from 'bun'

const target = Number(process.argv[2])
if (!Number.isInteger(target) || target <= 0) {
  process.stderr.write('usage: bun bench/bun-relay.ts TARGET_PORT\n')
  process.exit(2)
}

/** One direction of a relayed connection: where bytes go and what waits for that socket's drain. */
interface Side {
  peer: Socket<Side> | undefined
  /** Bytes for `peer` before it is connected, or that it has not taken yet. */
  queue: Uint8Array[]
}

function send(to: Socket<Side>, owner: Side, bytes: Uint8Array): void {
  if (owner.queue.length > 0) {
    owner.queue.push(bytes)
    return
  }
  const taken = to.write(bytes)
  if (taken < bytes.byteLength) owner.queue.push(bytes.slice(taken))
}

function drain(socket: Socket<Side>, owner: Side): void {
  while (owner.queue.length > 0) {
    const bytes = owner.queue[0]!
    const taken = socket.write(bytes)
    if (taken < bytes.byteLength) {
      owner.queue[0] = bytes.slice(taken)
      return
    }
    owner.queue.shift()
  }
}

const listener = Bun.listen<Side>({
  hostname: '127.0.0.1',
  port: 0,
  socket: {
    open(client) {
      client.setNoDelay(true)
      // client.data.queue: bytes for the upstream side; upstream.data.queue: bytes for the client.
      client.data = { peer: undefined, queue: [] }
      void Bun.connect<Side>({
        hostname: '127.0.0.1',
        port: target,
        data: { peer: client, queue: [] },
        socket: {
          open(upstream) {
            upstream.setNoDelay(true)
            client.data.peer = upstream
            drain(upstream, client.data)
          },
          data(upstream, chunk) {
            send(client, upstream.data, new Uint8Array(chunk))
          },
          drain(upstream) {
            drain(upstream, client.data)
          },
          close() {
            client.end()
          },
          connectError() {
            client.end()
          },
        },
      })
    },
    data(client, chunk) {
      const bytes = new Uint8Array(chunk)
      if (client.data.peer) send(client.data.peer, client.data, bytes)
      else client.data.queue.push(bytes)
    },
    drain(client) {
      const upstream = client.data.peer
      if (upstream) drain(client, upstream.data)
    },
    close(client) {
      client.data.peer?.end()
    },
  },
})
process.stderr.write(`Bun.listen relay to ${target} listening on http://127.0.0.1:${listener.port}\n`)
