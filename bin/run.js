#!/usr/bin/env node

import module from 'node:module'

// Reuse V8's compiled code across runs, as tsc does: faster start-up. Called before anything else
// is imported; a no-op where Node lacks it, and where the cache directory cannot be written.
// eslint-disable-next-line n/no-unsupported-features/node-builtins -- optional call, feature-detected
module.enableCompileCache?.()

const {execute} = await import('@oclif/core')

await execute({dir: import.meta.url})
