import type {MixpanelClient} from '../mixpanel/client.js'
import type {NormalizedEvent, RawEvent, RecordFormat} from '../records/types.js'

import {exportLines, type ExportOptions, type ExportQuery} from '../mixpanel/export-source.js'
import {normalizeEvent, normalizeEventLine, parseRawEvent} from '../records/events.js'

/** Export batches as JSON lines in `format`: raw lines untouched, or normalized. */
export async function* eventLines(
  client: MixpanelClient,
  query: ExportQuery,
  options: ExportOptions & {format: RecordFormat},
): AsyncGenerator<string[], void, undefined> {
  for await (const lines of exportLines(client, query, options)) {
    yield options.format === 'raw' ? lines : lines.map((line) => normalizeEventLine(line))
  }
}

/** Export records one at a time, as objects. */
export async function* eventRecords(
  client: MixpanelClient,
  query: ExportQuery,
  options: ExportOptions & {format: RecordFormat},
): AsyncGenerator<NormalizedEvent | RawEvent, void, undefined> {
  for await (const lines of exportLines(client, query, options)) {
    for (const line of lines) {
      const raw = parseRawEvent(line)
      yield options.format === 'raw' ? raw : normalizeEvent(raw, line)
    }
  }
}
