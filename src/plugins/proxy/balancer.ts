/**
 * @module
 * Smooth weighted round robin (nginx's algorithm): over any window of sum(weights) picks, each
 * node is picked exactly `weight` times, and picks of one node are spread out, not bunched.
 */

export interface WeightedNode {
  readonly host: string
  readonly port: number
  readonly weight: number
}

export class RoundRobin<N extends WeightedNode> {
  readonly #nodes: readonly N[]
  readonly #current: number[]

  constructor(nodes: readonly N[]) {
    this.#nodes = nodes.filter((n) => n.weight > 0)
    this.#current = this.#nodes.map(() => 0)
  }

  get size(): number {
    return this.#nodes.length
  }

  /** Next node, skipping those in `exclude` (nodes already tried for this request). */
  pick(exclude?: ReadonlySet<N>): N | undefined {
    let best = -1
    // Only the nodes considered take part: subtracting an excluded node's weight too would
    // drain it from the rotation for good (nginx does the same).
    let total = 0
    for (let i = 0; i < this.#nodes.length; i++) {
      const node = this.#nodes[i] as N
      if (exclude?.has(node)) continue
      total += node.weight
      this.#current[i] = (this.#current[i] as number) + node.weight
      if (best === -1 || (this.#current[i] as number) > (this.#current[best] as number)) best = i
    }
    if (best === -1) return undefined
    this.#current[best] = (this.#current[best] as number) - total
    return this.#nodes[best]
  }
}
