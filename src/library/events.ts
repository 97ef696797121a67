import type {MixpanelClient} from '../mixpanel/client.js'
import type {NormalizedEvent, RawEvent, RecordFormat} from '../records/types.js'

import {type ExportQuery} from '../mixpanel/export/query.js'
import {exportBlocks, type ExportOptions} from '../mixpanel/export/source.js'
import {normalizeEvent, parseRawEvent} from '../records/events.js'

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
  for await (const block of exportBlocks(client, query, options)) {
    for (const line of block.lines) {
      const raw = parseRawEvent(line)
      yield options.format === 'raw' ? raw : normalizeEvent(raw, line)
    }
  }
}
