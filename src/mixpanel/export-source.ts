import {createHash, type Hash} from 'node:crypto'

import type {MixpanelClient} from './client.js'

import {MpxError, UsageError} from '../errors.js'
import {checkRange, type DateRange, splitRange} from './dates.js'
import {LineSplitter} from './lines.js'
import {RetryableError} from './retry.js'

export interface ExportQuery {
  /** Event names to export; all when empty. */
  readonly events?: readonly string[]
  /** First day, YYYY-MM-DD, inclusive. */
  readonly from: string
  /** At most this many events in all (Mixpanel caps one request at 100000). */
  readonly limit?: number
  /** Last day, YYYY-MM-DD, inclusive. */
  readonly to: string
  /** A segmentation expression, passed to Mixpanel untouched. */
  readonly where?: string
}

export interface ExportOptions {
  /** Days per request. */
  readonly chunkDays: number
  /** Told when a chunk starts, e.g. for progress. */
  readonly onChunk?: (chunk: DateRange, index: number, count: number) => void
  readonly signal?: AbortSignal
}

/**
 * Seven days a request: a year is 53 requests, inside Mixpanel's 60 queries an hour, while a week
 * stays small enough that a failed request costs little to repeat.
 */
export const DEFAULT_CHUNK_DAYS = 7
export const MAX_EXPORT_LIMIT = 100_000

const TERMINATED = /terminated early\s*$/

export function checkExportQuery(query: ExportQuery): void {
  checkRange(query.from, query.to)
  if (
    query.limit !== undefined &&
    (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_EXPORT_LIMIT)
  ) {
    throw new UsageError(`--limit must be a whole number from 1 to ${MAX_EXPORT_LIMIT} (Mixpanel's maximum)`)
  }
}

/**
 * Raw export lines (exactly as Mixpanel sent them, without newline) in date order, in batches.
 * Long ranges are split into chunks; each chunk is retried as a whole on failure, skipping what
 * was already delivered (after checking the replay matches it), so nothing is lost or repeated.
 * No request is made before the first batch is asked for.
 */
export async function* exportLines(
  client: MixpanelClient,
  query: ExportQuery,
  options: ExportOptions,
): AsyncGenerator<string[], void, undefined> {
  checkExportQuery(query)
  const chunks = splitRange(query, options.chunkDays)
  let remaining = query.limit ?? Number.POSITIVE_INFINITY
  for (const [index, chunk] of chunks.entries()) {
    options.onChunk?.(chunk, index, chunks.length)
    for await (const batch of exportChunk(client, query, chunk, remaining, options.signal)) {
      const lines = batch.length > remaining ? batch.slice(0, remaining) : batch
      remaining -= lines.length
      yield lines
      if (remaining <= 0) return
    }
  }
}

function chunkParams(query: ExportQuery, chunk: DateRange, remaining: number): Record<string, string> {
  const params: Record<string, string> = {from_date: chunk.from, to_date: chunk.to}
  if (query.events && query.events.length > 0) params.event = JSON.stringify(query.events)
  if (query.where !== undefined) params.where = query.where
  if (Number.isFinite(remaining)) params.limit = String(Math.min(remaining, MAX_EXPORT_LIMIT))
  return params
}

function isCompleteRecord(line: string): boolean {
  try {
    JSON.parse(line)
    return true
  } catch {
    return false
  }
}

/** One date chunk, retried as a whole; a replay skips, and checks, what was already delivered. */
async function* exportChunk(
  client: MixpanelClient,
  query: ExportQuery,
  chunk: DateRange,
  remaining: number,
  signal?: AbortSignal,
): AsyncGenerator<string[], void, undefined> {
  const range = `${chunk.from}..${chunk.to}`
  const context = {what: `export ${range}`, where: query.where}
  const params = chunkParams(query, chunk, remaining)
  // What the consumer has been given: its count and a running hash, to check any replay against.
  const delivered = createHash('sha256')
  let deliveredCount = 0
  const deliver = (lines: string[]): number => {
    for (const line of lines) delivered.update(line).update('\n')
    return lines.length
  }

  for (let attempt = 1; ; attempt++) {
    // A retry replays the chunk from its start: the first `skip` records were delivered already.
    const skip = deliveredCount
    const expected = skip > 0 ? delivered.copy().digest('hex') : ''
    const replay: Hash = createHash('sha256')
    let replayed = 0
    const release = (line: string, out: string[]) => {
      if (replayed < skip) {
        replay.update(line).update('\n')
        replayed++
        if (replayed === skip && replay.digest('hex') !== expected) throw replayMismatch(chunk, skip)
      } else {
        out.push(line)
      }
    }

    // The last line is held back until the next one arrives: a body that ends in `terminated
    // early` has half a record before that line, which must never be delivered.
    let held: string | undefined
    const take = (line: string, out: string[]) => {
      if (line.length === 0) return
      if (TERMINATED.test(line)) {
        throw new RetryableError(`Mixpanel terminated the export of ${range} early`, endedEarly(range))
      }

      if (held !== undefined) release(held, out)
      held = line
    }

    try {
      const body = await client.openStream(client.endpoints.export, params, context, signal)
      const splitter = new LineSplitter()
      try {
        for await (const data of body) {
          const out: string[] = []
          for (const line of splitter.push(data as Buffer)) take(line, out)
          if (out.length > 0) {
            deliveredCount += deliver(out)
            yield out
          }
        }
      } finally {
        body.destroy()
      }

      const out: string[] = []
      take(splitter.end(), out)
      if (held !== undefined) {
        if (!isCompleteRecord(held)) {
          throw new RetryableError(`the export of ${range} ended mid-record`, endedEarly(range))
        }

        release(held, out)
      }

      if (replayed < skip) throw replayMismatch(chunk, skip)
      if (out.length > 0) {
        deliveredCount += deliver(out)
        yield out
      }

      return
    } catch (error) {
      await client.retryOrThrow(error, attempt, context, signal)
    }
  }
}

function replayMismatch(chunk: DateRange, delivered: number): MpxError {
  return new MpxError(
    `Mixpanel sent different records for ${chunk.from}..${chunk.to} when asked again after a failure ` +
      `(${delivered} were already delivered): fetch ${chunk.from} to ${chunk.to} again`,
  )
}

function endedEarly(range: string): MpxError {
  return new MpxError(`Mixpanel kept ending the export of ${range} early after every retry: try a smaller --chunk-days`)
}
