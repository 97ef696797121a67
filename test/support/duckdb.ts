import type {DuckDBConnection} from '@duckdb/node-api'
import type {RecordKind} from 'mpx-mixpanel-core/internal/records/types.js'

import {schemas} from 'mpx-mixpanel-core/internal/records/schemas.js'

import type {SinkResult, SinkTarget} from '../../src/sinks/sink.js'

import {openDatabase} from '../../src/duckdb/database.js'
import {openTableWriter} from '../../src/duckdb/table-writer.js'
import {jsonText} from '../../src/duckdb/values.js'
import {recordBatch} from '../../src/fetch/batch.js'

export function target(overrides: Partial<SinkTarget> & {kind?: RecordKind} = {}): SinkTarget {
  return {
    dedupe: true,
    filters: {},
    format: 'normalized',
    kind: 'events',
    mode: 'create',
    options: {},
    schema: schemas[overrides.kind ?? 'events'],
    table: 'events',
    ...overrides,
  }
}

export interface StoreOptions {
  /** Abort after writing the batches instead of committing. */
  abort?: boolean
  batchSize?: number
  fileBytes?: number
  warn?: (message: string) => void
}

/** Runs normalized lines through the DuckDB table writer, as a fetch would. */
export async function store(
  path: string,
  lines: readonly string[],
  sinkTarget: SinkTarget,
  options: StoreOptions = {},
): Promise<SinkResult | undefined> {
  const writer = await openTableWriter(
    sinkTarget,
    {fileBytes: options.fileBytes, path},
    {warn: options.warn ?? (() => {})},
  )
  const size = options.batchSize ?? 100
  try {
    for (let start = 0; start < lines.length; start += size) {
      await writer.write(recordBatch(sinkTarget.kind, 'normalized', lines.slice(start, start + size)))
    }
  } catch (error) {
    await writer.abort(error)
    throw error
  }

  if (options.abort) {
    await writer.abort(new Error('test abort'))
    return undefined
  }

  return writer.commit()
}

/** Runs a query on a database (read-only) and returns each row as a JSON line, as `mpx sql` writes them. */
export async function queryLines(path: string, sql: string): Promise<string[]> {
  const database = await openDatabase(path, {readOnly: true})
  try {
    return await rowsAsJsonLines(database.connection, sql)
  } finally {
    database.close()
  }
}

/** Runs a query on an open connection and returns each row as a JSON line, as `mpx sql` writes them. */
export async function rowsAsJsonLines(connection: DuckDBConnection, sql: string): Promise<string[]> {
  const reader = await connection.runAndReadAll(sql)
  const names = reader.columnNames()
  const json = reader.columnTypes().map((type) => type.alias === 'JSON')
  return reader
    .getRows()
    .map((row) => `{${row.map((value, i) => `${JSON.stringify(names[i])}:${jsonText(value, json[i])}`).join(',')}}`)
}

/** The single value of a one-row, one-column query. */
export async function queryValue(path: string, sql: string): Promise<unknown> {
  const database = await openDatabase(path, {readOnly: true})
  try {
    const reader = await database.connection.runAndReadAll(sql)
    return reader.getRows()[0]?.[0]
  } finally {
    database.close()
  }
}
