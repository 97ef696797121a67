import type {Writable} from 'node:stream'

import {type DuckDBType, DuckDBTypeId} from '@duckdb/node-api'

import type {SqlFormat} from './formats.js'

import {noteLockWait} from '../duckdb/database.js'
import {sqlError} from '../duckdb/errors.js'
import {queryChunks} from './query.js'
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
  const reporter = resultReporter(input.format, input.out)
  let rows = 0
  let begun = false
  try {
    const chunks = queryChunks({onLockWait: noteLockWait, path: input.path, sql: input.sql, write: input.write})
    for await (const chunk of chunks) {
      if (!begun) {
        await reporter.begin(chunk.names.map((name, i) => resultColumn(name, chunk.types[i])))
        begun = true
      }

      rows += chunk.rows.length
      if (chunk.rows.length > 0) await reporter.rows(chunk.rows)
    }

    await reporter.end()
  } catch (error) {
    // An output that cannot be written, too: one line, exit 1 (a closed reader passes through).
    throw sqlError(error, input.write)
  }

  return {rows}
}
