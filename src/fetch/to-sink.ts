import type {Config} from '@oclif/core'
import type {ResolvedAccount} from 'mpx-mixpanel-core/internal/config/resolve.js'
import type {RetryOptions} from 'mpx-mixpanel-core/internal/mixpanel/retry.js'
import type {BadRecordsPolicy, RejectedRecord} from 'mpx-mixpanel-core/internal/records/rejects.js'
import type {RecordFormat, RecordKind} from 'mpx-mixpanel-core/internal/records/types.js'

import {UsageError} from 'mpx-mixpanel-core/internal/errors.js'
import {type MixpanelClient} from 'mpx-mixpanel-core/internal/mixpanel/client.js'
import {createClient} from 'mpx-mixpanel-core/internal/mixpanel/create-client.js'
import {type JsonLines} from 'mpx-mixpanel-core/internal/records/json-lines.js'
import {RejectQueue} from 'mpx-mixpanel-core/internal/records/rejects.js'
import {schemas} from 'mpx-mixpanel-core/internal/records/schemas.js'

import type {Sink, SinkResult, WriteMode} from '../sinks/sink.js'
import type {FetchReporter} from './reporter.js'

import {databasePath} from '../duckdb/database-path.js'
import {objectStorage} from '../object-storage/index.js'
import {findSink} from '../sink-registry/registry.js'
import {checkTableName, parseSinkOptions, validateSinkOptions} from '../sinks/options.js'
import {runFetch} from './run.js'
import {followSignal} from './stop-signals.js'

/**
 * What every fetch takes, whichever Mixpanel API it reads: the CLI's commands and the library's
 * Workspace build it, each from its own inputs.
 */
export interface FetchInput {
  readonly account: ResolvedAccount
  /** Another origin than Mixpanel's (else MPX_API_URL). */
  readonly apiUrl?: string
  /** Quarantine records mpx cannot store (default), fail at the first, or past a number. */
  readonly badRecords?: BadRecordsPolicy
  /** mpx's oclif config: the plugins that may bring sinks (none without it: the built-ins only). */
  readonly config?: Config
  /** mpx's data directory: the default database's, and rejects of sinks that keep none. */
  readonly dataDir: string
  /** The DuckDB file (the built-in sink only); default MPX_DB, else <data dir>/<project id>.duckdb. */
  readonly db?: string
  readonly format: RecordFormat
  readonly insecure: boolean
  readonly mode: WriteMode
  /** Told of each record quarantined (after the policy let it through). */
  readonly onReject?: (reject: RejectedRecord) => void
  /** What the run says while it goes: the CLI's spinner, or the library's callbacks. */
  readonly progress: FetchReporter
  /** Retries of a failed request (the CLI's --retries). */
  readonly retries?: number
  /** The client's retry settings (the library's); `retries` wins for the number of attempts. */
  readonly retry?: Partial<RetryOptions>
  /** Stops the fetch: the sink rolls back, and an InterruptedError is thrown. */
  readonly signal?: AbortSignal
  readonly sinkName: string
  /** `key=value` strings (the CLI's), or an object (the library's), checked against the sink's schema. */
  readonly sinkOptions: Readonly<Record<string, unknown>> | readonly string[]
  readonly table: string
}

/** A fetch ready to run: the command's input, what it reads, and how it is recorded. */
export interface FetchCommandInput extends FetchInput {
  readonly dateRange?: {from: string; to: string}
  readonly dedupe: boolean
  readonly filters: Record<string, unknown>
  readonly kind: RecordKind
  /**
   * Builds the record source once the client exists; nothing is requested before iteration. The
   * source hands the records it cannot normalize to `onReject`.
   */
  readonly source: (
    client: MixpanelClient,
    signal: AbortSignal,
    onReject: (reject: RejectedRecord) => void,
  ) => AsyncIterable<JsonLines | readonly string[]>
}

/** What the source calls with a bad record: the policy's queue, then the caller's observer. */
export function quarantine(
  rejects: RejectQueue,
  onReject: ((reject: RejectedRecord) => void) | undefined,
): (reject: RejectedRecord) => void {
  if (!onReject) return rejects.add
  return (reject) => {
    rejects.add(reject)
    onReject(reject)
  }
}

/** The client of a fetch's account, with its retries, and its retries reported as warnings. */
export function fetchClient(
  input: Pick<FetchCommandInput, 'account' | 'apiUrl' | 'insecure' | 'progress' | 'retries' | 'retry'>,
): MixpanelClient {
  return createClient({
    apiUrl: input.apiUrl,
    credentials: input.account.credentials,
    insecure: input.insecure,
    onRetry: (message) => input.progress.warn(message),
    region: input.account.region,
    retry: {...input.retry, ...(input.retries === undefined ? {} : {attempts: input.retries + 1})},
  })
}

/** The sink's options, checked against its schema; the DuckDB sink's path from `db` and the account. */
export function sinkOptions(
  sink: Sink,
  input: Pick<FetchCommandInput, 'account' | 'dataDir' | 'db' | 'sinkOptions'>,
): Record<string, unknown> {
  const given = input.sinkOptions
  const rawOptions = Array.isArray(given) ? parseSinkOptions(given as readonly string[]) : {...given}
  if (sink.name === 'duckdb' && rawOptions.path === undefined) {
    rawOptions.path = databasePath(input.dataDir, input.account.credentials.projectId, input.db)
  }

  return validateSinkOptions(sink, rawOptions, Array.isArray(given) ? undefined : 'sink option')
}

/**
 * A fetch: checks everything it can before the first request, then runs the source into the sink,
 * reporting as it goes. Stopped by `signal`, the sink rolls back and an InterruptedError is thrown.
 * No terminal, no process signals: the CLI adds those (fetch/cli-run.ts), the library its callbacks.
 */
export async function fetchToSink(input: FetchCommandInput): Promise<SinkResult> {
  const sink = await findSink(input.sinkName, input.config, (message) => input.progress.warn(message))
  if (!sink.formats.includes(input.format)) {
    throw new UsageError(`Sink "${sink.name}" does not take ${input.format} records`)
  }

  const options = sinkOptions(sink, input)
  const table = checkTableName(input.table)
  const {progress} = input
  const {controller, dispose} = followSignal(input.signal)
  try {
    const client = fetchClient(input)
    const rejects = new RejectQueue(input.badRecords ?? 'quarantine')
    return await runFetch({
      context: {
        dataDir: input.dataDir,
        objectStorage: objectStorage(),
        signal: controller.signal,
        warn: (message) => progress.warn(message),
      },
      format: input.format,
      kind: input.kind,
      // A database may still be loading what it was given: say so rather than look stuck.
      onFinishing: () => progress.note(`all ${input.kind} received, saving`),
      onProgress: (count) => progress.update(count),
      rejects,
      sink,
      source: input.source(client, controller.signal, quarantine(rejects, input.onReject)),
      target: {
        dateRange: input.dateRange,
        dedupe: input.dedupe,
        filters: input.filters,
        format: input.format,
        kind: input.kind,
        mode: input.mode,
        options,
        schema: schemas[input.kind],
        table,
        ...(input.kind === 'events' && input.account.timezone && input.account.timezone !== 'UTC'
          ? {timezone: input.account.timezone}
          : {}),
      },
    })
  } catch (error) {
    if (controller.signal.aborted) throw controller.signal.reason
    throw error
  } finally {
    dispose()
  }
}
