import type {Config} from '@oclif/core'

import type {ResolvedAccount} from '../config/resolve.js'
import type {Progress} from '../output/progress.js'
import type {RecordFormat} from '../records/types.js'
import type {SinkResult, WriteMode} from '../sinks/sink.js'

import {profileBatches} from '../library/profiles.js'
import {checkEngageQuery, type EngageQuery} from '../mixpanel/engage-source.js'
import {fetchToSink} from './to-sink.js'

export type FetchProfilesInput = {
  readonly account: ResolvedAccount
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
    source: (client, signal) =>
      profileBatches(client, query, {
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
