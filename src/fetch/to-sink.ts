import type {Config} from '@oclif/core'

import type {ResolvedAccount} from '../config/resolve.js'
import type {RecordFormat, RecordKind} from '../records/types.js'
import type {SinkResult, WriteMode} from '../sinks/sink.js'

import {databasePath} from '../duckdb/database-path.js'
import {InterruptedError, UsageError} from '../errors.js'
import {type MixpanelClient} from '../mixpanel/client.js'
import {createClient} from '../mixpanel/create-client.js'
import {formatCount, type Progress} from '../output/progress.js'
import {type JsonLines} from '../records/json-lines.js'
import {schemas} from '../records/schemas.js'
import {findSink} from '../sink-registry/registry.js'
import {checkTableName, parseSinkOptions, validateSinkOptions} from '../sinks/options.js'
import {runFetch} from './run.js'

/** What every CLI fetch takes from its command, whichever Mixpanel API it reads. */
export interface FetchInput {
  readonly account: ResolvedAccount
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
  /** Builds the record source once the client exists; nothing is requested before iteration. */
  readonly source: (client: MixpanelClient, signal: AbortSignal) => AsyncIterable<JsonLines | readonly string[]>
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

  const rawOptions = parseSinkOptions(input.sinkOptions)
  if (sink.name === 'duckdb' && rawOptions.path === undefined) {
    rawOptions.path = databasePath(input.config.dataDir, input.account.credentials.projectId, input.db)
  }

  const options = validateSinkOptions(sink, rawOptions)
  const table = checkTableName(input.table)
  const {progress} = input

  const controller = new AbortController()
  let interrupts = 0
  const onSigint = () => {
    interrupts++
    // A second Ctrl-C does not wait for the clean-up.
    // eslint-disable-next-line n/no-process-exit, unicorn/no-process-exit
    if (interrupts > 1) process.exit(130)
    controller.abort(new InterruptedError())
  }

  process.on('SIGINT', onSigint)
  try {
    const client = createClient({
      credentials: input.account.credentials,
      insecure: input.insecure,
      onRetry: (message) => progress.warn(message),
      region: input.account.region,
      retry: input.retries === undefined ? {} : {attempts: input.retries + 1},
    })
    const result = await runFetch({
      context: {dataDir: input.config.dataDir, signal: controller.signal, warn: (message) => progress.warn(message)},
      format: input.format,
      kind: input.kind,
      // A database may still be loading what it was given: say so rather than look stuck.
      onFinishing: () => progress.note(`all ${input.kind} received, saving`),
      onProgress: (count) => progress.update(count),
      sink,
      source: input.source(client, controller.signal),
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
      },
    })
    const seconds = progress.elapsedSeconds.toFixed(1)
    const where = result.location ? ` to ${result.location}` : ''
    progress.done(`Fetched ${formatCount(result.written)} ${input.kind}${where} in ${seconds}s`)
    return result
  } catch (error) {
    progress.fail()
    if (controller.signal.aborted) throw new InterruptedError()
    throw error
  } finally {
    process.off('SIGINT', onSigint)
  }
}
