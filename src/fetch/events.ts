import type {MixpanelClient} from 'mpx-mixpanel-core/internal/mixpanel/client.js'
import type {JsonLines} from 'mpx-mixpanel-core/internal/records/json-lines.js'
import type {BadRecordsPolicy, RejectedRecord} from 'mpx-mixpanel-core/internal/records/rejects.js'
import type {RecordFormat} from 'mpx-mixpanel-core/internal/records/types.js'

import {checkRange} from 'mpx-mixpanel-core/internal/mixpanel/dates.js'
import {trackChunks} from 'mpx-mixpanel-core/internal/mixpanel/export/chunk-tracking.js'
import {
  type CheckedExport,
  checkExport,
  estimateQueries,
  type ExportQuery,
} from 'mpx-mixpanel-core/internal/mixpanel/export/query.js'
import {readExport, type ReadExportOptions} from 'mpx-mixpanel-core/internal/mixpanel/export/source.js'
import {REQUESTS_PER_HOUR, REQUESTS_PER_SECOND} from 'mpx-mixpanel-core/internal/mixpanel/scheduler.js'
import {clampToToday} from 'mpx-mixpanel-core/internal/mixpanel/today.js'
import {enableYoungCollections} from 'mpx-mixpanel-core/internal/mixpanel/young-gc.js'
import {normalizeEventLines} from 'mpx-mixpanel-core/internal/records/events.js'
import {projectClock, type TimeOptions} from 'mpx-mixpanel-core/internal/records/project-time.js'
import {BadRecordError} from 'mpx-mixpanel-core/internal/records/rejects.js'

import type {Progress} from '../output/progress.js'
import type {SinkResult} from '../sinks/sink.js'

import {timezoneHint} from './timezone-hint.js'
import {type FetchInput, fetchToSink} from './to-sink.js'

export interface FetchEventsInput extends FetchInput {
  readonly badRecords?: BadRecordsPolicy
  readonly chunkDays: number
  /** Date chunks fetched at once (default 1). */
  readonly concurrency?: number
  readonly dedupe: boolean
  readonly events?: readonly string[]
  readonly from: string
  readonly limit?: number
  /** Told the days fetched, once `to` is brought back to the project's today. */
  readonly onRange?: (range: {from: string; to: string}) => void
  readonly to: string
  readonly where?: string
}

/** `mpx fetch:events`: the export source into the chosen sink. */
export async function fetchEvents(input: FetchEventsInput): Promise<SinkResult> {
  checkRange(input.from, input.to)
  const timezone = input.account.timezone ?? 'UTC'
  // TO after the project's today: Mixpanel would refuse it.
  const {note, range} = clampToToday({from: input.from, to: input.to}, timezone)
  if (note) input.progress.warn(note)
  input.onRange?.(range)
  const query: ExportQuery = {
    events: input.events,
    from: range.from,
    limit: input.limit,
    to: range.to,
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
  const notes = progressNotes(input.progress)
  return fetchToSink({
    ...input,
    dateRange: range,
    filters: {events: input.events ?? [], limit: input.limit ?? null, where: input.where ?? null},
    kind: 'events',
    source: (client, signal, onReject) =>
      eventBlocks(client, checked, {
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

/** How the CLI's export is read and what it is turned into. */
export type EventBlockOptions = ReadExportOptions &
  TimeOptions & {
    readonly format: RecordFormat
    /** Takes the bad records (normalized format), which are then left out; without it the first one is thrown. */
    readonly onReject?: (reject: RejectedRecord) => void
  }

/**
 * Export blocks of JSON lines in `format`: raw lines untouched, or normalized (a legacy project's
 * times converted by its timezone, bad records handed to `onReject`).
 *
 * @yields Blocks of lines, in date order.
 */
export async function* eventBlocks(
  client: MixpanelClient,
  checked: CheckedExport,
  options: EventBlockOptions,
): AsyncGenerator<JsonLines, void, undefined> {
  const {check, clock} = projectClock(options)
  const {exportOptions, located} = trackChunks(options)
  const {onReject} = options
  const reject = onReject ? (bad: RejectedRecord) => onReject(located(bad)) : undefined
  for await (const block of readExport(client, checked, exportOptions)) {
    check?.add(block)
    if (options.format === 'raw') {
      yield block
      continue
    }

    let normalized: JsonLines
    try {
      normalized = normalizeEventLines(block, {clock, onReject: reject})
    } catch (error) {
      // The first bad record, thrown: with the days it came from.
      if (!reject && error instanceof BadRecordError) throw new BadRecordError(located(error.reject))
      throw error
    }

    yield normalized
  }

  check?.finish()
}
