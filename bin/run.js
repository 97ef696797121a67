#!/usr/bin/env node

import module from 'node:module'

// Reuse V8's compiled code across runs, as tsc does: faster start-up. Called before anything else
// is imported; a no-op where Node lacks it, and where the cache directory cannot be written.
// eslint-disable-next-line n/no-unsupported-features/node-builtins -- optional call, feature-detected
module.enableCompileCache?.()

// A reader that leaves early (`mpx --help | head -1`) ends mpx quietly: oclif swallows the EPIPE
// but then waits for a 'drain' that never comes, and Node exits 13 with a warning. Commands that
// stream records replace this listener with their own (src/sinks/jsonl-sink.ts).
process.stdout.on('error', (error) => {
  // eslint-disable-next-line n/no-process-exit
  if (error.code === 'EPIPE') process.exit(0)
})

const {execute} = await import('@oclif/core')

await execute({dir: import.meta.url})
