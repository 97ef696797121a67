import {Flags} from '@oclif/core'
import {UsageError} from 'mpx-mixpanel-core/internal/errors.js'
import {type BadRecordsPolicy, parseBadRecordsPolicy} from 'mpx-mixpanel-core/internal/records/rejects.js'

/** Flags fetch:events and fetch:profiles share: where records go and how they are written. */
export const fetchFlags = {
  append: Flags.boolean({
    description: 'Add to an existing table (still deduplicated against what is there)',
    exclusive: ['replace'],
    helpGroup: 'OUTPUT',
  }),
  'bad-records': Flags.custom<BadRecordsPolicy>({
    default: 'quarantine',
    description:
      'Records mpx cannot store (not an event, a bad time): quarantine (kept beside the output, exit 6), fail (exit 1 at the first), or N (fail past N)',
    async parse(input) {
      const policy = parseBadRecordsPolicy(input)
      if (policy === undefined) throw new Error(`Expected quarantine, fail or a number of records, not "${input}"`)
      return policy
    },
  })(),
  db: Flags.string({
    description: 'DuckDB database file [default: $MPX_DB, else <data dir>/<project id>.duckdb]',
    helpGroup: 'OUTPUT',
  }),
  insecure: Flags.boolean({
    description: 'Allow a plain-http MPX_API_URL on a non-loopback host (credentials travel unencrypted)',
    hidden: false,
  }),
  output: Flags.string({
    char: 'o',
    description:
      'Write JSONL to this file (a temporary file renamed once complete) or object (s3://BUCKET/KEY, visible once complete); same as --sink jsonl --sink-option output=FILE',
    exclusive: ['sink', 'stdout'],
    helpGroup: 'OUTPUT',
  }),
  quiet: Flags.boolean({char: 'q', description: 'No progress, warnings or summary on stderr'}),
  raw: Flags.boolean({description: 'Records exactly as Mixpanel sent them (with --stdout)', helpGroup: 'OUTPUT'}),
  replace: Flags.boolean({
    description: 'Replace an existing table, once the new one is complete',
    exclusive: ['append'],
    helpGroup: 'OUTPUT',
  }),
  retries: Flags.integer({
    // The client's own default (6 attempts), shown in --help.
    default: 5,
    description: 'Retries of a failed request (429, 5xx, network) before giving up',
    min: 0,
  }),
  sink: Flags.string({
    description: 'Where records go: duckdb, jsonl, or a plugin sink (see mpx sinks)',
    helpGroup: 'OUTPUT',
  }),
  'sink-option': Flags.string({
    description: 'key=value option for the sink (repeatable)',
    helpGroup: 'OUTPUT',
    multiple: true,
  }),
  stdout: Flags.boolean({
    description: 'Write JSONL to stdout instead of a database (same as --sink jsonl)',
    exclusive: ['sink'],
    helpGroup: 'OUTPUT',
  }),
}

export type WriteModeFlags = {append: boolean; replace: boolean}

export function writeMode(flags: WriteModeFlags): 'append' | 'create' | 'replace' {
  if (flags.append) return 'append'
  return flags.replace ? 'replace' : 'create'
}

export type SinkFlags = {output?: string; sink?: string; 'sink-option'?: string[]; stdout?: boolean}

/** The sink and its options from --sink, --stdout (JSONL to stdout) and --output (JSONL to a file). */
export function sinkChoice(flags: SinkFlags): {sinkName: string; sinkOptions: string[]} {
  const sinkOptions = flags['sink-option'] ?? []
  if (flags.output !== undefined) return {sinkName: 'jsonl', sinkOptions: [...sinkOptions, `output=${flags.output}`]}
  return {sinkName: flags.stdout ? 'jsonl' : (flags.sink ?? 'duckdb'), sinkOptions}
}

/**
 * Flags that would be accepted together and one of them silently ignored: a usage error naming the
 * conflict instead.
 */
export function checkOutputFlags(flags: Partial<WriteModeFlags> & SinkFlags & {db?: string; raw?: boolean}): void {
  if (flags.raw && sinkChoice(flags).sinkName === 'duckdb') {
    throw new UsageError(
      'Raw records are for pipes: use --raw with --stdout, or drop --raw to store normalized records',
    )
  }

  if (flags.stdout) {
    if (flags.append) throw new UsageError('--append cannot be used with --stdout: stdout has no table to add to')
    if (flags.replace) throw new UsageError('--replace cannot be used with --stdout: stdout has no table to replace')
    if (flags.db !== undefined) {
      throw new UsageError('--db cannot be used with --stdout: records go to stdout, not to a database')
    }
  }

  if (flags.db !== undefined && flags.output !== undefined) {
    throw new UsageError('--db cannot be used with --output: records go to the file, not to a database')
  }

  if (flags.db !== undefined && flags.sink !== undefined && flags.sink !== 'duckdb') {
    throw new UsageError(`--db cannot be used with --sink ${flags.sink}: it names the DuckDB sink's database file`)
  }
}
