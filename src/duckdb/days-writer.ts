import {MpxError} from 'mpx-mixpanel-core/internal/errors.js'
import {schemas} from 'mpx-mixpanel-core/internal/records/schemas.js'
import {closeSync, existsSync, openSync, writeSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {
  DaysCapability,
  DaysTarget,
  RecordBatch,
  SinkContext,
  SinkResult,
  SinkTarget,
  SinkWriter,
  SyncTargetState,
} from '../sinks/sink.js'

import {RejectsFile} from '../sinks/rejects-file.js'
import {
  type Database,
  duckdbMessage,
  findTable,
  openDatabase,
  quoteIdentifier,
  quoteLiteral,
  tableColumns,
} from './database.js'
import {eventDaysSql, readTableState, recordDays, recordSync} from './day-state.js'
import {removeAbandonedLoads} from './ndjson-loader.js'
import {REJECTS_TABLE, replaceDayRejects} from './rejects.js'
import {columnList, createTableSql, readJsonColumns} from './schemas.js'

/**
 * How long a sync waits for the database when another process has it open (a reader, a fetch, a
 * sync of another table): readers hold it for seconds.
 */
export const WRITER_LOCK_WAIT_MS = 120_000

export interface DuckdbDaysOptions {
  readonly memoryLimit?: string
  readonly path: string
  readonly threads?: number
}

/**
 * Day-by-day sync into a DuckDB table. A chunk's records are staged in a file while they arrive,
 * with the database closed, so readers can open it meanwhile; the commit opens the database and,
 * in one transaction, deletes the chunk's days, loads the file with DuckDB's JSON reader, records
 * the days, and closes it again.
 */
export function duckdbDays(optionsOf: (target: SinkTarget) => DuckdbDaysOptions): DaysCapability {
  const open = async (options: DuckdbDaysOptions, context: SinkContext, create: boolean): Promise<Database> =>
    openDatabase(options.path, {
      create,
      lockWaitMs: WRITER_LOCK_WAIT_MS,
      memoryLimit: options.memoryLimit,
      onLockWait: (message) => context.warn(message),
      readOnly: !create,
      threads: options.threads,
    })

  return {
    async finishSync(target, context) {
      const database = await open(optionsOf(target), context, true)
      try {
        const table = (await findTable(database.connection, target.table)) ?? target.table
        await recordSync(database.connection, {
          completed: true,
          filters: target.sync.filters,
          from: target.sync.from,
          kind: target.kind,
          table,
        })
      } finally {
        database.close()
      }
    },

    lockPath(target) {
      return `${optionsOf(target).path}.${target.table.toLowerCase()}.sync.lock`
    },

    async replaceDays(target, context) {
      return openDaysWriter(target, optionsOf(target), context, open)
    },

    async state(target, context): Promise<SyncTargetState> {
      const options = optionsOf(target)
      if (!existsSync(options.path)) return {days: [], exists: false}
      const database = await open(options, context, false)
      try {
        const state = await readTableState(database.connection, target.table)
        return {...state, exists: state.table !== undefined}
      } finally {
        database.close()
      }
    },
  }
}

async function openDaysWriter(
  target: DaysTarget,
  options: DuckdbDaysOptions,
  context: SinkContext,
  open: (options: DuckdbDaysOptions, context: SinkContext, create: boolean) => Promise<Database>,
): Promise<SinkWriter> {
  if (target.kind !== 'events' || target.format !== 'normalized') {
    throw new MpxError(`A DuckDB sync stores normalized events, not ${target.format} ${target.kind}`)
  }

  await removeAbandonedLoads(tmpdir())
  // Named as the loader names its files, so that a killed sync's are removed by the next run.
  const directory = await mkdtemp(join(tmpdir(), `mpx-load-${process.pid}-`))
  const file = join(directory, 'chunk.jsonl')
  let fd: number | undefined = openSync(file, 'wx')
  let staged = 0
  /** The chunk's bad records, stored with its days (replacing those an earlier fetch of them left). */
  const rejects = new RejectsFile(join(directory, 'rejects.jsonl'), 'create', {
    startedAt: new Date(),
    table: target.table,
  })
  const closeFile = () => {
    if (fd !== undefined) closeSync(fd)
    fd = undefined
  }

  const cleanUp = async () => {
    closeFile()
    await rm(directory, {force: true, recursive: true})
  }

  const put = (bytes: Uint8Array) => {
    let written = 0
    while (written < bytes.length) written += writeSync(fd!, bytes, written)
  }

  return {
    async abort() {
      await rejects.abort()
      await cleanUp()
    },

    async commit(): Promise<SinkResult> {
      closeFile()
      let database: Database | undefined
      try {
        const rejectsFile = await rejects.commit()
        database = await open(options, context, true)
        const written = await replaceInTransaction(database, target, staged > 0 ? file : undefined, rejectsFile)
        return {
          location: `${target.table} in ${options.path}`,
          ...(rejects.count > 0
            ? {rejected: {count: rejects.count, location: `${REJECTS_TABLE} in ${options.path}`}}
            : {}),
          written,
        }
      } catch (error) {
        if (error instanceof MpxError) throw error
        throw new MpxError(
          `Could not store ${target.days.from}..${target.days.to}: ${duckdbMessage(error)}`,
          undefined,
          {
            cause: error,
          },
        )
      } finally {
        database?.close()
        await cleanUp()
      }
    },

    async reject(records) {
      await rejects.add(records)
    },

    async write(batch: RecordBatch) {
      // DuckDB's JSON reader refuses lone surrogates: the batch's text has them replaced.
      const {bytes, count, repaired} = batch.wellFormedText()
      if (repaired > 0) {
        context.warn(`${repaired} events had invalid Unicode (a lone surrogate), stored as U+FFFD`)
      }

      put(bytes)
      staged += count
    },
  }
}

/** The chunk's days replaced by the file's records, and recorded, in one transaction. */
async function replaceInTransaction(
  database: Database,
  target: DaysTarget,
  file: string | undefined,
  rejectsFile: string | undefined,
): Promise<number> {
  const {connection} = database
  const schema = schemas.events
  const {from, to} = target.days
  const inDays = eventDaysSql('event_time', {from, to}, target.timezone)
  await connection.run('BEGIN TRANSACTION')
  try {
    let table = await findTable(connection, target.table)
    if (table) {
      const columns = (await tableColumns(connection, table)).map((column) => column.name).join(', ')
      const expected = schema.columns.map((column) => column.name).join(', ')
      if (columns !== expected) {
        throw new MpxError(`Table "${table}" does not hold events (its columns: ${columns}): sync into another table`)
      }
    } else {
      table = target.table
      await connection.run(createTableSql(table, schema))
    }

    const quoted = quoteIdentifier(table)
    await connection.run(`DELETE FROM ${quoted} WHERE ${inDays}`)
    if (file) {
      await connection.run(
        `INSERT INTO ${quoted} (${columnList(schema)}) SELECT ${columnList(schema)} ` +
          `FROM read_json(${quoteLiteral(file)}, format = 'newline_delimited', columns = ${readJsonColumns(schema)})`,
      )
      if (target.dedupe) await removeDuplicateDays(database, quoted, inDays)
    }

    await replaceDayRejects(connection, {file: rejectsFile, from, table, to})
    await recordDays(connection, {from, table, timezone: target.timezone, to, today: target.sync.today})
    await recordSync(connection, {
      completed: false,
      filters: target.sync.filters,
      from: target.sync.from,
      kind: 'events',
      table,
    })
    const counted = await connection.runAndReadAll(
      `SELECT coalesce(sum(row_count), 0) FROM _mpx_days WHERE lower(table_name) = lower($table)
         AND day BETWEEN $from::DATE AND $to::DATE`,
      {from, table, to},
    )
    await connection.run('COMMIT')
    return Number(counted.getRows()[0][0])
  } catch (error) {
    await connection.run('ROLLBACK').catch(() => {})
    throw error
  }
}

/**
 * Keeps the first row of each (event_name, distinct_id, insert_id) among the chunk's days, as a
 * fetch does over its table; one hash aggregation finds whether there is anything to delete.
 */
async function removeDuplicateDays(database: Database, table: string, inDays: string): Promise<void> {
  const {connection} = database
  const keys = schemas.events.key.map((name) => quoteIdentifier(name)).join(', ')
  const collisions = await connection.runAndReadAll(
    `SELECT count(*) FROM (SELECT hash(${keys}) AS h FROM ${table} WHERE ${inDays} GROUP BY h HAVING count(*) > 1)`,
  )
  if (Number(collisions.getRows()[0][0]) === 0) return
  await connection.run(
    `DELETE FROM ${table} WHERE ${inDays} AND rowid NOT IN
       (SELECT min(rowid) FROM ${table} WHERE ${inDays} GROUP BY ${keys})`,
  )
}
