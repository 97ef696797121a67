import {UsageError} from '../../errors.js'

export type EngageQuery = {
  /** `as_of_timestamp`: Unix time in seconds. */
  readonly asOfTimestamp?: number
  /** `filter_by_cohort`: only members of this cohort. */
  readonly cohortId?: number
  /** One id is sent as `distinct_id`, several as `distinct_ids`. */
  readonly distinctIds?: readonly string[]
  /** `data_group_id`: a group analytics data group. A string: ids have 19 digits. */
  readonly groupId?: string
  /** `include_all_users`: with a cohort, also users without a profile. */
  readonly includeAllUsers?: boolean
  /** At most this many profiles in all (counted by mpx: engage has no limit parameter). */
  readonly limit?: number
  /** `output_properties`: only these properties of each profile. */
  readonly outputProperties?: readonly string[]
  /** A segmentation expression, passed to Mixpanel untouched. */
  readonly where?: string
}

/** Mixpanel's query API runs at most 5 queries of a project at once. */
export const MAX_ENGAGE_CONCURRENCY = 5
/** Engage's page size when none is asked for (and its maximum). */
export const ENGAGE_PAGE_SIZE = 1000

/** The engage form parameters for a query (`project_id` is added by the client). */
export function engageForm(query: EngageQuery): Record<string, string> {
  const ids = query.distinctIds ?? []
  const json = (value: unknown) => (value === undefined ? undefined : JSON.stringify(value))
  const text = (value: unknown) => (value === undefined ? undefined : String(value))
  // Mixpanel's parameter names: arrays and objects go as JSON text, the rest as strings.
  const parameters: Array<[string, string | undefined]> = [
    ['where', query.where],
    ['filter_by_cohort', json(query.cohortId === undefined ? undefined : {id: query.cohortId})],
    ['output_properties', json(query.outputProperties?.length ? query.outputProperties : undefined)],
    ['distinct_id', ids.length === 1 ? ids[0] : undefined],
    ['distinct_ids', json(ids.length > 1 ? ids : undefined)],
    ['data_group_id', query.groupId],
    ['include_all_users', text(query.includeAllUsers)],
    ['as_of_timestamp', text(query.asOfTimestamp)],
    // A small limit needs no more than one small page.
    ['page_size', text(query.limit !== undefined && query.limit < ENGAGE_PAGE_SIZE ? query.limit : undefined)],
  ]
  return Object.fromEntries(parameters.filter((entry): entry is [string, string] => entry[1] !== undefined))
}

export function checkEngageQuery(query: EngageQuery): void {
  if (query.limit !== undefined && (!Number.isSafeInteger(query.limit) || query.limit < 1)) {
    throw new UsageError('--limit must be a whole number >= 1')
  }

  if (query.cohortId !== undefined && (!Number.isSafeInteger(query.cohortId) || query.cohortId < 0)) {
    throw new UsageError('--cohort must be a cohort id, a whole number')
  }

  if (query.asOfTimestamp !== undefined && (!Number.isSafeInteger(query.asOfTimestamp) || query.asOfTimestamp < 0)) {
    throw new UsageError('--as-of-timestamp must be a Unix time in seconds, e.g. 1704067200')
  }

  if (query.distinctIds?.some((id) => id.length === 0)) throw new UsageError('--distinct-id must not be empty')
  if (query.groupId?.trim().length === 0) throw new UsageError('--group-id must not be empty')
  if (query.outputProperties?.some((name) => name.length === 0)) {
    throw new UsageError('--output-properties must not name an empty property')
  }
}

/** A query that has passed checkEngage, with its form parameters. */
export interface CheckedEngage {
  readonly concurrency: number
  readonly form: Record<string, string>
  readonly query: EngageQuery
}

/** Checks a query and its options before anything is requested (the one place this happens). */
export function checkEngage(query: EngageQuery, options: {concurrency?: number} = {}): CheckedEngage {
  checkEngageQuery(query)
  const concurrency = options.concurrency ?? MAX_ENGAGE_CONCURRENCY
  if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > MAX_ENGAGE_CONCURRENCY) {
    throw new UsageError(`engage concurrency must be 1 to ${MAX_ENGAGE_CONCURRENCY}`)
  }

  return {concurrency, form: engageForm(query), query}
}
