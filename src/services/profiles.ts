import type {MixpanelClient} from '../mixpanel/client.js'
import type {NormalizedProfile, RawProfile, RecordFormat} from '../records/types.js'

import {type EngageOptions, type EngageQuery, profileLines} from '../mixpanel/engage-source.js'
import {normalizeProfile, normalizeProfileLines, parseRawProfile} from '../records/profiles.js'
import {BadRecordError, type RejectedRecord} from '../records/rejects.js'

export interface ProfileSourceOptions extends EngageOptions {
  readonly format: RecordFormat
  /** Takes the bad profiles (normalized format), which are then left out; without it the first one is thrown. */
  readonly onReject?: (reject: RejectedRecord) => void
}

/**
 * Engage batches as JSON lines in `format`: raw results untouched, or normalized.
 *
 * @yields One page of lines.
 */
export async function* profileBatches(
  client: MixpanelClient,
  query: EngageQuery,
  options: ProfileSourceOptions,
): AsyncGenerator<string[], void, undefined> {
  for await (const lines of profileLines(client, query, options)) {
    yield options.format === 'raw' ? lines : normalizeProfileLines(lines, options.onReject)
  }
}

/**
 * Profiles one at a time, as objects. A result that is not a profile goes to `onReject` when
 * given, else is thrown (a BadRecordError).
 *
 * @yields A raw or normalized profile; big integers as bigint.
 */
export async function* profileRecords(
  client: MixpanelClient,
  query: EngageQuery,
  options: ProfileSourceOptions,
): AsyncGenerator<NormalizedProfile | RawProfile, void, undefined> {
  for await (const lines of profileLines(client, query, options)) {
    for (const line of lines) {
      let record: NormalizedProfile | RawProfile
      try {
        const raw = parseRawProfile(line)
        record = options.format === 'raw' ? raw : normalizeProfile(raw)
      } catch (error) {
        if (!(error instanceof BadRecordError) || !options.onReject) throw error
        options.onReject(error.reject)
        continue
      }

      yield record
    }
  }
}
