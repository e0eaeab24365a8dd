#!/usr/bin/env node
/**
 * @module
 * The `sluice` command: run the gateway, validate a config, print the config's JSON Schema.
 */
import { parseArgs } from 'node:util'
import { formatIssue } from './config/issues.ts'
import { configJsonSchema } from './config/json-schema.ts'
import { loadConfigFile } from './config/load.ts'
import { builtinPlugins } from './plugins/index.ts'
import type { RuntimeAdapter } from './runtime/types.ts'
import { VERSION } from './version.ts'

const USAGE = `Usage: sluice [command] [--config FILE]

Commands:
  run        serve the routes in the config (default)
  validate   check the config; exit 0 when valid, 1 with every error otherwise
  schema     print the JSON Schema of gateway.toml (for editor completion)

Options:
  -c, --config FILE   config file (default: gateway.toml)
  -h, --help          show this help
  -V, --version       print the version

Signals (run): SIGHUP reloads the config; SIGTERM/SIGINT drain requests in flight and exit.`

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (error) {
    process.stderr.write(`sluice: ${(error as Error).message}\n\n${USAGE}\n`)
    return 2
  }
  const { values, positionals } = parsed
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  if (values.version) {
    process.stdout.write(`sluice ${VERSION}\n`)
    return 0
  }
  const command = positionals[0] ?? 'run'
  const config = values.config ?? 'gateway.toml'
  if (positionals.length > 1) {
    process.stderr.write(`sluice: unexpected argument ${positionals[1]}\n\n${USAGE}\n`)
    return 2
  }
  switch (command) {
    case 'run': {
      const { run } = await import('./runtime/run.ts')
      return run(config, await pickAdapter())
    }
    case 'validate': {
      const result = await loadConfigFile(config, { plugins: builtinPlugins })
      if (result.ok) {
        process.stdout.write(`${config}: valid (${result.config.routes.length} routes)\n`)
        return 0
      }
      for (const issue of result.issues) process.stderr.write(`${formatIssue(issue)}\n`)
      return 1
    }
    case 'schema':
      process.stdout.write(`${JSON.stringify(configJsonSchema(builtinPlugins), null, 2)}\n`)
      return 0
    default:
      process.stderr.write(`sluice: unknown command ${command}\n\n${USAGE}\n`)
      return 2
  }
}

/** Each runtime gets its own server: Bun.serve and Deno.serve are far faster there than node:http2. */
async function pickAdapter(): Promise<RuntimeAdapter> {
  const forced = process.env.SLUICE_ADAPTER
  if (forced === 'node') return (await import('./adapters/node/index.ts')).nodeAdapter
  if ('Bun' in globalThis) return (await import('./adapters/bun/index.ts')).bunAdapter
  if ('Deno' in globalThis) return (await import('./adapters/deno/index.ts')).denoAdapter
  return (await import('./adapters/node/index.ts')).nodeAdapter
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'V' },
    },
  })
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exit(code)
  },
  (error) => {
    process.stderr.write(`sluice: ${(error as Error)?.stack ?? error}\n`)
    process.exit(1)
  },
)
