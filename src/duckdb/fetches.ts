import type {DuckDBConnection} from '@duckdb/node-api'

import {stringifyLossless} from 'mpx-mixpanel-core/internal/records/json.js'

import type {SinkTarget} from '../sinks/sink.js'

/** mpx's record of the fetches that made the tables in a database, one row per committed fetch. */
export const FETCHES_TABLE = '_mpx_fetches'

export const createFetchesTableSql = `CREATE TABLE IF NOT EXISTS ${FETCHES_TABLE} (
  table_name VARCHAR NOT NULL,
  kind VARCHAR NOT NULL,
  mode VARCHAR NOT NULL,
  from_date DATE,
  to_date DATE,
  filters JSON,
  deduplicated BOOLEAN NOT NULL,
  row_count BIGINT NOT NULL,
  started_at TIMESTAMPTZ NOT NULL,
  finished_at TIMESTAMPTZ NOT NULL
)`

/** A committed fetch: what it targeted (its date range, filters, kind, mode and table), and what it did. */
export interface FetchRecord extends Pick<SinkTarget, 'dateRange' | 'filters' | 'kind' | 'mode' | 'table'> {
  readonly deduplicated: boolean
  /** Rows this fetch added to (or replaced in) the table. */
  readonly rowCount: number
  readonly startedAt: Date
}

/** Records a fetch, in the caller's transaction. A replaced table's earlier fetches go with it. */
export async function recordFetch(connection: DuckDBConnection, fetch: FetchRecord): Promise<void> {
  if (fetch.mode !== 'append') await forgetFetches(connection, fetch.table)
  await connection.run(
    `INSERT INTO ${FETCHES_TABLE} VALUES ($table, $kind, $mode, $from::DATE, $to::DATE, $filters::JSON, $deduplicated,
       $rows, $started::TIMESTAMPTZ, now())`,
    {
      deduplicated: fetch.deduplicated,
      filters: stringifyLossless(fetch.filters),
      from: fetch.dateRange?.from ?? null,
      kind: fetch.kind,
      mode: fetch.mode,
      rows: BigInt(fetch.rowCount),
      started: fetch.startedAt.toISOString(),
      table: fetch.table,
      to: fetch.dateRange?.to ?? null,
    },
  )
}

/** Forgets the fetches of a table (dropped, or about to be replaced). */
export async function forgetFetches(connection: DuckDBConnection, table: string): Promise<void> {
  const exists = await connection.runAndReadAll(
    `SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'
       AND table_name = '${FETCHES_TABLE}'`,
  )
  if (Number(exists.getRows()[0][0]) === 0) return
  await connection.run(`DELETE FROM ${FETCHES_TABLE} WHERE lower(table_name) = lower($table)`, {table})
}
