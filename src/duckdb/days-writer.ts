import type {DuckDBConnection} from '@duckdb/node-api'

import {MpxError} from 'mpx-mixpanel-core/internal/errors.js'
import {schemas} from 'mpx-mixpanel-core/internal/records/schemas.js'
import {existsSync} from 'node:fs'
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
import {duckdbMessage, findTable, openDatabase, quoteIdentifier, tableColumns} from './database.js'
import {eventDaysSql, readTableState, recordDays, recordSync} from './day-state.js'
import {HeldDatabase, type LoadingTurn, WRITER_LOCK_WAIT_MS} from './held-database.js'
import {NdjsonLoader} from './ndjson-loader.js'
import {REJECTS_TABLE, replaceDayRejects} from './rejects.js'
import {createTableSql, insertJsonLinesSql} from './schemas.js'
import {loadThreads} from './table-writer.js'

export {WRITER_LOCK_WAIT_MS} from './held-database.js'

export interface DuckdbDaysOptions {
  readonly memoryLimit?: string
  readonly path: string
  readonly threads?: number
}

/**
 * Day-by-day sync into a DuckDB table. The database is held open between chunks (held-database.ts)
 * and a chunk loads into it while it is fetched, in a transaction that deletes the chunk's days
 * first; its commit then only finishes the load, records the days and commits. When another
 * process waits for the file, the chunk gives up its transaction and the file is let go; the
 * chunk's records stay in their files, and its commit loads them in one transaction as soon as it
 * has the file again.
 */
export function duckdbDays(optionsOf: (target: SinkTarget) => DuckdbDaysOptions): DaysCapability {
  const held = new Map<string, HeldDatabase>()
  const holder = (target: SinkTarget, context: SinkContext): HeldDatabase => {
    const options = optionsOf(target)
    let database = held.get(options.path)
    if (!database) {
      database = new HeldDatabase({
        ...options,
        onLockWait: (message) => context.warn(message),
        // One core is left to the fetch, all through: the next chunk is fetched while one commits
        // (measured on 2 cores, 1M events: 3% faster than all cores for the commits).
        threads: options.threads ?? loadThreads(),
      })
      held.set(options.path, database)
    }

    return database
  }

  return {
    async finishSync(target, context) {
      const turn = await holder(target, context).turn()
      try {
        const {connection} = turn.database
        const table = (await findTable(connection, target.table)) ?? target.table
        await recordSync(connection, {
          completed: true,
          filters: target.sync.filters,
          from: target.sync.from,
          kind: target.kind,
          table,
        })
      } finally {
        await turn.end()
      }
    },

    lockPath(target) {
      return `${optionsOf(target).path}.${target.table.toLowerCase()}.sync.lock`
    },

    async release(target) {
      const {path} = optionsOf(target)
      const database = held.get(path)
      held.delete(path)
      await database?.close()
    },

    async replaceDays(target, context) {
      return openDaysWriter(target, optionsOf(target), context, holder(target, context))
    },

    async state(target, context): Promise<SyncTargetState> {
      const options = optionsOf(target)
      if (!existsSync(options.path)) return {days: [], exists: false}
      const read = async (connection: DuckDBConnection) => {
        const state = await readTableState(connection, target.table)
        return {...state, exists: state.table !== undefined}
      }

      const database = holder(target, context)
      if (database.isOpen) {
        const turn = await database.turn()
        try {
          return await read(turn.database.connection)
        } finally {
          await turn.end()
        }
      }

      const readOnly = await openDatabase(options.path, {
        lockWaitMs: WRITER_LOCK_WAIT_MS,
        memoryLimit: options.memoryLimit,
        onLockWait: (message) => context.warn(message),
        readOnly: true,
        threads: options.threads,
      })
      try {
        return await read(readOnly.connection)
      } finally {
        readOnly.close()
      }
    },
  }
}

async function openDaysWriter(
  target: DaysTarget,
  options: DuckdbDaysOptions,
  context: SinkContext,
  holder: HeldDatabase,
): Promise<SinkWriter> {
  if (target.kind !== 'events' || target.format !== 'normalized') {
    throw new MpxError(`A DuckDB sync stores normalized events, not ${target.format} ${target.kind}`)
  }

  const {from, to} = target.days
  const inDays = eventDaysSql('event_time', {from, to}, target.timezone)
  const loader = new NdjsonLoader({
    keepFiles: true,
    onRepair(lines) {
      context.warn(`${lines} events had invalid Unicode (a lone surrogate), stored as U+FFFD`)
    },
    schema: schemas.events,
    table: target.table,
  })
  // Named as the loader names its files, so that a killed sync's are removed by the next run.
  const directory = await mkdtemp(join(tmpdir(), `mpx-load-${process.pid}-`))
  /** The chunk's bad records, stored with its days (replacing those an earlier fetch of them left). */
  const rejects = new RejectsFile(join(directory, 'rejects.jsonl'), 'create', {
    startedAt: new Date(),
    table: target.table,
  })
  /** The transaction this chunk loads in while it is fetched, if it has one, and its table. */
  let turn: LoadingTurn | undefined
  let {table} = target
  let asked = false
  /** This chunk's steps on the database, one after another (the holder may ask it to give up at any time). */
  let steps: Promise<unknown> = Promise.resolve()
  const step = async <T>(task: () => Promise<T>): Promise<T> => {
    const run = steps.then(task, task)
    steps = run.catch(() => {})
    return run
  }

  const rollback = async () => {
    const ending = turn
    turn = undefined
    if (!ending) return
    await loader.detach()
    await ending.database.connection.run('ROLLBACK').catch(() => {})
    await ending.end()
  }

  const giveUp = async () => step(rollback)

  /** The chunk's transaction begun: the table found or made, and the chunk's days deleted from it. */
  const begin = async (connection: DuckDBConnection) => {
    await connection.run('BEGIN TRANSACTION')
    table = await prepareTable(connection, target.table)
    await connection.run(`DELETE FROM ${quoteIdentifier(table)} WHERE ${inDays}`)
  }

  const startLoading = async () => {
    const granted = await holder.loadingTurn(giveUp)
    if (!granted) return
    turn = granted
    try {
      await begin(granted.database.connection)
      loader.attach(granted.database.connection)
    } catch {
      // The commit tries again in a turn of its own, and says what is wrong.
      await rollback()
    }
  }

  const cleanUp = async () => {
    await loader.remove()
    await rm(directory, {force: true, recursive: true})
  }

  return {
    async abort() {
      await step(async () => {
        await loader.abort()
        await rollback()
      })
      await rejects.abort()
      await cleanUp()
    },

    async commit(): Promise<SinkResult> {
      try {
        const rejectsFile = await rejects.commit()
        const written = await step(async () => {
          if (turn) {
            // Loaded while fetched: what is left of the load, then the days' bookkeeping.
            const loading = turn
            loading.committing()
            try {
              await loader.finish()
              return await completeDays(loading.database.connection, target, {inDays, rejectsFile, table})
            } catch (error) {
              await rollback()
              throw error
            } finally {
              if (turn === loading) {
                turn = undefined
                await loading.end()
              }
            }
          }

          // Not loaded while fetched (another process wanted the file): its files, in a turn of its own.
          await loader.finish()
          const saving = await holder.turn()
          try {
            const {connection} = saving.database
            try {
              await begin(connection)
              if (loader.keptFiles.length > 0) {
                await connection.run(insertJsonLinesSql(table, schemas.events, loader.keptFiles))
              }

              return await completeDays(connection, target, {inDays, rejectsFile, table})
            } catch (error) {
              await connection.run('ROLLBACK').catch(() => {})
              throw error
            }
          } finally {
            await saving.end()
          }
        })
        return {
          location: `${target.table} in ${options.path}`,
          ...(rejects.count > 0
            ? {rejected: {count: rejects.count, location: `${REJECTS_TABLE} in ${options.path}`}}
            : {}),
          written,
        }
      } catch (error) {
        if (error instanceof MpxError) throw error
        throw new MpxError(`Could not store ${from}..${to}: ${duckdbMessage(error)}`, undefined, {cause: error})
      } finally {
        await cleanUp()
      }
    },

    async reject(records) {
      await rejects.add(records)
    },

    async write(batch: RecordBatch) {
      await loader.add(batch)
      // Asked for once the chunk has records; not when chunks are fetched side by side (their commits
      // come in the order they finish, and would wait for a turn that a chunk behind them holds).
      if (!asked && target.sync.oneChunkAtATime) {
        asked = true
        // Not waited for: while the chunk before commits, this one's records go on to its files.
        step(startLoading).catch(() => {})
      }
    },
  }
}

/** The table as stored (found case-insensitively), created when missing; refused if it holds other columns. */
async function prepareTable(connection: DuckDBConnection, name: string): Promise<string> {
  const schema = schemas.events
  const table = await findTable(connection, name)
  if (!table) {
    await connection.run(createTableSql(name, schema))
    return name
  }

  const columns = (await tableColumns(connection, table)).map((column) => column.name).join(', ')
  const expected = schema.columns.map((column) => column.name).join(', ')
  if (columns !== expected) {
    throw new MpxError(`Table "${table}" does not hold events (its columns: ${columns}): sync into another table`)
  }

  return table
}

/**
 * The end of a chunk's transaction, its rows in: duplicates removed, its rejects and days recorded
 * with the sync's settings, and COMMIT. Returns the rows its days hold.
 */
async function completeDays(
  connection: DuckDBConnection,
  target: DaysTarget,
  {inDays, rejectsFile, table}: {inDays: string; rejectsFile: string | undefined; table: string},
): Promise<number> {
  const {from, to} = target.days
  if (target.dedupe) await removeDuplicateDays(connection, quoteIdentifier(table), inDays)
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
}

/**
 * Keeps the first row of each (event_name, distinct_id, insert_id) among the chunk's days, as a
 * fetch does over its table; one hash aggregation finds whether there is anything to delete.
 */
async function removeDuplicateDays(connection: DuckDBConnection, table: string, inDays: string): Promise<void> {
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
