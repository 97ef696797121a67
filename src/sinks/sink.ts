import type {RejectedRecord} from 'mpx-mixpanel-core/internal/records/rejects.js'
import type {TableSchema} from 'mpx-mixpanel-core/internal/records/schemas.js'
import type {RecordFormat, RecordKind} from 'mpx-mixpanel-core/internal/records/types.js'

import type {ObjectStorage} from '../object-storage/types.js'

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
  /**
   * The lines with every lone surrogate (`\udXXX`: JavaScript writes them, but they are not
   * Unicode, and strict readers such as DuckDB's JSON reader and Parquet refuse them) replaced by
   * U+FFFD; `repaired` counts the lines changed, for a warning.
   */
  wellFormedLines(): {readonly lines: readonly string[]; readonly repaired: number}
  /**
   * wellFormedLines as UTF-8 text, each line ending with a newline: `text`'s own bytes when they
   * hold no lone surrogate (no copy, no decoding), else the repaired lines encoded.
   */
  wellFormedText(): {readonly bytes: Uint8Array; readonly count: number; readonly repaired: number}
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
  /**
   * Events: the project's timezone (IANA name), when the fetch was made with one other than UTC.
   * The days of `dateRange` are that zone's (a project created before 2023): a sink that splits
   * events by day should use the zone's days. `event_time` is the true instant either way.
   */
  readonly timezone?: string
}

/** Services mpx lends a sink while it writes. */
export interface SinkContext {
  /** mpx's data directory (e.g. `~/.local/share/mpx`), for sinks that keep files. */
  readonly dataDir: string
  /**
   * S3 and S3-compatible object storage, for sinks that write to `s3://` URLs (the AWS SDK loads on
   * first use). Absent in mpx versions before it existed.
   */
  readonly objectStorage?: ObjectStorage
  /** Aborted when the user interrupts the fetch. */
  readonly signal: AbortSignal
  /** Writes a line to stderr (never stdout, which may carry data). */
  warn(message: string): void
}

export interface SinkResult {
  /** Where the records went, for the summary line, e.g. `events in ~/.local/share/mpx/42.duckdb`. */
  readonly location?: string
  /** The records this fetch quarantined (see SinkWriter.reject), and where they are kept. */
  readonly rejected?: {readonly count: number; readonly location: string}
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
  /**
   * Keeps records that could not be normalized (quarantined: never in a batch), beside the target
   * and committed or aborted with it; `commit` then reports them in `rejected`. Optional: for a
   * writer without it, mpx keeps them in a file of its data directory.
   */
  reject?(rejects: readonly RejectedRecord[]): Promise<void>
  write(batch: RecordBatch): Promise<void>
}

/** JSON Schema (draft-07) for a sink's options, checked by ajv before any request is made. */
export type SinkOptionsSchema = Readonly<Record<string, unknown>>

export interface Sink {
  /** Optional: keeping a target current day by day (`mpx sync:events`); see DaysCapability. */
  readonly days?: DaysCapability
  /** One line for `mpx sinks`. */
  readonly description: string
  /** Which record formats the sink accepts. */
  readonly formats: readonly RecordFormat[]
  /** `--sink NAME`. Lower-case letters, digits and dashes. */
  readonly name: string
  open(target: SinkTarget, context: SinkContext): Promise<SinkWriter>
  readonly optionsSchema: SinkOptionsSchema
}

/** One day a target holds, as a sink records it for `mpx sync:events`. */
export interface SyncedDay {
  /** YYYY-MM-DD. */
  readonly day: string
  /** When the day was fetched, ISO 8601. */
  readonly fetchedAt: string
  /** The day was not over (today) when it was fetched: the next sync fetches it again. */
  readonly inProgress: boolean
  readonly rows: number
}

/** What a sink knows of a target it keeps current. */
export interface SyncTargetState {
  /** The days it holds (any order). */
  readonly days: readonly SyncedDay[]
  /** Whether the target exists at all. */
  readonly exists: boolean
  /** The event filters its records were fetched with, when known. */
  readonly filters?: {readonly events: readonly string[]; readonly where: null | string}
  /** The first day its syncs keep, once synced. */
  readonly from?: string
  /** The kind of records it holds (`events`), when it exists and the sink knows. */
  readonly kind?: string
  /** When its last sync completed, ISO 8601. */
  readonly lastSyncAt?: string
}

/** A day writer's target: the days it replaces, and the sync they belong to. */
export interface DaysTarget extends SinkTarget {
  /** The days replaced, inclusive: every record of these days goes, the batches' records come. */
  readonly days: {from: string; to: string}
  /** The sync's settings, recorded with the days. */
  readonly sync: {
    readonly filters: {readonly events: readonly string[]; readonly where: null | string}
    readonly from: string
    /**
     * Whether one chunk is fetched at a time, so that its writer may hold the target for itself
     * while the chunk is fetched (the DuckDB sink loads it meanwhile). Default: false.
     */
    readonly oneChunkAtATime?: boolean
    /** The project's today: days from it on are recorded as in progress. */
    readonly today: string
  }
}

/**
 * Optional capability of a sink that keeps a target current day by day (`mpx sync:events`): a day
 * is the unit it replaces as a whole, and it records which days it holds. Sinks without it (JSONL)
 * are refused by sync.
 */
export interface DaysCapability {
  /** Records that a sync of the target completed (every planned day committed). */
  finishSync(target: DaysTarget, context: SinkContext): Promise<void>
  /** A file path beside the target for the lock that keeps two syncs of it apart. */
  lockPath(target: SinkTarget, context: SinkContext): string
  /**
   * Optional: called once when a sync is over (completed, failed or interrupted), to let go of
   * what the sink kept open from one chunk to the next.
   */
  release?(target: SinkTarget, context: SinkContext): Promise<void>
  /**
   * A writer whose `commit` replaces `target.days` and records them (rows, fetched now, in progress
   * from `sync.today`) together with the sync's settings, all at once: after a failed or interrupted
   * commit, or an `abort`, the target is as it was. Commits of one sync come one at a time.
   */
  replaceDays(target: DaysTarget, context: SinkContext): Promise<SinkWriter>
  /** What the target holds. */
  state(target: SinkTarget, context: SinkContext): Promise<SyncTargetState>
}
