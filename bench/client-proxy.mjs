// A contender for bench/clients.sh: the same minimal node:http reverse proxy with a different
// upstream client behind it, so the clients can be compared on Node with everything else equal
// (the performance issue: "measure the alternatives ... undici dispatchers on Node, pipelining").
//
//   node bench/client-proxy.mjs VARIANT UPSTREAM_PORT      (after `npm run build`)
//
// VARIANT:
//   socket            Sluice's pooled HTTP/1.1 client (dist/src/adapters/socket-client), as the gateway uses it
//   undici-request    undici Pool (64 connections), pool.request, body piped to the client
//   undici-stream     undici Pool (64 connections), pool.stream straight into the client response
//   undici-pipelining undici Pool (8 connections, pipelining 8), pool.request
//   http-agent        node:http.request with a keep-alive Agent (64 sockets)
//   fetch             Node's global fetch (undici's default dispatcher)
// Every variant forwards GET requests only (what bench/clients.sh sends), drops hop-by-hop request
// headers, sets Host to the upstream, and copies status, end-to-end headers and body back.
// Listens on 127.0.0.1 on a port the kernel picks and prints "listening on http://127.0.0.1:PORT"
// to stderr (what bench/lib.sh's start_gateway waits for).
import http from 'node:http'
import { finished, pipeline } from 'node:stream/promises'

const [variant, port] = process.argv.slice(2)
if (!/^[0-9]+$/.test(port ?? '')) {
  process.stderr.write('usage: node bench/client-proxy.mjs VARIANT UPSTREAM_PORT\n')
  process.exit(2)
}
const upstreamHost = `127.0.0.1:${port}`
const origin = `http://${upstreamHost}`

// Sluice's own list of hop-by-hop headers (dist/, built by `npm run build`, which clients.sh runs).
const { hopByHopFilter } = await import('../dist/src/core/headers.js')
const isHopByHop = hopByHopFilter(undefined)

/** The client's headers to forward: no hop-by-hop ones, Host set to the upstream. */
function forwardHeaders(req) {
  const out = {}
  for (const name in req.headers) if (!isHopByHop(name) && name !== 'host') out[name] = req.headers[name]
  out.host = upstreamHost
  return out
}

/** Upstream response headers to send back (a record; undici and node:http give lower-case names). */
function backHeaders(headers) {
  const out = {}
  for (const name in headers) if (!isHopByHop(name)) out[name] = headers[name]
  return out
}

function fail(res, error) {
  if (!res.headersSent) {
    res.writeHead(502, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ error: String(error?.message ?? error) }))
  } else res.destroy()
}

async function makeHandler() {
  switch (variant) {
    case 'socket': {
      const { installLightweightResponse } = await import('../dist/src/adapters/node/lightweight-response.js')
      installLightweightResponse()
      const { SocketUpstreamClient } = await import('../dist/src/adapters/socket-client/client.js')
      const { dialNode } = await import('../dist/src/adapters/node/dialer.js')
      const { responseParts } = await import('../dist/src/core/response.js')
      const client = new SocketUpstreamClient(dialNode)
      const target = { scheme: 'http', host: '127.0.0.1', port: Number(port) }
      const pool = { keepalive: true, size: 320, idleTimeout: 60_000 }
      const timeouts = { connect: 60_000, send: 60_000, read: 60_000 }
      return async (req, res) => {
        const response = await client.send({
          origin: target,
          method: req.method,
          path: req.url,
          headers: forwardHeaders(req),
          body: null,
          timeouts,
          pool,
          tlsVerify: false,
          servername: undefined,
          onClientGone: undefined,
        })
        const { status, headers, body } = responseParts(response)
        res.writeHead(status, headers)
        if (body === null) res.end()
        else if (body instanceof Uint8Array) res.end(body)
        else await pipeline(body, res) // bodies over 64 KiB only (not in bench/clients.sh)
      }
    }
    case 'undici-request':
    case 'undici-pipelining': {
      const { Pool } = await import('undici')
      const pool =
        variant === 'undici-request'
          ? new Pool(origin, { connections: 64 })
          : new Pool(origin, { connections: 8, pipelining: 8 })
      return async (req, res) => {
        const { statusCode, headers, body } = await pool.request({
          path: req.url,
          method: req.method,
          headers: forwardHeaders(req),
        })
        res.writeHead(statusCode, backHeaders(headers))
        // pipe, not stream/promises' pipeline: the latter cost ~50 us more per request here.
        body.pipe(res)
        await finished(res)
      }
    }
    case 'undici-stream': {
      const { Pool } = await import('undici')
      const pool = new Pool(origin, { connections: 64 })
      return async (req, res) => {
        await pool.stream(
          { path: req.url, method: req.method, headers: forwardHeaders(req) },
          ({ statusCode, headers }) => {
            res.writeHead(statusCode, backHeaders(headers))
            return res
          },
        )
      }
    }
    case 'http-agent': {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
      return (req, res) =>
        new Promise((resolve, reject) => {
          const out = http.request(
            {
              host: '127.0.0.1',
              port: Number(port),
              path: req.url,
              method: req.method,
              headers: forwardHeaders(req),
              agent,
            },
            (up) => {
              res.writeHead(up.statusCode ?? 502, backHeaders(up.headers))
              up.pipe(res)
              finished(res).then(resolve, reject)
            },
          )
          out.on('error', reject)
          out.end()
        })
    }
    case 'fetch':
      return async (req, res) => {
        const response = await fetch(origin + req.url, { headers: forwardHeaders(req), redirect: 'manual' })
        const headers = {}
        response.headers.forEach((value, name) => {
          if (!isHopByHop(name)) headers[name] = value
        })
        res.writeHead(response.status, headers)
        res.end(Buffer.from(await response.arrayBuffer()))
      }
    default:
      process.stderr.write(`unknown variant ${variant}\n`)
      process.exit(2)
  }
}

const handle = await makeHandler()
const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  handle(req, res).catch((error) => fail(res, error))
})
server.listen(0, '127.0.0.1', () => {
  process.stderr.write(`listening on http://127.0.0.1:${server.address().port}\n`)
})
