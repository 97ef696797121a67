import type {DuckDBConnection} from '@duckdb/node-api'

import {MpxError} from 'mpx-mixpanel-core/internal/errors.js'
import {schemas, type TableSchema} from 'mpx-mixpanel-core/internal/records/schemas.js'
import {existsSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {availableParallelism, tmpdir} from 'node:os'
import {join} from 'node:path'

import type {RecordBatch, SinkContext, SinkResult, SinkTarget, SinkWriter} from '../sinks/sink.js'

import {RejectsFile} from '../sinks/rejects-file.js'
import {
  type Database,
  duckdbMessage,
  findTable,
  openDatabase,
  quoteIdentifier,
  READER_LOCK_WAIT_MS,
  tableColumns,
} from './database.js'
import {recordFetchState} from './day-state.js'
import {createFetchesTableSql, recordFetch} from './fetches.js'
import {NdjsonLoader} from './ndjson-loader.js'
import {REJECTS_TABLE, storeRejects} from './rejects.js'
import {columnList, createTableSql, keyMatch} from './schemas.js'

export interface TableWriterOptions {
  /** Bytes per NDJSON file handed to DuckDB (tests make it small to exercise rotation). */
  readonly fileBytes?: number
  readonly memoryLimit?: string
  /** The database file. */
  readonly path: string
  readonly threads?: number
}

/**
 * DuckDB's threads while loading: one core is left to the fetch (receiving, decompressing and
 * normalizing records), which otherwise competes with DuckDB for it (measured on 2 cores, 1M
 * events: 9.7 s with one DuckDB thread against 12.2 s with two).
 */
export function loadThreads(cores = availableParallelism()): number {
  return Math.max(1, cores - 1)
}

/**
 * Everything a fetch does to the database happens in one transaction, committed only when every
 * record has arrived: an error, an interrupt or a killed process leaves the database as it was
 * (DuckDB writes big uncommitted inserts to free blocks of the file, which an interrupted
 * transaction never links in). Records are loaded straight into the new table (create, replace),
 * or into a staging table that is merged into the existing one at the end (append).
 */
export async function openTableWriter(
  target: SinkTarget,
  options: TableWriterOptions,
  context: Partial<Pick<SinkContext, 'signal'>> & Pick<SinkContext, 'warn'>,
): Promise<SinkWriter> {
  if (target.format !== 'normalized') {
    throw new MpxError(`DuckDB tables store normalized records, not ${target.format} ones`)
  }

  const schema = schemas[target.kind]
  const startedAt = new Date()
  const createdFile = !existsSync(options.path)
  const database = await openDatabase(options.path, {
    create: true,
    // A sync holding the file lets go of it when it sees a process waiting (see waiting.ts).
    lockWaitMs: READER_LOCK_WAIT_MS,
    memoryLimit: options.memoryLimit,
    onLockWait: (message) => context.warn(message),
    threads: options.threads ?? loadThreads(),
  })
  const {connection} = database
  let loader: NdjsonLoader | undefined
  /** Rejected records wait in a file (there may be many) and go into the rejects table at commit. */
  let rejects: RejectsFile | undefined
  let rejectsDirectory: string | undefined
  let finished = false

  const close = async (rollback: boolean): Promise<void> => {
    if (finished) return
    finished = true
    await loader?.abort()
    await rejects?.abort()
    if (rejectsDirectory) await rm(rejectsDirectory, {force: true, recursive: true})
    if (rollback) await connection.run('ROLLBACK').catch(() => {})
    database.close()
    // A database file this fetch created and did not fill is not left behind.
    if (rollback && createdFile) {
      await Promise.all([rm(options.path, {force: true}), rm(`${options.path}.wal`, {force: true})])
    }
  }

  let plan: LoadPlan
  try {
    await connection.run('BEGIN TRANSACTION')
    await connection.run(createFetchesTableSql)
    plan = await prepareTables(connection, target, schema, database)
    loader = new NdjsonLoader({
      connection,
      fileBytes: options.fileBytes,
      onRepair(lines) {
        if (lines > 0) context.warn(`${lines} ${target.kind} had invalid Unicode (a lone surrogate), stored as U+FFFD`)
      },
      schema,
      table: plan.loadTable,
      threadsOnceFetched: options.threads ?? availableParallelism(),
    })
  } catch (error) {
    await close(true)
    throw error
  }

  return {
    async abort(): Promise<void> {
      await close(true)
    },

    async commit(): Promise<SinkResult> {
      let committed = false
      // An interrupt while the last loads, the duplicate check and the bookkeeping run stops
      // DuckDB at once and rolls back, as anywhere else in the fetch; not once COMMIT has begun.
      const {signal} = context
      const interrupt = () => connection.interrupt()
      signal?.addEventListener('abort', interrupt, {once: true})
      try {
        signal?.throwIfAborted()
        await loader.finish()
        const written = await plan.complete()
        const rejectsFile = await rejects?.commit()
        await storeRejects(connection, {file: rejectsFile, mode: target.mode, table: plan.table})
        await recordFetch(connection, {
          dateRange: target.dateRange,
          deduplicated: target.dedupe || target.kind === 'profiles',
          filters: target.filters,
          kind: target.kind,
          mode: target.mode,
          rowCount: written,
          startedAt,
          table: plan.table,
        })
        await recordFetchState(connection, {...target, table: plan.table})
        signal?.removeEventListener('abort', interrupt)
        signal?.throwIfAborted()
        await connection.run('COMMIT')
        committed = true
        await close(false)
        return {
          location: `${plan.table} in ${options.path}`,
          ...(rejects && rejects.count > 0
            ? {rejected: {count: rejects.count, location: `${REJECTS_TABLE} in ${options.path}`}}
            : {}),
          written,
        }
      } catch (error) {
        signal?.removeEventListener('abort', interrupt)
        await close(!committed)
        if (signal?.aborted) throw signal.reason
        if (error instanceof MpxError) throw error
        throw new MpxError(`Could not store the ${target.kind}: ${duckdbMessage(error)}`, undefined, {cause: error})
      }
    },

    async reject(records): Promise<void> {
      if (!rejects) {
        // Named as the loader's directories are, so that a killed fetch's are removed the same way.
        rejectsDirectory = await mkdtemp(join(tmpdir(), `mpx-load-${process.pid}-`))
        rejects = new RejectsFile(join(rejectsDirectory, 'rejects.jsonl'), 'create', {startedAt, table: plan.table})
      }

      await rejects.add(records)
    },

    async write(batch: RecordBatch): Promise<void> {
      await loader.add(batch)
    },
  }
}

interface LoadPlan {
  /** Moves staged rows into place and deduplicates; resolves to the rows the fetch added. */
  complete(): Promise<number>
  /** Where the loader puts rows. */
  readonly loadTable: string
  /** The target table's name as stored (an existing table keeps its own spelling). */
  readonly table: string
}

async function prepareTables(
  connection: DuckDBConnection,
  target: SinkTarget,
  schema: TableSchema,
  database: Database,
): Promise<LoadPlan> {
  const existing = await findTable(connection, target.table)
  if (existing && target.mode === 'create') {
    throw new MpxError(
      `Table "${existing}" already exists in ${database.path}: pass --replace to replace it, or --append to add to it`,
    )
  }

  if (existing && target.mode === 'append') {
    await checkColumns(connection, existing, schema, target)
    const staging = `_mpx_staging_${existing}`
    await connection.run(createTableSql(staging, schema, false))
    return {
      complete: () => mergeInto(connection, {fresh: false, schema, staging, table: existing, target}),
      loadTable: staging,
      table: existing,
    }
  }

  // Replace: the old table goes in the same transaction the new one is committed in.
  if (existing) await connection.run(`DROP TABLE ${quoteIdentifier(existing)}`)
  const {table} = target
  if (target.kind === 'profiles') {
    // Profiles have a primary key: stage them, then keep the last version of each.
    const staging = `_mpx_staging_${table}`
    await connection.run(createTableSql(staging, schema, false))
    await connection.run(createTableSql(table, schema))
    return {
      complete: () => mergeInto(connection, {fresh: true, schema, staging, table, target}),
      loadTable: staging,
      table,
    }
  }

  await connection.run(createTableSql(table, schema))
  return {
    async complete() {
      if (target.dedupe) await removeDuplicates(connection, table, schema)
      return countRows(connection, table)
    },
    loadTable: table,
    table,
  }
}

async function checkColumns(
  connection: DuckDBConnection,
  table: string,
  schema: TableSchema,
  target: SinkTarget,
): Promise<void> {
  const columns = await tableColumns(connection, table)
  const actual = columns.map((column) => `${column.name} ${column.type}`).join(', ')
  const expected = schema.columns
    .map((column) => `${column.name} ${column.type === 'TIMESTAMPTZ' ? 'TIMESTAMP WITH TIME ZONE' : column.type}`)
    .join(', ')
  if (actual !== expected) {
    throw new MpxError(
      `Table "${table}" does not hold ${target.kind} (its columns: ${actual}): append to another table, or --replace it`,
    )
  }
}

async function countRows(connection: DuckDBConnection, table: string): Promise<number> {
  const reader = await connection.runAndReadAll(`SELECT count(*) FROM ${quoteIdentifier(table)}`)
  return Number(reader.getRows()[0][0])
}

/**
 * Keeps the first (or last) row of each key. Duplicates are found with one aggregation over the key columns
 * and deleted only when there are some: deleting rows of a table written in the same transaction
 * makes DuckDB rewrite it at commit (measured: +35% on the load), so a clean export skips it.
 */
async function removeDuplicates(
  connection: DuckDBConnection,
  table: string,
  schema: TableSchema,
  keep: 'first' | 'last' = 'first',
): Promise<void> {
  const keys = schema.key.map((name) => quoteIdentifier(name)).join(', ')
  // A first pass over one hash of the key finds whether there can be any duplicate: grouping
  // integers costs less than half of grouping the strings (measured: 0.22 s against 0.56 s on 1M
  // events), and a clean export needs nothing more.
  const collisions = await connection.runAndReadAll(
    `SELECT count(*) FROM (SELECT hash(${keys}) AS h FROM ${quoteIdentifier(table)} GROUP BY h HAVING count(*) > 1)`,
  )
  if (Number(collisions.getRows()[0][0]) === 0) return
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE _mpx_duplicates AS
       SELECT ${keys}, ${keep === 'first' ? 'min' : 'max'}(rowid) AS keep FROM ${quoteIdentifier(table)} GROUP BY ${keys} HAVING count(*) > 1`,
  )
  const found = await connection.runAndReadAll('SELECT count(*) FROM _mpx_duplicates')
  if (Number(found.getRows()[0][0]) > 0) {
    await connection.run(
      `DELETE FROM ${quoteIdentifier(table)} AS t USING _mpx_duplicates AS d
         WHERE ${keyMatch(schema, 't', 'd')} AND t.rowid <> d.keep`,
    )
  }

  await connection.run('DROP TABLE _mpx_duplicates')
}

/** Staged rows into the target table: events skip keys already there, profiles replace theirs. */
async function mergeInto(
  connection: DuckDBConnection,
  {
    fresh,
    schema,
    staging,
    table,
    target,
  }: {fresh: boolean; schema: TableSchema; staging: string; table: string; target: SinkTarget},
): Promise<number> {
  const columns = columnList(schema)
  let result
  if (target.kind === 'profiles') {
    // The last version of a profile wins, in the fetch and over what is stored. Deduplicated first,
    // as DuckDB 1.5 fails on INSERT OR REPLACE from a QUALIFY; a new table gets a plain INSERT,
    // which keeps the fetch's order (INSERT OR REPLACE does not).
    await removeDuplicates(connection, staging, schema, 'last')
    result = await connection.run(
      `INSERT ${fresh ? '' : 'OR REPLACE '}INTO ${quoteIdentifier(table)} (${columns})
         SELECT ${columns} FROM ${quoteIdentifier(staging)} ORDER BY rowid`,
    )
  } else if (target.dedupe) {
    await removeDuplicates(connection, staging, schema)
    result = await connection.run(
      `INSERT INTO ${quoteIdentifier(table)} (${columns})
         SELECT ${columnList(schema, 's.')} FROM ${quoteIdentifier(staging)} AS s
         WHERE NOT EXISTS (SELECT 1 FROM ${quoteIdentifier(table)} AS t WHERE ${keyMatch(schema, 't', 's')})`,
    )
  } else {
    result = await connection.run(
      `INSERT INTO ${quoteIdentifier(table)} (${columns}) SELECT ${columns} FROM ${quoteIdentifier(staging)}`,
    )
  }

  await connection.run(`DROP TABLE ${quoteIdentifier(staging)}`)
  return result.rowsChanged
}
