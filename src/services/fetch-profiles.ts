import type {Config} from '@oclif/core'

import type {ResolvedAccount} from '../config/credentials.js'
import type {Progress} from '../progress.js'
import type {BadRecordsPolicy} from '../records/rejects.js'
import type {RecordFormat} from '../records/types.js'
import type {SinkResult, WriteMode} from '../sinks/sink.js'

import {checkEngageQuery, type EngageQuery} from '../mixpanel/engage-source.js'
import {REQUESTS_PER_HOUR} from '../mixpanel/scheduler.js'
import {fetchToSink} from './fetch-command.js'
import {profileBatches} from './profiles.js'

export type FetchProfilesInput = {
  readonly account: ResolvedAccount
  readonly badRecords?: BadRecordsPolicy
  readonly config: Config
  readonly db?: string
  readonly format: RecordFormat
  readonly insecure: boolean
  readonly mode: WriteMode
  readonly progress: Progress
  readonly query: EngageQuery
  readonly retries?: number
  readonly sinkName: string
  readonly sinkOptions: readonly string[]
  readonly table: string
}

/** `mpx fetch:profiles`: the engage source into the chosen sink. */
export async function fetchProfiles(input: FetchProfilesInput): Promise<SinkResult> {
  const {query} = input
  checkEngageQuery(query)
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
      profileBatches(client, query, {
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
