import type {MixpanelClient} from '../mixpanel/client.js'
import type {RecordFormat} from '../records/types.js'
import type {SinkResult} from '../sinks/sink.js'

import {UsageError} from '../errors.js'
import {type CheckedEngage, checkEngage, type EngageQuery} from '../mixpanel/engage/query.js'
import {type EngageOptions, readProfiles} from '../mixpanel/engage/source.js'
import {normalizeProfileLine} from '../records/profiles.js'
import {type FetchInput, fetchToSink} from './to-sink.js'

export interface FetchProfilesInput extends FetchInput {
  readonly query: EngageQuery
}

/** `mpx fetch:profiles`: the engage source into the chosen sink. */
export async function fetchProfiles(input: FetchProfilesInput): Promise<SinkResult> {
  const query = {...input.query, outputProperties: propertyNames(input.query.outputProperties)}
  // Checked once, before the sink opens; the pages are then read without checking again.
  const checked = checkEngage(query)
  return fetchToSink({
    ...input,
    // A profile is one row per distinct id: there is nothing else to deduplicate, or keep twice.
    dedupe: true,
    filters: {
      asOfTimestamp: query.asOfTimestamp ?? null,
      cohortId: query.cohortId ?? null,
      distinctIds: query.distinctIds ?? [],
      groupId: query.groupId ?? null,
      includeAllUsers: query.includeAllUsers ?? null,
      limit: query.limit ?? null,
      outputProperties: query.outputProperties ?? [],
      where: query.where ?? null,
    },
    kind: 'profiles',
    source: (client, signal) =>
      profileBatches(client, checked, {
        format: input.format,
        onPage(page, pages) {
          input.progress.note(pages === undefined ? `page ${page + 1}` : `page ${page + 1}/${pages}`)
        },
        onRestart(message) {
          input.progress.warn(message)
        },
        signal,
      }),
  })
}

/**
 * Engage batches as JSON lines in `format`: raw results untouched, or normalized.
 *
 * @yields One page of lines.
 */
export async function* profileBatches(
  client: MixpanelClient,
  checked: CheckedEngage,
  options: Omit<EngageOptions, 'concurrency'> & {format: RecordFormat},
): AsyncGenerator<string[], void, undefined> {
  for await (const lines of readProfiles(client, checked, options)) {
    yield options.format === 'raw' ? lines : lines.map((line) => normalizeProfileLine(line))
  }
}

/** --output-properties, split at its commas by oclif: empty names are skipped, but not all of them. */
function propertyNames(names: readonly string[] | undefined): string[] | undefined {
  if (names === undefined) return undefined
  const named = names.filter((name) => name.length > 0)
  if (named.length === 0) throw new UsageError('--output-properties needs at least one property name, e.g. $email,plan')
  return named
}
