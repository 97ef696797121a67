import type {DaysTarget, ObjectStorage, SinkContext, SinkWriter, SyncTargetState} from 'mpx-mixpanel'

import type {ParquetOptions, ParquetSinkSettings} from './options.js'

import {openChunkWriter} from './chunk-writer.js'
import {usageError} from './options.js'
import {dayPartitions, type RemoteDir, storage, tableUrl} from './remote.js'
import {recordChunk, type SyncFile, syncFileText, targetState} from './sync-state.js'

/**
 * A synced table in a bucket keeps its state beside its prefix, never under it (engines read every
 * object under a table's prefix): `s3://bucket/prefix/<table>.mpx-sync.json`. Any machine that
 * syncs the table reads it there, so a sync continues where the last one stopped, wherever it ran.
 */
export const remoteStateUrl = (remote: RemoteDir, table: string) => `${tableUrl(remote, table)}.mpx-sync.json`

/** mpx's object storage, with the small-object reads and writes a sync needs (mpx 0.2 on). */
function syncStorage(context: SinkContext): ObjectStorage {
  const objects = storage(context)
  if (typeof objects.readObject !== 'function' || typeof objects.writeObject !== 'function') {
    throw usageError('This version of mpx cannot sync into s3://: upgrade mpx')
  }

  return objects
}

async function readRemoteState(remote: RemoteDir, table: string, context: SinkContext): Promise<SyncFile | undefined> {
  const text = await syncStorage(context).readObject(remoteStateUrl(remote, table), remote)
  return text === undefined ? undefined : (JSON.parse(text) as SyncFile)
}

/** What a remote table holds: its prefix's objects, its state object's days and sync settings. */
export async function remoteState(remote: RemoteDir, table: string, context: SinkContext): Promise<SyncTargetState> {
  // The state first: a denied credential or a missing bucket is said before Mixpanel is asked.
  const state = await readRemoteState(remote, table, context)
  const exists = await syncStorage(context).hasObjects(tableUrl(remote, table), remote)
  // A prefix without a state object was not made by a sync: what it holds is unknown (a fetch's
  // events, or profiles), so sync leaves it alone.
  return targetState(state, exists)
}

/** Records a completed sync in the state object. */
export async function finishRemoteSync(remote: RemoteDir, table: string, context: SinkContext): Promise<void> {
  const state = (await readRemoteState(remote, table, context)) ?? {days: {}, kind: 'events'}
  await syncStorage(context).writeObject(
    remoteStateUrl(remote, table),
    syncFileText({...state, lastSyncAt: new Date().toISOString()}),
    remote,
  )
}

/** The state with the days it holds among `range` marked in progress (fetched again by the next sync). */
function markForRefetch(state: SyncFile, range: {from: string; to: string}): SyncFile {
  const held = dayPartitions(range.from, range.to)
    .map((partition) => partition.slice('event_date='.length))
    .filter((day) => state.days[day] && !state.days[day].inProgress)
  if (held.length === 0) return state
  const days = {...state.days}
  for (const day of held) days[day] = {...days[day], inProgress: true}
  return {...state, days}
}

/**
 * A chunk of a sync into a bucket: written as Parquet files in a local working directory, then
 * published into the table's prefix at commit, replacing the chunk's day partitions (the old
 * objects removed only once the new ones are in place), and then recorded in the state object.
 * Before the publish the state marks the chunk's days held as in progress: interrupted before the
 * publish's copies, the prefix is as it was; killed later (the copies, or before the state's
 * write), the next sync fetches those days again, missing or in progress, and replaces them.
 */
export async function openRemoteDaysWriter(
  target: DaysTarget,
  options: ParquetOptions & {readonly remote: RemoteDir},
  context: SinkContext,
  settings: ParquetSinkSettings,
): Promise<SinkWriter> {
  const {remote} = options
  const objects = syncStorage(context)
  return openChunkWriter(target, options, context, settings, async (files, rows) => {
    const destination = tableUrl(remote, target.table)
    const stateUrl = remoteStateUrl(remote, target.table)
    const state = (await readRemoteState(remote, target.table, context)) ?? {days: {}, kind: 'events'}
    // First marked to be fetched again: a run killed while the copies go (when a day may hold
    // old and new files) leaves them in every later sync's plan, whatever its look-back.
    const marked = markForRefetch(state, target.days)
    if (marked !== state) await objects.writeObject(stateUrl, syncFileText(marked), remote)
    await objects.publishDirectory({
      destination,
      endpoint: remote.endpoint,
      mode: 'replace',
      pathStyle: remote.pathStyle,
      replace: dayPartitions(target.days.from, target.days.to),
      signal: context.signal,
      source: files,
    })
    // Only once the days are in place (commits of one sync come one at a time).
    await objects.writeObject(stateUrl, syncFileText(recordChunk(state, target, rows)), remote)
    return destination
  })
}
