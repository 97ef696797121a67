import type {MixpanelClient} from 'mpx-mixpanel-core/internal/mixpanel/client.js'
import type {BadRecordsPolicy, RejectedRecord} from 'mpx-mixpanel-core/internal/records/rejects.js'
import type {RecordFormat} from 'mpx-mixpanel-core/internal/records/types.js'

import {UsageError} from 'mpx-mixpanel-core/internal/errors.js'
import {type CheckedEngage, checkEngage, type EngageQuery} from 'mpx-mixpanel-core/internal/mixpanel/engage/query.js'
import {type EngageOptions, readProfiles} from 'mpx-mixpanel-core/internal/mixpanel/engage/source.js'
import {REQUESTS_PER_HOUR} from 'mpx-mixpanel-core/internal/mixpanel/scheduler.js'
import {normalizeProfileLines} from 'mpx-mixpanel-core/internal/records/profiles.js'

import type {SinkResult} from '../sinks/sink.js'

import {type FetchInput, fetchToSink} from './to-sink.js'

export interface FetchProfilesInput extends FetchInput {
  readonly badRecords?: BadRecordsPolicy
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
    source: (client, signal, onReject) =>
      profileBatches(client, checked, {
        format: input.format,
        onPage(page, pages) {
          if (page === 0 && pages !== undefined && pages > REQUESTS_PER_HOUR) {
            input.progress.warn(
              `this fetch makes ${pages} engage requests (one per page), more than the ${REQUESTS_PER_HOUR} an hour ` +
                `Mixpanel's Query API allows per project: expect it to be slowed down by rate limits ` +
                `(mpx sync:profiles paces itself within them)`,
            )
          }

          input.progress.note(pages === undefined ? `page ${page + 1}` : `page ${page + 1}/${pages}`)
        },
        onReject,
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
  options: Omit<EngageOptions, 'concurrency'> & {
    format: RecordFormat
    /** Takes the bad profiles (normalized format), which are then left out; without it the first one is thrown. */
    onReject?: (reject: RejectedRecord) => void
  },
): AsyncGenerator<string[], void, undefined> {
  for await (const lines of readProfiles(client, checked, options)) {
    yield options.format === 'raw' ? lines : normalizeProfileLines(lines, options.onReject)
  }
}

/** The output properties (--output-properties, split at its commas by oclif): empty names are skipped, but not all of them. */
function propertyNames(names: readonly string[] | undefined): string[] | undefined {
  if (names === undefined) return undefined
  const named = names.filter((name) => name.length > 0)
  if (named.length === 0) {
    throw new UsageError('The output properties name no property: give at least one property name, e.g. $email')
  }

  return named
}
