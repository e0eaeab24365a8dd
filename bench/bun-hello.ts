// A floor for bench/bun-servers.sh: what serving HTTP/1.1 costs on Bun before any proxying, with
// Bun's server (`serve`: Bun.serve({ http2: true }), as Sluice's Bun listener) against a minimal
// HTTP/1.1 responder written on Bun.listen (`listen`: TCP sockets, heads found with indexOf,
// one write per answer). Both answer every request with the same fixed 100-byte body and three
// headers, asynchronously (a microtask later), as a proxy answers.
//
//   node_modules/bun/bin/bun.exe bench/bun-hello.ts serve|listen
//
// Listens on 127.0.0.1 on a port the kernel picks and prints "listening on http://127.0.0.1:PORT"
// to stderr. The `listen` responder is a measuring device, not a server: GET without a body only,
// no header parsing, no limits.
const mode = process.argv[2]
const BODY = `${'x'.repeat(99)}\n`
const HEADERS = { 'content-type': 'text/plain', 'x-one': '1', 'x-two': '2' }

if (mode === 'serve') {
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    http2: true,
    idleTimeout: 255,
    // requestIP as Sluice does for X-Forwarded-For; a Bun.listen server reads it once per connection.
    fetch: (request, self) => {
      self.requestIP(request)
      return Promise.resolve().then(() => new Response(BODY, { headers: HEADERS }))
    },
  })
  process.stderr.write(`Bun.serve hello listening on http://127.0.0.1:${server.port}\n`)
} else if (mode === 'listen') {
  const fields = Object.entries(HEADERS).map(([name, value]) => `${name}: ${value}\r\n`)
  const answer = Buffer.from(
    `HTTP/1.1 200 OK\r\n${fields.join('')}content-length: ${BODY.length}\r\n\r\n${BODY}`,
  )
  const listener = Bun.listen<{ pending: Buffer | undefined; address: string }>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      open(socket) {
        socket.data = { pending: undefined, address: socket.remoteAddress }
      },
      data(socket, chunk) {
        let bytes = socket.data.pending ? Buffer.concat([socket.data.pending, chunk]) : Buffer.from(chunk)
        let end = bytes.indexOf('\r\n\r\n')
        while (end >= 0) {
          queueMicrotask(() => socket.write(answer))
          bytes = bytes.subarray(end + 4)
          end = bytes.indexOf('\r\n\r\n')
        }
        socket.data.pending = bytes.length > 0 ? bytes : undefined
      },
    },
  })
  process.stderr.write(`Bun.listen hello listening on http://127.0.0.1:${listener.port}\n`)
} else {
  process.stderr.write('usage: bun bench/bun-hello.ts serve|listen\n')
  process.exit(2)
}
