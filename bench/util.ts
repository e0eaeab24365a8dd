/**
 * Helpers the TypeScript benchmarks share: environment knobs, medians, and what a report says
 * about the machine and the checkout.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')

/** An integer setting from the environment, bounded; a bad value stops the benchmark (exit 2). */
export function intFromEnv(tag: string, name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`[${tag}] error: ${name} must be an integer in ${min}..${max} (is "${raw}")`)
    process.exit(2)
  }
  return n
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', args, {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
  } catch {
    return undefined
  }
}

/** The CPUs this process may run on (taskset pinning shows here). */
export function cpuAffinity(): string {
  try {
    return /^Cpus_allowed_list:\s*(.+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '?'
  } catch {
    return '?'
  }
}

export function packageVersion(name: string): string {
  try {
    return String(JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version)
  } catch {
    return '?'
  }
}

/** The short commit, noting when `path` has uncommitted changes (the numbers are of those). */
export function revision(path: string): string {
  const rev = git(['rev-parse', '--short', 'HEAD']) ?? '?'
  try {
    execFileSync('git', ['diff', '--quiet', 'HEAD', '--', path], { cwd: ROOT, stdio: 'ignore' })
    return rev
  } catch {
    return `${rev} (${path} has uncommitted changes)`
  }
}
