import {UsageError} from 'mpx-mixpanel-core/internal/errors.js'

/**
 * How a sync's errors and notes name what the caller can change: the library's option names by
 * default, the CLI's flags and commands from the CLI. Library errors never name a CLI flag.
 */
export interface SyncWords {
  /** Why a profile sync of only what changed needs DuckDB. */
  readonly changedOnlyDuckdb: (sink: string) => string
  /** e.g. `(mpx tables:drop events)` after "drop this one first". */
  readonly dropTable: (table: string) => string
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
  changedOnlyDuckdb: (sink) =>
    `Only a DuckDB table can take just the profiles that changed: sink "${sink}" gets a full refresh (leave \`changedOnly\` out)`,
  dropTable: () => '',
  from: '`from`',
  fromExample: "from: '2024-01-01'",
  fullRefresh: 'run one without `changedOnly` first',
  lookbackDays: '`lookbackDays`',
  profileSync: 'profile sync',
  syncableSink: 'use the duckdb sink (or a sink plugin that supports sync)',
  to: '`to`',
}

export const CLI_WORDS: SyncWords = {
  changedOnlyDuckdb: (sink) =>
    `Only a DuckDB table can take just the profiles that changed: sink "${sink}" gets a full refresh (leave --changed-only out)`,
  dropTable: (table) => ` (mpx tables:drop ${table})`,
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
