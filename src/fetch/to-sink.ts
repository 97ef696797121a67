import type {Config} from '@oclif/core'
import type {ResolvedAccount} from 'mpx-mixpanel-core/internal/config/resolve.js'
import type {BadRecordsPolicy, RejectedRecord} from 'mpx-mixpanel-core/internal/records/rejects.js'
import type {RecordFormat, RecordKind} from 'mpx-mixpanel-core/internal/records/types.js'

import {ExitCode, InterruptedError, UsageError} from 'mpx-mixpanel-core/internal/errors.js'
import {type MixpanelClient} from 'mpx-mixpanel-core/internal/mixpanel/client.js'
import {createClient} from 'mpx-mixpanel-core/internal/mixpanel/create-client.js'
import {type JsonLines} from 'mpx-mixpanel-core/internal/records/json-lines.js'
import {RejectQueue} from 'mpx-mixpanel-core/internal/records/rejects.js'
import {schemas} from 'mpx-mixpanel-core/internal/records/schemas.js'

import type {Sink, SinkResult, WriteMode} from '../sinks/sink.js'

import {databasePath} from '../duckdb/database-path.js'
import {objectStorage} from '../object-storage/index.js'
import {formatCount, type Progress} from '../output/progress.js'
import {findSink} from '../sink-registry/registry.js'
import {checkTableName, parseSinkOptions, validateSinkOptions} from '../sinks/options.js'
import {runFetch} from './run.js'

/** What every CLI fetch takes from its command, whichever Mixpanel API it reads. */
export interface FetchInput {
  readonly account: ResolvedAccount
  /** --bad-records: quarantine records mpx cannot store (default), fail at the first, or past a number. */
  readonly badRecords?: BadRecordsPolicy
  readonly config: Config
  /** --db: the DuckDB file (the built-in sink only). */
  readonly db?: string
  readonly format: RecordFormat
  readonly insecure: boolean
  readonly mode: WriteMode
  readonly progress: Progress
  readonly retries?: number
  readonly sinkName: string
  readonly sinkOptions: readonly string[]
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

/** The client of a command's account, with its retries and warnings as the CLI sets them. */
export function cliClient(
  input: Pick<FetchCommandInput, 'account' | 'insecure' | 'progress' | 'retries'>,
): MixpanelClient {
  return createClient({
    credentials: input.account.credentials,
    insecure: input.insecure,
    onRetry: (message) => input.progress.warn(message),
    region: input.account.region,
    retry: input.retries === undefined ? {} : {attempts: input.retries + 1},
  })
}

/** --sink-option values, checked against the sink's schema; the DuckDB sink's path from --db and the account. */
export function sinkOptions(
  sink: Sink,
  input: Pick<FetchCommandInput, 'account' | 'config' | 'db' | 'sinkOptions'>,
): Record<string, unknown> {
  const rawOptions = parseSinkOptions(input.sinkOptions)
  if (sink.name === 'duckdb' && rawOptions.path === undefined) {
    rawOptions.path = databasePath(input.config.dataDir, input.account.credentials.projectId, input.db)
  }

  return validateSinkOptions(sink, rawOptions)
}

/**
 * A fetch as the CLI runs it: checks everything it can before the first request, then runs the
 * source into the sink with progress, Ctrl-C handling and a summary line.
 */
export async function fetchToSink(input: FetchCommandInput): Promise<SinkResult> {
  const sink = await findSink(input.sinkName, input.config, (message) => input.progress.warn(message))
  if (!sink.formats.includes(input.format)) {
    throw new UsageError(
      input.sinkName === 'duckdb'
        ? 'Raw records are for pipes: use --raw with --stdout, or drop --raw to store normalized records'
        : `Sink "${sink.name}" does not take ${input.format} records`,
    )
  }

  const options = sinkOptions(sink, input)
  const table = checkTableName(input.table)
  const {progress} = input

  const controller = new AbortController()
  let interrupts = 0
  // Ctrl-C, a service manager's or `timeout`'s SIGTERM and a closed terminal's SIGHUP all end the
  // fetch the same way: the sink rolls back and removes its temporary files.
  const onSignal = (signal: NodeJS.Signals) => {
    const {exitCode, message} = STOP_SIGNALS[signal as keyof typeof STOP_SIGNALS]
    interrupts++
    // A second signal does not wait for the clean-up.
    // eslint-disable-next-line n/no-process-exit, unicorn/no-process-exit
    if (interrupts > 1) process.exit(exitCode)
    controller.abort(new InterruptedError(message, {exitCode}))
  }

  for (const signal of Object.keys(STOP_SIGNALS)) process.on(signal, onSignal)
  try {
    const client = cliClient(input)
    const rejects = new RejectQueue(input.badRecords ?? 'quarantine')
    const result = await runFetch({
      context: {
        dataDir: input.config.dataDir,
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
      source: input.source(client, controller.signal, rejects.add),
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
    const seconds = progress.elapsedSeconds.toFixed(1)
    const where = result.location ? ` to ${result.location}` : ''
    const {rejected} = result
    const noun = result.written === 1 ? input.kind.replace(/s$/, '') : input.kind
    const quarantined = rejected ? ` (${formatCount(rejected.count)} quarantined: see ${rejected.location})` : ''
    progress.done(`Fetched ${formatCount(result.written)} ${noun}${where} in ${seconds}s${quarantined}`)
    // Even with --quiet: the fetch exits 6 for it, and a script must be able to tell why.
    if (rejected) {
      progress.alert(
        `${formatCount(rejected.count)} ${input.kind} could not be stored and were quarantined: see ${rejected.location}`,
      )
    }

    return result
  } catch (error) {
    progress.fail()
    if (controller.signal.aborted) {
      throw controller.signal.reason instanceof InterruptedError ? controller.signal.reason : new InterruptedError()
    }

    throw error
  } finally {
    for (const signal of Object.keys(STOP_SIGNALS)) process.off(signal, onSignal)
  }
}

/** The signals that stop a fetch cleanly, with the exit code (128 + the signal's number) and message of each. */
const STOP_SIGNALS = {
  SIGHUP: {exitCode: ExitCode.HungUp, message: 'Interrupted by SIGHUP (the terminal closed)'},
  SIGINT: {exitCode: ExitCode.Interrupted, message: 'Interrupted'},
  SIGTERM: {exitCode: ExitCode.Terminated, message: 'Interrupted by SIGTERM'},
} as const
