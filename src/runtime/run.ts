/**
 * @module
 * `sluice run` on any runtime: load and validate the config, start the adapter's listeners,
 * watch for changes, drain on SIGTERM/SIGINT. Returns the exit code for start-up failures.
 */
import { basename, dirname, resolve } from 'node:path'
import { formatIssue } from '../config/issues.ts'
import { loadConfigFile } from '../config/load.ts'
import { ConfigReloader } from '../config/reloader.ts'
import { Gateway } from '../core/gateway.ts'
import { builtinPlugins } from '../plugins/index.ts'
import { VERSION } from '../version.ts'
import { createProcessLogger } from './logger.ts'
import { ListenError, type Listeners, type RuntimeAdapter } from './types.ts'

export async function run(configPath: string, adapter: RuntimeAdapter): Promise<number> {
  const path = resolve(configPath)
  const logger = createProcessLogger()
  const loaded = await loadConfigFile(path, { plugins: builtinPlugins })
  if (!loaded.ok) {
    for (const issue of loaded.issues) logger.error(formatIssue(issue))
    return 1
  }

  const upstream = adapter.createUpstream()
  const gateway = new Gateway({
    plugins: builtinPlugins,
    deps: { upstream, logger, configDir: dirname(path) },
  })
  try {
    gateway.swap(gateway.compile(loaded.config))
  } catch (error) {
    logger.error(`${basename(path)}: cannot start with this config: ${(error as Error).message}`)
    return 1
  }

  let listeners: Listeners
  try {
    listeners = await adapter.listen(loaded.config.server, dirname(path), gateway.fetch)
  } catch (error) {
    if (error instanceof ListenError) {
      logger.error(error.message)
      return 1
    }
    throw error
  }
  const reloader = new ConfigReloader({ path, gateway, plugins: builtinPlugins, logger, text: loaded.text })
  reloader.watch()
  process.on('SIGHUP', () => {
    void reloader.reload('SIGHUP')
    // SIGHUP is what certificate renewers send (certbot's deploy hook): TLS files are read again.
    if (loaded.config.server.tls.length === 0) return
    if (listeners.reloadCertificates) logger.info(listeners.reloadCertificates())
    else
      logger.warn(
        `TLS certificates are read at start on ${adapter.description}: restart to serve renewed ones`,
      )
  })

  // Access lines wait up to 50 ms for their flush: write them on any exit (a crash included).
  process.on('exit', () => logger.flush())
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) {
      logger.warn(`${signal} again: exiting without waiting`)
      logger.flush()
      process.exit(1)
    }
    stopping = true
    const timeout = gateway.snapshot?.config.server.drain_timeout ?? 10000
    logger.info(`${signal}: no longer accepting; draining requests in flight (up to ${timeout} ms)`)
    reloader.stop()
    if ((await listeners.drain(timeout)) === 'timed-out')
      logger.warn(`drain_timeout (${timeout} ms) ran out: requests still in flight were cut`)
    upstream.close()
    logger.flush()
    logger.info('stopped')
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))

  // Printed last: once a supervisor (or test) sees it, signals are handled.
  const routes = gateway.snapshot?.routeCount ?? 0
  logger.info(
    `sluice ${VERSION} on ${adapter.description}: ${routes} routes from ${path}; listening on ${listeners.urls.join(', ')}`,
  )
  return 0
}
