import {createHash} from 'node:crypto'
import * as zlib from 'node:zlib'

import type {MixpanelClient} from '../client.js'

import {MpxError, UsageError} from '../../errors.js'
import {countLines, JsonLines, nthLineEnd} from '../../records/json-lines.js'
import {checkRange, type DateRange, daysIn, splitRange} from '../dates.js'
import {inOrder} from '../ordered-chunks.js'
import {RetryableError} from '../retry.js'
import {MAX_CONCURRENT_REQUESTS, pacerFor, type RequestPacer, REQUESTS_PER_HOUR} from '../scheduler.js'
import {noteBufferBytes} from '../young-gc.js'

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
  /**
   * Bytes of records that chunks ahead of the one being delivered may hold in memory, all together
   * (default 64 MB). A chunk ahead that finds the budget spent stops reading its response (TCP then
   * holds the server back) until the records before it have been taken.
   */
  readonly bufferBytes?: number
  /** Days per request. */
  readonly chunkDays: number
  /**
   * Date chunks in flight at once, 1 (the default) to 100: the one being delivered and the next
   * ones, fetched ahead. Records still come in date order.
   */
  readonly concurrency?: number
  /** Told when a chunk's records start being delivered, e.g. for progress. */
  readonly onChunk?: (chunk: DateRange, index: number, count: number) => void
  /** Paces the start of every request, retries included (default: 3 a second for each client, Mixpanel's limit). */
  readonly pacer?: RequestPacer
  readonly signal?: AbortSignal
}

/**
 * Seven days a request: a year is 53 requests, inside Mixpanel's 60 queries an hour, while a week
 * stays small enough that a failed request costs little to repeat.
 */
export const DEFAULT_CHUNK_DAYS = 7
export const MAX_EXPORT_LIMIT = 100_000
export const DEFAULT_BUFFER_BYTES = 64 * 1024 * 1024
/**
 * How a response is decompressed (see MixpanelClient.openStream): one connection decompresses in
 * 1 MB pieces up to 4 MB ahead of the reader (measured: a quarter less time than got's 16 KB
 * pieces); with more connections, less each, so that memory stays bounded whatever their number.
 */
function decompression(concurrency: number): {aheadBytes: number; chunkBytes: number} {
  if (concurrency === 1) return {aheadBytes: 4 * 1024 * 1024, chunkBytes: 1024 * 1024}
  if (concurrency <= 4) return {aheadBytes: 1024 * 1024, chunkBytes: 1024 * 1024}
  return {aheadBytes: 256 * 1024, chunkBytes: 256 * 1024}
}

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

/**
 * Raw export records in date order, as blocks of JSON lines exactly as Mixpanel sent them. Long
 * ranges are split into chunks; each chunk is retried as a whole on failure, skipping what was
 * already delivered (after checking the replay matches it), so nothing is lost or repeated. With
 * `concurrency` > 1, the next chunks are fetched while one is delivered, within `bufferBytes`.
 * No request is made before the first block is asked for; stopping early closes every connection.
 *
 * @yields Blocks of whole lines, in date order.
 */
export async function* exportBlocks(
  client: MixpanelClient,
  query: ExportQuery,
  options: ExportOptions,
): AsyncGenerator<JsonLines, void, undefined> {
  checkExportQuery(query)
  const concurrency = checkConcurrency(options.concurrency ?? 1)
  const chunks = splitRange(query, options.chunkDays)
  const limit = query.limit ?? Number.POSITIVE_INFINITY
  const pacer = options.pacer ?? pacerFor(client)
  const decompress = decompression(concurrency)
  const paced: ExportClient = {
    endpoints: client.endpoints,
    async openStream(url, params, context, signal) {
      await pacer.acquire(signal)
      return client.openStream(url, params, context, signal, {decompress})
    },
    retryOrThrow: async (error, n, context, signal) => client.retryOrThrow(error, n, context, signal),
  }
  const stop = new AbortController()
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal
  /** Records of the chunks whose fetch is complete, for the `limit` of the next requests. */
  let fetched = 0
  let delivered = 0
  const blocks = inOrder(
    (index) => {
      // Chunks before this one still running may bring fewer records than the limit allows.
      const remaining = limit - fetched
      if (index >= chunks.length || remaining <= 0) return
      return exportChunk(paced, query, chunks[index], {remaining, signal})
    },
    {
      bufferBytes: options.bufferBytes ?? DEFAULT_BUFFER_BYTES,
      concurrency,
      onFetched(_index, count) {
        fetched += count
      },
    },
  )
  try {
    for await (const {block, index} of blocks) {
      if (!block) {
        options.onChunk?.(chunks[index], index, chunks.length)
        continue
      }

      const lines = block.count > limit - delivered ? block.head(limit - delivered) : block
      delivered += lines.count
      yield lines
      if (delivered >= limit) return
    }
  } finally {
    stop.abort()
    await blocks.return()
  }
}

/**
 * Raw export lines (exactly as Mixpanel sent them, without newline) in date order, in batches.
 *
 * @yields Batches of lines: see exportBlocks.
 */
export async function* exportLines(
  client: MixpanelClient,
  query: ExportQuery,
  options: ExportOptions,
): AsyncGenerator<string[], void, undefined> {
  for await (const block of exportBlocks(client, query, options)) yield block.lines
}

/** What of the client exportChunk uses: requests go through the pacer. */
type ExportClient = Pick<MixpanelClient, 'endpoints' | 'openStream' | 'retryOrThrow'>

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

const NEWLINE = 10
const MARKER = Buffer.from('terminated early')
const EMPTY_LINE = Buffer.from('\n\n')

/** True when a line of `lines` (whole lines) is Mixpanel's `terminated early` (ends with it). */
function hasTerminatedLine(lines: Buffer): boolean {
  for (let at = lines.indexOf(MARKER); at !== -1; at = lines.indexOf(MARKER, at + 1)) {
    const start = lines.lastIndexOf(NEWLINE, at) + 1
    const end = lines.indexOf(NEWLINE, at)
    if (TERMINATED.test(lines.toString('utf8', start, end === -1 ? lines.length : end))) return true
  }

  return false
}

/** Where the last line of `lines` (whole lines, at least one) starts. */
function lastLineStart(lines: Buffer): number {
  return lines.length < 2 ? 0 : lines.lastIndexOf(NEWLINE, lines.length - 2) + 1
}

/** The bytes without empty lines (lines are counted and delivered without them). */
function dropEmptyLines(bytes: Buffer): Buffer {
  if (bytes.length === 0 || (bytes[0] !== NEWLINE && !bytes.includes(EMPTY_LINE))) return bytes
  const kept: Buffer[] = []
  let start = 0
  while (start < bytes.length) {
    const newline = bytes.indexOf(NEWLINE, start)
    const end = newline === -1 ? bytes.length : newline + 1
    if (end - start > 1 || newline === -1) kept.push(bytes.subarray(start, end))
    start = end
  }

  return Buffer.concat(kept)
}

/**
 * A running fingerprint of bytes, to check that a replay matches what was delivered: CRC-32 where
 * zlib has it (Node 22.2 and later), else SHA-256.
 */
class Fingerprint {
  private crc = 0
  // eslint-disable-next-line n/no-unsupported-features/node-builtins -- feature-detected, with a fallback
  private readonly hash = typeof zlib.crc32 === 'function' ? undefined : createHash('sha256')

  update(bytes: Buffer): void {
    if (this.hash) this.hash.update(bytes)
    // eslint-disable-next-line n/no-unsupported-features/node-builtins -- feature-detected, with a fallback
    else this.crc = zlib.crc32(bytes, this.crc)
  }

  value(): string {
    return this.hash ? this.hash.copy().digest('hex') : String(this.crc)
  }
}

/**
 * The whole lines of a decompressed export body, as pieces of its own chunks (copying them would
 * double what the garbage collector sees go by). The last whole line is held back until the next
 * one arrives: a body that ends in `terminated early` has half a record before that line, which
 * must never be delivered. Throws a RetryableError for that, and for a body that ends mid-record.
 *
 * @yields Whole lines, each ending with a newline (possibly none).
 */
async function* wholeLines(body: AsyncIterable<unknown>, range: string): AsyncGenerator<Buffer, void, undefined> {
  let held: Buffer = Buffer.alloc(0)
  /** The start of the next line. */
  let partial: Buffer = Buffer.alloc(0)
  for await (const chunk of body) {
    const data = chunk as Buffer
    noteBufferBytes(data.length)
    const first = data.indexOf(NEWLINE)
    if (first === -1) {
      partial = Buffer.concat([partial, data])
      continue
    }

    const last = data.lastIndexOf(NEWLINE)
    // Whole lines: the held one, the one this chunk completes, and those inside the chunk.
    const joined = dropEmptyLines(Buffer.concat([held, partial, data.subarray(0, first + 1)]))
    const inside = dropEmptyLines(data.subarray(first + 1, last + 1))
    if (hasTerminatedLine(joined) || hasTerminatedLine(inside)) {
      throw new RetryableError(`Mixpanel terminated the export of ${range} early`, endedEarly(range))
    }

    partial = data.subarray(last + 1)
    if (inside.length === 0) {
      const cut = lastLineStart(joined)
      held = joined.subarray(cut)
      yield joined.subarray(0, cut)
    } else {
      const cut = lastLineStart(inside)
      held = inside.subarray(cut)
      yield joined
      yield inside.subarray(0, cut)
    }
  }

  // The end: the held line, and the last line if the body did not end with a newline.
  const tail = dropEmptyLines(partial)
  if (tail.length > 0 && TERMINATED.test(tail.toString('utf8'))) {
    throw new RetryableError(`Mixpanel terminated the export of ${range} early`, endedEarly(range))
  }

  const lastLine = tail.length > 0 ? tail.toString('utf8') : held.toString('utf8', 0, Math.max(0, held.length - 1))
  if (lastLine.length > 0 && !isCompleteRecord(lastLine)) {
    throw new RetryableError(`the export of ${range} ended mid-record`, endedEarly(range))
  }

  yield tail.length > 0 ? Buffer.concat([held, tail, Buffer.from('\n')]) : held
}

/**
 * What a chunk's consumer has been given: a count and a running fingerprint, for a retry to skip
 * and check what was delivered before the failure.
 */
class Delivery {
  count = 0
  private readonly fingerprint = new Fingerprint()

  constructor(private readonly chunk: DateRange) {}

  /** A new attempt: returns what takes its whole lines and gives what is new to the consumer. */
  attempt(): {done(): void; release(lines: Buffer): JsonLines | undefined} {
    // A retry replays the chunk from its start: the first `skip` records were delivered already.
    const skip = this.count
    const expected = this.fingerprint.value()
    const replay = new Fingerprint()
    let replayed = 0
    return {
      done: () => {
        if (replayed < skip) throw replayMismatch(this.chunk, skip)
      },
      release: (lines) => {
        let rest = lines
        if (replayed < skip && rest.length > 0) {
          const count = countLines(rest)
          const cut = count <= skip - replayed ? rest.length : nthLineEnd(rest, skip - replayed)
          replay.update(rest.subarray(0, cut))
          replayed += Math.min(count, skip - replayed)
          if (replayed === skip && replay.value() !== expected) throw replayMismatch(this.chunk, skip)
          rest = rest.subarray(cut)
        }

        if (rest.length === 0) return
        const count = countLines(rest)
        this.fingerprint.update(rest)
        this.count += count
        return new JsonLines(rest, count)
      },
    }
  }
}

/**
 * One date chunk, retried as a whole; a replay skips, and checks, what was already delivered.
 *
 * @yields Blocks of new lines.
 */
async function* exportChunk(
  client: ExportClient,
  query: ExportQuery,
  chunk: DateRange,
  request: {remaining: number; signal?: AbortSignal},
): AsyncGenerator<JsonLines, void, undefined> {
  const range = `${chunk.from}..${chunk.to}`
  const context = {what: `export ${range}`, where: query.where}
  const params = chunkParams(query, chunk, request.remaining)
  const {signal} = request
  const delivery = new Delivery(chunk)
  for (let attempt = 1; ; attempt++) {
    const {done, release} = delivery.attempt()
    try {
      const body = await client.openStream(client.endpoints.export, params, context, signal)
      try {
        for await (const lines of wholeLines(body, range)) {
          const block = release(lines)
          if (block) yield block
        }
      } finally {
        body.destroy()
      }

      done()
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
