import {type DuckDBType, type DuckDBValue, JSDuckDBValueConverter} from '@duckdb/node-api'
import {parseLossless} from 'mpx-mixpanel-core/internal/records/json.js'

import type {QueryChunk} from '../sql/query.js'

/** A row of a query's result, by column name. */
export type Row = Record<string, unknown>

/** A DuckDB value as JavaScript: big integers as bigint, times as Date, JSON parsed losslessly. */
function jsValue(value: DuckDBValue, type: DuckDBType): unknown {
  if (value === null) return null
  if (type.alias === 'JSON' && typeof value === 'string') return parseLossless(value)
  // eslint-disable-next-line new-cap -- DuckDB names its converter functions like classes
  return JSDuckDBValueConverter(value, type, JSDuckDBValueConverter)
}

/**
 * The rows of a query's chunks as objects, one at a time.
 *
 * @yields One row.
 */
export async function* rowsOf(chunks: AsyncIterable<QueryChunk>): AsyncGenerator<Row, void, undefined> {
  for await (const chunk of chunks) {
    for (const values of chunk.rows) {
      const row: Row = {}
      for (const [i, name] of chunk.names.entries()) row[name] = jsValue(values[i], chunk.types[i])
      yield row
    }
  }
}
