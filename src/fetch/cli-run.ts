import type {RecordKind} from 'mpx-mixpanel-core/internal/records/types.js'

import type {SinkResult} from '../sinks/sink.js'

import {counted, formatCount, type Progress} from '../output/progress.js'
import {withStopSignals} from './stop-signals.js'

/** What a fetch or a sync may have quarantined, and where it is kept. */
interface Rejecting {
  readonly rejected?: {readonly count: number; readonly location: string}
}

/**
 * A fetch or a sync as the CLI runs it: stopped cleanly by Ctrl-C, SIGTERM or SIGHUP, with the
 * spinner replaced by its summary line, and quarantined records told even with --quiet.
 */
export async function reportRun<R extends Rejecting>(
  kind: RecordKind,
  progress: Progress,
  run: (signal: AbortSignal) => Promise<R>,
  summary: (result: R, elapsedSeconds: number) => string,
): Promise<R> {
  let result: R
  try {
    result = await withStopSignals(run)
  } catch (error) {
    progress.fail()
    throw error
  }

  progress.done(summary(result, progress.elapsedSeconds))
  const {rejected} = result
  // Even with --quiet: the command exits 6 for it, and a script must be able to tell why.
  if (rejected) {
    progress.alert(
      `${counted(rejected.count, kind)} could not be stored and were quarantined: see ${rejected.location}`,
    )
  }

  return result
}

/** A fetch as the CLI runs it (see reportRun), summed up by fetchSummary. */
export async function reportFetch(
  kind: RecordKind,
  progress: Progress,
  fetch: (signal: AbortSignal) => Promise<SinkResult>,
): Promise<SinkResult> {
  return reportRun(kind, progress, fetch, (result, elapsedSeconds) => fetchSummary(kind, result, elapsedSeconds))
}

/** `Fetched 1,000 events to events in ~/.local/share/mpx/42.duckdb in 3.2s`. */
export function fetchSummary(kind: RecordKind, result: SinkResult, elapsedSeconds: number): string {
  const where = result.location ? ` to ${result.location}` : ''
  const {rejected} = result
  const quarantined = rejected ? ` (${formatCount(rejected.count)} quarantined: see ${rejected.location})` : ''
  return `Fetched ${counted(result.written, kind)}${where} in ${elapsedSeconds.toFixed(1)}s${quarantined}`
}
