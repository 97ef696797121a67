/**
 * mpx-mixpanel-core: stream Mixpanel events (and profiles) one record at a time, without the CLI.
 *
 *   const mp = new Mixpanel({credentials: {username, secret, projectId}})
 *   for await (const event of mp.streamEvents({from: '2024-01-01', to: '2024-01-31'})) { ... }
 */
import type {Credentials} from './mixpanel/credentials.js'
import type {Region} from './mixpanel/regions.js'
import type {RetryOptions} from './mixpanel/retry.js'
import type {RejectedRecord} from './records/rejects.js'
import type {NormalizedEvent, NormalizedProfile, RawEvent, RawProfile, RecordFormat} from './records/types.js'

import {resolveAccount} from './config/resolve.js'
import {eventRecords, profileRecords} from './library/records.js'
import {type MixpanelClient} from './mixpanel/client.js'
import {createClient} from './mixpanel/create-client.js'
import {checkRange} from './mixpanel/dates.js'
import {DEFAULT_CHUNK_DAYS} from './mixpanel/export/query.js'
import {clampToToday} from './mixpanel/today.js'
import {checkTimezone} from './records/wall-clock.js'

export {AuthError, ExitCode, InterruptedError, MpxError, NotFoundError, RateLimitError, UsageError} from './errors.js'
export type {Credentials} from './mixpanel/credentials.js'
export type {Region} from './mixpanel/regions.js'
export type {RetryOptions} from './mixpanel/retry.js'
export {parseLossless, stringifyLossless} from './records/json.js'
export {BadRecordError, type RejectedRecord} from './records/rejects.js'
export type {Column, TableSchema} from './records/schemas.js'
export type * from './records/types.js'

/** Credentials as a library caller gives them. */
export type CredentialsInput =
  {apiSecret: string; projectId?: string} | {projectId: number | string; secret: string; username: string}

export interface MixpanelOptions {
  /**
   * An account saved with `mpx auth:add`, by name. Without it or `credentials`, the environment
   * (MP_USERNAME/MP_SECRET/MP_PROJECT_ID or MP_API_SECRET) is used, else the config file's default
   * account, as the CLI does.
   */
  account?: string
  /** Send requests to this origin instead of Mixpanel's (a proxy, or a test server). */
  apiUrl?: string
  /** Service account or project API secret (takes precedence over `account`). */
  credentials?: CredentialsInput
  /** Allow a plain-http apiUrl on a non-loopback host. */
  insecure?: boolean
  /**
   * Told of what the caller should know but is not an error, one line each: event times that look
   * shifted by a timezone offset not accounted for, a `to` after the project's today fetched up to
   * today. Default: `process.emitWarning`.
   */
  onWarning?: (message: string) => void
  /** Data residency region: `us` (default), `eu` or `in`. */
  region?: Region
  retry?: Partial<RetryOptions>
  /**
   * The project's timezone, an IANA name such as `America/Los_Angeles`, for a project created
   * before 2023: `from`/`to` are its days and `time` its wall clock, which normalized events turn
   * into the true UTC instant. Default: MP_TIMEZONE or the saved account's (when `credentials`
   * are not given), else UTC.
   */
  timezone?: string
}

export interface StreamEventsOptions {
  /** Days per export request (default 7). */
  chunkDays?: number
  /** Date chunks fetched at once, 1 (default) to 100; events still come in date order. */
  concurrency?: number
  /** Only these event names. */
  events?: string[]
  /** `normalized` (default) or `raw`. */
  format?: RecordFormat
  /** First day, YYYY-MM-DD, inclusive. */
  from: string
  /** At most this many events (1 to 100000). */
  limit?: number
  /**
   * Takes each line Mixpanel sent that is JSON but not a usable event (`null`, no properties, a
   * `time` that is not seconds in the years 0000 to 9999), with the reason; the stream goes on
   * without it. Without `onReject`, the stream throws a BadRecordError at the first such line:
   * a bad record is never dropped silently.
   */
  onReject?: (reject: RejectedRecord) => void
  /** Stops the stream (the iterator then throws an AbortError). */
  signal?: AbortSignal
  /** Last day, YYYY-MM-DD, inclusive. */
  to: string
  /** Segmentation expression, e.g. `properties["plan"] == "pro"`. */
  where?: string
}

export interface StreamProfilesOptions {
  /** Evaluate the query as of this Unix time, in seconds. */
  asOfTimestamp?: number
  /** Only members of this cohort. */
  cohortId?: number
  /** Only the profiles with these distinct ids. */
  distinctIds?: string[]
  /** `normalized` (default) or `raw`. */
  format?: RecordFormat
  /** Group profiles of this data group id (a string: ids have 19 digits) instead of users. */
  groupId?: string
  /** With `cohortId`, also the cohort's users who have no profile. */
  includeAllUsers?: boolean
  /** At most this many profiles. */
  limit?: number
  /**
   * Takes each engage result that is not a usable profile (not an object, no `$distinct_id`), with
   * the reason; the stream goes on without it. Without it, the stream throws a BadRecordError.
   */
  onReject?: (reject: RejectedRecord) => void
  /** Only these properties of each profile. */
  outputProperties?: string[]
  /** Stops the stream (the iterator then throws an AbortError). */
  signal?: AbortSignal
  /** Segmentation expression, e.g. `user["plan"] == "pro"`. */
  where?: string
}

function toCredentials(input: CredentialsInput): Credentials {
  if ('apiSecret' in input) {
    return {
      kind: 'api-secret',
      projectId: input.projectId === undefined ? undefined : String(input.projectId),
      secret: input.apiSecret,
    }
  }

  return {kind: 'service-account', projectId: String(input.projectId), secret: input.secret, username: input.username}
}

/** The accounts `mpx auth:add` saved, from the CLI's config file; loaded only when needed. */
async function readSavedAccounts() {
  const {configPath, defaultConfigDir, readConfig} = await import('./config/config-file.js')
  return readConfig(configPath(defaultConfigDir()))
}

export class Mixpanel {
  constructor(private readonly options: MixpanelOptions = {}) {}

  /**
   * The HTTP client, built when first needed so that a stream nobody reads costs nothing (not even
   * reading the config file).
   */
  protected async client(): Promise<MixpanelClient> {
    return (await this.project()).client
  }

  /** The client and the project's timezone. */
  protected async project(): Promise<{client: MixpanelClient; timezone: string}> {
    const {account, region, timezone} = this.options
    const resolved = this.options.credentials
      ? {
          credentials: toCredentials(this.options.credentials),
          region: region ?? 'us',
          timezone: timezone === undefined ? 'UTC' : checkTimezone(timezone, 'the timezone option'),
        }
      : resolveAccount(await readSavedAccounts(), {account, region, timezone})
    const client = createClient({
      apiUrl: this.options.apiUrl,
      credentials: resolved.credentials,
      insecure: this.options.insecure,
      region: resolved.region,
      retry: this.options.retry,
    })
    return {client, timezone: resolved.timezone ?? 'UTC'}
  }

  /**
   * Events from Mixpanel's raw export, one at a time, in date order. Lazy: no request is made
   * before the first `next()`; breaking out of the loop closes the connection.
   */
  streamEvents(options: StreamEventsOptions & {format: 'raw'}): AsyncIterable<RawEvent>
  streamEvents(options: StreamEventsOptions & {format?: 'normalized'}): AsyncIterable<NormalizedEvent>
  streamEvents(options: StreamEventsOptions): AsyncIterable<NormalizedEvent | RawEvent>
  streamEvents(options: StreamEventsOptions): AsyncIterable<NormalizedEvent | RawEvent> {
    const project = () => this.project()
    const warn = this.options.onWarning ?? ((message: string) => process.emitWarning(message, 'MpxWarning'))
    return {
      async *[Symbol.asyncIterator]() {
        checkRange(options.from, options.to)
        const {client, timezone} = await project()
        const {note, range} = clampToToday({from: options.from, to: options.to}, timezone)
        if (note) warn(note)
        yield* eventRecords(
          client,
          {events: options.events, from: range.from, limit: options.limit, to: range.to, where: options.where},
          {
            chunkDays: options.chunkDays ?? DEFAULT_CHUNK_DAYS,
            concurrency: options.concurrency,
            format: options.format ?? 'normalized',
            onNote: warn,
            onReject: options.onReject,
            onTimezoneMismatch: (mismatch) => warn(mismatch.message),
            signal: options.signal,
            timezone,
          },
        )
      },
    }
  }

  /**
   * User (or group) profiles from Mixpanel's engage API, one at a time, in page order. Lazy: no
   * request is made before the first `next()`; breaking out of the loop aborts every request.
   */
  streamProfiles(options: StreamProfilesOptions & {format: 'raw'}): AsyncIterable<RawProfile>
  streamProfiles(options?: StreamProfilesOptions & {format?: 'normalized'}): AsyncIterable<NormalizedProfile>
  streamProfiles(options?: StreamProfilesOptions): AsyncIterable<NormalizedProfile | RawProfile>
  streamProfiles(options: StreamProfilesOptions = {}): AsyncIterable<NormalizedProfile | RawProfile> {
    const client = () => this.client()
    return {
      async *[Symbol.asyncIterator]() {
        const {format, onReject, signal, ...query} = options
        yield* profileRecords(await client(), query, {format: format ?? 'normalized', onReject, signal})
      },
    }
  }
}
