import type {Config} from '@oclif/core'

import type {Sink} from './sink.js'

import {NotFoundError, UsageError} from '../errors.js'

/** A sink as mpx knows it before loading it: built-in sinks load lazily (DuckDB is heavy). */
export interface SinkEntry {
  readonly load: () => Promise<Sink>
  readonly name: string
  /** `mpx` for built-ins, else the plugin's package name. */
  readonly plugin: string
}

const builtIns: SinkEntry[] = [
  {load: async () => (await import('./jsonl-sink.js')).jsonlSink(), name: 'jsonl', plugin: 'mpx'},
  {load: async () => (await import('./duckdb-sink.js')).duckdbSink(), name: 'duckdb', plugin: 'mpx'},
]

/** Every sink: the built-ins, then what installed plugins answer to the `sinks` hook. */
export async function listSinks(config?: Config): Promise<SinkEntry[]> {
  const entries = [...builtIns]
  if (config) {
    const {failures, successes} = await config.runHook('sinks', {})
    const [failure] = failures
    if (failure)
      throw new UsageError(`Plugin ${failure.plugin.name} failed to list its sinks: ${failure.error.message}`)

    for (const {plugin, result} of successes) {
      for (const sink of (result ?? []) as Sink[]) {
        entries.push({load: async () => sink, name: sink.name, plugin: plugin.name})
      }
    }
  }

  const seen = new Map<string, SinkEntry>()
  for (const entry of entries) {
    const other = seen.get(entry.name)
    if (other) {
      throw new UsageError(
        `Two sinks are named "${entry.name}": one from ${other.plugin}, one from ${entry.plugin}; uninstall one of them`,
      )
    }

    seen.set(entry.name, entry)
  }

  return [...seen.values()]
}

export async function findSink(name: string, config?: Config): Promise<Sink> {
  const entries = await listSinks(config)
  const entry = entries.find((candidate) => candidate.name === name)
  if (!entry) {
    throw new NotFoundError(`No sink named "${name}": available sinks are ${entries.map((e) => e.name).join(', ')}`)
  }

  return entry.load()
}
