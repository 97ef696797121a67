import type {DuckDBConnection} from '@duckdb/node-api'

import {NotFoundError, UsageError} from 'mpx-mixpanel-core/internal/errors.js'
import {dayRanges, formatRanges, gapRanges} from 'mpx-mixpanel-core/internal/mixpanel/dates.js'

import {
  findTable,
  noteLockWait,
  openDatabase,
  quoteIdentifier,
  quoteLiteral,
  READER_LOCK_WAIT_MS,
  tableColumns,
} from './database.js'
import {DAYS_TABLE, forgetTableState, SYNCS_TABLE} from './day-state.js'
import {FETCHES_TABLE, forgetFetches} from './fetches.js'
import {forgetRejects, rejectCounts, REJECTS_TABLE} from './rejects.js'
import {plainText} from './values.js'

/** A table as `mpx tables` lists it; the fetch fields are null for tables mpx did not fetch. */
export interface TableSummary {
  /** Last committed fetch, ISO 8601 UTC. */
  readonly fetchedAt: null | string
  /** Fetches that made the table (one, plus one per append). */
  readonly fetches: number
  /** First day fetched (events), `YYYY-MM-DD`. */
  readonly from: null | string
  readonly kind: null | string
  readonly name: string
  /** Records fetches for this table quarantined (could not store): they are in `rejectedIn`. */
  readonly rejected: number
  /** The table holding them (`_mpx_rejects`, one row each, `table_name` this table), or null when none. */
  readonly rejectedIn: null | string
  readonly rows: number
  /** Last day fetched (events). */
  readonly to: null | string
}

/** A table's days as mpx recorded them (fetch:events and sync:events), as ranges `FROM..TO` or `DAY`. */
export interface TableDays {
  /** The days held, as ranges of consecutive days. */
  readonly covered: string[]
  /** Days between the first and the last held that were never fetched. */
  readonly gaps: string[]
  /** Days fetched while they were in progress (the next sync fetches them again). */
  readonly inProgress: string[]
}

/** A table as `mpx tables` lists it, with its days and syncs when mpx recorded them. */
export interface TableListing extends TableSummary {
  /** Null for tables whose days mpx did not record (profiles, tables fetched by an older mpx). */
  readonly days: null | TableDays
  /** When its last complete sync:events finished, ISO 8601 UTC. */
  readonly lastSync: null | string
}

export interface ColumnDescription {
  readonly name: string
  readonly nullable: boolean
  readonly type: string
}

export interface KeyDescription {
  readonly key: string
  /** Rows (of those examined) whose object has the key. */
  readonly rows: number
  /** JSON types seen for the key, e.g. `VARCHAR`, `UBIGINT`, `OBJECT`. */
  readonly types: string[]
}

export interface TableDescription extends TableListing {
  readonly columns: ColumnDescription[]
  /** For each JSON column, its most common top-level keys. */
  readonly keys: Record<string, {examined: number; keys: KeyDescription[]}>
}

/** Rows examined for the most common keys: a sample beyond this, so describe stays quick. */
export const KEY_SAMPLE_ROWS = 100_000

async function withDatabase<T>(
  path: string,
  readOnly: boolean,
  work: (connection: DuckDBConnection) => Promise<T>,
): Promise<T> {
  const database = await openDatabase(path, {lockWaitMs: READER_LOCK_WAIT_MS, onLockWait: noteLockWait, readOnly})
  try {
    return await work(database.connection)
  } finally {
    database.close()
  }
}

async function fetchesTableExists(connection: DuckDBConnection): Promise<boolean> {
  return (await findTable(connection, FETCHES_TABLE)) !== undefined
}

async function summaries(connection: DuckDBConnection, only?: string): Promise<TableListing[]> {
  const names = (
    await connection.runAndReadAll(
      `SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'
         AND NOT temporary AND NOT internal
         AND table_name NOT IN ('${FETCHES_TABLE}', '${REJECTS_TABLE}', '${DAYS_TABLE}', '${SYNCS_TABLE}')
         ORDER BY table_name`,
    )
  )
    .getRows()
    .map(([name]) => String(name))
    .filter((name) => only === undefined || name === only)
  if (names.length === 0) return []

  // count(*) reads DuckDB's row-group metadata, not the rows.
  const counts = await connection.runAndReadAll(
    names
      .map((name) => `SELECT ${quoteLiteral(name)} AS name, count(*) AS n FROM ${quoteIdentifier(name)}`)
      .join(' UNION ALL '),
  )
  const rowsByName = new Map(counts.getRows().map(([name, n]) => [String(name), Number(n)]))

  const fetchesByName = new Map<
    string,
    {fetchedAt: string; fetches: number; from: null | string; kind: string; to: null | string}
  >()
  if (await fetchesTableExists(connection)) {
    const fetches = await connection.runAndReadAll(
      `SELECT lower(table_name), arg_max(kind, finished_at), min(from_date), max(to_date), max(finished_at), count(*)
         FROM ${FETCHES_TABLE} GROUP BY lower(table_name)`,
    )
    for (const [name, kind, from, to, fetchedAt, count] of fetches.getRows()) {
      fetchesByName.set(String(name), {
        fetchedAt: plainText(fetchedAt),
        fetches: Number(count),
        from: from === null ? null : plainText(from),
        kind: String(kind),
        to: to === null ? null : plainText(to),
      })
    }
  }

  const daysByName = await recordedDays(connection)
  const rejected = await rejectCounts(connection)
  return names.map((name) =>
    listing(
      name,
      rowsByName.get(name) ?? 0,
      fetchesByName.get(name.toLowerCase()),
      daysByName.get(name.toLowerCase()),
      rejected.get(name.toLowerCase()) ?? 0,
    ),
  )
}

/** A table's line: its days as recorded day by day where they are, else as its fetches' ranges. */
function listing(
  name: string,
  rows: number,
  fetch: undefined | {fetchedAt: string; fetches: number; from: null | string; kind: string; to: null | string},
  days: RecordedDays | undefined,
  rejected: number,
): TableListing {
  const fetched = fetch ?? {fetchedAt: undefined, fetches: 0, from: null, kind: null, to: null}
  const recorded: Partial<RecordedDays> = days ?? {}
  const latest = [fetched.fetchedAt, recorded.fetchedAt].filter((at) => at !== undefined).sort()
  return {
    days: recorded.days ?? null,
    fetchedAt: latest.at(-1) ?? null,
    fetches: fetched.fetches,
    from: recorded.first ?? fetched.from,
    kind: fetched.kind ?? recorded.kind ?? null,
    lastSync: recorded.lastSync ?? null,
    name,
    rejected,
    rejectedIn: rejected > 0 ? REJECTS_TABLE : null,
    rows,
    to: recorded.last ?? fetched.to,
  }
}

interface RecordedDays {
  readonly days: null | TableDays
  readonly fetchedAt?: string
  readonly first?: string
  readonly kind?: string
  readonly last?: string
  readonly lastSync: null | string
}

/** Each table's recorded days and last sync, by lower-case name. */
async function recordedDays(connection: DuckDBConnection): Promise<Map<string, RecordedDays>> {
  const found = new Map<string, RecordedDays>()
  if (await findTable(connection, DAYS_TABLE)) {
    const reader = await connection.runAndReadAll(
      `SELECT lower(table_name), string_agg(CAST(day AS VARCHAR), ',' ORDER BY day),
         string_agg(CAST(day AS VARCHAR), ',' ORDER BY day) FILTER (WHERE in_progress),
         strftime(max(fetched_at), '%Y-%m-%dT%H:%M:%S.%fZ')
         FROM ${DAYS_TABLE} GROUP BY 1`,
    )
    for (const [name, days, inProgress, fetchedAt] of reader.getRows()) {
      const held = String(days).split(',')
      found.set(String(name), {
        days: {
          covered: dayRanges(held).map((range) => formatRanges([range])),
          gaps: gapRanges(held).map((range) => formatRanges([range])),
          inProgress: inProgress === null ? [] : String(inProgress).split(','),
        },
        fetchedAt: String(fetchedAt),
        first: held[0],
        kind: 'events',
        last: held.at(-1),
        lastSync: null,
      })
    }
  }

  if (await findTable(connection, SYNCS_TABLE)) {
    const reader = await connection.runAndReadAll(
      `SELECT lower(table_name), kind, strftime(last_sync_at, '%Y-%m-%dT%H:%M:%S.%fZ') FROM ${SYNCS_TABLE}`,
    )
    for (const [name, kind, lastSync] of reader.getRows()) {
      const entry = found.get(String(name)) ?? {days: null, lastSync: null}
      found.set(String(name), {...entry, kind: String(kind), lastSync: lastSync === null ? null : String(lastSync)})
    }
  }

  return found
}

/** `mpx tables`: every table with its row count and what mpx knows of how it was fetched. */
export async function listTables(path: string): Promise<TableListing[]> {
  return withDatabase(path, true, (connection) => summaries(connection))
}

async function existingTable(connection: DuckDBConnection, name: string, path: string): Promise<string> {
  const table = await findTable(connection, name)
  if (!table || table === FETCHES_TABLE) {
    throw new NotFoundError(`No table ${JSON.stringify(name)} in ${path}: see mpx tables`)
  }

  return table
}

/**
 * The most common top-level keys of a JSON column's objects; over a Bernoulli sample of about
 * KEY_SAMPLE_ROWS rows when the table is bigger (it reads fewer values than a reservoir sample).
 */
async function commonKeys(
  connection: DuckDBConnection,
  {column, limit, rows, table}: {column: string; limit: number; rows: number; table: string},
): Promise<{examined: number; keys: KeyDescription[]}> {
  const percent = (100 * KEY_SAMPLE_ROWS) / Math.max(rows, 1)
  const sample = rows > KEY_SAMPLE_ROWS ? ` USING SAMPLE ${percent.toFixed(6)} PERCENT (bernoulli)` : ''
  const reader = await connection.runAndReadAll(
    `WITH examined AS MATERIALIZED (SELECT ${quoteIdentifier(column)} AS value FROM ${quoteIdentifier(table)}${sample})
     SELECT entry.key, count(*) AS n, list(DISTINCT entry.type ORDER BY entry.type) AS value_types,
       (SELECT count(*) FROM examined) AS examined
       FROM examined AS t, json_each(t.value) AS entry
       WHERE json_type(t.value) = 'OBJECT'
       GROUP BY entry.key ORDER BY n DESC, entry.key LIMIT ${limit}`,
  )
  const found = reader.getRows()
  return {
    examined: found.length > 0 ? Number(found[0][3]) : Math.min(rows, KEY_SAMPLE_ROWS),
    keys: found.map(([key, n, types]) => ({
      key: String(key),
      rows: Number(n),
      types: (JSON.parse(plainText(types)) as unknown[]).map(String),
    })),
  }
}

/** `mpx tables:describe`: columns, and the most common keys of JSON columns such as `properties`. */
export async function describeTable(path: string, name: string, keyLimit = 20): Promise<TableDescription> {
  return withDatabase(path, true, async (connection) => {
    const table = await existingTable(connection, name, path)
    const [summary] = await summaries(connection, table)
    const columns = await tableColumns(connection, table)
    const keys: TableDescription['keys'] = {}
    for (const column of columns.filter((candidate) => candidate.type === 'JSON')) {
      keys[column.name] = await commonKeys(connection, {
        column: column.name,
        limit: keyLimit,
        rows: summary.rows,
        table,
      })
    }

    return {...summary, columns, keys}
  })
}

/** `mpx tables:drop`: the table and mpx's record of its fetches, in one transaction. */
export async function dropTable(path: string, name: string): Promise<TableSummary> {
  if (name.toLowerCase().startsWith('_mpx_')) {
    throw new UsageError(
      `${JSON.stringify(name)} is mpx's own table: drop it with mpx sql --write if you really mean to`,
    )
  }

  return withDatabase(path, false, async (connection) => {
    const table = await existingTable(connection, name, path)
    const [summary] = await summaries(connection, table)
    await connection.run('BEGIN TRANSACTION')
    try {
      await connection.run(`DROP TABLE ${quoteIdentifier(table)}`)
      await forgetFetches(connection, table)
      await forgetRejects(connection, table)
      await forgetTableState(connection, table)
      await connection.run('COMMIT')
    } catch (error) {
      await connection.run('ROLLBACK').catch(() => {})
      throw error
    }

    return summary
  })
}
