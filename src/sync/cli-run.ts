import type {SyncEventsResult} from './sync-events.js'

import {reportRun} from '../fetch/cli-run.js'
import {counted, type Progress} from '../output/progress.js'

/**
 * A sync of events as the CLI runs it (see reportRun; what was committed stays when it is
 * stopped), summed up as `Synced events: 30 days (1,000 events) in 5 chunks in 3.2s`.
 */
export async function reportSync(
  progress: Progress,
  sync: (signal: AbortSignal) => Promise<SyncEventsResult>,
): Promise<SyncEventsResult> {
  return reportRun('events', progress, sync, (result, elapsedSeconds) => {
    const {rejected} = result
    const quarantined = rejected ? ` (${rejected.count} quarantined: see ${rejected.location})` : ''
    return `Synced ${result.table}: ${counted(result.days, 'days')} (${counted(result.rows, 'events')}) in ${counted(result.chunks, 'chunks')} in ${elapsedSeconds.toFixed(1)}s${quarantined}`
  })
}
