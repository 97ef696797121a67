import type {MixpanelClient} from '../mixpanel/client.js'
import type {NormalizedEvent, NormalizedProfile, RawEvent, RawProfile, RecordFormat} from '../records/types.js'

import {type EngageQuery} from '../mixpanel/engage/query.js'
import {type EngageOptions, profileLines} from '../mixpanel/engage/source.js'
import {trackChunks} from '../mixpanel/export/chunk-tracking.js'
import {type ExportQuery} from '../mixpanel/export/query.js'
import {exportBlocks, type ExportOptions} from '../mixpanel/export/source.js'
import {normalizeEvent, parseRawEvent} from '../records/events.js'
import {normalizeProfile, parseRawProfile} from '../records/profiles.js'
import {projectClock, type TimeOptions} from '../records/project-time.js'
import {BadRecordError, type RejectedRecord} from '../records/rejects.js'

/** What the library's record streams take beyond the API's own options. */
export interface RecordOptions {
  readonly format: RecordFormat
  /** Takes the bad records, which are then left out; without it the first one is thrown (a BadRecordError). */
  readonly onReject?: (reject: RejectedRecord) => void
}

/**
 * Each line of each batch as an object: raw as parsed, or normalized. A line that is JSON but not
 * a record goes to `onReject` (told where it came from by `located`), else is thrown.
 *
 * @yields Records, in the batches' order.
 */
async function* records<Raw, Normalized>(
  batches: AsyncIterable<readonly string[]>,
  options: RecordOptions,
  parse: (line: string) => Raw,
  normalize: (raw: Raw, line: string) => Normalized,
  located: (reject: RejectedRecord) => RejectedRecord = (reject) => reject,
): AsyncGenerator<Normalized | Raw, void, undefined> {
  for await (const lines of batches) {
    for (const line of lines) {
      let record: Normalized | Raw
      try {
        const raw = parse(line)
        record = options.format === 'raw' ? raw : normalize(raw, line)
      } catch (error) {
        if (!(error instanceof BadRecordError)) throw error
        if (!options.onReject) throw new BadRecordError(located(error.reject))
        options.onReject(located(error.reject))
        continue
      }

      yield record
    }
  }
}

/**
 * Export records one at a time, as objects.
 *
 * @yields Records, in date order.
 */
export async function* eventRecords(
  client: MixpanelClient,
  query: ExportQuery,
  options: ExportOptions & RecordOptions & TimeOptions,
): AsyncGenerator<NormalizedEvent | RawEvent, void, undefined> {
  const {check, clock} = projectClock(options)
  const {exportOptions, located} = trackChunks(options)
  async function* lines(): AsyncGenerator<string[], void, undefined> {
    for await (const block of exportBlocks(client, query, exportOptions)) {
      check?.add(block)
      yield block.lines
    }

    check?.finish()
  }

  yield* records(lines(), options, parseRawEvent, (raw, line) => normalizeEvent(raw, line, clock), located)
}

/**
 * Profiles one at a time, as objects.
 *
 * @yields A raw or normalized profile; big integers as bigint.
 */
export async function* profileRecords(
  client: MixpanelClient,
  query: EngageQuery,
  options: EngageOptions & RecordOptions,
): AsyncGenerator<NormalizedProfile | RawProfile, void, undefined> {
  yield* records(profileLines(client, query, options), options, parseRawProfile, (raw) => normalizeProfile(raw))
}
