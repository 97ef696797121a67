import type {Config} from '@oclif/core'

import type {SinkOptionsSchema} from '../sinks/sink.js'

import {BUILT_IN, describeFailure, listSinks} from './registry.js'

/** One option of a sink, as its JSON schema describes it. */
export interface SinkOptionInfo {
  readonly default?: unknown
  readonly description?: string
  readonly enum?: readonly unknown[]
  readonly name: string
  readonly required: boolean
  readonly type?: string
}

export interface SinkInfo {
  readonly description: string
  readonly formats: readonly string[]
  readonly name: string
  readonly options: SinkOptionInfo[]
  readonly plugin: string
}

export interface SinksResult {
  /** Plugins whose sinks could not be listed. */
  readonly failures: Array<{message: string; plugin: string}>
  readonly sinks: SinkInfo[]
}

/** The options a schema declares, required ones first, each keeping the schema's own order. */
export function schemaOptions(schema: SinkOptionsSchema): SinkOptionInfo[] {
  const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>
  const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : [])
  const options = Object.entries(properties).map(([name, property]) => ({
    default: property.default,
    description: typeof property.description === 'string' ? property.description : undefined,
    enum: Array.isArray(property.enum) ? property.enum : undefined,
    name,
    required: required.has(name),
    type: typeof property.type === 'string' ? property.type : undefined,
  }))
  return [...options.filter((option) => option.required), ...options.filter((option) => !option.required)]
}

/** Options of a sink that mpx fills in itself when not given (so they are not required of users). */
const FILLED_BY_MPX: Readonly<Record<string, readonly string[]>> = {duckdb: ['path']}

/**
 * `text` after `prefix`, wrapped at `width` columns with later lines indented to where the text
 * starts (a terminal's own wrapping would break words and ignore the columns). No width: one line.
 */
export function wrapAfter(prefix: string, text: string, width?: number): string {
  const room = (width ?? 0) - prefix.length
  if (!width || room < 20 || prefix.length + text.length <= width) return `${prefix}${text}`.trimEnd()
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > room) {
      lines.push(line)
      line = word
    } else {
      line = line ? `${line} ${word}` : word
    }
  }

  if (line) lines.push(line)
  return lines.map((text, i) => `${i === 0 ? prefix : ' '.repeat(prefix.length)}${text}`).join('\n')
}

function optionValue(option: SinkOptionInfo): string {
  if (option.enum) return option.enum.map(String).join('|')
  return (option.type ?? 'value').toUpperCase()
}

function optionNote(option: SinkOptionInfo): string {
  const notes = [
    option.required ? 'required' : '',
    option.default === undefined ? '' : `default: ${String(option.default)}`,
  ].filter(Boolean)
  const description = option.description ?? ''
  return notes.length > 0 ? `${description} (${notes.join('; ')})`.trim() : description
}

/** Every sink the CLI and its plugins bring, with its options; `warnings` name plugins that failed. */
export async function sinkCatalog(config: Config): Promise<{result: SinksResult; warnings: string[]}> {
  const {entries, failures} = await listSinks(config)
  const sinks: SinkInfo[] = []
  for (const entry of entries) {
    const sink = await entry.load()
    sinks.push({
      description: sink.description,
      formats: [...sink.formats],
      name: sink.name,
      options: schemaOptions(sink.optionsSchema).map((option) =>
        entry.plugin === BUILT_IN && FILLED_BY_MPX[sink.name]?.includes(option.name)
          ? {...option, required: false}
          : option,
      ),
      plugin: entry.plugin,
    })
  }

  const result: SinksResult = {failures: failures.map((failure) => ({...failure})), sinks}
  return {result, warnings: failures.map((failure) => describeFailure(failure))}
}

/** The catalog as `mpx sinks` prints it: a block a sink, its options aligned, wrapped at `columns`. */
export function sinkCatalogText(sinks: readonly SinkInfo[], columns?: number): string {
  const blocks = sinks.map((sink) => {
    const lines = [
      wrapAfter(`${sink.name} (${sink.plugin}): `, sink.description, columns),
      `  formats: ${sink.formats.join(', ')}`,
    ]
    const keys = sink.options.map((option) => `${option.name}=${optionValue(option)}`)
    const width = Math.max(0, ...keys.map((key) => key.length))
    for (const [i, option] of sink.options.entries()) {
      lines.push(wrapAfter(`  ${keys[i].padEnd(width)}  `, optionNote(option), columns))
    }

    if (sink.options.length === 0) lines.push('  (no options)')
    return lines.join('\n')
  })
  return blocks.join('\n\n')
}
