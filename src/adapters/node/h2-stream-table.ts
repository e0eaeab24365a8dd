/**
 * @module
 * Stand-ins for the two collections a `node:http2` session keeps its streams in: the `Map` of open
 * streams by id and the `Set` of streams not yet given an id.
 *
 * Why: Node adds every new stream to the Set and deletes it again once it has an id (at once, for
 * streams a server receives), then sets it in the Map and deletes it when it closes. Under load
 * both hash tables are replaced (rehashed) every few streams, and V8 keeps a link from each
 * replaced table to its successor (for live iterators). Once one table of a session has aged into
 * the old generation, each successor, and the streams it still holds, stays reachable from that
 * dead old table until the next full GC: scavenges then promote most of what they copy, and the
 * process settles in a slow mode (Node 20: 60-90% of each scavenge promoted, ~10 us more CPU per
 * HTTP/2 request; Node 24 builds the same chains). Measured with both stand-ins installed: 1 of 20
 * fresh processes in that mode, against 7 of 9 with Node's own (docs/performance.md).
 *
 * A plain object keyed by stream id is a V8 number dictionary, and an array is an array: neither
 * links a replaced store to anything. Each implements the whole interface of what it replaces
 * (Node 20 calls get, set, delete, size, forEach and add), and `installStreamTables` swaps them in
 * only where the session's state has the shape this was written against; otherwise the session
 * keeps its own.
 */
import type { Http2Session } from 'node:http2'
import { isMap, isSet } from 'node:util/types'

/**
 * Open streams by id. Stream ids are integers below 2^31 and iterate in ascending order, which
 * for stream ids is the order they were opened in, as with a Map.
 */
export class StreamTable<V> implements Map<number, V> {
  #byId: Record<number, V> = {}
  #size = 0

  get size(): number {
    return this.#size
  }

  get(id: number): V | undefined {
    return Object.hasOwn(this.#byId, id) ? this.#byId[id] : undefined
  }

  has(id: number): boolean {
    return Object.hasOwn(this.#byId, id)
  }

  set(id: number, value: V): this {
    if (!Number.isSafeInteger(id) || id < 0) throw new TypeError(`stream id must be an integer: ${id}`)
    if (!Object.hasOwn(this.#byId, id)) this.#size++
    this.#byId[id] = value
    return this
  }

  delete(id: number): boolean {
    if (!Object.hasOwn(this.#byId, id)) return false
    delete this.#byId[id]
    this.#size--
    return true
  }

  clear(): void {
    this.#byId = {}
    this.#size = 0
  }

  forEach(callback: (value: V, id: number, table: Map<number, V>) => void, thisArg?: unknown): void {
    for (const [id, value] of this.entries()) callback.call(thisArg, value, id, this)
  }

  *entries(): MapIterator<[number, V]> {
    // A snapshot of the ids: callbacks may close (delete) streams while this runs, as with a Map.
    for (const key of Object.keys(this.#byId)) {
      const id = Number(key)
      if (Object.hasOwn(this.#byId, id)) yield [id, this.#byId[id] as V]
    }
  }

  *keys(): MapIterator<number> {
    for (const [id] of this.entries()) yield id
  }

  *values(): MapIterator<V> {
    for (const [, value] of this.entries()) yield value
  }

  [Symbol.iterator](): MapIterator<[number, V]> {
    return this.entries()
  }

  get [Symbol.toStringTag](): string {
    return 'StreamTable'
  }
}

/**
 * Streams not yet given an id (`pendingStreams`). An array: on a server each stream is in it only
 * while its constructor runs; a client's pending streams are those it opened and not yet sent.
 */
export class PendingStreamSet<T> {
  #items: T[] = []

  get size(): number {
    return this.#items.length
  }

  has(item: T): boolean {
    return this.#items.includes(item)
  }

  add(item: T): this {
    if (!this.#items.includes(item)) this.#items.push(item)
    return this
  }

  delete(item: T): boolean {
    const at = this.#items.indexOf(item)
    if (at === -1) return false
    this.#items.splice(at, 1)
    return true
  }

  clear(): void {
    this.#items = []
  }

  forEach(callback: (item: T, again: T, set: PendingStreamSet<T>) => void, thisArg?: unknown): void {
    // A copy: callbacks destroy streams, which deletes them from here; one deleted by an earlier
    // callback is skipped, as a Set would.
    for (const item of this.#items.slice()) {
      if (this.#items.includes(item)) callback.call(thisArg, item, item, this)
    }
  }

  values(): ArrayIterator<T> {
    return this.#items.slice().values()
  }

  keys(): ArrayIterator<T> {
    return this.values()
  }

  *entries(): Generator<[T, T]> {
    for (const item of this.#items.slice()) yield [item, item]
  }

  [Symbol.iterator](): ArrayIterator<T> {
    return this.values()
  }
}

/** The session's private state symbol (`Symbol('state')` in Node's internal/http2/core). */
function stateSymbol(session: Http2Session): symbol | undefined {
  return Object.getOwnPropertySymbols(session).find((symbol) => symbol.description === 'state')
}

/**
 * Swaps a new session's stream Map and pending-stream Set for a `StreamTable` and a
 * `PendingStreamSet`. Returns false (and changes nothing) when the session does not look as
 * expected (another Node version): it then keeps its own.
 */
export function installStreamTables(session: Http2Session): boolean {
  const symbol = stateSymbol(session)
  if (!symbol) return false
  const state = (session as unknown as Record<symbol, unknown>)[symbol] as
    | { streams?: unknown; pendingStreams?: unknown }
    | undefined
  // Node's SafeMap and SafeSet are a Map and a Set without Map.prototype or Set.prototype in
  // their prototype chains: instanceof would say no.
  if (!state || !isMap(state.streams) || !isSet(state.pendingStreams)) return false
  if (state.streams.size !== 0 || state.pendingStreams.size !== 0) return false
  state.streams = new StreamTable()
  state.pendingStreams = new PendingStreamSet()
  return true
}
