// A contender for bench/proxy.sh: fastify + @fastify/http-proxy on Node, proxying every path to one
// upstream over HTTP/1.1 with keep-alive (reply-from's undici pool), as small as the library allows.
//
//   node bench/fastify-proxy.mjs UPSTREAM_PORT h1|h2c
//
// Listens on 127.0.0.1 on a port the kernel picks and prints "listening on http://127.0.0.1:PORT"
// to stderr (what bench/proxy.sh waits for). fastify serves either HTTP/1.1 or, with
// `http2: true` and no TLS, h2c with prior knowledge only (no HTTP/1.1 on that port), so
// bench/proxy.sh starts one process per protocol. Logging is off (as Sluice's access_log = false).
import proxy from '@fastify/http-proxy'
import Fastify from 'fastify'

const [port, protocol] = process.argv.slice(2)
if (!/^[0-9]+$/.test(port ?? '') || (protocol !== 'h1' && protocol !== 'h2c')) {
  process.stderr.write('usage: node bench/fastify-proxy.mjs UPSTREAM_PORT h1|h2c\n')
  process.exit(2)
}

const app = Fastify({ logger: false, http2: protocol === 'h2c' })
await app.register(proxy, {
  upstream: `http://127.0.0.1:${port}`,
  // reply-from's defaults, written out, plus the idle timeout Sluice's pool has (60 s; undici's own
  // default is 4 s, which would reopen the pool between interleaved runs).
  undici: { connections: 128, pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 120_000 },
})
const address = await app.listen({ host: '127.0.0.1', port: 0 })
process.stderr.write(`fastify ${app.version} + @fastify/http-proxy (${protocol}) listening on ${address}\n`)

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  })
}
