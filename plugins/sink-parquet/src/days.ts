import type {DaysCapability, DaysTarget, SinkContext, SinkTarget, SinkWriter, SyncTargetState} from 'mpx-mixpanel'

import {existsSync, readFileSync} from 'node:fs'
import {mkdir, readdir, rename, writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'

import type {ParquetOptions, ParquetSinkSettings} from './options.js'

import {openChunkWriter} from './chunk-writer.js'
import {isDirectory} from './files.js'
import {tableUrl} from './remote.js'
import {daysOf, recordChunk, type SyncFile, syncFileText, targetState} from './sync-state.js'

/**
 * The lock file of a table's sync: beside a local table's directory. For a table in a bucket, in
 * mpx's data directory, named after the table's URL: it keeps two syncs of one machine apart, not
 * two machines (no lock is honoured by every S3-compatible service): sync a bucket's table from
 * one machine at a time.
 */
export function syncLockPath(options: ParquetOptions, table: string): string {
  if (options.remote) {
    return join(options.dir, `.${encodeURIComponent(tableUrl(options.remote, table))}.sync.lock`)
  }

  return join(options.dir, `.${table}.sync.lock`)
}

const statePath = (options: ParquetOptions, table: string) => join(options.dir, `${table}.mpx-sync.json`)

function readState(path: string): SyncFile | undefined {
  if (!existsSync(path)) return undefined
  return JSON.parse(readFileSync(path, 'utf8')) as SyncFile
}

/** Written to a temporary file and renamed over the old one: a reader sees the old state or the new. */
async function writeState(path: string, state: SyncFile): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`
  await writeFile(temporary, syncFileText(state))
  await rename(temporary, path)
}

/**
 * Day-by-day sync into a Parquet table: a day is a partition (`event_date=YYYY-MM-DD`), replaced
 * as a whole by a rename. A chunk is written by the sink's own writer into a working directory;
 * its commit swaps each day's partition directory, then records the days in the state file. A
 * sync killed between the two re-fetches those days next time (the state still says "missing" or
 * "in progress"), which gives the same partitions. A table in a bucket (`dir=s3://...`) is synced
 * the same way through mpx's object storage: see remote-days.ts.
 */
export function parquetDays(
  optionsOf: (target: SinkTarget, context: SinkContext) => ParquetOptions,
  settings: ParquetSinkSettings,
): DaysCapability {
  return {
    async finishSync(target, context) {
      const options = optionsOf(target, context)
      if (options.remote) {
        const {finishRemoteSync} = await import('./remote-days.js')
        return finishRemoteSync(options.remote, target.table, context)
      }

      const path = statePath(options, target.table)
      const state = readState(path) ?? {days: {}, kind: 'events'}
      await writeState(path, {...state, lastSyncAt: new Date().toISOString()})
    },

    lockPath(target, context) {
      return syncLockPath(optionsOf(target, context), target.table)
    },

    async replaceDays(target, context) {
      const options = optionsOf(target, context)
      if (options.remote) {
        const {openRemoteDaysWriter} = await import('./remote-days.js')
        return openRemoteDaysWriter(target, {...options, remote: options.remote}, context, settings)
      }

      return openDaysWriter(target, options, context, settings)
    },

    async state(target, context): Promise<SyncTargetState> {
      const options = optionsOf(target, context)
      if (options.remote) {
        const {remoteState} = await import('./remote-days.js')
        return remoteState(options.remote, target.table, context)
      }

      const destination = join(options.dir, target.table)
      const exists = (await isDirectory(destination)) === true
      const state = readState(statePath(options, target.table))
      const partitioned = exists && (await readdir(destination)).some((name) => name.startsWith('event_date='))
      return targetState(
        state,
        exists,
        partitioned || (exists && (await readdir(destination)).length === 0) ? 'events' : undefined,
      )
    },
  }
}

async function openDaysWriter(
  target: DaysTarget,
  options: ParquetOptions,
  context: SinkContext,
  settings: ParquetSinkSettings,
): Promise<SinkWriter> {
  return openChunkWriter(target, options, context, settings, async (files, rows) => {
    const destination = join(options.dir, target.table)
    await mkdir(destination, {recursive: true})
    const path = statePath(options, target.table)
    const state: SyncFile = readState(path) ?? {days: {}, kind: 'events'}
    // The chunk's partitions swapped in day by day; the old ones go with the working directory.
    for (const day of daysOf(target.days)) {
      const partition = `event_date=${day}`
      const old = join(destination, partition)
      if (await isDirectory(old)) await rename(old, join(dirname(files), `old-${day}`))
      if (await isDirectory(join(files, partition))) await rename(join(files, partition), old)
    }

    await writeState(path, recordChunk(state, target, rows))
    return destination
  })
}
