import type {Config} from '@oclif/core'
import type {RejectedRecord} from 'mpx-mixpanel-core/internal/records/rejects.js'

import {ExitCode, MpxError, NotFoundError, UsageError} from 'mpx-mixpanel-core/internal/errors.js'
import {ajvClass} from 'mpx-mixpanel-core/internal/lazy-ajv.js'
import {recordFormats} from 'mpx-mixpanel-core/internal/records/types.js'

import type {MpxHooks} from '../sinks/hooks.js'
import type {RecordBatch, Sink, SinkContext, SinkTarget, SinkWriter} from '../sinks/sink.js'

/** A sink as mpx knows it before loading it: built-in sinks load lazily (DuckDB is heavy). */
export interface SinkEntry {
  readonly load: () => Promise<Sink>
  readonly name: string
  /** `mpx` for built-ins, else the plugin's package name. */
  readonly plugin: string
}

/** A plugin whose `sinks` hook failed, or answered with something that is not a sink. */
export interface SinkPluginFailure {
  readonly message: string
  readonly plugin: string
}

export interface SinkDiscovery {
  /** Built-ins first, then plugins' sinks by plugin name; duplicates included. */
  readonly entries: readonly SinkEntry[]
  readonly failures: readonly SinkPluginFailure[]
}

export const BUILT_IN = 'mpx'

/** How long a plugin's hook may take to list its sinks. */
export const SINKS_HOOK_TIMEOUT_MS = 10_000

const SINK_NAME = /^[a-z][\da-z-]{0,62}$/

const builtIns: SinkEntry[] = [
  {load: async () => (await import('../sinks/jsonl-sink.js')).jsonlSink(), name: 'jsonl', plugin: BUILT_IN},
  {load: async () => (await import('../duckdb/sink.js')).duckdbSink(), name: 'duckdb', plugin: BUILT_IN},
]

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * Every sink: the built-ins, then what installed plugins answer to the `sinks` hook. A plugin whose
 * hook fails (or times out, or answers with something that is not a sink) is reported in
 * `failures`, and its sinks are left out: a broken add-on does not stop the built-ins.
 */
export async function discoverSinks(config?: Config): Promise<SinkDiscovery> {
  const entries = [...builtIns]
  const failures: SinkPluginFailure[] = []
  if (config) {
    const result = await config.runHook<'sinks', MpxHooks>('sinks', {}, SINKS_HOOK_TIMEOUT_MS, true)
    for (const {error, plugin} of result.failures) {
      failures.push({message: messageOf(error), plugin: plugin.name})
    }

    const successes = [...result.successes].sort((a, b) => a.plugin.name.localeCompare(b.plugin.name))
    for (const {plugin, result: answer} of successes) {
      try {
        const sinks = checkSinks(answer)
        for (const sink of sinks) {
          const guarded = guardSink(sink, plugin.name)
          entries.push({load: async () => guarded, name: sink.name, plugin: plugin.name})
        }
      } catch (error) {
        failures.push({message: messageOf(error), plugin: plugin.name})
      }
    }
  }

  return {entries, failures}
}

/** One line about a plugin that could not list its sinks. */
export function describeFailure(failure: SinkPluginFailure): string {
  return `Plugin ${failure.plugin} could not list its sinks: ${failure.message}`
}

function duplicateError(name: string, entries: readonly SinkEntry[]): UsageError {
  const plugins = entries.map((entry) => entry.plugin)
  const from = plugins.length === 2 ? `one from ${plugins[0]}, one from ${plugins[1]}` : `from ${plugins.join(', ')}`
  const remove = plugins.filter((plugin) => plugin !== BUILT_IN).join(' or ')
  return new UsageError(`Two sinks are named "${name}": ${from}; uninstall ${remove} (mpx plugins uninstall NAME)`)
}

/** Sinks grouped by name, in discovery order. */
function byName(entries: readonly SinkEntry[]): Map<string, SinkEntry[]> {
  const groups = new Map<string, SinkEntry[]>()
  for (const entry of entries) groups.set(entry.name, [...(groups.get(entry.name) ?? []), entry])
  return groups
}

/** Every sink, once each; two sinks with one name are an error that names both plugins. */
export async function listSinks(config?: Config): Promise<{entries: SinkEntry[]; failures: SinkPluginFailure[]}> {
  const discovery = await discoverSinks(config)
  const entries: SinkEntry[] = []
  for (const [name, group] of byName(discovery.entries)) {
    if (group.length > 1) throw duplicateError(name, group)
    entries.push(group[0])
  }

  return {entries, failures: [...discovery.failures]}
}

/**
 * The sink named `name`. Only that name has to be unambiguous (two plugins that both bring a sink
 * nobody asked for do not stop a fetch); plugins that failed are reported through `warn`.
 */
export async function findSink(name: string, config?: Config, warn?: (message: string) => void): Promise<Sink> {
  const discovery = await discoverSinks(config)
  const group = byName(discovery.entries).get(name) ?? []
  if (group.length > 1) throw duplicateError(name, group)
  if (group.length === 0) {
    const available = [...new Set(discovery.entries.map((entry) => entry.name))].join(', ')
    const broken = discovery.failures.map((failure) => `; ${describeFailure(failure)}`).join('')
    throw new NotFoundError(`No sink named "${name}": available sinks are ${available} (see mpx sinks)${broken}`)
  }

  for (const failure of discovery.failures) warn?.(describeFailure(failure))
  return group[0].load()
}

/** What a plugin's hook answered, checked: an array of sinks whose fields mpx can rely on. */
export function checkSinks(answer: unknown): Sink[] {
  if (answer === undefined || answer === null) return []
  if (!Array.isArray(answer)) throw new TypeError('its sinks hook must resolve to an array of sinks')
  return answer.map((value: unknown, index) => checkSink(value, index))
}

function checkSink(value: unknown, index: number): Sink {
  if (typeof value !== 'object' || value === null) throw new TypeError(`sink ${index} is not an object`)
  const sink = value as Partial<Record<keyof Sink, unknown>>
  const label = typeof sink.name === 'string' ? `sink "${sink.name}"` : `sink ${index}`
  const fail = (why: string) => new TypeError(`${label} ${why}`)
  if (typeof sink.name !== 'string' || !SINK_NAME.test(sink.name)) {
    throw fail('needs a name of lower-case letters, digits and dashes, starting with a letter')
  }

  if (typeof sink.description !== 'string') throw fail('needs a description')
  if (typeof sink.open !== 'function') throw fail('needs an open(target, context) function')
  const {formats} = sink
  if (
    !Array.isArray(formats) ||
    formats.length === 0 ||
    !formats.every((format) => (recordFormats as readonly unknown[]).includes(format))
  ) {
    throw fail(`needs formats, some of ${recordFormats.join(', ')}`)
  }

  const schema = sink.optionsSchema
  if (typeof schema !== 'object' || schema === null || (schema as {type?: unknown}).type !== 'object') {
    throw fail('needs an optionsSchema of type "object"')
  }

  try {
    new (ajvClass())().compile(schema)
  } catch (error) {
    throw fail(`has an invalid optionsSchema: ${messageOf(error)}`)
  }

  return value as Sink
}

const exitCodes = new Set<number>(Object.values(ExitCode))

/**
 * A plugin's error as mpx reports it: one line naming the sink and its plugin. A plugin cannot
 * import mpx's error classes (it depends on mpx's types only), so an `exitCode` property on its
 * error picks the exit code (3 for a usage problem, 4 for something missing...).
 */
function pluginError(error: unknown, sink: string, plugin: string): Error {
  if (error instanceof MpxError) return error
  if (error instanceof Error && error.name === 'AbortError') return error
  const code = (error as null | {exitCode?: unknown})?.exitCode
  const exitCode = typeof code === 'number' && exitCodes.has(code) ? (code as ExitCode) : ExitCode.Failure
  return new MpxError(`Sink "${sink}" (${plugin}): ${messageOf(error)}`, exitCode, {cause: error})
}

/** A plugin's sink with its errors made mpx errors, and an abort that never hides the first failure. */
function guardSink(sink: Sink, plugin: string): Sink {
  const wrap = (error: unknown) => pluginError(error, sink.name, plugin)
  const guarded = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call()
    } catch (error) {
      throw wrap(error)
    }
  }

  const guardWriter = (writer: SinkWriter, context: SinkContext): SinkWriter => ({
    ...(writer.reject && {
      reject: async (rejects: readonly RejectedRecord[]) => guarded(async () => writer.reject?.(rejects)),
    }),
    async abort(reason: unknown): Promise<void> {
      try {
        await writer.abort(reason)
      } catch (error) {
        // The fetch is failing already: its own error is the one to report.
        context.warn(`Sink "${sink.name}" (${plugin}) could not clean up: ${messageOf(error)}`)
      }
    },
    commit: async () => guarded(() => writer.commit()),
    write: async (batch: RecordBatch) => guarded(() => writer.write(batch)),
  })
  const {days} = sink
  return {
    ...(days && {
      days: {
        finishSync: async (target, context) => guarded(() => days.finishSync(target, context)),
        lockPath: (target, context) => days.lockPath(target, context),
        replaceDays: async (target, context) =>
          guardWriter(await guarded(() => days.replaceDays(target, context)), context),
        state: async (target, context) => guarded(() => days.state(target, context)),
      },
    }),
    description: sink.description,
    formats: sink.formats,
    name: sink.name,
    async open(target: SinkTarget, context: SinkContext): Promise<SinkWriter> {
      return guardWriter(await guarded(() => sink.open(target, context)), context)
    },
    optionsSchema: sink.optionsSchema,
  }
}
