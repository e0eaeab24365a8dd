/**
 * Starts the real gateway (the built `dist/src/cli.js`) as a child process on loopback, with a
 * config written to a fresh temp directory. Tests use `listen = ["127.0.0.1:0"]` and read the
 * bound ports from the start-up line.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export const ROOT = resolve(import.meta.dirname, '../..')
export const CLI = join(ROOT, 'dist/src/cli.js')

/**
 * Which build of the gateway the black-box suites run against (the conformance matrix):
 * node (dist/src/cli.js), bun and deno (src/cli.ts directly), binary (dist/sluice from
 * `bun build --compile`). `npm test` runs every target.
 */
export const TARGET = (process.env.SLUICE_TARGET ?? 'node') as 'node' | 'bun' | 'deno' | 'binary'

export type Target = typeof TARGET

function gatewayCommand(
  args: readonly string[],
  target: Target = TARGET,
): { file: string; args: string[]; env: NodeJS.ProcessEnv } {
  switch (target) {
    case 'node':
      return { file: process.execPath, args: [CLI, ...args], env: {} }
    case 'bun':
      return {
        file: join(ROOT, 'node_modules/bun/bin/bun.exe'),
        args: [join(ROOT, 'src/cli.ts'), ...args],
        env: {},
      }
    case 'deno':
      return {
        file: join(ROOT, 'node_modules/deno/deno'),
        args: ['run', '-A', '--config', join(ROOT, 'deno.json'), join(ROOT, 'src/cli.ts'), ...args],
        env: { DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
      }
    case 'binary':
      return { file: join(ROOT, 'dist/sluice'), args: [...args], env: {} }
    default:
      throw new Error(`unknown SLUICE_TARGET ${target}`)
  }
}

export interface RunningGateway {
  readonly proc: ChildProcess
  readonly dir: string
  readonly configPath: string
  /** First plain listener, e.g. http://127.0.0.1:40123 */
  readonly url: string
  /** All listener URLs in start-up order. */
  readonly urls: readonly string[]
  stdout(): string
  stderr(): string
  /** Resolves when stderr matches (counting only output after `from` characters). */
  waitForStderr(pattern: RegExp, timeoutMs?: number, from?: number): Promise<string>
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>
  exited: Promise<number | null>
}

export async function makeTempDir(prefix = 'sluice-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix))
}

export function runCli(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  assertBuilt()
  const command = gatewayCommand(args)
  return new Promise((done) => {
    const proc = spawn(command.file, command.args, {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...command.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    proc.stdout.on('data', (d) => {
      stdout += d
    })
    proc.stderr.on('data', (d) => {
      stderr += d
    })
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000)
    proc.on('exit', (code) => {
      clearTimeout(timer)
      // Let the pipes drain before resolving.
      setImmediate(() => done({ code, stdout, stderr }))
    })
  })
}

function assertBuilt(): void {
  const needed = TARGET === 'node' ? CLI : TARGET === 'binary' ? join(ROOT, 'dist/sluice') : undefined
  if (needed && !existsSync(needed)) throw new Error(`${needed} is missing: npm test builds it`)
}

export async function startGateway(
  toml: string,
  options: {
    env?: NodeJS.ProcessEnv
    files?: Record<string, string | Buffer>
    dir?: string
    /** Use the gateway.toml already in `dir` (e.g. a symlink) instead of writing `toml`. */
    keepConfig?: boolean
    /** Run this target instead of SLUICE_TARGET's. */
    target?: Target
  } = {},
): Promise<RunningGateway> {
  assertBuilt()
  const ownDir = options.dir === undefined
  const dir = options.dir ?? (await makeTempDir())
  const configPath = join(dir, 'gateway.toml')
  if (!options.keepConfig) await writeFile(configPath, toml)
  for (const [name, content] of Object.entries(options.files ?? {})) await writeFile(join(dir, name), content)

  const command = gatewayCommand(['run', '--config', configPath], options.target)
  const proc = spawn(command.file, command.args, {
    cwd: dir,
    env: { ...process.env, ...command.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  const waiters = new Set<() => void>()
  proc.stdout?.on('data', (d) => {
    out += d
  })
  proc.stderr?.on('data', (d) => {
    err += d
    for (const wake of waiters) wake()
  })
  const exited = new Promise<number | null>((done) =>
    proc.on('exit', (code) => setImmediate(() => done(code))),
  )

  const waitForStderr = (pattern: RegExp, timeoutMs = 10_000, from = 0) =>
    new Promise<string>((done, fail) => {
      const check = () => {
        const match = pattern.exec(err.slice(from))
        if (match) {
          cleanup()
          done(match[0])
        }
      }
      const timer = setTimeout(() => {
        cleanup()
        fail(new Error(`timed out waiting for ${pattern} in stderr:\n${err}`))
      }, timeoutMs)
      const cleanup = () => {
        clearTimeout(timer)
        waiters.delete(check)
      }
      waiters.add(check)
      void exited.then(() => {
        if (waiters.has(check)) {
          cleanup()
          fail(new Error(`gateway exited while waiting for ${pattern}; stderr:\n${err}`))
        }
      })
      check()
    })

  const line = await waitForStderr(/listening on [^\n]+/)
  const urls = [...line.matchAll(/https?:\/\/[^\s,]+/g)].map((m) => m[0])
  const url = urls.find((u) => u.startsWith('http://')) ?? (urls[0] as string)

  return {
    proc,
    dir,
    configPath,
    url,
    urls,
    stdout: () => out,
    stderr: () => err,
    waitForStderr,
    exited,
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode
      proc.kill(signal)
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs)
      const code = await exited
      clearTimeout(timer)
      if (ownDir) await rm(dir, { recursive: true, force: true })
      return code
    },
  }
}

/** Access-log lines the gateway wrote to stdout, parsed. */
export function accessLog(gateway: RunningGateway): Record<string, unknown>[] {
  return gateway
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

/** The first access-log line matching `match`, waiting for it (lines are flushed every 50 ms). */
export async function waitForAccessLine(
  gateway: RunningGateway,
  match: (entry: Record<string, unknown>) => boolean,
  timeoutMs = 3000,
): Promise<Record<string, unknown> | undefined> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const line = accessLog(gateway).find(match)
    if (line || Date.now() > deadline) return line
    await new Promise((r) => setTimeout(r, 20))
  }
}
