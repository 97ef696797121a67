import type {MixpanelClient} from '../mixpanel/client.js'
import type {NormalizedEvent, NormalizedProfile, RawEvent, RawProfile, RecordFormat} from '../records/types.js'

import {type EngageQuery} from '../mixpanel/engage/query.js'
import {type EngageOptions, profileLines} from '../mixpanel/engage/source.js'
import {type ExportQuery} from '../mixpanel/export/query.js'
import {exportLines, type ExportOptions} from '../mixpanel/export/source.js'
import {normalizeEvent, parseRawEvent} from '../records/events.js'
import {normalizeProfile, parseRawProfile} from '../records/profiles.js'

/**
 * Each line of each batch as an object: raw as parsed, or normalized.
 *
 * @yields Records, in the batches' order.
 */
async function* records<Raw, Normalized>(
  batches: AsyncIterable<readonly string[]>,
  format: RecordFormat,
  parse: (line: string) => Raw,
  normalize: (raw: Raw, line: string) => Normalized,
): AsyncGenerator<Normalized | Raw, void, undefined> {
  for await (const lines of batches) {
    for (const line of lines) {
      const raw = parse(line)
      yield format === 'raw' ? raw : normalize(raw, line)
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
  options: ExportOptions & {format: RecordFormat},
): AsyncGenerator<NormalizedEvent | RawEvent, void, undefined> {
  yield* records(exportLines(client, query, options), options.format, parseRawEvent, normalizeEvent)
}

/**
 * Profiles one at a time, as objects.
 *
 * @yields A raw or normalized profile; big integers as bigint.
 */
export async function* profileRecords(
  client: MixpanelClient,
  query: EngageQuery,
  options: EngageOptions & {format: RecordFormat},
): AsyncGenerator<NormalizedProfile | RawProfile, void, undefined> {
  yield* records(profileLines(client, query, options), options.format, parseRawProfile, (raw) => normalizeProfile(raw))
}
