import type {DuckDBConnection} from '@duckdb/node-api'
import type {RecordKind} from 'mpx-mixpanel-core/internal/records/types.js'

import {addDays} from 'mpx-mixpanel-core/internal/mixpanel/dates.js'
import {projectToday} from 'mpx-mixpanel-core/internal/mixpanel/today.js'
import {stringifyLossless} from 'mpx-mixpanel-core/internal/records/json.js'
import {WallClock} from 'mpx-mixpanel-core/internal/records/wall-clock.js'

import {findTable, quoteIdentifier} from './database.js'
import {FETCHES_TABLE} from './fetches.js'

/**
 * mpx's record of what each table holds, day by day, in the database itself: a day's rows and its
 * entry change in the same transaction, so the record is never ahead of or behind the rows.
 */
export const DAYS_TABLE = '_mpx_days'
/** One row per synced table: what the sync keeps (from, filters) and when it last completed. */
export const SYNCS_TABLE = '_mpx_syncs'

export const createStateTablesSql = [
  `CREATE TABLE IF NOT EXISTS ${DAYS_TABLE} (
  table_name VARCHAR NOT NULL,
  day DATE NOT NULL,
  row_count BIGINT NOT NULL,
  fetched_at TIMESTAMPTZ NOT NULL,
  in_progress BOOLEAN NOT NULL
)`,
  `CREATE TABLE IF NOT EXISTS ${SYNCS_TABLE} (
  table_name VARCHAR NOT NULL,
  kind VARCHAR NOT NULL,
  from_date DATE,
  filters JSON,
  last_commit_at TIMESTAMPTZ,
  last_sync_at TIMESTAMPTZ
)`,
]

/** What a table holds of one day, as the state records it. */
export interface DayState {
  readonly day: string
  /** When the day was fetched, ISO 8601. */
  readonly fetchedAt: string
  /** The day was not over yet (today, or later) when it was fetched. */
  readonly inProgress: boolean
  readonly rows: number
}

/**
 * The day of an event, in DuckDB SQL over a TIMESTAMPTZ column: the project's day, which is what
 * Mixpanel's from_date and to_date mean (mpx's sessions are in UTC, so a plain cast takes the UTC
 * date; another zone's date comes through timezone()).
 */
export function eventDaySql(column: string, timezone = 'UTC'): string {
  if (timezone === 'UTC') return `CAST(${column} AS DATE)`
  return `CAST(timezone('${timezone.replaceAll("'", "''")}', ${column}) AS DATE)`
}

/** The first instant of a project day (YYYY-MM-DD) in `timezone`, ISO 8601 in UTC. */
export function dayStart(day: string, timezone = 'UTC'): string {
  const midnight = Date.parse(`${day}T00:00:00Z`)
  if (timezone === 'UTC') return new Date(midnight).toISOString()
  // A midnight the clocks skip starts the day at the change, which is what the offset before it gives.
  return new Date(new WallClock(timezone).exactToUtc(midnight / 1000) * 1000).toISOString()
}

/**
 * The rows of the project days FROM..TO, in DuckDB SQL over a TIMESTAMPTZ column: the same rows as
 * `eventDaySql(column) BETWEEN from AND to`, as a range of instants, so that DuckDB skips the row
 * groups outside it by their min/max instead of converting every row's time (a sync's commits
 * would otherwise read the whole table each time: a backfill's cost would grow with its square).
 */
export function eventDaysSql(column: string, {from, to}: {from: string; to: string}, timezone = 'UTC'): string {
  const start = dayStart(from, timezone)
  const end = dayStart(addDays(to, 1), timezone)
  return `(${column} >= TIMESTAMPTZ '${start}' AND ${column} < TIMESTAMPTZ '${end}')`
}

/** The filters a table's events were fetched with, compared by sync. */
export interface TableFilters {
  readonly events: readonly string[]
  readonly where: null | string
}

export function normalizeFilters(filters: {events?: readonly string[]; where?: null | string}): TableFilters {
  return {events: [...new Set(filters.events ?? [])].sort(), where: filters.where ?? null}
}

export function sameFilters(a: TableFilters, b: TableFilters): boolean {
  return a.where === b.where && a.events.length === b.events.length && a.events.every((name, i) => name === b.events[i])
}

/** What a sync needs to know of a table. */
export interface TableState {
  readonly days: DayState[]
  /** The filters the table's records were fetched with, if mpx knows them. */
  readonly filters?: TableFilters
  /** The first day the table's syncs keep. */
  readonly from?: string
  readonly kind?: string
  /** The last complete sync, ISO 8601. */
  readonly lastSyncAt?: string
  /** The table as stored, when it exists. */
  readonly table?: string
}

async function exists(connection: DuckDBConnection, table: string): Promise<boolean> {
  return (await findTable(connection, table)) !== undefined
}

/** The state of `table` (found case-insensitively); empty when mpx has none. */
export async function readTableState(connection: DuckDBConnection, table: string): Promise<TableState> {
  const stored = await findTable(connection, table)
  const days: DayState[] = []
  let sync: undefined | {filters?: TableFilters; from?: string; kind: string; lastSyncAt?: string}
  if (await exists(connection, DAYS_TABLE)) {
    const reader = await connection.runAndReadAll(
      `SELECT CAST(day AS VARCHAR), row_count, strftime(fetched_at, '%Y-%m-%dT%H:%M:%S.%gZ'), in_progress
         FROM ${DAYS_TABLE} WHERE lower(table_name) = lower($table) ORDER BY day`,
      {table},
    )
    for (const [day, rows, fetchedAt, inProgress] of reader.getRows()) {
      days.push({day: String(day), fetchedAt: String(fetchedAt), inProgress: Boolean(inProgress), rows: Number(rows)})
    }
  }

  if (await exists(connection, SYNCS_TABLE)) {
    const reader = await connection.runAndReadAll(
      `SELECT kind, CAST(from_date AS VARCHAR), CAST(filters AS VARCHAR),
         strftime(last_sync_at, '%Y-%m-%dT%H:%M:%S.%gZ') FROM ${SYNCS_TABLE} WHERE lower(table_name) = lower($table)`,
      {table},
    )
    const [row] = reader.getRows()
    if (row) {
      const [kind, from, filters, lastSyncAt] = row
      sync = {
        filters: filters === null ? undefined : normalizeFilters(JSON.parse(String(filters)) as TableFilters),
        from: from === null ? undefined : String(from),
        kind: String(kind),
        lastSyncAt: lastSyncAt === null ? undefined : String(lastSyncAt),
      }
    }
  }

  const fetched = sync?.filters ? undefined : await lastFetchFilters(connection, table)
  return {
    days,
    filters: sync?.filters ?? fetched?.filters,
    from: sync?.from,
    kind: sync?.kind ?? fetched?.kind,
    lastSyncAt: sync?.lastSyncAt,
    table: stored,
  }
}

/** A table made by fetch:events: its filters are those of its last fetch. */
async function lastFetchFilters(
  connection: DuckDBConnection,
  table: string,
): Promise<undefined | {filters: TableFilters; kind: string}> {
  if (!(await exists(connection, FETCHES_TABLE))) return undefined
  const reader = await connection.runAndReadAll(
    `SELECT kind, CAST(filters AS VARCHAR) FROM ${FETCHES_TABLE} WHERE lower(table_name) = lower($table)
       ORDER BY finished_at DESC LIMIT 1`,
    {table},
  )
  const [row] = reader.getRows()
  if (!row) return undefined
  const parsed = (row[1] === null ? {} : JSON.parse(String(row[1]))) as {events?: string[]; where?: null | string}
  return {filters: normalizeFilters(parsed), kind: String(row[0])}
}

/**
 * Records the days FROM..TO of `table` as fetched now, with their row counts as the table holds
 * them: in the caller's transaction, after the rows are in. A day at or after `today` is in progress.
 */
export async function recordDays(
  connection: DuckDBConnection,
  {from, table, timezone, to, today}: {from: string; table: string; timezone?: string; to: string; today: string},
): Promise<void> {
  for (const sql of createStateTablesSql) await connection.run(sql)
  const day = eventDaySql('event_time', timezone)
  await connection.run(
    `DELETE FROM ${DAYS_TABLE} WHERE lower(table_name) = lower($table) AND day BETWEEN $from::DATE AND $to::DATE`,
    {from, table, to},
  )
  await connection.run(
    `INSERT INTO ${DAYS_TABLE}
       SELECT $table, d.day::DATE, coalesce(c.n, 0), now(), d.day::DATE >= $today::DATE
       FROM range($from::DATE, $to::DATE + INTERVAL 1 DAY, INTERVAL 1 DAY) AS d(day)
       LEFT JOIN (SELECT ${day} AS day, count(*) AS n FROM ${quoteIdentifier(table)}
                  WHERE ${eventDaysSql('event_time', {from, to}, timezone)} GROUP BY 1) AS c ON c.day = d.day::DATE`,
    {from, table, to, today},
  )
}

/** Records a sync's settings (and, once it completed, when), in the caller's transaction. */
export async function recordSync(
  connection: DuckDBConnection,
  sync: {
    completed: boolean
    filters?: TableFilters
    from?: string
    kind: RecordKind
    /** When the completed sync counts as made (default: now). */
    syncedAt?: Date
    table: string
    timezone?: string
  },
): Promise<void> {
  for (const sql of createStateTablesSql) await connection.run(sql)
  const previous = await connection.runAndReadAll(
    `SELECT last_sync_at FROM ${SYNCS_TABLE} WHERE lower(table_name) = lower($table)`,
    {table: sync.table},
  )
  const [row] = previous.getRows()
  await connection.run(`DELETE FROM ${SYNCS_TABLE} WHERE lower(table_name) = lower($table)`, {table: sync.table})
  await connection.run(
    `INSERT INTO ${SYNCS_TABLE} VALUES ($table, $kind, $from::DATE, $filters::JSON, now(),
       $last::TIMESTAMPTZ)`,
    {
      filters: sync.filters ? stringifyLossless(sync.filters) : null,
      from: sync.from ?? null,
      kind: sync.kind,
      last: sync.completed
        ? (sync.syncedAt ?? new Date()).toISOString()
        : row && row[0] !== null
          ? String(row[0])
          : null,
      table: sync.table,
    },
  )
}

/** Forgets a table's days and syncs (dropped, or replaced), in the caller's transaction. */
export async function forgetTableState(connection: DuckDBConnection, table: string): Promise<void> {
  for (const name of [DAYS_TABLE, SYNCS_TABLE]) {
    if (await exists(connection, name)) {
      await connection.run(`DELETE FROM ${name} WHERE lower(table_name) = lower($table)`, {table})
    }
  }
}

/**
 * What a committed fetch:events tells the sync state, in its transaction: a replaced table's state
 * goes, and the fetched days are recorded (not those of a fetch cut short by a limit).
 */
export async function recordFetchState(
  connection: DuckDBConnection,
  fetch: {
    dateRange?: {from: string; to: string}
    filters: Readonly<Record<string, unknown>>
    kind: RecordKind
    mode: string
    table: string
    timezone?: string
  },
): Promise<void> {
  if (fetch.mode !== 'append') await forgetTableState(connection, fetch.table)
  const limited = fetch.filters.limit !== undefined && fetch.filters.limit !== null
  if (fetch.kind !== 'events' || !fetch.dateRange || limited) return
  await recordDays(connection, {
    ...fetch.dateRange,
    table: fetch.table,
    timezone: fetch.timezone,
    today: projectToday(fetch.timezone ?? 'UTC'),
  })
}
