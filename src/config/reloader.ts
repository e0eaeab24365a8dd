/**
 * @module
 * Hot reload: watches the config file's directory (so editors' atomic renames and Kubernetes
 * ConfigMap symlink swaps are seen, which a watch on the file itself misses), debounces, loads,
 * and swaps the gateway's snapshot only when the new file is valid. A bad file changes nothing:
 * the old config keeps serving and the log says where the new one is wrong.
 *
 * A reload does only the work the change needs: routes whose text is unchanged are neither
 * parsed, validated nor compiled again (load.ts, snapshot.ts), and what remains runs in slices of
 * a few milliseconds with the event loop free in between (slices.ts), so a big table does not stop
 * the gateway while it reloads.
 */
import { type FSWatcher, realpathSync, watch } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import type { Gateway } from '../core/gateway.ts'
import type { Logger } from '../core/logger.ts'
import type { Plugin } from '../core/plugin.ts'
import { formatIssue } from './issues.ts'
import { type LoadCache, loadConfigFile, parseConfigTextSliced } from './load.ts'

const DEBOUNCE_MS = 50
const SETTLE_MS = 25

export class ConfigReloader {
  readonly #path: string
  readonly #gateway: Gateway
  readonly #plugins: readonly Plugin[]
  readonly #logger: Logger
  readonly #cache: LoadCache | null | undefined
  #lastText: string
  /** `[server]`'s start-time parts (what the listeners were made with), once known. */
  #startedServer: string | undefined
  #running: Promise<void> | undefined
  #again = false
  readonly #watchers: FSWatcher[] = []
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(options: {
    path: string
    gateway: Gateway
    plugins: readonly Plugin[]
    logger: Logger
    text: string
    /** The load cache (see load.ts); default: the one the start-up load used with these plugins. */
    cache?: LoadCache | null
  }) {
    this.#path = options.path
    this.#gateway = options.gateway
    this.#plugins = options.plugins
    this.#logger = options.logger
    this.#lastText = options.text
    this.#cache = options.cache
  }

  /** Reloads now (SIGHUP) or after a burst of file events; concurrent calls coalesce. */
  reload(reason: string): Promise<void> {
    if (this.#running) {
      this.#again = true
      return this.#running
    }
    this.#running = this.#reloadOnce(reason).finally(() => {
      this.#running = undefined
      if (this.#again) {
        this.#again = false
        void this.reload(reason)
      }
    })
    return this.#running
  }

  async #reloadOnce(reason: string): Promise<void> {
    const text = await this.#readSettled()
    if (text !== undefined && text === this.#lastText) return
    const file = basename(this.#path)
    const result =
      text === undefined
        ? await loadConfigFile(this.#path, { plugins: this.#plugins, cache: this.#cache })
        : text.trim() === ''
          ? // An empty file is almost always a writer caught between truncate and write.
            { ok: false as const, text, issues: [{ file, path: [], message: 'the file is empty' }] }
          : await parseConfigTextSliced(text, {
              plugins: this.#plugins,
              displayName: file,
              cache: this.#cache,
            })
    if (!result.ok) {
      if (result.text !== undefined) this.#lastText = result.text
      this.#logger.error(
        `config reload (${reason}) rejected, still serving the previous config:\n  ${result.issues.map(formatIssue).join('\n  ')}`,
      )
      return
    }
    const previous = this.#gateway.snapshot?.config
    if (previous && this.#startedServer === undefined) this.#startedServer = startTimeServer(previous)
    let snapshot: ReturnType<Gateway['compile']>
    try {
      snapshot = await this.#gateway.compileSliced(result.config)
    } catch (error) {
      this.#logger.error(
        `config reload (${reason}) failed to compile, still serving the previous config: ${error}`,
      )
      return
    }
    this.#lastText = result.text
    this.#gateway.swap(snapshot)
    this.#logger.info(`config reloaded (${reason}): ${snapshot.routeCount} routes`)
    // Against what the listeners were made with, not the previous file: changing listen and
    // back again needs no restart.
    const server = startTimeServer(result.config)
    if (this.#startedServer !== undefined && previous && startTimeServer(previous) !== server) {
      if (server !== this.#startedServer) {
        this.#logger.warn(
          '[server] listen, tls and header_timeout are read at start: these changes take effect after a restart',
        )
      } else this.#logger.info('[server] listen, tls and header_timeout are back to what is running')
    }
  }

  /**
   * Reads the file until two reads SETTLE_MS apart agree: a writer that truncates and then writes
   * (most tools that do not rename) is otherwise seen half-way, and half a config is often valid.
   */
  async #readSettled(): Promise<string | undefined> {
    let text = await readFile(this.#path, 'utf8').catch(() => undefined)
    for (let attempt = 0; attempt < 20; attempt++) {
      await new Promise((done) => setTimeout(done, SETTLE_MS))
      const again = await readFile(this.#path, 'utf8').catch(() => undefined)
      if (again === text) return text
      text = again
    }
    return text
  }

  /**
   * Watches the file's directory and, when the path is a symlink into another directory, the
   * target's directory too (an edit of the target changes nothing beside the link). A watcher that
   * cannot be made (inotify limits) leaves reloads to SIGHUP, with a warning: serving goes on.
   */
  watch(): void {
    const directories = new Map<string, string>([[dirname(this.#path), basename(this.#path)]])
    try {
      const target = realpathSync(this.#path)
      if (dirname(target) !== dirname(this.#path)) directories.set(dirname(target), basename(target))
    } catch {
      // Not there yet, or a dangling link: the directory watch sees it appear.
    }
    for (const [directory, file] of directories) {
      try {
        const watcher = watch(directory, (_event, name) => {
          // Any event in the directory may be a swap of the file (rename, symlink flip such as
          // Kubernetes' `..data`); reading a file we did not need to is cheap, and unchanged text is ignored.
          if (name !== null && name !== file && !name.startsWith('..')) return
          clearTimeout(this.#timer)
          this.#timer = setTimeout(() => void this.reload('file changed'), DEBOUNCE_MS)
        })
        watcher.on('error', (error) => this.#logger.warn(`config watch stopped: ${error.message}`))
        this.#watchers.push(watcher)
      } catch (error) {
        this.#logger.warn(
          `cannot watch ${directory} for config changes (${(error as { code?: string }).code ?? (error as Error).message}): reload with SIGHUP`,
        )
      }
    }
  }

  stop(): void {
    clearTimeout(this.#timer)
    for (const watcher of this.#watchers) watcher.close()
  }
}

/** The `[server]` settings the listeners take at start (a reload cannot change them). */
const startTimeServer = (config: {
  server: { listen: readonly string[]; tls: readonly unknown[]; header_timeout?: number }
}) => JSON.stringify([config.server.listen, config.server.tls, config.server.header_timeout])
