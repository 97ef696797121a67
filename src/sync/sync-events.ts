import type {MixpanelClient} from 'mpx-mixpanel-core/internal/mixpanel/client.js'

import {InterruptedError, MpxError, UsageError} from 'mpx-mixpanel-core/internal/errors.js'
import {
  addDays,
  checkRange,
  type DateRange,
  dayRanges,
  daysIn,
  formatRanges,
  parseDay,
} from 'mpx-mixpanel-core/internal/mixpanel/dates.js'
import {checkConcurrency, checkExport} from 'mpx-mixpanel-core/internal/mixpanel/export/query.js'
import {type Clock, RequestPacer, REQUESTS_PER_HOUR} from 'mpx-mixpanel-core/internal/mixpanel/scheduler.js'
import {clampToToday, projectToday} from 'mpx-mixpanel-core/internal/mixpanel/today.js'
import {enableYoungCollections} from 'mpx-mixpanel-core/internal/mixpanel/young-gc.js'
import {RejectQueue} from 'mpx-mixpanel-core/internal/records/rejects.js'
import {schemas} from 'mpx-mixpanel-core/internal/records/schemas.js'

import type {FetchInput} from '../fetch/to-sink.js'
import type {DaysTarget, Sink, SinkContext, SinkWriter} from '../sinks/sink.js'

import {normalizeFilters, sameFilters, type TableFilters} from '../duckdb/day-state.js'
import {eventBlocks} from '../fetch/events.js'
import {runFetch} from '../fetch/run.js'
import {followSignal} from '../fetch/stop-signals.js'
import {timezoneHint} from '../fetch/timezone-hint.js'
import {fetchClient, quarantine, sinkOptions} from '../fetch/to-sink.js'
import {objectStorage} from '../object-storage/index.js'
import {findSink} from '../sink-registry/registry.js'
import {checkTableName} from '../sinks/options.js'
import {acquireSyncLock} from './lock.js'
import {planSync, type SyncPlan} from './plan.js'
import {checkLookbackDays, LIBRARY_WORDS, type SyncWords} from './words.js'

/** Airbyte's attribution window: mobile SDKs send events days late. */
export const DEFAULT_LOOKBACK_DAYS = 5

/** A sync's input: what every fetch takes (its format normalized, its mode per day), and the sync's own. */
export interface SyncEventsInput extends Omit<FetchInput, 'format' | 'mode'> {
  readonly chunkDays: number
  /** The pacer's clock (tests pass a virtual one, so that an hour's wait takes no time). */
  readonly clock?: Clock
  readonly concurrency?: number
  readonly dedupe: boolean
  readonly events?: readonly string[]
  /** Required on a table's first sync; remembered after. */
  readonly from?: string
  readonly lookbackDays: number
  /** Default: the project's today. */
  readonly to?: string
  readonly where?: string
  /** How errors name the options (default: the library's names). */
  readonly words?: SyncWords
}

export interface SyncEventsResult {
  /** Chunks of days fetched and committed. */
  readonly chunks: number
  /** Days fetched and committed. */
  readonly days: number
  /** What the sync set out to do: the days missing, refreshed, and the chunks. */
  readonly plan: SyncPlan
  /** The days the sync covers, from the first day kept to `to` (the project's today by default). */
  readonly range: DateRange
  /** Records quarantined, and where. */
  readonly rejected?: {count: number; location: string}
  /** Events written. */
  readonly rows: number
  readonly table: string
}

function describeFilters(filters: TableFilters): string {
  const events =
    filters.events.length > 0 ? filters.events.map((name) => JSON.stringify(name)).join(', ') : 'all events'
  return `${events}, where ${filters.where === null ? 'none' : JSON.stringify(filters.where)}`
}

/** `Sync of events: 3 days missing, 5 refreshed (1 fetched while in progress), 2 requests` */
export function describePlan(table: string, plan: SyncPlan, range: DateRange): string {
  const inProgress = plan.inProgress > 0 ? ` (${plan.inProgress} fetched while in progress)` : ''
  const requests = plan.chunks.length
  const pace =
    requests > REQUESTS_PER_HOUR
      ? `, paced at Mixpanel's ${REQUESTS_PER_HOUR} an hour (about ${Math.ceil(requests / REQUESTS_PER_HOUR) - 1} h)`
      : ''
  return (
    `Sync of ${table} ${range.from}..${range.to}: ${plan.missing} days missing, ${plan.refreshed} refreshed${inProgress}, ` +
    `${requests} request${requests === 1 ? '' : 's'}${pace}`
  )
}

/** A one-at-a-time queue (chunk commits: one database writer at a time). */
function serial(): <T>(task: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve()
  return async <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task, task)
    tail = run.catch(() => {})
    return run
  }
}

/** The sink's record of the days it holds: what a sync needs of a sink. */
function syncableDays(sink: Sink, words: SyncWords): NonNullable<Sink['days']> {
  if (!sink.days) {
    throw new UsageError(
      `Sink "${sink.name}" keeps no record of what it holds, so it cannot be synced: ${words.syncableSink}`,
    )
  }

  if (!sink.formats.includes('normalized')) throw new UsageError(`Sink "${sink.name}" does not take normalized records`)
  return sink.days
}

/**
 * `mpx sync:events`: brings a table up to date day by day. Plans the days to fetch from the
 * sink's record of the table, then fetches chunk after chunk (up to `concurrency` at once), each
 * committed on its own; an interrupted sync keeps what it committed, and the next one continues.
 */
export async function syncEvents(input: SyncEventsInput): Promise<SyncEventsResult> {
  const {progress} = input
  const words = input.words ?? LIBRARY_WORDS
  const sink = await findSink(input.sinkName, input.config, (message) => progress.warn(message))
  const days = syncableDays(sink, words)
  const concurrency = checkConcurrency(input.concurrency ?? 1)
  checkLookbackDays(input.lookbackDays, words)

  const table = checkTableName(input.table)
  // Before anything else: a client that may not be made (plain http to another host) refuses here.
  const client = fetchClient(input)
  const filters = normalizeFilters({events: input.events, where: input.where})
  const timezone = input.account.timezone ?? 'UTC'
  const target = {
    ...(timezone === 'UTC' ? {} : {timezone}),
    dedupe: input.dedupe,
    filters: {events: input.events ?? [], limit: null, where: input.where ?? null},
    format: 'normalized' as const,
    kind: 'events' as const,
    mode: 'append' as const,
    options: sinkOptions(sink, input),
    schema: schemas.events,
    table,
  }

  const {controller, dispose} = followSignal(input.signal)
  const context: SinkContext = {
    dataDir: input.dataDir,
    objectStorage: objectStorage(),
    signal: controller.signal,
    warn: (message) => progress.warn(message),
  }
  let lock: ReturnType<typeof acquireSyncLock> | undefined
  try {
    lock = acquireSyncLock(days.lockPath(target, context), `Table "${table}"`)
    const state = await days.state(target, context)
    if (state.exists && state.kind !== 'events') {
      throw new UsageError(
        `Table "${table}" holds ${state.kind ?? 'rows mpx did not fetch'}, not events mpx fetched: sync into another table`,
      )
    }

    if (state.filters && !sameFilters(state.filters, filters)) {
      throw new UsageError(
        `Table "${table}" holds ${describeFilters(state.filters)}; this sync asks for ${describeFilters(filters)}: ` +
          `sync into another table, or drop this one first${words.dropTable(table)}`,
      )
    }

    const from = input.from ?? state.from ?? state.days.map((day) => day.day).sort()[0]
    if (from === undefined) {
      throw new UsageError(
        `Table "${table}" has not been synced yet: give ${words.from}, the first day of the history to keep (e.g. ${words.fromExample})`,
      )
    }

    const today = projectToday(timezone)
    parseDay(from, words.from)
    if (input.to !== undefined) parseDay(input.to, words.to)
    // As fetch:events: a --to after the project's today is synced up to today, with a note.
    const {note, range} = clampToToday({from, to: input.to ?? today}, timezone)
    const {to} = range
    checkRange(from, to)
    if (note) progress.warn(note)
    const plan = planSync({chunkDays: input.chunkDays, days: state.days, from, lookbackDays: input.lookbackDays, to})
    progress.info(describePlan(table, plan, {from, to}))

    const daysTarget = (chunk: DateRange): DaysTarget => ({
      ...target,
      dateRange: chunk,
      days: chunk,
      sync: {filters, from, oneChunkAtATime: concurrency === 1, today},
    })
    const result = await runChunks(plan, {client, concurrency, context, controller, daysTarget, input, sink})
    await days.finishSync(daysTarget({from, to}), context)
    return {...result, plan, range: {from, to}, table}
  } finally {
    dispose()
    try {
      await days.release?.(target, context)
    } finally {
      lock?.release()
    }
  }
}

interface ChunkRun {
  readonly client: MixpanelClient
  readonly concurrency: number
  readonly context: SinkContext
  readonly controller: AbortController
  readonly daysTarget: (chunk: DateRange) => DaysTarget
  readonly input: SyncEventsInput
  readonly sink: Sink
}

/**
 * Every chunk of the plan through runFetch into a day writer. Up to `concurrency` chunks are
 * fetched (or wait to be saved) at once; a chunk being saved holds no slot, so the next chunk is
 * fetched while it is saved, and staged chunks never pile up on disk. On the first failure the
 * others stop; what was committed stays.
 */
async function runChunks(
  plan: SyncPlan,
  run: ChunkRun,
): Promise<{chunks: number; days: number; rejected?: {count: number; location: string}; rows: number}> {
  const {client, context, controller, input, sink} = run
  const {progress} = input
  const days = sink.days!
  let pacing = false
  const pacer = new RequestPacer({
    clock: input.clock,
    hourly: {perHour: REQUESTS_PER_HOUR},
    onHourlyWait(ms) {
      const at = new Date(Date.now() + ms).toISOString().slice(11, 16)
      const message = `next request at ${at} UTC (Mixpanel allows ${REQUESTS_PER_HOUR} export requests an hour)`
      // Said once in a log (stderr not a terminal), then kept up to date beside the spinner.
      if (!pacing) progress.info(`Pacing: ${message}`)
      pacing = true
      progress.note(message)
    },
  })
  const commit = serial()
  const committed: DateRange[] = []
  // One policy over the whole sync: --bad-records N counts every chunk's.
  const rejects = new RejectQueue(input.badRecords ?? 'quarantine')
  let rejected: undefined | {count: number; location: string}
  let rows = 0
  let fetched = 0
  let failure: unknown
  let slots = run.concurrency
  const waiting: Array<() => void> = []
  const release = () => {
    slots++
    waiting.shift()?.()
  }

  enableYoungCollections()
  const tasks: Array<Promise<void>> = []
  for (const chunk of plan.chunks) {
    // Only this loop waits for a slot, and a release wakes it with one free.
    if (slots === 0) {
      await new Promise<void>((resolve) => {
        waiting.push(resolve)
      })
    }

    if (failure !== undefined || controller.signal.aborted) break
    slots--
    let released = false
    const free = () => {
      if (!released) release()
      released = true
    }

    tasks.push(
      (async () => {
        try {
          const result = await runFetch({
            context,
            format: 'normalized',
            kind: 'events',
            onProgress: (count) => progress.update(fetched + count),
            rejects,
            sink: {
              ...sink,
              async open(): Promise<SinkWriter> {
                const writer = await days.replaceDays(run.daysTarget(chunk), context)
                return {
                  ...(writer.reject && {reject: async (records) => writer.reject?.(records)}),
                  abort: (reason) => writer.abort(reason),
                  commit() {
                    return commit(async () => {
                      // The slot goes once this commit runs: the next chunk is fetched meanwhile,
                      // and at most `concurrency` fetched chunks wait for the database.
                      free()
                      // A chunk fetched whole is saved even when another failed meanwhile; not after Ctrl-C.
                      if (controller.signal.reason instanceof InterruptedError) throw controller.signal.reason
                      return writer.commit()
                    })
                  },
                  write: (batch) => writer.write(batch),
                }
              },
            },
            source: eventBlocks(
              client,
              checkExport(
                {events: input.events, from: chunk.from, to: chunk.to, where: input.where},
                {chunkDays: daysIn(chunk)},
              ),
              {
                format: 'normalized',
                onNote: (message) => progress.warn(message),
                onReject: quarantine(rejects, input.onReject),
                onTimezoneMismatch: (mismatch) => progress.warn(`${mismatch.message}: ${timezoneHint(mismatch)}`),
                pacer,
                signal: controller.signal,
                timezone: input.account.timezone ?? 'UTC',
              },
            ),
            target: run.daysTarget(chunk),
          })
          committed.push(chunk)
          rows += result.written
          if (result.rejected) {
            rejected = {count: (rejected?.count ?? 0) + result.rejected.count, location: result.rejected.location}
          }

          fetched += result.written
          progress.note(`saved ${chunk.from}..${chunk.to} (${committed.length}/${plan.chunks.length})`)
        } catch (error) {
          failure ??= error
          controller.abort(error)
        } finally {
          free()
        }
      })(),
    )
  }

  await Promise.all(tasks)
  if (failure === undefined && controller.signal.aborted) failure = controller.signal.reason
  if (failure !== undefined) throw savedSoFar(failure, committed, plan)
  return {
    chunks: committed.length,
    days: committed.reduce((sum, chunk) => sum + daysIn(chunk), 0),
    ...(rejected ? {rejected} : {}),
    rows,
  }
}

/** The failure, with what was saved and how to continue, on one line. */
function savedSoFar(failure: unknown, committed: DateRange[], plan: SyncPlan): MpxError {
  const saved =
    committed.length === 0
      ? 'nothing was saved'
      : `saved ${committed.length} of ${plan.chunks.length} chunks (${formatRanges(dayRanges(committed.flatMap((chunk) => daysOf(chunk))))})`
  const next = 'run the same sync again to continue'
  if (failure instanceof InterruptedError || (failure as Error)?.name === 'AbortError') {
    return new InterruptedError(`Interrupted: ${saved}; ${next}`)
  }

  if (failure instanceof MpxError) {
    return new MpxError(`${failure.message} (${saved}; ${next})`, failure.exitCode, {cause: failure})
  }

  const message = failure instanceof Error ? failure.message : String(failure)
  return new MpxError(`${message} (${saved}; ${next})`, undefined, {cause: failure})
}

function daysOf(range: DateRange): string[] {
  return Array.from({length: daysIn(range)}, (_, i) => addDays(range.from, i))
}
