import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { RoundRobin, type WeightedNode } from '../../src/plugins/proxy/balancer.ts'

const node = (host: string, weight: number): WeightedNode => ({ host, port: 80, weight })

function picks(rr: RoundRobin<WeightedNode>, count: number, exclude?: ReadonlySet<WeightedNode>): string[] {
  const out: string[] = []
  for (let i = 0; i < count; i++) out.push(rr.pick(exclude)?.host ?? '(none)')
  return out
}

function counts(hosts: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const h of hosts) out[h] = (out[h] ?? 0) + 1
  return out
}

describe('RoundRobin (smooth weighted)', () => {
  test("weights 5,1,1 give nginx's sequence a a b a c a a, then repeat", () => {
    const rr = new RoundRobin([node('a', 5), node('b', 1), node('c', 1)])
    const seq = picks(rr, 14)
    assert.deepEqual(seq.slice(0, 7), ['a', 'a', 'b', 'a', 'c', 'a', 'a'])
    assert.deepEqual(seq.slice(7), seq.slice(0, 7))
  })

  test('every window of sum(weights) picks has exactly `weight` picks of each node', () => {
    for (const weights of [
      [5, 1, 1],
      [3, 2],
      [1, 1, 1, 1],
      [7, 3, 11, 1],
      [100, 1],
    ]) {
      const nodes = weights.map((w, i) => node(`n${i}`, w))
      const total = weights.reduce((a, b) => a + b, 0)
      const rr = new RoundRobin(nodes)
      const seq = picks(rr, total * 3)
      for (let start = 0; start < seq.length; start += total) {
        const window = counts(seq.slice(start, start + total))
        assert.deepEqual(
          window,
          Object.fromEntries(nodes.map((n) => [n.host, n.weight])),
          `weights ${weights} window at ${start}`,
        )
      }
    }
  })

  test('picks of a light node are evenly spaced and light nodes are not bunched together', () => {
    // Plain weighted round robin would give a a a a a b c; smooth interleaves b and c with a.
    const rr = new RoundRobin([node('a', 5), node('b', 1), node('c', 1)])
    const seq = picks(rr, 70)
    const at = (host: string) => seq.flatMap((h, i) => (h === host ? [i] : []))
    const gaps = (xs: number[]) => xs.slice(1).map((x, i) => x - xs[i]!)
    assert.deepEqual(new Set(gaps(at('b'))), new Set([7]))
    assert.deepEqual(new Set(gaps(at('c'))), new Set([7]))
    const joined = seq.join('')
    assert.ok(!/[bc]{2}/.test(joined), joined)
    assert.ok(!joined.includes('aaaaa'), joined)
  })

  test('weights 2,1 interleave: a b a', () => {
    const rr = new RoundRobin([node('a', 2), node('b', 1)])
    assert.deepEqual(picks(rr, 6), ['a', 'b', 'a', 'a', 'b', 'a'])
  })

  test('equal weights alternate in order', () => {
    const rr = new RoundRobin([node('a', 2), node('b', 2), node('c', 2)])
    assert.deepEqual(picks(rr, 6), ['a', 'b', 'c', 'a', 'b', 'c'])
  })

  test('zero-weight nodes are never picked and not counted', () => {
    const zero = node('zero', 0)
    const rr = new RoundRobin([zero, node('a', 2), node('zero2', 0), node('b', 1)])
    assert.equal(rr.size, 2)
    const seq = picks(rr, 30)
    assert.ok(!seq.includes('zero') && !seq.includes('zero2'), seq.join(','))
    assert.deepEqual(counts(seq), { a: 20, b: 10 })
  })

  test('only zero-weight nodes: nothing to pick', () => {
    const rr = new RoundRobin([node('a', 0), node('b', 0)])
    assert.equal(rr.size, 0)
    assert.equal(rr.pick(), undefined)
  })

  test('exclude skips nodes already tried for this request', () => {
    const a = node('a', 1)
    const b = node('b', 1)
    const c = node('c', 1)
    const rr = new RoundRobin([a, b, c])
    const tried = new Set<WeightedNode>()
    const order: string[] = []
    for (let i = 0; i < 3; i++) {
      const picked = rr.pick(tried)
      assert.ok(picked)
      assert.ok(!tried.has(picked), `picked ${picked.host} twice`)
      tried.add(picked)
      order.push(picked.host)
    }
    assert.deepEqual([...order].sort(), ['a', 'b', 'c'])
    assert.equal(rr.pick(tried), undefined)
  })

  test('excluding a node never yields it', () => {
    const a = node('a', 3)
    const rr = new RoundRobin([a, node('b', 2), node('c', 1)])
    const seq = picks(rr, 60, new Set([a]))
    assert.ok(!seq.includes('a'))
    assert.ok(seq.includes('b') && seq.includes('c'))
  })

  test('excluding a node keeps the ratio among the others', () => {
    const a = node('a', 3)
    const b = node('b', 2)
    const c = node('c', 1)
    const rr = new RoundRobin([a, b, c])
    const seq = picks(rr, 60, new Set([a]))
    assert.ok(!seq.includes('a'))
    assert.deepEqual(counts(seq), { b: 40, c: 20 })
  })

  test('a retry after a failed pick goes to a different node, and the rotation continues', () => {
    const a = node('a', 1)
    const b = node('b', 1)
    const rr = new RoundRobin([a, b])
    const first = rr.pick()
    assert.equal(first?.host, 'a')
    const retry = rr.pick(new Set([first!]))
    assert.equal(retry?.host, 'b')
    // Over time both nodes still get their share.
    assert.deepEqual(counts(picks(rr, 20)), { a: 10, b: 10 })
  })

  test('array-form and host:port nodes keep identity (the caller gets its own objects back)', () => {
    const nodes = [
      { host: 'x', port: 1, weight: 1, label: 'first' },
      { host: 'x', port: 2, weight: 1, label: 'second' },
    ]
    const rr = new RoundRobin(nodes)
    const got = [rr.pick(), rr.pick()]
    assert.equal(got[0], nodes[0])
    assert.equal(got[1], nodes[1])
  })

  test('a node that always fails and is retried is first-picked only in its weight share', () => {
    const dead = node('dead', 1)
    const rr = new RoundRobin([dead, node('live', 1)])
    let firstPicksOfDead = 0
    for (let request = 0; request < 300; request++) {
      const first = rr.pick()
      if (first === dead) {
        firstPicksOfDead++
        assert.equal(rr.pick(new Set([dead]))?.host, 'live')
      }
    }
    assert.equal(firstPicksOfDead, 150)
  })

  test('after picks with an exclusion, the rotation resumes without a burst', () => {
    const x = node('x', 3)
    const rr = new RoundRobin([x, node('y', 2), node('z', 1)])
    for (let i = 0; i < 60; i++) rr.pick(new Set([x]))
    assert.deepEqual(counts(picks(rr, 6)), { x: 3, y: 2, z: 1 })
  })
})
