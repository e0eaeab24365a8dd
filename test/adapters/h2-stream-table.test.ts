/**
 * The stand-ins for a node:http2 session's stream collections (src/adapters/node/h2-stream-table.ts):
 * they behave as the Map and Set they replace, they are installed on this Node's sessions, and
 * sessions using them serve, reset and destroy streams as before.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { describe, test } from 'node:test'
import {
  installStreamTables,
  PendingStreamSet,
  StreamTable,
} from '../../src/adapters/node/h2-stream-table.ts'

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31
    return state / 2 ** 31
  }
}

describe('StreamTable', () => {
  test('answers as a Map does over opens and closes in any order', () => {
    const next = random(7)
    const table = new StreamTable<{ id: number }>()
    const map = new Map<number, { id: number }>()
    let id = 1
    for (let step = 0; step < 5_000; step++) {
      if (next() < 0.55 || map.size === 0) {
        const value = { id }
        table.set(id, value)
        map.set(id, value)
        id += 2 // client stream ids are odd and grow
      } else {
        const open = [...map.keys()]
        const victim = open[Math.floor(next() * open.length)] as number
        assert.equal(table.delete(victim), map.delete(victim))
      }
      const probe = Math.floor(next() * id)
      assert.equal(table.get(probe), map.get(probe))
      assert.equal(table.has(probe), map.has(probe))
      assert.equal(table.size, map.size)
    }
    assert.deepEqual([...table], [...map])
    assert.deepEqual([...table.keys()], [...map.keys()])
    assert.deepEqual([...table.values()], [...map.values()])
    assert.equal(table.delete(id + 100), false)
  })

  test('forEach visits every stream once while the callback closes them', () => {
    const table = new StreamTable<string>()
    for (const id of [1, 3, 5, 7]) table.set(id, `stream ${id}`)
    const seen: number[] = []
    table.forEach((value, id, self) => {
      assert.equal(value, `stream ${id}`)
      seen.push(id)
      self.delete(id)
    })
    assert.deepEqual(seen, [1, 3, 5, 7])
    assert.equal(table.size, 0)
  })

  test('refuses a key that is not a stream id, and ids never collide with object members', () => {
    const table = new StreamTable<string>()
    assert.throws(() => table.set(-1, 'x'), TypeError)
    assert.throws(() => table.set(1.5, 'x'), TypeError)
    assert.equal(table.get('constructor' as unknown as number), undefined)
    assert.equal(table.has('toString' as unknown as number), false)
  })
})

describe('PendingStreamSet', () => {
  test('answers as a Set does, and forEach visits every item once while the callback deletes them', () => {
    const pending = new PendingStreamSet<object>()
    const set = new Set<object>()
    const items = [{}, {}, {}]
    for (const item of [...items, items[0] as object]) {
      pending.add(item)
      set.add(item)
    }
    assert.equal(pending.size, set.size)
    assert.equal(pending.delete(items[1] as object), set.delete(items[1] as object))
    assert.equal(pending.delete(items[1] as object), set.delete(items[1] as object))
    assert.equal(pending.has(items[2] as object), true)
    assert.deepEqual([...pending], [...set])
    const seen: object[] = []
    pending.forEach((item, again, self) => {
      assert.equal(item, again)
      seen.push(item)
      self.delete(item)
    })
    assert.deepEqual(seen, [...set])
    assert.equal(pending.size, 0)
  })
})

/**
 * How a session with two streams open ends: destroyed by the server, closed gracefully by the
 * server (GOAWAY, then the open streams are answered), or the client's connection dropping.
 */
type Ending = 'server destroys' | 'server closes' | 'client drops'

/** Serves 50 streams, then ends the session with two streams open; what each side saw. */
async function scenario(install: boolean, ending: Ending) {
  const server = http2.createServer()
  const installed: boolean[] = []
  const sessions: http2.ServerHttp2Session[] = []
  const hanging: http2.ServerHttp2Stream[] = []
  const streamCloses: number[] = []
  server.on('session', (session) => {
    if (install) installed.push(installStreamTables(session))
    sessions.push(session)
  })
  server.on('stream', (stream, headers) => {
    if (headers[':path'] === '/hang') {
      // Answered only when the test says so: open when the session ends.
      hanging.push(stream)
      stream.on('close', () => streamCloses.push(stream.id ?? -1))
      return
    }
    stream.respond({ ':status': 200 })
    stream.end(String(headers[':path']))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
  client.on('error', () => {})
  try {
    const get = (path: string) =>
      new Promise<string>((resolve, reject) => {
        const request = client.request({ ':path': path })
        let body = ''
        request.setEncoding('utf8')
        request.on('data', (chunk: string) => {
          body += chunk
        })
        request.on('end', () => resolve(body))
        request.on('error', reject)
        request.end()
      })
    const paths = Array.from({ length: 50 }, (_, i) => `/s${i}`)
    const bodies = await Promise.all(paths.map(get))
    const pending = [get('/hang'), get('/hang')]
    await new Promise((resolve) => setTimeout(resolve, 50)) // the server has both streams open
    const session = sessions[0] as http2.ServerHttp2Session
    const sessionClosed = once(session, 'close')
    if (ending === 'server destroys') session.destroy()
    else if (ending === 'server closes') {
      session.close()
      for (const stream of hanging) {
        stream.respond({ ':status': 200 })
        stream.end('late')
      }
    } else client.destroy()
    const outcomes = (await Promise.allSettled(pending)).map((o) =>
      o.status === 'fulfilled'
        ? `body ${JSON.stringify(o.value)}`
        : `error ${(o.reason as { code?: string }).code}`,
    )
    await sessionClosed
    return {
      paths,
      bodies,
      installed,
      outcomes,
      streamCloses: streamCloses.length,
      destroyed: session.destroyed,
    }
  } finally {
    client.destroy()
    server.close()
  }
}

describe('installStreamTables on a real session', () => {
  for (const ending of ['server destroys', 'server closes', 'client drops'] as const) {
    test(`installed on this Node: streams are served, and open ones end as with Node's own when the ${ending}`, async () => {
      const own = await scenario(false, ending)
      const tables = await scenario(true, ending)
      assert.deepEqual(tables.installed, [true])
      assert.deepEqual(tables.bodies, tables.paths)
      assert.deepEqual(tables.outcomes, own.outcomes)
      assert.equal(tables.streamCloses, 2, 'both open streams closed on the server')
      assert.equal(own.streamCloses, 2)
      assert.equal(tables.destroyed, true, "the session ended ('close' emitted)")
      if (ending === 'server closes') assert.deepEqual(tables.outcomes, ['body "late"', 'body "late"'])
    })
  }
})
