import type {Config} from '@oclif/core'

import type {ResolvedAccount} from '../config/resolve.js'
import type {Progress} from '../output/progress.js'
import type {RecordFormat} from '../records/types.js'
import type {SinkResult, WriteMode} from '../sinks/sink.js'

import {eventBlocks} from '../library/events.js'
import {checkConcurrency, checkExportQuery, estimateQueries, type ExportQuery} from '../mixpanel/export-source.js'
import {REQUESTS_PER_HOUR} from '../mixpanel/scheduler.js'
import {enableYoungCollections} from '../mixpanel/young-gc.js'
import {fetchToSink} from './to-sink.js'

export interface FetchEventsInput {
  readonly account: ResolvedAccount
  readonly chunkDays: number
  /** Date chunks fetched at once (default 1). */
  readonly concurrency?: number
  readonly config: Config
  readonly db?: string
  readonly dedupe: boolean
  readonly events?: readonly string[]
  readonly format: RecordFormat
  readonly from: string
  readonly insecure: boolean
  readonly limit?: number
  readonly mode: WriteMode
  readonly progress: Progress
  readonly retries?: number
  readonly sinkName: string
  readonly sinkOptions: readonly string[]
  readonly table: string
  readonly to: string
  readonly where?: string
}

/** `mpx fetch:events`: the export source into the chosen sink. */
export async function fetchEvents(input: FetchEventsInput): Promise<SinkResult> {
  const query: ExportQuery = {
    events: input.events,
    from: input.from,
    limit: input.limit,
    to: input.to,
    where: input.where,
  }
  checkExportQuery(query)
  checkConcurrency(input.concurrency ?? 1)
  const {queries, suggestedChunkDays} = estimateQueries(query, input.chunkDays)
  if (suggestedChunkDays !== undefined) {
    input.progress.warn(
      `this fetch makes ${queries} export requests (one per ${input.chunkDays}-day chunk), more than the ` +
        `${REQUESTS_PER_HOUR} an hour Mixpanel allows per project: expect it to be slowed down by rate limits. ` +
        `--chunk-days ${suggestedChunkDays} makes it ${estimateQueries(query, suggestedChunkDays).queries} requests`,
    )
  }

  enableYoungCollections()
  return fetchToSink({
    ...input,
    dateRange: {from: input.from, to: input.to},
    filters: {events: input.events ?? [], limit: input.limit ?? null, where: input.where ?? null},
    kind: 'events',
    source: (client, signal) =>
      eventBlocks(client, query, {
        chunkDays: input.chunkDays,
        concurrency: input.concurrency,
        format: input.format,
        onChunk: (chunk, index, count) =>
          input.progress.note(count > 1 ? `${chunk.from}..${chunk.to} (${index + 1}/${count})` : ''),
        signal,
      }),
  })
}
