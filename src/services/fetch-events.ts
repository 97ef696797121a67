import type {Config} from '@oclif/core'

import type {ResolvedAccount} from '../config/credentials.js'
import type {Progress} from '../progress.js'
import type {RecordFormat} from '../records/types.js'
import type {SinkResult, WriteMode} from '../sinks/sink.js'

import {checkExportQuery, type ExportQuery} from '../mixpanel/export-source.js'
import {eventLines} from './events.js'
import {fetchToSink} from './fetch-command.js'

export interface FetchEventsInput {
  readonly account: ResolvedAccount
  readonly chunkDays: number
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
  return fetchToSink({
    ...input,
    dateRange: {from: input.from, to: input.to},
    filters: {events: input.events ?? [], limit: input.limit ?? null, where: input.where ?? null},
    kind: 'events',
    source: (client, signal) =>
      eventLines(client, query, {
        chunkDays: input.chunkDays,
        format: input.format,
        onChunk: (chunk, index, count) =>
          input.progress.note(count > 1 ? `${chunk.from}..${chunk.to} (${index + 1}/${count})` : ''),
        signal,
      }),
  })
}
