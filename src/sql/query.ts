import {type DuckDBType, type DuckDBValue} from '@duckdb/node-api'
import {UsageError} from 'mpx-mixpanel-core/internal/errors.js'

import {openDatabase, READER_LOCK_WAIT_MS} from '../duckdb/database.js'
import {sqlError, type SqlErrorWords} from '../duckdb/errors.js'

export interface QueryInput {
  /** Told once when the database is busy and the query waits for it. */
  readonly onLockWait?: (message: string) => void
  /** The database file. */
  readonly path: string
  /** Stops between chunks of the result (the database is closed, and the signal's reason thrown). */
  readonly signal?: AbortSignal
  readonly sql: string
  /** How a statement refused by a read-only database is explained (the CLI's words or the library's). */
  readonly words?: SqlErrorWords
  /** Open the database read-write (and create it when missing); read-only otherwise. */
  readonly write: boolean
}

/** One chunk of the last statement's result: its columns (the same in every chunk) and rows. */
export interface QueryChunk {
  readonly names: readonly string[]
  readonly rows: readonly DuckDBValue[][]
  readonly types: readonly DuckDBType[]
}

/**
 * Runs SQL (one or more statements) and yields the last one's result chunk by chunk as DuckDB
 * streams it, the first chunk (maybe without rows) as soon as the columns are known. The database
 * is open only while the result is read: closed at the end, on an error, or when the reader stops.
 *
 * @yields Chunks of rows, in order.
 */
export async function* queryChunks(input: QueryInput): AsyncGenerator<QueryChunk, void, undefined> {
  // DuckDB answers SQL without a statement with a bare "Error in native callback".
  if (!/[^\s;]/.test(input.sql)) {
    throw new UsageError(
      `The query ${JSON.stringify(input.sql)} holds no SQL: give the statement to run, e.g. "SELECT 1"`,
    )
  }

  input.signal?.throwIfAborted()
  const database = await openDatabase(input.path, {
    create: input.write,
    lockWaitMs: READER_LOCK_WAIT_MS,
    onLockWait: input.onLockWait,
    readOnly: !input.write,
  })
  try {
    let names: string[]
    let types: DuckDBType[]
    let chunks: AsyncIterable<{getRows(): DuckDBValue[][]}>
    try {
      const result = await database.connection.stream(input.sql)
      names = result.deduplicatedColumnNames()
      types = result.columnTypes()
      chunks = result
    } catch (error) {
      throw sqlError(error, input.write, input.words)
    }

    yield {names, rows: [], types}
    const iterator = chunks[Symbol.asyncIterator]()
    for (;;) {
      input.signal?.throwIfAborted()
      let next: IteratorResult<{getRows(): DuckDBValue[][]}>
      try {
        next = await iterator.next()
      } catch (error) {
        throw sqlError(error, input.write, input.words)
      }

      if (next.done) return
      yield {names, rows: next.value.getRows(), types}
    }
  } finally {
    database.close()
  }
}
