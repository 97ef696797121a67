import type {
  DaysCapability,
  DaysTarget,
  SinkContext,
  SinkResult,
  SinkTarget,
  SinkWriter,
  SyncTargetState,
} from 'mpx-mixpanel'

import {existsSync, readFileSync} from 'node:fs'
import {mkdir, mkdtemp, readdir, rename, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import type {ParquetOptions, ParquetSinkSettings} from './options.js'

import {isDirectory, removeStaleTemporaries, TEMP_PREFIX} from './files.js'

/** What a synced table's state file holds (beside its directory: `<dir>/<table>.mpx-sync.json`). */
interface SyncFile {
  days: Record<string, {fetchedAt: string; inProgress: boolean; rows: number}>
  filters?: {events: string[]; where: null | string}
  from?: string
  kind: string
  lastSyncAt?: string
}

const DAY_MS = 86_400_000
const EVENT_DAY = /"event_time":"(\d{4}-\d{2}-\d{2})T/

function daysOf(range: {from: string; to: string}): string[] {
  const days: string[] = []
  for (let at = Date.parse(`${range.from}T00:00:00Z`); at <= Date.parse(`${range.to}T00:00:00Z`); at += DAY_MS) {
    days.push(new Date(at).toISOString().slice(0, 10))
  }

  return days
}

const statePath = (options: ParquetOptions, table: string) => join(options.dir, `${table}.mpx-sync.json`)

function readState(path: string): SyncFile | undefined {
  if (!existsSync(path)) return undefined
  return JSON.parse(readFileSync(path, 'utf8')) as SyncFile
}

/** Written to a temporary file and renamed over the old one: a reader sees the old state or the new. */
async function writeState(path: string, state: SyncFile): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`)
  await rename(temporary, path)
}

/**
 * Day-by-day sync into a Parquet table: a day is a partition (`event_date=YYYY-MM-DD`), replaced
 * as a whole by a rename. A chunk is written by the sink's own writer into a working directory;
 * its commit swaps each day's partition directory, then records the days in the state file. A
 * sync killed between the two re-fetches those days next time (the state still says "missing" or
 * "in progress"), which gives the same partitions.
 */
export function parquetDays(
  optionsOf: (target: SinkTarget, context: SinkContext) => ParquetOptions,
  settings: ParquetSinkSettings,
): DaysCapability {
  return {
    async finishSync(target, context) {
      const options = optionsOf(target, context)
      const path = statePath(options, target.table)
      const state = readState(path) ?? {days: {}, kind: 'events'}
      await writeState(path, {...state, lastSyncAt: new Date().toISOString()})
    },

    lockPath(target, context) {
      return join(optionsOf(target, context).dir, `.${target.table}.sync.lock`)
    },

    async replaceDays(target, context) {
      return openDaysWriter(target, optionsOf(target, context), context, settings)
    },

    async state(target, context): Promise<SyncTargetState> {
      const options = optionsOf(target, context)
      const destination = join(options.dir, target.table)
      const exists = (await isDirectory(destination)) === true
      const state = readState(statePath(options, target.table))
      const partitioned = exists && (await readdir(destination)).some((name) => name.startsWith('event_date='))
      return {
        days: Object.entries(state?.days ?? {}).map(([day, entry]) => ({day, ...entry})),
        exists,
        filters: state?.filters,
        from: state?.from,
        kind:
          state?.kind ?? (partitioned || (exists && (await readdir(destination)).length === 0) ? 'events' : undefined),
        lastSyncAt: state?.lastSyncAt,
      }
    },
  }
}

async function openDaysWriter(
  target: DaysTarget,
  options: ParquetOptions,
  context: SinkContext,
  settings: ParquetSinkSettings,
): Promise<SinkWriter> {
  await mkdir(options.dir, {recursive: true})
  await removeStaleTemporaries(options.dir)
  const work = await mkdtemp(join(options.dir, `${TEMP_PREFIX}${target.table}-${process.pid}-`))
  const {openParquetWriter} = await import('./writer.js')
  // The chunk's files are made as a new table of the working directory, then swapped in day by day.
  let writer: SinkWriter
  try {
    writer = await openParquetWriter(
      {...target, mode: 'create', table: 'chunk'},
      {...options, dir: work},
      context,
      settings,
    )
  } catch (error) {
    await rm(work, {force: true, recursive: true})
    throw error
  }

  const rows = new Map<string, number>()
  return {
    async abort(reason) {
      await writer.abort(reason)
      await rm(work, {force: true, recursive: true})
    },

    async commit(): Promise<SinkResult> {
      try {
        const {written} = await writer.commit()
        const destination = join(options.dir, target.table)
        await mkdir(destination, {recursive: true})
        const fetchedAt = new Date().toISOString()
        const path = statePath(options, target.table)
        const state: SyncFile = readState(path) ?? {days: {}, kind: 'events'}
        for (const day of daysOf(target.days)) {
          const partition = `event_date=${day}`
          const fresh = join(work, 'chunk', partition)
          const old = join(destination, partition)
          if (await isDirectory(old)) await rename(old, join(work, `old-${day}`))
          if (await isDirectory(fresh)) await rename(fresh, old)
          state.days[day] = {fetchedAt, inProgress: day >= target.sync.today, rows: rows.get(day) ?? 0}
        }

        await writeState(path, {
          ...state,
          filters: {events: [...target.sync.filters.events], where: target.sync.filters.where},
          from: target.sync.from,
          kind: 'events',
        })
        return {location: `events in ${destination}`, written}
      } finally {
        await rm(work, {force: true, recursive: true})
      }
    },

    async write(batch) {
      for (const line of batch.lines) {
        const day = EVENT_DAY.exec(line)?.[1]
        if (day) rows.set(day, (rows.get(day) ?? 0) + 1)
      }

      await writer.write(batch)
    },
  }
}
