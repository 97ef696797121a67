import {MpxError} from 'mpx-mixpanel-core/internal/errors.js'
import {createReadStream} from 'node:fs'
import {readdir, stat} from 'node:fs/promises'
import {join, relative, sep} from 'node:path'

import type {PublishRequest, PublishResult} from './types.js'

import {ObjectStore} from './client.js'
import {asPrefix, parseObjectUrl} from './url.js'

/** Staging prefixes sit beside the tables they publish into, under this name (hidden from Hive, Spark, Trino). */
export const STAGING = '.mpx-staging'
/** Files uploaded at once while staging (each upload holds at most QUEUE_SIZE parts in memory). */
const UPLOADS_AT_ONCE = 2

/** Files under `root`, as `/`-separated paths relative to it, sorted. */
async function localFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, {recursive: true, withFileTypes: true})
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort()
}

/** `lake/events/` → `lake/.mpx-staging/events-<id>/`: outside the table's prefix, in the same bucket. */
export function stagingPrefix(destination: string, id: string): string {
  const parts = destination.replace(/\/+$/, '').split('/')
  const name = parts.pop() || 'root'
  return [...parts, STAGING, `${name}-${id}`].join('/') + '/'
}

/** Staged objects older than this were left by a run that was killed: the next publish removes them. */
export const STALE_STAGING_MS = 24 * 60 * 60 * 1000
/** `<stamp>-<pid>-<random>` after the table's name: the stamp tells a staging prefix's age. */
const STAGED_RUN = /^(\d{8}T\d{6}Z)-\d+-\w+\/$/

/** `20240201T060000Z` → its time in ms. */
function stampTime(stamp: string): number {
  const iso = `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}Z`
  return Date.parse(iso)
}

/**
 * Keys of staging prefixes of this destination left by runs killed more than a day ago (a run on
 * another machine may still be publishing a younger one). A run that ends, even by a failure or an
 * interrupt, removes its own.
 */
async function staleStaged(store: ObjectStore, destination: string, now: number): Promise<string[]> {
  const parent = stagingPrefix(destination, '').slice(0, -1)
  const objects = await store.list(parent)
  return objects
    .filter((object) => {
      const run = STAGED_RUN.exec(object.key.slice(parent.length).replace(/\/.*$/, '/'))
      return run !== null && now - stampTime(run[1]) > STALE_STAGING_MS
    })
    .map((object) => object.key)
}

/** A run's id: sortable by time, unique enough for one bucket. */
export function runId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replaceAll(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
  return `${stamp}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
}

/** Runs `task` on each item, at most `limit` at a time; the first failure stops new tasks. */
async function eachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  let failed = false
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++]
      try {
        await task(item)
      } catch (error) {
        failed = true
        throw error
      }
    }
  }

  const results = await Promise.allSettled(Array.from({length: Math.min(limit, items.length)}, () => worker()))
  const rejected = results.find((result) => result.status === 'rejected')
  if (rejected) throw rejected.reason
}

/**
 * Publishes a local directory under `s3://bucket/prefix` with nothing half-written where readers
 * look (see types.ts): stage, copy into place, remove what was replaced, write the marker, drop
 * the staging prefix. Until the copies are done a failure removes what was copied and staged, so
 * the destination is as it was; the old objects of replaced partitions go only after that.
 */
export async function publishDirectory(request: PublishRequest): Promise<PublishResult> {
  const {bucket, key} = parseObjectUrl(request.destination)
  const destination = asPrefix(key)
  const store = new ObjectStore(bucket, request)
  try {
    const existing = await store.list(destination)
    if (request.mode === 'create' && existing.length > 0) {
      throw new MpxError(
        `${store.url(destination)} already holds ${existing.length} objects: replace or add to it instead`,
      )
    }

    const files = await localFiles(request.source)
    const taken = new Set(existing.map((object) => object.key))
    const clash = files.find((file) => taken.has(destination + file))
    if (clash && request.mode !== 'replace') throw new MpxError(`${store.url(destination + clash)} already exists`)

    const staging = stagingPrefix(destination, runId())
    const staged: string[] = []
    const copied: string[] = []
    try {
      await eachLimited(files, UPLOADS_AT_ONCE, async (file) => {
        request.signal?.throwIfAborted()
        const upload = store.upload(staging + file, createReadStream(join(request.source, file)))
        const abort = () => {
          upload.abort().catch(() => {})
        }

        request.signal?.addEventListener('abort', abort, {once: true})
        try {
          staged.push(staging + file)
          await upload.done()
        } catch (error) {
          // The abort the signal started runs on: wait for its answer (abort() is once, and waits
          // for a call under way), so that no multipart upload is left once the publish has failed.
          await upload.abort().catch(() => {})
          throw error
        } finally {
          request.signal?.removeEventListener('abort', abort)
        }
      })
      request.signal?.throwIfAborted()
      // Copies of staged objects are quick (no data travels): readers see the new files appear one by one.
      for (const file of files) {
        if (!taken.has(destination + file)) copied.push(destination + file)
        await store.copy(staging + file, destination + file, (await stat(join(request.source, file))).size)
      }
    } catch (error) {
      // Best effort: the failure itself is what the caller reports.
      await store.delete([...copied, ...staged]).catch(() => {})
      throw error
    }

    const fresh = new Set(files.map((file) => destination + file))
    const marker = request.marker ?? '_SUCCESS'
    const replaced =
      request.mode === 'replace'
        ? existing.filter(
            (object) =>
              !fresh.has(object.key) &&
              object.key !== destination + marker &&
              (request.replace ?? ['']).some((part) => object.key.startsWith(destination + asPrefix(part))),
          )
        : []
    try {
      await store.delete(replaced.map((object) => object.key))
    } catch (error) {
      throw new MpxError(
        `The new files are in ${store.url(destination)}, but old ones could not all be removed (${(error as Error).message}): remove them by hand, or run again with the same replace`,
        undefined,
        {cause: error},
      )
    } finally {
      await store.delete(staged).catch(() => {})
    }

    if (marker) await store.put(destination + marker, '')
    // Leftovers of killed runs go too; they never held anything readers look at.
    await store.delete(await staleStaged(store, destination, Date.now())).catch(() => {})
    return {published: files.length, removed: replaced.length, url: store.url(destination)}
  } finally {
    store.close()
  }
}
