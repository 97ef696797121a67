import type {ObjectStorage, SinkContext, SinkTarget} from 'mpx-mixpanel'

import {randomUUID} from 'node:crypto'
import {mkdtemp, rename} from 'node:fs/promises'
import {dirname, join} from 'node:path'

import {type RemoteDir, usageError} from './options.js'

export type {RemoteDir} from './options.js'

/** `s3://bucket/prefix` + `events` → `s3://bucket/prefix/events`. */
export function tableUrl(remote: RemoteDir, table: string): string {
  return `${remote.url.replace(/\/+$/, '')}/${table}`
}

/** mpx's object storage, which mpx versions before 0.2 do not lend. */
export function storage(context: SinkContext): ObjectStorage {
  if (!context.objectStorage) throw usageError('This version of mpx cannot write to s3://: upgrade mpx')
  return context.objectStorage
}

/**
 * Checks made when the fetch opens the sink, before Mixpanel is asked: the credentials and the
 * bucket (one listing), and the write mode. Appending events deduplicates against the files
 * already there, which are read locally: in a bucket that is not done (yet).
 */
export async function checkRemote(target: SinkTarget, remote: RemoteDir, context: SinkContext): Promise<void> {
  const url = tableUrl(remote, target.table)
  if (target.mode === 'append' && target.kind === 'events' && target.dedupe) {
    throw usageError(
      `Appending events to ${url} would need the stored ones to deduplicate against: replace the days instead, or append with --no-dedupe`,
    )
  }

  const exists = await storage(context).hasObjects(url, remote)
  if (exists && target.mode === 'create') {
    throw new Error(`${url} already holds files: pass --replace to replace its days, or --append to add files to it`)
  }
}

/** `2024-01-30`..`2024-02-02` → the hive partitions of each UTC day, `event_date=2024-01-30`, ... */
export function dayPartitions(from: string, to: string): string[] {
  const partitions: string[] = []
  const last = Date.parse(`${to}T00:00:00Z`)
  for (let day = Date.parse(`${from}T00:00:00Z`); day <= last; day += 86_400_000) {
    partitions.push(`event_date=${new Date(day).toISOString().slice(0, 10)}`)
  }

  return partitions
}

/**
 * The fetch's files (`out`, laid out as under the table) into the bucket through mpx's staged
 * publish: `--replace` replaces the day partitions of the fetch's range (events) or the whole
 * table (profiles), the old objects removed only once the new ones are in place.
 */
export async function publishRemote(
  out: string,
  target: SinkTarget,
  remote: RemoteDir,
  context: SinkContext,
): Promise<string> {
  const destination = tableUrl(remote, target.table)
  const replace =
    target.kind === 'events' && target.dateRange ? dayPartitions(target.dateRange.from, target.dateRange.to) : ['']
  await storage(context).publishDirectory({
    destination,
    endpoint: remote.endpoint,
    mode: target.mode === 'append' ? 'add' : target.mode,
    pathStyle: remote.pathStyle,
    replace,
    signal: context.signal,
    source: out,
  })
  return destination
}

/**
 * A fetch's quarantined records into the bucket, beside the table's prefix (never under it, where
 * engines read): `<prefix>/<table>.rejects/rejects-<fetch time>-<id>.jsonl`, one object a fetch,
 * added to those of earlier fetches.
 */
export async function publishRemoteRejects(
  staged: string,
  target: SinkTarget,
  remote: RemoteDir,
  context: SinkContext,
): Promise<string> {
  const source = await mkdtemp(join(dirname(staged), 'rejects-'))
  const name = `rejects-${new Date().toISOString().replaceAll(/[-:.]/g, '')}-${randomUUID().slice(0, 8)}.jsonl`
  await rename(staged, join(source, name))
  const destination = `${tableUrl(remote, target.table)}.rejects`
  await storage(context).publishDirectory({
    destination,
    endpoint: remote.endpoint,
    marker: '',
    mode: 'add',
    pathStyle: remote.pathStyle,
    signal: context.signal,
    source,
  })
  return `${destination}/${name}`
}
