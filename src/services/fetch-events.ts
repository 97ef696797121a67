import type {Config} from '@oclif/core'

import type {ResolvedAccount} from '../config/credentials.js'
import type {Progress} from '../progress.js'
import type {BadRecordsPolicy} from '../records/rejects.js'
import type {RecordFormat} from '../records/types.js'
import type {SinkResult, WriteMode} from '../sinks/sink.js'

import {checkConcurrency, checkExportQuery, estimateQueries, type ExportQuery} from '../mixpanel/export-source.js'
import {REQUESTS_PER_HOUR, REQUESTS_PER_SECOND} from '../mixpanel/scheduler.js'
import {clampToToday} from '../mixpanel/today.js'
import {enableYoungCollections} from '../mixpanel/young-gc.js'
import {eventBlocks} from './events.js'
import {fetchToSink} from './fetch-command.js'
import {timezoneHint} from './timezone-hint.js'

export interface FetchEventsInput {
  readonly account: ResolvedAccount
  readonly badRecords?: BadRecordsPolicy
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
  checkExportQuery({from: input.from, to: input.to})
  const timezone = input.account.timezone ?? 'UTC'
  // TO after the project's today: Mixpanel would refuse it.
  const {note, range} = clampToToday({from: input.from, to: input.to}, timezone)
  if (note) input.progress.warn(note)
  const query: ExportQuery = {
    events: input.events,
    from: range.from,
    limit: input.limit,
    to: range.to,
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
  const notes = progressNotes(input.progress)
  return fetchToSink({
    ...input,
    dateRange: range,
    filters: {events: input.events ?? [], limit: input.limit ?? null, where: input.where ?? null},
    kind: 'events',
    source: (client, signal, onReject) =>
      eventBlocks(client, query, {
        chunkDays: input.chunkDays,
        concurrency: input.concurrency,
        format: input.format,
        onChunk: (chunk, index, count) =>
          notes.chunk(count > 1 ? `${chunk.from}..${chunk.to} (${index + 1}/${count})` : ''),
        onNote: (message) => input.progress.warn(message),
        onPaced: () => notes.paced(),
        onReject,
        onTimezoneMismatch: (mismatch) => input.progress.warn(`${mismatch.message}: ${timezoneHint(mismatch)}`),
        signal,
        timezone,
      }),
  })
}

/** What the progress line says when requests wait for their turn. */
export const PACED_NOTE = `requests paced at Mixpanel's ${REQUESTS_PER_SECOND} a second`
/** How long after a request last waited for the pacer the progress line still says so. */
const PACED_NOTE_MS = 2000

/**
 * The progress line's note: the chunk being delivered and, while requests wait for their turn,
 * that they are paced (else `--concurrency 10 --chunk-days 1` looks slow for no reason).
 */
export function progressNotes(progress: Pick<Progress, 'note'>, now = () => performance.now()) {
  let chunk = ''
  let pacedAt = Number.NEGATIVE_INFINITY
  const show = () => {
    const paced = now() - pacedAt < PACED_NOTE_MS
    progress.note([chunk, paced ? PACED_NOTE : ''].filter(Boolean).join(' · '))
  }

  return {
    chunk(text: string) {
      chunk = text
      show()
    },
    paced() {
      const shown = now() - pacedAt < PACED_NOTE_MS
      pacedAt = now()
      if (!shown) show()
    },
  }
}
