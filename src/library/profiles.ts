import type {MixpanelClient} from '../mixpanel/client.js'
import type {NormalizedProfile, RawProfile, RecordFormat} from '../records/types.js'

import {type EngageQuery} from '../mixpanel/engage/query.js'
import {type EngageOptions, profileLines} from '../mixpanel/engage/source.js'
import {normalizeProfile, parseRawProfile} from '../records/profiles.js'

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
  for await (const lines of profileLines(client, query, options)) {
    for (const line of lines) {
      const raw = parseRawProfile(line)
      yield options.format === 'raw' ? raw : normalizeProfile(raw)
    }
  }
}
