/**
 * @module
 * `sluice schema`: the JSON Schema of gateway.toml, generated from the same zod schemas that
 * validate it, so editors (Taplo, Even Better TOML) complete and check the file as Sluice does.
 */
import { z } from 'zod'
import type { Plugin } from '../core/plugin.ts'
import { buildConfigSchema } from './schema.ts'

export function configJsonSchema(plugins: readonly Plugin[]): Record<string, unknown> {
  return {
    ...z.toJSONSchema(buildConfigSchema(plugins), { io: 'input', unrepresentable: 'any' }),
    title: 'Sluice gateway.toml',
  }
}
