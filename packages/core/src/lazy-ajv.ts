import type {Ajv} from 'ajv'

import {createRequire} from 'node:module'

let loaded: typeof Ajv | undefined

/**
 * ajv's class, loaded when first needed rather than at start-up: it is about 60 modules (some 20 ms
 * of every start), and a fetch to stdout without a config file or plugins never validates anything.
 */
export function ajvClass(): typeof Ajv {
  loaded ??= (createRequire(import.meta.url)('ajv') as typeof import('ajv')).Ajv
  return loaded
}
