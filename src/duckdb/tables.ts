import type {DuckDBConnection} from '@duckdb/node-api'

import {NotFoundError, UsageError} from '../errors.js'
import {findTable, openDatabase, quoteIdentifier, quoteLiteral, tableColumns} from './database.js'
import {FETCHES_TABLE, forgetFetches} from './fetches.js'
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
  readonly rows: number
  /** Last day fetched (events). */
  readonly to: null | string
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

export interface TableDescription extends TableSummary {
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
  const database = await openDatabase(path, {readOnly})
  try {
    return await work(database.connection)
  } finally {
    database.close()
  }
}

async function fetchesTableExists(connection: DuckDBConnection): Promise<boolean> {
  return (await findTable(connection, FETCHES_TABLE)) !== undefined
}

async function summaries(connection: DuckDBConnection, only?: string): Promise<TableSummary[]> {
  const names = (
    await connection.runAndReadAll(
      `SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'
         AND NOT temporary AND NOT internal AND table_name <> '${FETCHES_TABLE}' ORDER BY table_name`,
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

  return names.map((name) => {
    const fetch = fetchesByName.get(name.toLowerCase())
    return {
      fetchedAt: fetch?.fetchedAt ?? null,
      fetches: fetch?.fetches ?? 0,
      from: fetch?.from ?? null,
      kind: fetch?.kind ?? null,
      name,
      rows: rowsByName.get(name) ?? 0,
      to: fetch?.to ?? null,
    }
  })
}

/** `mpx tables`: every table with its row count and what mpx knows of how it was fetched. */
export async function listTables(path: string): Promise<TableSummary[]> {
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
      await connection.run('COMMIT')
    } catch (error) {
      await connection.run('ROLLBACK').catch(() => {})
      throw error
    }

    return summary
  })
}
