import type {DuckDBConnection} from '@duckdb/node-api'
import type {TableSchema} from 'mpx-mixpanel-core/internal/records/schemas.js'

import type {WriteMode} from '../sinks/sink.js'

import {findTable} from './database.js'
import {createTableSql, insertJsonLinesSql} from './schemas.js'

/**
 * mpx's quarantine: the records fetches could not store, one row each, with the table they were
 * for (the columns of rejectJsonLine, in order). Created by the first fetch that rejects a record.
 */
export const REJECTS_TABLE = '_mpx_rejects'

export const rejectsSchema: TableSchema = {
  columns: [
    {name: 'table_name', notNull: true, type: 'VARCHAR'},
    {name: 'kind', notNull: true, type: 'VARCHAR'},
    /** The fetch, as `started_at` in _mpx_fetches. */
    {name: 'fetch_started_at', notNull: true, type: 'TIMESTAMPTZ'},
    /** The export request's days (events). */
    {name: 'from_date', type: 'DATE'},
    {name: 'to_date', type: 'DATE'},
    /** The record's day, when known. */
    {name: 'day', type: 'DATE'},
    {name: 'insert_id', type: 'VARCHAR'},
    {name: 'reason', notNull: true, type: 'VARCHAR'},
    /** The record exactly as Mixpanel sent it. */
    {name: 'line', notNull: true, type: 'VARCHAR'},
  ],
  key: [],
}

/** Forgets the rejects of a table (dropped, or replaced by a fetch). */
export async function forgetRejects(connection: DuckDBConnection, table: string): Promise<void> {
  if (!(await findTable(connection, REJECTS_TABLE))) return
  await connection.run(`DELETE FROM ${REJECTS_TABLE} WHERE lower(table_name) = lower($table)`, {table})
}

/**
 * A fetch's rejects (JSON lines in `file`, when it has some) into the rejects table, in the
 * caller's transaction. A fetch that creates or replaces a table first forgets the table's earlier
 * rejects, as _mpx_fetches forgets its earlier fetches.
 */
export async function storeRejects(
  connection: DuckDBConnection,
  {file, mode, table}: {file?: string; mode: WriteMode; table: string},
): Promise<void> {
  if (mode !== 'append') await forgetRejects(connection, table)
  if (!file) return
  await connection.run(
    createTableSql(REJECTS_TABLE, rejectsSchema).replace(/^CREATE TABLE/, 'CREATE TABLE IF NOT EXISTS'),
  )
  await connection.run(insertJsonLinesSql(REJECTS_TABLE, rejectsSchema, [file]))
}

/**
 * The rejects of a sync's chunk: those an earlier fetch of the same days left go (the chunk's days
 * are fetched anew, and their bad records come again), then the chunk's own come in; in the
 * caller's transaction.
 */
export async function replaceDayRejects(
  connection: DuckDBConnection,
  {file, from, table, to}: {file?: string; from: string; table: string; to: string},
): Promise<void> {
  if (await findTable(connection, REJECTS_TABLE)) {
    await connection.run(
      `DELETE FROM ${REJECTS_TABLE} WHERE lower(table_name) = lower($table)
         AND from_date >= $from::DATE AND to_date <= $to::DATE`,
      {from, table, to},
    )
  }

  await storeRejects(connection, {file, mode: 'append', table})
}

/** Rejected records per table (lower-cased name), for `mpx tables`. */
export async function rejectCounts(connection: DuckDBConnection): Promise<Map<string, number>> {
  if (!(await findTable(connection, REJECTS_TABLE))) return new Map()
  const reader = await connection.runAndReadAll(
    `SELECT lower(table_name), count(*) FROM ${REJECTS_TABLE} GROUP BY lower(table_name)`,
  )
  return new Map(reader.getRows().map(([name, count]) => [String(name), Number(count)]))
}
