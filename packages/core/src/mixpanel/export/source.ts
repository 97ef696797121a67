import type {MixpanelClient} from '../client.js'
import type {DateRange} from '../dates.js'

import {MpxError} from '../../errors.js'
import {countLines, JsonLines, nthLineEnd} from '../../records/json-lines.js'
import {ToDateAfterTodayError} from '../errors.js'
import {inOrder} from '../ordered-chunks.js'
import {ReplayGuard} from '../replay.js'
import {RetryableError} from '../retry.js'
import {pacerFor, type RequestPacer} from '../scheduler.js'
import {dayBefore} from '../today.js'
import {wholeLines} from './body.js'
import {notAnExport} from './not-an-export.js'
import {type CheckedExport, checkExport, chunkParams, type ExportQuery} from './query.js'

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
  /** Told, in one line, when the range is changed on Mixpanel's word (a to_date after its today). */
  readonly onNote?: (message: string) => void
  /** Told when a request had to wait for the pacer (Mixpanel's 3 a second), and how long: for progress. */
  readonly onPaced?: (waitedMs: number) => void
  /** Paces the start of every request, retries included (default: 3 a second for each client, Mixpanel's limit). */
  readonly pacer?: RequestPacer
  readonly signal?: AbortSignal
}

/** What readExport takes: how the chunks are split and how many run at once are in the checked query. */
export type ReadExportOptions = Omit<ExportOptions, 'chunkDays' | 'concurrency'>

export const DEFAULT_BUFFER_BYTES = 64 * 1024 * 1024
/** A wait for the pacer this long is pacing, not the event loop's jitter. */
const PACED_MS = 50
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
  yield* readExport(client, checkExport(query, options), options)
}

/**
 * exportBlocks for a query already checked (by checkExport): the CLI checks before it opens its
 * sink, and does not check again.
 *
 * @yields Blocks of whole lines, in date order.
 */
export async function* readExport(
  client: MixpanelClient,
  checked: CheckedExport,
  options: ReadExportOptions,
): AsyncGenerator<JsonLines, void, undefined> {
  const {chunks, concurrency, query} = checked
  const limit = query.limit ?? Number.POSITIVE_INFINITY
  const pacer = options.pacer ?? pacerFor(client)
  const decompress = decompression(concurrency)
  const paced: ExportClient = {
    endpoints: client.endpoints,
    async openStream(url, params, context, signal, streamOptions) {
      const asked = performance.now()
      await pacer.acquire(signal)
      const waited = performance.now() - asked
      if (waited >= PACED_MS) options.onPaced?.(waited)
      return client.openStream(url, params, context, signal, {...streamOptions, decompress})
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
      return exportChunk(paced, query, chunks[index], {onNote: options.onNote, remaining, signal})
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

/** The lines of `lines` not delivered yet: those a retry brings again are checked and skipped. */
function newLines(guard: ReplayGuard, lines: Buffer): JsonLines | undefined {
  let rest = lines
  if (guard.replaying && rest.length > 0) {
    const count = countLines(rest)
    const skip = Math.min(count, guard.toSkip)
    const cut = count <= guard.toSkip ? rest.length : nthLineEnd(rest, guard.toSkip)
    guard.skipped(rest.subarray(0, cut), skip)
    rest = rest.subarray(cut)
  }

  if (rest.length === 0) return
  const count = countLines(rest)
  guard.deliver(rest, count)
  return new JsonLines(rest, count)
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
  request: {onNote?: (message: string) => void; remaining: number; signal?: AbortSignal},
): AsyncGenerator<JsonLines, void, undefined> {
  const range = `${chunk.from}..${chunk.to}`
  const context = {what: `export ${range}`, where: query.where}
  const params = chunkParams(query, chunk, request.remaining)
  const {signal} = request
  const guard = new ReplayGuard((delivered) => replayMismatch(chunk, delivered))
  let endedBeforeToday = false
  for (let attempt = 1; ; attempt++) {
    // A retry replays the chunk from its start.
    guard.start()
    let contentType: string | undefined
    const onResponse = (headers: Record<string, string | string[] | undefined>) => {
      contentType = String(headers['content-type'] ?? '') || undefined
    }

    // Not an export: asked again once (a proxy's hiccup), then reported as what it is.
    const foreign = (line: string): Error => {
      const error = notAnExport(range, contentType, line)
      return attempt === 1 ? new RetryableError('the answer is not an export', error) : error
    }

    try {
      const body = await client.openStream(client.endpoints.export, params, context, signal, {onResponse})
      try {
        for await (const lines of wholeLines(body, range, foreign)) {
          const block = newLines(guard, lines)
          if (block) yield block
        }
      } finally {
        body.destroy()
      }

      guard.end()
      return
    } catch (error) {
      if (error instanceof ToDateAfterTodayError && !endedBeforeToday && guard.count === 0) {
        // Mixpanel's today is behind ours (clocks, or the timezone): once, one day less.
        endedBeforeToday = true
        const to = dayBefore(params.to_date)
        request.onNote?.(`Mixpanel says ${params.to_date} is after the project's today: fetching up to ${to}`)
        params.to_date = to
      } else {
        await client.retryOrThrow(error, attempt, context, signal)
      }
    }

    // The chunk was only today, which Mixpanel does not have yet.
    if (params.to_date < chunk.from) return
  }
}

function replayMismatch(chunk: DateRange, delivered: number): MpxError {
  return new MpxError(
    `Mixpanel sent different records for ${chunk.from}..${chunk.to} when asked again after a failure ` +
      `(${delivered} were already delivered): fetch ${chunk.from} to ${chunk.to} again`,
  )
}
