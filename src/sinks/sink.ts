import type {TableSchema} from '../records/schemas.js'
import type {RecordFormat, RecordKind} from '../records/types.js'

/**
 * A batch of records on their way to a sink. `lines` holds each record as one line of JSON text
 * (no trailing newline) in the fetch's format: sinks that write text or load JSON use it as is,
 * without re-serializing. `records()` parses them losslessly (big integers become `bigint`).
 */
export interface RecordBatch {
  readonly format: RecordFormat
  readonly kind: RecordKind
  readonly lines: readonly string[]
  records(): unknown[]
  /**
   * The same records as UTF-8 text, one per line, each line ending with a newline, when the source
   * has them so (the event export does): a sink that writes JSON text can write these bytes as they
   * are rather than encode `lines`, which are then decoded only if read.
   */
  readonly text?: {readonly bytes: Uint8Array; readonly count: number}
}

/** How a fetch treats a target that already exists. */
export const writeModes = ['create', 'replace', 'append'] as const
export type WriteMode = (typeof writeModes)[number]

/** What a fetch asks a sink to write to. */
export interface SinkTarget {
  /** When the export covers a date range (events), the range, inclusive. */
  readonly dateRange?: {from: string; to: string}
  /** Drop records whose identity is already stored (events: event, distinct_id, insert_id). */
  readonly dedupe: boolean
  /** The filters the fetch was made with, for the sink's records of what it holds. */
  readonly filters: Readonly<Record<string, unknown>>
  readonly format: RecordFormat
  readonly kind: RecordKind
  /** `create` fails when the target exists; `replace` swaps it in at commit; `append` adds. */
  readonly mode: WriteMode
  /** The sink's own options, already validated against its `optionsSchema`. */
  readonly options: Readonly<Record<string, unknown>>
  /**
   * The shape of the records, as mpx stores them: their columns in order with DuckDB types, the
   * key that identifies a record (what `dedupe` compares), and the column whose UTC date is a
   * record's day (events). A sink lays out its tables or files from this, not from a copy.
   */
  readonly schema: TableSchema
  /** Table (or dataset) name, already validated by mpx. */
  readonly table: string
}

/** Services mpx lends a sink while it writes. */
export interface SinkContext {
  /** mpx's data directory (e.g. `~/.local/share/mpx`), for sinks that keep files. */
  readonly dataDir: string
  /** Aborted when the user interrupts the fetch. */
  readonly signal: AbortSignal
  /** Writes a line to stderr (never stdout, which may carry data). */
  warn(message: string): void
}

export interface SinkResult {
  /** Where the records went, for the summary line, e.g. `events in ~/.local/share/mpx/42.duckdb`. */
  readonly location?: string
  /** Records written (after deduplication, where the sink dedupes). */
  readonly written: number
}

/**
 * One fetch's writer. mpx calls `write` for each batch in order, awaiting each, then exactly one of
 * `commit` (everything arrived) or `abort` (the fetch failed or was interrupted). After `abort` the
 * target must be exactly as it was before `open`, and so after a `commit` that fails (mpx does not
 * call `abort` then). A plugin's errors are reported as one line naming the sink; an `exitCode`
 * property on the error (3: usage, 4: not found) picks the exit status, 1 otherwise.
 */
export interface SinkWriter {
  abort(reason: unknown): Promise<void>
  commit(): Promise<SinkResult>
  write(batch: RecordBatch): Promise<void>
}

/** JSON Schema (draft-07) for a sink's options, checked by ajv before any request is made. */
export type SinkOptionsSchema = Readonly<Record<string, unknown>>

export interface Sink {
  /** One line for `mpx sinks`. */
  readonly description: string
  /** Which record formats the sink accepts. */
  readonly formats: readonly RecordFormat[]
  /** `--sink NAME`. Lower-case letters, digits and dashes. */
  readonly name: string
  open(target: SinkTarget, context: SinkContext): Promise<SinkWriter>
  readonly optionsSchema: SinkOptionsSchema
}
