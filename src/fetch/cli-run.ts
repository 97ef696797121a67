import type {RecordKind} from 'mpx-mixpanel-core/internal/records/types.js'

import type {SinkResult} from '../sinks/sink.js'

import {counted, formatCount, type Progress} from '../output/progress.js'
import {withStopSignals} from './stop-signals.js'

/**
 * A fetch as the CLI runs it: stopped cleanly by Ctrl-C, SIGTERM or SIGHUP, with the spinner
 * replaced by a summary line, and quarantined records told even with --quiet.
 */
export async function reportFetch(
  kind: RecordKind,
  progress: Progress,
  fetch: (signal: AbortSignal) => Promise<SinkResult>,
): Promise<SinkResult> {
  let result: SinkResult
  try {
    result = await withStopSignals(fetch)
  } catch (error) {
    progress.fail()
    throw error
  }

  progress.done(fetchSummary(kind, result, progress.elapsedSeconds))
  const {rejected} = result
  // Even with --quiet: the fetch exits 6 for it, and a script must be able to tell why.
  if (rejected) {
    progress.alert(
      `${counted(rejected.count, kind)} could not be stored and were quarantined: see ${rejected.location}`,
    )
  }

  return result
}

/** `Fetched 1,000 events to events in ~/.local/share/mpx/42.duckdb in 3.2s`. */
export function fetchSummary(kind: RecordKind, result: SinkResult, elapsedSeconds: number): string {
  const where = result.location ? ` to ${result.location}` : ''
  const {rejected} = result
  const quarantined = rejected ? ` (${formatCount(rejected.count)} quarantined: see ${rejected.location})` : ''
  return `Fetched ${counted(result.written, kind)}${where} in ${elapsedSeconds.toFixed(1)}s${quarantined}`
}
