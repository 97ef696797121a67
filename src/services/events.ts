import type {MixpanelClient} from '../mixpanel/client.js'
import type {DateRange} from '../mixpanel/dates.js'
import type {JsonLines} from '../records/json-lines.js'
import type {NormalizedEvent, RawEvent, RecordFormat} from '../records/types.js'

import {exportBlocks, type ExportOptions, type ExportQuery} from '../mixpanel/export-source.js'
import {normalizeEvent, normalizeEventLines, parseRawEvent} from '../records/events.js'
import {projectClock, type TimeOptions} from '../records/project-time.js'
import {BadRecordError, type RejectedRecord} from '../records/rejects.js'

/** How events are exported and what they are turned into. */
export type EventOptions = ExportOptions &
  TimeOptions & {
    readonly format: RecordFormat
    /** Takes the bad records (normalized format), which are then left out; without it the first one is thrown. */
    readonly onReject?: (reject: RejectedRecord) => void
  }

/**
 * Export blocks with a note of the chunk being delivered: a bad record is told with the export
 * request's days (and its day, when the request was for one day).
 */
function chunkTracking(options: EventOptions) {
  let chunk: DateRange | undefined
  const exportOptions: ExportOptions = {
    ...options,
    onChunk(range, index, count) {
      chunk = range
      options.onChunk?.(range, index, count)
    },
  }
  const located = (reject: RejectedRecord): RejectedRecord =>
    chunk
      ? {
          ...reject,
          day: reject.day ?? (chunk.from === chunk.to ? chunk.from : undefined),
          range: {from: chunk.from, to: chunk.to},
        }
      : reject
  return {exportOptions, located}
}

/**
 * Export blocks of JSON lines in `format`: raw lines untouched, or normalized.
 *
 * @yields Blocks of lines, in date order.
 */
export async function* eventBlocks(
  client: MixpanelClient,
  query: ExportQuery,
  options: EventOptions,
): AsyncGenerator<JsonLines, void, undefined> {
  const {check, clock} = projectClock(options)
  const {exportOptions, located} = chunkTracking(options)
  const {onReject} = options
  const reject = onReject ? (bad: RejectedRecord) => onReject(located(bad)) : undefined
  for await (const block of exportBlocks(client, query, exportOptions)) {
    check?.add(block)
    if (options.format === 'raw') {
      yield block
      continue
    }

    try {
      yield normalizeEventLines(block, {clock, onReject: reject})
    } catch (error) {
      // The first bad record, thrown: with the days it came from.
      if (!reject && error instanceof BadRecordError) throw new BadRecordError(located(error.reject))
      throw error
    }
  }

  check?.finish()
}

/**
 * Export batches as JSON lines in `format`: raw lines untouched, or normalized.
 *
 * @yields Batches of lines, in date order.
 */
export async function* eventLines(
  client: MixpanelClient,
  query: ExportQuery,
  options: EventOptions,
): AsyncGenerator<string[], void, undefined> {
  for await (const block of eventBlocks(client, query, options)) yield block.lines
}

/**
 * Export records one at a time, as objects. A line that is JSON but not an event goes to
 * `onReject` when given, else is thrown (a BadRecordError).
 *
 * @yields Records, in date order.
 */
export async function* eventRecords(
  client: MixpanelClient,
  query: ExportQuery,
  options: EventOptions,
): AsyncGenerator<NormalizedEvent | RawEvent, void, undefined> {
  const {check, clock} = projectClock(options)
  const {exportOptions, located} = chunkTracking(options)
  for await (const block of exportBlocks(client, query, exportOptions)) {
    check?.add(block)
    for (const line of block.lines) {
      let record: NormalizedEvent | RawEvent
      try {
        const raw = parseRawEvent(line)
        record = options.format === 'raw' ? raw : normalizeEvent(raw, line, clock)
      } catch (error) {
        if (!(error instanceof BadRecordError)) throw error
        if (!options.onReject) throw new BadRecordError(located(error.reject))
        options.onReject(located(error.reject))
        continue
      }

      yield record
    }
  }

  check?.finish()
}
