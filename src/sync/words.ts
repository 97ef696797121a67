import {UsageError} from 'mpx-mixpanel-core/internal/errors.js'

/**
 * How a sync's errors and notes name what the caller can change: the library's option names by
 * default, the CLI's flags and commands from the CLI. Library errors never name a CLI flag.
 */
export interface SyncWords {
  /** e.g. `(mpx tables:drop events)` after "drop this one first". */
  readonly dropTable: (table: string) => string
  /** Why sync:profiles refuses a sink other than DuckDB. */
  readonly duckdbOnly: (sink: string) => string
  /** The first day's option, and an example of it. */
  readonly from: string
  readonly fromExample: string
  readonly fullRefresh: string
  readonly lookbackDays: string
  /** What a profile sync is called. */
  readonly profileSync: string
  /** What to use instead of a sink that cannot be synced. */
  readonly syncableSink: string
  readonly to: string
}

export const LIBRARY_WORDS: SyncWords = {
  dropTable: () => '',
  duckdbOnly: (sink) => `Profiles are synced into DuckDB tables only: sink "${sink}" is for fetchProfiles`,
  from: '`from`',
  fromExample: "from: '2024-01-01'",
  fullRefresh: 'run one without `changedOnly` first',
  lookbackDays: '`lookbackDays`',
  profileSync: 'profile sync',
  syncableSink: 'use the duckdb sink (or a sink plugin that supports sync)',
  to: '`to`',
}

export const CLI_WORDS: SyncWords = {
  dropTable: (table) => ` (mpx tables:drop ${table})`,
  duckdbOnly: (sink) => `sync:profiles keeps DuckDB tables only: sink "${sink}" is for fetch:profiles`,
  from: '--from',
  fromExample: '--from 2024-01-01',
  fullRefresh: 'run one without --changed-only first',
  lookbackDays: '--lookback-days',
  profileSync: 'sync:profiles',
  syncableSink: 'use --sink duckdb (or a sink plugin that supports sync)',
  to: '--to',
}

/** A look-back in days: a whole number, 0 or more. */
export function checkLookbackDays(days: number, words: SyncWords): number {
  if (!Number.isInteger(days) || days < 0) throw new UsageError(`${words.lookbackDays} must be a whole number >= 0`)
  return days
}
