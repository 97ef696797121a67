import type {SyncEventsResult} from './sync-events.js'

import {withStopSignals} from '../fetch/stop-signals.js'
import {counted, type Progress} from '../output/progress.js'

/**
 * A sync as the CLI runs it: stopped cleanly by Ctrl-C, SIGTERM or SIGHUP (what was committed
 * stays), with the spinner replaced by a summary line, and quarantined records told even with --quiet.
 */
export async function reportSync(
  progress: Progress,
  sync: (signal: AbortSignal) => Promise<SyncEventsResult>,
): Promise<SyncEventsResult> {
  let result: SyncEventsResult
  try {
    result = await withStopSignals(sync)
  } catch (error) {
    progress.fail()
    throw error
  }

  const seconds = progress.elapsedSeconds.toFixed(1)
  const {rejected} = result
  const quarantined = rejected ? ` (${rejected.count} quarantined: see ${rejected.location})` : ''
  progress.done(
    `Synced ${result.table}: ${counted(result.days, 'days')} (${counted(result.rows, 'events')}) in ${counted(result.chunks, 'chunks')} in ${seconds}s${quarantined}`,
  )
  if (rejected) {
    progress.alert(
      `${counted(rejected.count, 'events')} could not be stored and were quarantined: see ${rejected.location}`,
    )
  }

  return result
}
