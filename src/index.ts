/**
 * mpx as a library: stream Mixpanel events (and profiles) one record at a time.
 *
 *   const mp = new Mixpanel({credentials: {username, secret, projectId}})
 *   for await (const event of mp.streamEvents({from: '2024-01-01', to: '2024-01-31'})) { ... }
 */
import type {Credentials} from './mixpanel/credentials.js'
import type {Region} from './mixpanel/regions.js'
import type {RetryOptions} from './mixpanel/retry.js'
import type {NormalizedEvent, NormalizedProfile, RawEvent, RawProfile, RecordFormat} from './records/types.js'

import {resolveAccount} from './config/resolve.js'
import {eventRecords, profileRecords} from './library/records.js'
import {type MixpanelClient} from './mixpanel/client.js'
import {createClient} from './mixpanel/create-client.js'
import {DEFAULT_CHUNK_DAYS} from './mixpanel/export/query.js'

export {AuthError, ExitCode, InterruptedError, MpxError, NotFoundError, RateLimitError, UsageError} from './errors.js'
export type {Credentials} from './mixpanel/credentials.js'
export type {Region} from './mixpanel/regions.js'
export type {RetryOptions} from './mixpanel/retry.js'
export {parseLossless, stringifyLossless} from './records/json.js'
export type {Column, TableSchema} from './records/schemas.js'
export type * from './records/types.js'
export type * from './sinks/hooks.js'
export type * from './sinks/sink.js'

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
  /** Data residency region: `us` (default), `eu` or `in`. */
  region?: Region
  retry?: Partial<RetryOptions>
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
    const {account, region} = this.options
    const {credentials, region: resolvedRegion} = this.options.credentials
      ? {credentials: toCredentials(this.options.credentials), region: region ?? 'us'}
      : resolveAccount(await readSavedAccounts(), {account, region})
    return createClient({
      apiUrl: this.options.apiUrl,
      credentials,
      insecure: this.options.insecure,
      region: resolvedRegion,
      retry: this.options.retry,
    })
  }

  /**
   * Events from Mixpanel's raw export, one at a time, in date order. Lazy: no request is made
   * before the first `next()`; breaking out of the loop closes the connection.
   */
  streamEvents(options: StreamEventsOptions & {format: 'raw'}): AsyncIterable<RawEvent>
  streamEvents(options: StreamEventsOptions & {format?: 'normalized'}): AsyncIterable<NormalizedEvent>
  streamEvents(options: StreamEventsOptions): AsyncIterable<NormalizedEvent | RawEvent>
  streamEvents(options: StreamEventsOptions): AsyncIterable<NormalizedEvent | RawEvent> {
    const client = () => this.client()
    return {
      async *[Symbol.asyncIterator]() {
        yield* eventRecords(
          await client(),
          {events: options.events, from: options.from, limit: options.limit, to: options.to, where: options.where},
          {
            chunkDays: options.chunkDays ?? DEFAULT_CHUNK_DAYS,
            concurrency: options.concurrency,
            format: options.format ?? 'normalized',
            signal: options.signal,
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
        const {format, signal, ...query} = options
        yield* profileRecords(await client(), query, {format: format ?? 'normalized', signal})
      },
    }
  }
}
