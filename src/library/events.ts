import type {MixpanelClient} from '../mixpanel/client.js'
import type {JsonLines} from '../records/json-lines.js'
import type {NormalizedEvent, RawEvent, RecordFormat} from '../records/types.js'

import {exportBlocks, type ExportOptions, type ExportQuery} from '../mixpanel/export-source.js'
import {normalizeEvent, normalizeEventLines, parseRawEvent} from '../records/events.js'

/**
 * Export blocks of JSON lines in `format`: raw lines untouched, or normalized.
 *
 * @yields Blocks of lines, in date order.
 */
export async function* eventBlocks(
  client: MixpanelClient,
  query: ExportQuery,
  options: ExportOptions & {format: RecordFormat},
): AsyncGenerator<JsonLines, void, undefined> {
  for await (const block of exportBlocks(client, query, options)) {
    yield options.format === 'raw' ? block : normalizeEventLines(block)
  }
}

/**
 * Export batches as JSON lines in `format`: raw lines untouched, or normalized.
 *
 * @yields Batches of lines, in date order.
 */
export async function* eventLines(
  client: MixpanelClient,
  query: ExportQuery,
  options: ExportOptions & {format: RecordFormat},
): AsyncGenerator<string[], void, undefined> {
  for await (const block of eventBlocks(client, query, options)) yield block.lines
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
  for await (const block of exportBlocks(client, query, options)) {
    for (const line of block.lines) {
      const raw = parseRawEvent(line)
      yield options.format === 'raw' ? raw : normalizeEvent(raw, line)
    }
  }
}
