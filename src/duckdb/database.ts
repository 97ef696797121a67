import {type DuckDBConnection, DuckDBInstance} from '@duckdb/node-api'
import {MpxError, NotFoundError, UsageError} from 'mpx-mixpanel-core/internal/errors.js'
import {existsSync} from 'node:fs'
import {mkdir} from 'node:fs/promises'
import {dirname, resolve} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {markWaiting} from './waiting.js'

/**
 * DuckDB's memory_limit for mpx's connections. DuckDB's own default is 80% of RAM. Loading needs
 * little: the same speed at 128 MB as at 1 GB (JSON files of 32 MB); what grows with the row count
 * (a long transaction's row groups, deduplication's hash table) spills to a temporary file beyond
 * the limit. Measured peak RSS of a whole 3M-event load: ~630 MB at 128 MB, ~680 MB at 256 MB,
 * ~940 MB at 512 MB; DuckDB's allocations outside its buffer pool are most of the rest.
 */
export const DEFAULT_MEMORY_LIMIT = '256MB'

export interface OpenDatabaseOptions {
  /** Create the file (and its directory) when missing; refuse with NotFoundError otherwise. */
  readonly create?: boolean
  /**
   * While another process holds the file (a sync commits chunk by chunk), try again for up to this
   * long instead of failing at once (default 0); `onLockWait` is told once, when waiting starts.
   */
  readonly lockWaitMs?: number
  /** DuckDB `memory_limit`, e.g. `1GB` (default DEFAULT_MEMORY_LIMIT). */
  readonly memoryLimit?: string
  readonly onLockWait?: (message: string) => void
  /** Open with access_mode READ_ONLY: any write fails, and other readers may open it too. */
  readonly readOnly?: boolean
  /** DuckDB worker threads (default: one per core). */
  readonly threads?: number
}

/** One open database file and mpx's connection to it. */
export interface Database {
  close(): void
  readonly connection: DuckDBConnection
  readonly path: string
}

/** A SQL identifier, always quoted: a name can never end the identifier and start a statement. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** A SQL string literal. */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`
}

/** First line of a DuckDB error, without the `Error:` noise. */
export function duckdbMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.split('\n')[0].trim()
}

/** DuckDB's "Could not set lock on file" means another process has the database open for writing. */
function openError(error: unknown, path: string): MpxError {
  const message = duckdbMessage(error)
  if (/could not set lock.*open in this process/i.test(message)) {
    return new MpxError(
      `The database ${path} is in use in this process (a fetch or sync into it runs): try again when it has finished`,
    )
  }

  if (/could not set lock/i.test(message)) {
    const pid = /PID (\d+)/.exec(message)?.[1]
    return new MpxError(
      `The database ${path} is in use by another process${pid ? ` (PID ${pid})` : ''}, perhaps a fetch: try again when it has finished`,
      undefined,
      {cause: error},
    )
  }

  return new MpxError(`Cannot open the database ${path}: ${message}`, undefined, {cause: error})
}

/**
 * This process's own open instances of each file (by resolved path). DuckDB's file lock keeps
 * other processes out, not this one: a second instance of a file in one process opens, and two
 * writers would damage it. So a library that syncs and queries one file at once waits here as
 * another process would.
 */
const openHere = new Map<string, {readOnly: number; readWrite: number}>()

/** Why this process may not open `path` now (it has it open for writing, or open at all and wants to write). */
function busyHere(path: string, readOnly: boolean): string | undefined {
  const open = openHere.get(resolve(path))
  // countOpen forgets a file once nothing of this process has it open.
  if (!open || (readOnly && open.readWrite === 0)) return undefined
  return `Could not set lock on file "${path}": it is open in this process`
}

function countOpen(path: string, readOnly: boolean, by: -1 | 1): void {
  const key = resolve(path)
  const open = openHere.get(key) ?? {readOnly: 0, readWrite: 0}
  if (readOnly) open.readOnly += by
  else open.readWrite += by
  if (open.readOnly + open.readWrite === 0) openHere.delete(key)
  else openHere.set(key, open)
}

/**
 * Opens a database file with mpx's settings: a bounded memory_limit and UTC as the session time
 * zone (stored times are instants; UTC makes date_trunc and the like agree with the stream).
 */
export async function openDatabase(path: string, options: OpenDatabaseOptions = {}): Promise<Database> {
  if (!existsSync(path)) {
    if (!options.create || options.readOnly) {
      throw new NotFoundError(`No database at ${path}: fetch some data first (mpx fetch:events FROM TO), or pass --db`)
    }

    try {
      await mkdir(dirname(path), {recursive: true})
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? duckdbMessage(error)
      throw new MpxError(
        `Cannot create the directory of the database ${path} (${code}): check the path and its permissions`,
        undefined,
        {cause: error},
      )
    }
  }

  const settings: Record<string, string> = {
    access_mode: options.readOnly ? 'READ_ONLY' : 'READ_WRITE',

    memory_limit: options.memoryLimit ?? DEFAULT_MEMORY_LIMIT,
  }
  if (options.threads !== undefined) settings.threads = String(options.threads)
  let instance: DuckDBInstance
  try {
    instance = await createInstance(path, settings, options)
  } catch (error) {
    if (/memory_limit|memory limit/i.test(duckdbMessage(error))) {
      throw new UsageError(`memory_limit "${options.memoryLimit}" is not a DuckDB memory size (e.g. 512MB, 2GB)`)
    }

    throw openError(error, path)
  }

  const readOnly = options.readOnly ?? false
  let connection: DuckDBConnection | undefined
  let closed = false
  const close = () => {
    if (closed) return
    closed = true
    countOpen(path, readOnly, -1)
    connection?.closeSync()
    instance.closeSync()
  }

  try {
    connection = await instance.connect()
    await connection.run(`SET TimeZone = 'UTC'`)
  } catch (error) {
    close()
    throw openError(error, path)
  }

  return {
    close,
    connection,
    path,
  }
}

const LOCK_RETRY_MS = 200

/**
 * How long readers (mpx sql, mpx tables) and fetches wait for a database another process holds: a
 * sync that holds it lets go within a quarter of a second of seeing them wait (held-database.ts),
 * or, in a commit, once the commit is done.
 */
export const READER_LOCK_WAIT_MS = 15_000

/** The note a reader writes while it waits for the lock. */
export function noteLockWait(message: string): void {
  process.stderr.write(`Note: ${message}\n`)
}

/** DuckDB's open, tried again while another process holds the file's lock, up to `lockWaitMs`. */
async function createInstance(
  path: string,
  settings: Record<string, string>,
  options: OpenDatabaseOptions,
): Promise<DuckDBInstance> {
  const deadline = Date.now() + (options.lockWaitMs ?? 0)
  let unmark: (() => Promise<void>) | undefined
  try {
    for (;;) {
      try {
        const readOnly = settings.access_mode === 'READ_ONLY'
        const busy = busyHere(path, readOnly)
        if (busy) throw new Error(busy)
        // Counted before DuckDB opens it, so that no other open of this process starts meanwhile.
        countOpen(path, readOnly, 1)
        try {
          return await DuckDBInstance.create(path, settings)
        } catch (error) {
          countOpen(path, readOnly, -1)
          throw error
        }
      } catch (error) {
        if (!/could not set lock/i.test(duckdbMessage(error)) || Date.now() >= deadline) throw error
        if (!unmark) {
          // Said once; the mark tells a sync that holds the file to let go of it.
          unmark = await markWaiting(path)
          const message = duckdbMessage(error)
          const pid = /PID (\d+)/.exec(message)?.[1]
          const holder = /open in this process/.test(message)
            ? 'in use in this process (a fetch or sync into it runs)'
            : `in use by another process${pid ? ` (PID ${pid})` : ''}`
          options.onLockWait?.(`${path} is ${holder}: waiting up to ${Math.round((options.lockWaitMs ?? 0) / 1000)} s`)
        }

        await sleep(LOCK_RETRY_MS)
      }
    }
  } finally {
    await unmark?.()
  }
}

/** A table of the main schema as DuckDB names it, found case-insensitively (as SQL does). */
export async function findTable(connection: DuckDBConnection, name: string): Promise<string | undefined> {
  const reader = await connection.runAndReadAll(
    `SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'
       AND NOT temporary AND lower(table_name) = lower($name)`,
    {name},
  )
  const [row] = reader.getRows()
  return row ? String(row[0]) : undefined
}

/** Column names and types of a table, in order. */
export async function tableColumns(
  connection: DuckDBConnection,
  table: string,
): Promise<Array<{name: string; nullable: boolean; type: string}>> {
  const reader = await connection.runAndReadAll(
    `SELECT column_name, data_type, is_nullable FROM duckdb_columns()
       WHERE database_name = current_database() AND schema_name = 'main' AND table_name = $table
       ORDER BY column_index`,
    {table},
  )
  return reader.getRows().map(([name, type, nullable]) => ({
    name: String(name),
    nullable: Boolean(nullable),
    type: String(type),
  }))
}
