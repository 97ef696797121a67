import type {MixpanelClient} from 'mpx-mixpanel-core/internal/mixpanel/client.js'
import type {RejectedRecord} from 'mpx-mixpanel-core/internal/records/rejects.js'

import {MpxError, UsageError} from 'mpx-mixpanel-core/internal/errors.js'
import {
  checkEngage,
  type EngageQuery,
  MAX_ENGAGE_CONCURRENCY,
} from 'mpx-mixpanel-core/internal/mixpanel/engage/query.js'
import {RequestPacer, REQUESTS_PER_HOUR} from 'mpx-mixpanel-core/internal/mixpanel/scheduler.js'

import type {FetchReporter} from '../fetch/reporter.js'
import type {SinkResult} from '../sinks/sink.js'

import {databasePath} from '../duckdb/database-path.js'
import {profileBatches} from '../fetch/profiles.js'
import {type FetchInput, fetchToSink} from '../fetch/to-sink.js'
import {findSink} from '../sink-registry/registry.js'
import {checkTableName} from '../sinks/options.js'
import {acquireSyncLock} from './lock.js'
import {checkLookbackDays, LIBRARY_WORDS, type SyncWords} from './words.js'

/** The default look-back of --changed-only: a day before the last sync. */
export const DEFAULT_PROFILE_LOOKBACK_DAYS = 1

/** A profile sync's input: what every fetch takes (its format normalized, its mode chosen here), and the sync's own. */
export interface SyncProfilesInput extends Omit<FetchInput, 'format' | 'mode'> {
  /** Only profiles seen since the last sync (less the look-back), upserted; else a full refresh. */
  readonly changedOnly: boolean
  readonly lookbackDays: number
  /** How errors name the options (default: the library's names). */
  readonly words?: SyncWords
}

/** The `where` of a --changed-only sync: profiles whose `$last_seen` is at or after `since`. */
export function changedSince(since: Date): string {
  // Mixpanel's $last_seen is an ISO date-time without zone (UTC), e.g. 2024-01-15T14:20:00.
  return `properties["$last_seen"] >= "${since.toISOString().slice(0, 19)}"`
}

/**
 * A pacer for engage pages within Mixpanel's Query API limits (60 queries an hour, 3 a second),
 * saying when a page must wait for the hourly budget.
 */
export function queryApiPacer(progress: Pick<FetchReporter, 'note'>): RequestPacer {
  return new RequestPacer({
    hourly: {perHour: REQUESTS_PER_HOUR},
    onHourlyWait(ms) {
      const at = new Date(Date.now() + ms).toISOString().slice(11, 16)
      progress.note(`next page at ${at} UTC (Mixpanel's Query API allows ${REQUESTS_PER_HOUR} queries an hour)`)
    },
  })
}

/**
 * `mpx sync:profiles`: a full refresh by default (the table swapped whole at commit: changed
 * profiles changed, deleted ones gone), or with `changedOnly` the profiles seen since the last
 * sync, upserted by distinct_id. Profiles updated without activity (no new $last_seen), and
 * deleted ones, are seen only by a full refresh.
 */
export async function syncProfiles(input: SyncProfilesInput): Promise<SinkResult> {
  const {progress} = input
  const words = input.words ?? LIBRARY_WORDS
  checkLookbackDays(input.lookbackDays, words)
  if (input.sinkName !== 'duckdb') return refreshInSink(input, words)

  const table = checkTableName(input.table)
  const given = input.sinkOptions
  const optionPath = Array.isArray(given)
    ? (given as readonly string[]).find((option) => option.startsWith('path='))?.slice('path='.length)
    : (given as Readonly<Record<string, unknown>>).path
  const path =
    typeof optionPath === 'string' && optionPath !== ''
      ? optionPath
      : databasePath(input.dataDir, input.account.credentials.projectId, input.db)
  const lock = acquireSyncLock(`${path}.${table.toLowerCase()}.sync.lock`, `Table "${table}"`)
  try {
    const state = await tableState(path, table)
    if (state.exists && state.kind !== 'profiles') {
      throw new UsageError(
        `Table "${table}" holds ${state.kind ?? 'rows mpx did not fetch'}, not profiles: sync profiles into another table`,
      )
    }

    let query: EngageQuery = {}
    if (input.changedOnly) {
      if (!state.lastSyncAt) {
        throw new UsageError(`Table "${table}" has had no complete ${words.profileSync} yet: ${words.fullRefresh}`)
      }

      const since = new Date(Date.parse(state.lastSyncAt) - input.lookbackDays * 86_400_000)
      query = {where: changedSince(since)}
      progress.info(`Sync of ${table}: profiles seen since ${since.toISOString()}, upserted by distinct_id`)
    } else {
      progress.info(`Sync of ${table}: every profile, replacing the table once all have arrived`)
    }

    const startedAt = new Date()
    const result = await fetchToSink(profileRefresh(input, query, input.changedOnly ? 'append' : 'replace', table))
    await recordProfileSync(path, table, startedAt)
    return result
  } finally {
    lock.release()
  }
}

/** The engage pages of `query` into the sink, paced within the Query API's limits. */
function profileRefresh(input: SyncProfilesInput, query: EngageQuery, mode: 'append' | 'replace', table: string) {
  const {progress} = input
  const pacer = queryApiPacer(progress)
  const checked = checkEngage(query, {concurrency: MAX_ENGAGE_CONCURRENCY})
  return {
    ...input,
    dedupe: true,
    filters: {where: query.where ?? null},
    format: 'normalized' as const,
    kind: 'profiles' as const,
    mode,
    source: (client: MixpanelClient, signal: AbortSignal, onReject: (reject: RejectedRecord) => void) =>
      profileBatches(client, checked, {
        format: 'normalized',
        onPage(page, pages) {
          if (page === 0 && pages !== undefined && pages > REQUESTS_PER_HOUR) {
            progress.info(
              `${pages} pages, more than the ${REQUESTS_PER_HOUR} queries an hour Mixpanel's Query API allows: ` +
                `paced, about ${Math.ceil(pages / REQUESTS_PER_HOUR) - 1} h`,
            )
          }

          progress.note(pages === undefined ? `page ${page + 1}` : `page ${page + 1}/${pages}`)
        },
        onReject,
        onRestart: (message) => progress.warn(message),
        pacer,
        signal,
      }),
    table,
  }
}

/**
 * A sync of profiles into a sink other than DuckDB (the Parquet plugin, in a directory or a
 * bucket): a full refresh, swapped in as the sink replaces a table. Upserting what changed needs
 * a table that can be updated in place, which only DuckDB's is; a sink that keeps nothing (JSONL)
 * has nothing to keep current.
 */
async function refreshInSink(input: SyncProfilesInput, words: SyncWords): Promise<SinkResult> {
  const sink = await findSink(input.sinkName, input.config, (message) => input.progress.warn(message))
  if (sink.name === 'jsonl') {
    throw new UsageError(`Sink "jsonl" keeps no table, so there is nothing to keep current: ${words.syncableSink}`)
  }

  if (input.changedOnly) throw new UsageError(words.changedOnlyDuckdb(sink.name))
  const table = checkTableName(input.table)
  input.progress.info(`Sync of ${table}: every profile, replacing the table once all have arrived`)
  return fetchToSink(profileRefresh(input, {}, 'replace', table))
}

async function tableState(path: string, table: string): Promise<{exists: boolean; kind?: string; lastSyncAt?: string}> {
  const {existsSync} = await import('node:fs')
  if (!existsSync(path)) return {exists: false}
  const {openDatabase} = await import('../duckdb/database.js')
  const {WRITER_LOCK_WAIT_MS} = await import('../duckdb/days-writer.js')
  const {readTableState} = await import('../duckdb/day-state.js')
  const database = await openDatabase(path, {lockWaitMs: WRITER_LOCK_WAIT_MS, readOnly: true})
  try {
    const state = await readTableState(database.connection, table)
    return {exists: state.table !== undefined, kind: state.kind, lastSyncAt: state.lastSyncAt}
  } finally {
    database.close()
  }
}

/** When the sync started is what the next --changed-only counts from (profiles seen during it are fetched again). */
async function recordProfileSync(path: string, table: string, startedAt: Date): Promise<void> {
  const {findTable, openDatabase} = await import('../duckdb/database.js')
  const {WRITER_LOCK_WAIT_MS} = await import('../duckdb/days-writer.js')
  const {recordSync} = await import('../duckdb/day-state.js')
  const database = await openDatabase(path, {lockWaitMs: WRITER_LOCK_WAIT_MS})
  try {
    const stored = (await findTable(database.connection, table)) ?? table
    await recordSync(database.connection, {completed: true, kind: 'profiles', syncedAt: startedAt, table: stored})
  } catch (error) {
    throw new MpxError(`The profiles were saved, but not the time of the sync: ${String(error)}`, undefined, {
      cause: error,
    })
  } finally {
    database.close()
  }
}
