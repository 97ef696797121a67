import type {Writable} from 'node:stream'

import {type DuckDBType, DuckDBTypeId} from '@duckdb/node-api'
import {UsageError} from 'mpx-mixpanel-core/internal/errors.js'

import type {SqlFormat} from './formats.js'

import {noteLockWait, openDatabase, READER_LOCK_WAIT_MS} from '../duckdb/database.js'
import {sqlError} from '../duckdb/errors.js'
import {type ResultColumn, resultReporter} from './result-output.js'

export interface RunSqlInput {
  readonly format: SqlFormat
  readonly out: Writable
  /** The database file. */
  readonly path: string
  readonly sql: string
  /** Open the database read-write (and create it when missing); read-only otherwise. */
  readonly write: boolean
}

const numericTypes = new Set<DuckDBTypeId>([
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.DECIMAL,
  DuckDBTypeId.DOUBLE,
  DuckDBTypeId.FLOAT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.UHUGEINT,
  DuckDBTypeId.UINTEGER,
  DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UTINYINT,
])

function resultColumn(name: string, type: DuckDBType): ResultColumn {
  return {json: type.alias === 'JSON', name, numeric: numericTypes.has(type.typeId)}
}

/** `mpx sql`: runs SQL (one or more statements) and prints the last one's result as it streams in. */
export async function runSql(input: RunSqlInput): Promise<{rows: number}> {
  // DuckDB answers SQL without a statement with a bare "Error in native callback".
  if (!/[^\s;]/.test(input.sql)) {
    throw new UsageError(
      `The query ${JSON.stringify(input.sql)} holds no SQL: give the statement to run, e.g. "SELECT 1"`,
    )
  }

  const database = await openDatabase(input.path, {
    create: input.write,
    lockWaitMs: READER_LOCK_WAIT_MS,
    onLockWait: noteLockWait,
    readOnly: !input.write,
  })
  try {
    const reporter = resultReporter(input.format, input.out)
    let rows = 0
    try {
      const result = await database.connection.stream(input.sql)
      const types = result.columnTypes()
      await reporter.begin(result.deduplicatedColumnNames().map((name, i) => resultColumn(name, types[i])))
      for await (const chunk of result) {
        const chunkRows = chunk.getRows()
        rows += chunkRows.length
        await reporter.rows(chunkRows)
      }
    } catch (error) {
      throw sqlError(error, input.write)
    }

    await reporter.end()
    return {rows}
  } finally {
    database.close()
  }
}
