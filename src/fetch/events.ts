import type {MixpanelClient} from '../mixpanel/client.js'
import type {JsonLines} from '../records/json-lines.js'
import type {RecordFormat} from '../records/types.js'
import type {SinkResult} from '../sinks/sink.js'

import {type CheckedExport, checkExport, estimateQueries, type ExportQuery} from '../mixpanel/export/query.js'
import {readExport, type ReadExportOptions} from '../mixpanel/export/source.js'
import {REQUESTS_PER_HOUR} from '../mixpanel/scheduler.js'
import {enableYoungCollections} from '../mixpanel/young-gc.js'
import {normalizeEventLines} from '../records/events.js'
import {type FetchInput, fetchToSink} from './to-sink.js'

export interface FetchEventsInput extends FetchInput {
  readonly chunkDays: number
  /** Date chunks fetched at once (default 1). */
  readonly concurrency?: number
  readonly dedupe: boolean
  readonly events?: readonly string[]
  readonly from: string
  readonly limit?: number
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
  // Checked once, before the sink opens; the export is then read without checking again.
  const checked = checkExport(query, input)
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
      eventBlocks(client, checked, {
        format: input.format,
        onChunk: (chunk, index, count) =>
          input.progress.note(count > 1 ? `${chunk.from}..${chunk.to} (${index + 1}/${count})` : ''),
        signal,
      }),
  })
}

/**
 * Export blocks of JSON lines in `format`: raw lines untouched, or normalized.
 *
 * @yields Blocks of lines, in date order.
 */
export async function* eventBlocks(
  client: MixpanelClient,
  checked: CheckedExport,
  options: ReadExportOptions & {format: RecordFormat},
): AsyncGenerator<JsonLines, void, undefined> {
  for await (const block of readExport(client, checked, options)) {
    yield options.format === 'raw' ? block : normalizeEventLines(block)
  }
}
