/**
 * @module
 * The built-in plugins, in the order `sluice schema` lists them.
 */
import type { Plugin } from '../core/plugin.ts'
import { awsLambda } from './aws-lambda/index.ts'
import { azureFunctions } from './azure-functions/index.ts'
import { echo } from './echo/index.ts'
import { mocking } from './mocking/index.ts'
import { requestId } from './request-id/index.ts'

export const builtinPlugins: readonly Plugin[] = [
  requestId,
  mocking,
  echo,
  awsLambda,
  azureFunctions,
] as readonly Plugin[]
