/**
 * Where did the microseconds go? Compares two V8 CPU profiles of the gateway under the same load
 * (`node --cpu-prof --cpu-prof-dir=DIR dist/src/cli.js run ...`, a fixed request count sent with
 * `h2load -n`, stopped with SIGINT) and prints self time per request for each function, B minus A,
 * largest changes first. Per-request figures make profiles of runs with different lengths
 * comparable. Two processes of the same build still differ by a few microseconds (JIT, heap
 * layout): only trust differences well above that, or repeated ones.
 *
 *   node --import tsx bench/profile-diff.ts A.cpuprofile REQUESTS_A B.cpuprofile REQUESTS_B [ROWS]
 */
import { readFileSync } from 'node:fs'

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[]
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
}

/** Self time in microseconds per request, keyed by "function file:line"; idle time left out. */
function selfTimePerRequest(path: string, requests: number): Map<string, number> {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]))
  const self = new Map<string, number>()
  profile.samples.forEach((id, i) => {
    const frame = frames.get(id)
    if (!frame || frame.functionName === '(idle)') return
    const file = frame.url.replace(/.*\/(node_modules|dist)\//, '$1/').replace('node:', '')
    const key = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber}`
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / requests)
  })
  return self
}

const [pathA, requestsA, pathB, requestsB, rows = '30'] = process.argv.slice(2)
if (!pathA || !pathB || !Number(requestsA) || !Number(requestsB)) {
  process.stderr.write(
    'usage: node --import tsx bench/profile-diff.ts A.cpuprofile N_A B.cpuprofile N_B [ROWS]\n',
  )
  process.exit(2)
}
const a = selfTimePerRequest(pathA, Number(requestsA))
const b = selfTimePerRequest(pathB, Number(requestsB))
const sum = (m: Map<string, number>) => [...m.values()].reduce((x, y) => x + y, 0)
console.log(`busy time per request: A ${sum(a).toFixed(1)} us, B ${sum(b).toFixed(1)} us`)
console.log('    B-A       A       B  function (us per request, self time)')
const keys = [...new Set([...a.keys(), ...b.keys()])]
const change = (key: string) => (b.get(key) ?? 0) - (a.get(key) ?? 0)
for (const key of keys.sort((x, y) => Math.abs(change(y)) - Math.abs(change(x))).slice(0, Number(rows))) {
  const [before, after] = [a.get(key) ?? 0, b.get(key) ?? 0]
  console.log(
    `${change(key).toFixed(2).padStart(7)} ${before.toFixed(2).padStart(7)} ${after.toFixed(2).padStart(7)}  ${key}`,
  )
}
