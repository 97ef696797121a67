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

/**
 * `mpx fetch events` as well as `mpx fetch:events`. oclif's own space separator would turn every
 * help text and example into the space form, and the colon form is the documented one, so the space
 * form becomes the colon form here. A topic followed by a word that is none of its commands becomes
 * an unknown command (exit 3), never the topic's help with exit 0.
 */
function colonForm(config, argv) {
  if (argv[0] === 'help') return ['help', ...colonForm(config, argv.slice(1))]
  const [topic, word, ...rest] = argv
  if (!topic || !word || topic.includes(':') || word.startsWith('-') || !config.findTopic(topic)) return argv
  const id = `${topic}:${word}`
  return config.findCommand(id) || !config.findCommand(topic) ? [id, ...rest] : argv
}

const {Config, execute} = await import('@oclif/core')

const config = await Config.load(import.meta.url)
await execute({args: colonForm(config, process.argv.slice(2)), loadOptions: config})
