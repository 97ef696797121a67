import type {DaysTarget, SyncTargetState} from 'mpx-mixpanel'

/** The sync state of a Parquet table, local or in a bucket: its shape, and how a chunk changes it. */

/**
 * What a synced table's state file holds, beside its directory (`<dir>/<table>.mpx-sync.json`) or
 * its prefix in a bucket (`s3://bucket/prefix/<table>.mpx-sync.json`).
 */
export interface SyncFile {
  days: Record<string, {fetchedAt: string; inProgress: boolean; rows: number}>
  filters?: {events: string[]; where: null | string}
  from?: string
  kind: string
  lastSyncAt?: string
}

const DAY_MS = 86_400_000

export function daysOf(range: {from: string; to: string}): string[] {
  const days: string[] = []
  for (let at = Date.parse(`${range.from}T00:00:00Z`); at <= Date.parse(`${range.to}T00:00:00Z`); at += DAY_MS) {
    days.push(new Date(at).toISOString().slice(0, 10))
  }

  return days
}

export const syncFileText = (state: SyncFile) => `${JSON.stringify(state, null, 2)}\n`

/** The state once a chunk's days are in place: each day fetched now, with its rows; the sync's settings. */
export function recordChunk(state: SyncFile, target: DaysTarget, rows: ReadonlyMap<string, number>): SyncFile {
  const fetchedAt = new Date().toISOString()
  const days = {...state.days}
  for (const day of daysOf(target.days)) {
    days[day] = {fetchedAt, inProgress: day >= target.sync.today, rows: rows.get(day) ?? 0}
  }

  return {
    ...state,
    days,
    filters: {events: [...target.sync.filters.events], where: target.sync.filters.where},
    from: target.sync.from,
    kind: 'events',
  }
}

/** What mpx's sync needs to know of a table, from its state file (if any). */
export function targetState(state: SyncFile | undefined, exists: boolean, kind?: string): SyncTargetState {
  return {
    days: Object.entries(state?.days ?? {}).map(([day, entry]) => ({day, ...entry})),
    exists,
    filters: state?.filters,
    from: state?.from,
    kind: state?.kind ?? kind,
    lastSyncAt: state?.lastSyncAt,
  }
}
