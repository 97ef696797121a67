import type {DateRange} from '../dates.js'

import {UsageError} from '../../errors.js'
import {checkRange, daysIn, splitRange} from '../dates.js'
import {MAX_CONCURRENT_REQUESTS, REQUESTS_PER_HOUR} from '../scheduler.js'

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

/**
 * Seven days a request: a year is 53 requests, inside Mixpanel's 60 queries an hour, while a week
 * stays small enough that a failed request costs little to repeat.
 */
export const DEFAULT_CHUNK_DAYS = 7
export const MAX_EXPORT_LIMIT = 100_000

export function checkExportQuery(query: ExportQuery): void {
  checkRange(query.from, query.to)
  if (
    query.limit !== undefined &&
    (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_EXPORT_LIMIT)
  ) {
    throw new UsageError(`--limit must be a whole number from 1 to ${MAX_EXPORT_LIMIT} (Mixpanel's maximum)`)
  }
}

export function checkConcurrency(concurrency: number): number {
  if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENT_REQUESTS) {
    throw new UsageError(
      `--concurrency must be a whole number from 1 to ${MAX_CONCURRENT_REQUESTS} (Mixpanel's limit of concurrent queries)`,
    )
  }

  return concurrency
}

export interface QueryEstimate {
  /** Export requests the fetch makes, one per chunk (retries not counted). */
  readonly queries: number
  /** When `queries` is over Mixpanel's hourly limit: a --chunk-days that keeps within it. */
  readonly suggestedChunkDays?: number
}

/** How many queries a fetch makes, against Mixpanel's 60 an hour. */
export function estimateQueries(range: DateRange, chunkDays: number): QueryEstimate {
  const queries = splitRange(range, chunkDays).length
  if (queries <= REQUESTS_PER_HOUR) return {queries}
  const suggestedChunkDays = Math.ceil(daysIn(range) / REQUESTS_PER_HOUR)
  return {queries, suggestedChunkDays}
}

/** The export parameters of one chunk (`project_id` is added by the client). */
export function chunkParams(query: ExportQuery, chunk: DateRange, remaining: number): Record<string, string> {
  const params: Record<string, string> = {from_date: chunk.from, to_date: chunk.to}
  if (query.events && query.events.length > 0) params.event = JSON.stringify(query.events)
  if (query.where !== undefined) params.where = query.where
  if (Number.isFinite(remaining)) params.limit = String(Math.min(remaining, MAX_EXPORT_LIMIT))
  return params
}

/** A query that has passed checkExport, split into the chunks that are requested. */
export interface CheckedExport {
  readonly chunks: readonly DateRange[]
  readonly concurrency: number
  readonly query: ExportQuery
}

/** Checks a query and its options before anything is requested (the one place this happens). */
export function checkExport(query: ExportQuery, options: {chunkDays: number; concurrency?: number}): CheckedExport {
  checkExportQuery(query)
  const concurrency = checkConcurrency(options.concurrency ?? 1)
  return {chunks: splitRange(query, options.chunkDays), concurrency, query}
}
