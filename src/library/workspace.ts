/**
 * mpx as a library that stores: fetch events and profiles into tables (DuckDB, or any installed
 * sink), keep them current with syncs, and query them, with the CLI's guarantees. The CLI's
 * commands call the same functions (fetch/, sync/, sql/), so the two cannot drift apart.
 */
import type {Config} from '@oclif/core'
import type {DateRange} from 'mpx-mixpanel-core/internal/mixpanel/dates.js'
import type {EngageQuery} from 'mpx-mixpanel-core/internal/mixpanel/engage/query.js'
import type {Region} from 'mpx-mixpanel-core/internal/mixpanel/regions.js'
import type {RetryOptions} from 'mpx-mixpanel-core/internal/mixpanel/retry.js'
import type {BadRecordsPolicy, RejectedRecord} from 'mpx-mixpanel-core/internal/records/rejects.js'
import type {RecordFormat, RecordKind} from 'mpx-mixpanel-core/internal/records/types.js'

import {type AccountChoice, type CredentialsInput, libraryAccount} from 'mpx-mixpanel-core/internal/library/account.js'
import {DEFAULT_CHUNK_DAYS} from 'mpx-mixpanel-core/internal/mixpanel/export/query.js'
import {fileURLToPath} from 'node:url'

import type {FetchInput} from '../fetch/to-sink.js'
import type {SinkResult, WriteMode} from '../sinks/sink.js'
import type {SyncPlan} from '../sync/plan.js'

import {databasePath} from '../duckdb/database-path.js'
import {callbackReporter, type ReporterCallbacks} from '../fetch/reporter.js'
import {type Row, rowsOf} from './rows.js'

export type {Row} from './rows.js'
export type {CredentialsInput} from 'mpx-mixpanel-core/internal/library/account.js'

export interface WorkspaceOptions extends ReporterCallbacks {
  /** An account saved with `mpx auth:add`, by name (see `credentials` for the order). */
  readonly account?: string
  /** Send requests to this origin instead of Mixpanel's (a proxy, or a test server); else MPX_API_URL. */
  readonly apiUrl?: string
  /**
   * Service account or project API secret. Without it, the saved account `account`, else the
   * environment (MP_USERNAME/MP_SECRET/MP_PROJECT_ID or MP_API_SECRET), else the default account.
   */
  readonly credentials?: CredentialsInput
  /** mpx's data directory (default: the CLI's, MPX_DATA_DIR or ~/.local/share/mpx). */
  readonly dataDir?: string
  /** The DuckDB database file (default: MPX_DB, else `<data dir>/<project id>.duckdb`, as the CLI's). */
  readonly db?: string
  /** Allow a plain-http apiUrl on a non-loopback host. */
  readonly insecure?: boolean
  /** Data residency region: `us` (default), `eu` or `in`. */
  readonly region?: Region
  readonly retry?: Partial<RetryOptions>
  /** The project's timezone (IANA name) for a project created before 2023; default MP_TIMEZONE, the account's, else UTC. */
  readonly timezone?: string
}

/** What every storing call takes beyond its query. */
export interface StoreOptions extends ReporterCallbacks {
  /**
   * Records mpx cannot store (not an event, a bad time): `quarantine` (default: kept beside the
   * table, see `rejected` in the result), `fail` (a BadRecordError at the first, nothing stored),
   * or a number (quarantine up to it, fail past it).
   */
  readonly badRecords?: BadRecordsPolicy
  /** Told of each record quarantined. */
  readonly onReject?: (reject: RejectedRecord) => void
  /** Stops the call: a fetch rolls back, a sync keeps the chunks it committed; an InterruptedError is thrown. */
  readonly signal?: AbortSignal
  /** Where records go: `duckdb` (default), `jsonl`, or a sink an installed plugin brings (see `mpx sinks`). */
  readonly sink?: string
  /** The sink's options, checked against its schema (e.g. `{output: 'events.jsonl'}` for jsonl). */
  readonly sinkOptions?: Readonly<Record<string, unknown>>
}

export interface FetchTableOptions extends StoreOptions {
  /** `normalized` (default) or `raw` (for sinks that take it, e.g. jsonl). */
  readonly format?: RecordFormat
  /** `create` (default: fails if the table exists), `replace` (once the new one is complete) or `append`. */
  readonly mode?: WriteMode
}

export interface FetchEventsOptions extends FetchTableOptions {
  /** Days per export request (default 7). */
  readonly chunkDays?: number
  /** Date chunks fetched at once, 1 (default) to 100. */
  readonly concurrency?: number
  /** Store each event once per (event_name, distinct_id, insert_id) (default true). */
  readonly dedupe?: boolean
  readonly events?: readonly string[]
  /** First day, YYYY-MM-DD, inclusive (the project's day). */
  readonly from: string
  readonly limit?: number
  /** Default `events`. */
  readonly table?: string
  /** Last day, YYYY-MM-DD, inclusive; a day after the project's today is fetched up to today. */
  readonly to: string
  readonly where?: string
}

/** The engage query (its fields documented there) and where the profiles go. */
export interface FetchProfilesOptions extends EngageQuery, FetchTableOptions {
  /** Default `profiles`. */
  readonly table?: string
}

/** What a fetch stored: what the CLI's summary line says. */
export interface FetchResult {
  /** The days fetched (events), after a `to` after today was brought back to today. */
  readonly days?: DateRange
  /** Where the records went, e.g. `events in /home/me/.local/share/mpx/42.duckdb`. */
  readonly location?: string
  /** Records quarantined, and where they are kept. */
  readonly rejected?: {readonly count: number; readonly location: string}
  /** Records written (after deduplication). */
  readonly rows: number
  readonly table: string
}

export interface SyncEventsOptions extends StoreOptions {
  readonly chunkDays?: number
  readonly concurrency?: number
  readonly dedupe?: boolean
  /** The table's event names (remembered: a later sync with others is refused). */
  readonly events?: readonly string[]
  /** First day to keep: needed on a table's first sync, remembered after. */
  readonly from?: string
  /** Fetch the last N days again, for events that arrive late (default 5). */
  readonly lookbackDays?: number
  /** Default `events`. */
  readonly table?: string
  /** Last day (default: the project's today). */
  readonly to?: string
  readonly where?: string
}

export interface SyncEventsResult {
  /** Chunks fetched and committed. */
  readonly chunks: number
  /** Days fetched and committed. */
  readonly days: number
  readonly plan: SyncPlan
  readonly range: DateRange
  readonly rejected?: {readonly count: number; readonly location: string}
  /** Events written. */
  readonly rows: number
  readonly table: string
}

export interface SyncProfilesOptions extends Omit<StoreOptions, 'sinkOptions'> {
  /** Only profiles seen since the last sync (less `lookbackDays`), upserted by distinct_id; else a full refresh. */
  readonly changedOnly?: boolean
  /** With `changedOnly` (default 1). */
  readonly lookbackDays?: number
  /** Default `profiles`. */
  readonly table?: string
}

export interface SqlOptions {
  /** Stops the query (between chunks of the result). */
  readonly signal?: AbortSignal
  /** Open the database read-write (and create it when missing); read-only by default, as `mpx sql`. */
  readonly write?: boolean
}

const SQL_WORDS = {opener: 'sql()', remedy: 'give `write: true` to change it'}

/** mpx's package root, where oclif finds its config and the plugins installed with `mpx plugins install`. */
const packageRoot = fileURLToPath(new URL('../..', import.meta.url))

/**
 * A project's local copy: fetch, sync and query, with the same credentials, defaults and
 * guarantees as the CLI. Every call takes an AbortSignal; errors are MpxError subclasses with an
 * `exitCode`.
 *
 *   const ws = new Workspace({account: 'prod'})
 *   await ws.fetchEvents({from: '2024-01-01', to: '2024-01-31'})
 *   const rows = await ws.sql('SELECT event_name, count(*) AS n FROM events GROUP BY 1')
 */
export class Workspace {
  private config: Promise<Config> | undefined

  constructor(private readonly options: WorkspaceOptions = {}) {}

  /** The database file every call of this workspace uses. */
  async databasePath(): Promise<string> {
    const {db} = this.options
    if (db || process.env.MPX_DB) return databasePath('', undefined, db)
    const account = await this.account()
    return databasePath(await this.dataDir(), account.credentials.projectId)
  }

  /** Events from Mixpanel's raw export into a table, as `mpx fetch:events` stores them. */
  async fetchEvents(options: FetchEventsOptions): Promise<FetchResult> {
    const {fetchEvents} = await import('../fetch/events.js')
    const input = await this.fetchInput('events', options)
    let days: DateRange | undefined
    const result = await fetchEvents({
      ...input,
      ...eventQuery(options),
      from: options.from,
      limit: options.limit,
      onRange(range) {
        days = range
      },
      to: options.to,
    })
    return fetchResult(result, input.table, days)
  }

  /** Profiles from Mixpanel's engage API into a table, as `mpx fetch:profiles` stores them. */
  async fetchProfiles(options: FetchProfilesOptions = {}): Promise<FetchResult> {
    const {fetchProfiles} = await import('../fetch/profiles.js')
    const input = await this.fetchInput('profiles', options)
    const result = await fetchProfiles({
      ...input,
      query: {
        asOfTimestamp: options.asOfTimestamp,
        cohortId: options.cohortId,
        distinctIds: options.distinctIds ? [...options.distinctIds] : undefined,
        groupId: options.groupId,
        includeAllUsers: options.includeAllUsers,
        limit: options.limit,
        outputProperties: options.outputProperties ? [...options.outputProperties] : undefined,
        where: options.where,
      },
    })
    return fetchResult(result, input.table)
  }

  /**
   * Runs SQL (one or more statements) on the database and returns the last one's rows, as objects
   * by column name: big integers (BIGINT, HUGEINT) as bigint, JSON columns parsed (their big
   * integers as bigint too), times as Date. Read-only unless `write: true`.
   */
  async sql(query: string, options: SqlOptions = {}): Promise<Row[]> {
    const rows: Row[] = []
    for await (const row of this.sqlRows(query, options)) rows.push(row)
    return rows
  }

  /**
   * The rows of `sql` one at a time, as DuckDB streams them, for results too large to hold: lazy
   * (the database opens at the first `next()`), and closed when the loop ends or is left early.
   */
  sqlRows(query: string, options: SqlOptions = {}): AsyncIterable<Row> {
    const path = () => this.databasePath()
    const {onWarning} = this.options
    return {
      async *[Symbol.asyncIterator]() {
        const {queryChunks} = await import('../sql/query.js')
        yield* rowsOf(
          queryChunks({
            onLockWait: onWarning,
            path: await path(),
            signal: options.signal,
            sql: query,
            words: SQL_WORDS,
            write: options.write ?? false,
          }),
        )
      },
    }
  }

  /**
   * Brings a table of events up to date day by day, as `mpx sync:events`: the days never fetched,
   * the last `lookbackDays` again, and days fetched while in progress; each chunk of days replaced
   * and committed on its own (an aborted sync keeps them, and the next one continues), one sync
   * of a table at a time, paced within Mixpanel's 60 export requests an hour.
   */
  async syncEvents(options: SyncEventsOptions = {}): Promise<SyncEventsResult> {
    const [{DEFAULT_LOOKBACK_DAYS, syncEvents}, input] = await Promise.all([
      import('../sync/sync-events.js'),
      this.storeInput('events', options),
    ])
    return syncEvents({
      ...input,
      ...eventQuery(options),
      from: options.from,
      lookbackDays: options.lookbackDays ?? DEFAULT_LOOKBACK_DAYS,
      to: options.to,
    })
  }

  /**
   * Keeps a table of profiles current, as `mpx sync:profiles`: a full refresh swapped in at once,
   * or with `changedOnly` the profiles seen since the last sync, upserted.
   */
  async syncProfiles(options: SyncProfilesOptions = {}): Promise<FetchResult> {
    const [{DEFAULT_PROFILE_LOOKBACK_DAYS, syncProfiles}, input] = await Promise.all([
      import('../sync/sync-profiles.js'),
      this.storeInput('profiles', options),
    ])
    const result = await syncProfiles({
      ...input,
      changedOnly: options.changedOnly ?? false,
      lookbackDays: options.lookbackDays ?? DEFAULT_PROFILE_LOOKBACK_DAYS,
    })
    return fetchResult(result, input.table)
  }

  private async account() {
    const {account, credentials, region, timezone} = this.options
    const choice: AccountChoice = {account, credentials, region, timezone}
    return libraryAccount(choice)
  }

  /** mpx's oclif config, loaded once: the plugins that may bring sinks, and the data directory. */
  private async cliConfig(): Promise<Config> {
    this.config ??= import('@oclif/core').then(({Config}) => Config.load({ignoreManifest: true, root: packageRoot}))
    return this.config
  }

  private async dataDir(): Promise<string> {
    return this.options.dataDir ?? (await this.cliConfig()).dataDir
  }

  private async fetchInput(kind: RecordKind, options: FetchTableOptions & {table?: string}): Promise<FetchInput> {
    return {
      ...(await this.storeInput(kind, options)),
      format: options.format ?? 'normalized',
      mode: options.mode ?? 'create',
    }
  }

  private async storeInput(kind: RecordKind, options: StoreOptions & {table?: string}) {
    const {options: workspace} = this
    const sinkName = options.sink ?? 'duckdb'
    const [account, config] = await Promise.all([
      this.account(),
      // Only a sink that is not built in needs the plugins.
      sinkName === 'duckdb' || sinkName === 'jsonl' ? undefined : this.cliConfig(),
    ])
    return {
      account,
      apiUrl: workspace.apiUrl,
      badRecords: options.badRecords,
      config,
      dataDir: await this.dataDir(),
      db: workspace.db,
      insecure: workspace.insecure ?? false,
      onReject: options.onReject,
      progress: callbackReporter({
        onInfo: options.onInfo ?? workspace.onInfo,
        onNote: options.onNote ?? workspace.onNote,
        onProgress: options.onProgress ?? workspace.onProgress,
        onWarning: options.onWarning ?? workspace.onWarning,
      }),
      retry: workspace.retry,
      signal: options.signal,
      sinkName,
      sinkOptions: options.sinkOptions ?? {},
      table: options.table ?? kind,
    }
  }
}

/** The options fetchEvents and syncEvents share, with the CLI's defaults. */
function eventQuery(options: FetchEventsOptions | SyncEventsOptions) {
  return {
    chunkDays: options.chunkDays ?? DEFAULT_CHUNK_DAYS,
    concurrency: options.concurrency,
    dedupe: options.dedupe ?? true,
    events: options.events,
    where: options.where,
  }
}

function fetchResult(result: SinkResult, table: string, days?: DateRange): FetchResult {
  return {
    ...(days && {days}),
    ...(result.location !== undefined && {location: result.location}),
    ...(result.rejected && {rejected: result.rejected}),
    rows: result.written,
    table,
  }
}
