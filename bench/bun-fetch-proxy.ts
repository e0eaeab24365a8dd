// A contender for bench/proxy.sh: the bare minimum of a reverse proxy on Bun, Bun.serve + Bun's own
// fetch to one upstream, with nothing a gateway does (no router, no plugins, no header rewriting,
// no timeouts, no logging). It is what Sluice on Bun is measured against (the performance issue's
// target: Sluice's plain proxy route at >= 0.95x of this in the same run).
//
//   node_modules/bun/bin/bun.exe bench/bun-fetch-proxy.ts UPSTREAM_PORT
//
// Listens on 127.0.0.1 on a port the kernel picks and prints "listening on http://127.0.0.1:PORT"
// to stderr (what bench/proxy.sh waits for). The server is set up as Sluice's Bun listener is
// (`http2: true`: HTTP/1.1 and h2c prior knowledge on the same port; idleTimeout 255 s), so the
// two differ in what happens between the server and the upstream. Upstream calls go through the
// global fetch with its default keep-alive pool (HTTP/1.1); `decompress: false` passes bodies
// through byte for byte, `redirect: 'manual'` passes 3xx through, as a proxy must.
const [port] = process.argv.slice(2)
if (!/^[0-9]+$/.test(port ?? '')) {
  process.stderr.write('usage: bun bench/bun-fetch-proxy.ts UPSTREAM_PORT\n')
  process.exit(2)
}
const upstream = `http://127.0.0.1:${port}`

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  http2: true,
  idleTimeout: 255,
  fetch(request) {
    // request.url is absolute (http://host:port/path?query): keep the path and query.
    const url = request.url
    const path = url.slice(url.indexOf('/', url.indexOf('//') + 2))
    return fetch(upstream + path, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      decompress: false,
    })
  },
})
process.stderr.write(
  `bun ${Bun.version} Bun.serve + fetch proxy listening on http://127.0.0.1:${server.port}\n`,
)

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    void server.stop(true)
    process.exit(0)
  })
}
