import {type DateRange, splitRange} from 'mpx-mixpanel-core/internal/mixpanel/dates.js'

import {addDays} from './days.js'

/** What a table holds of one day, as the sync state records it. */
export interface DayState {
  readonly day: string
  /** When the day was fetched, ISO 8601. */
  readonly fetchedAt: string
  /** The day was not over yet (today, or later) when it was fetched. */
  readonly inProgress: boolean
  readonly rows: number
}

export interface PlanInput {
  readonly chunkDays: number
  /** The state's days (any order). */
  readonly days: readonly DayState[]
  readonly from: string
  /** Re-read the last N days of the range whatever their state (late events). */
  readonly lookbackDays: number
  readonly to: string
}

export interface SyncPlan {
  /** The requests, one per chunk, in date order: runs of consecutive planned days, split by chunkDays. */
  readonly chunks: readonly DateRange[]
  /** Days in the plan that were fetched while in progress (a subset of `refreshed`). */
  readonly inProgress: number
  /** Days never fetched (gaps included). */
  readonly missing: number
  /** Days fetched before, read again (look-back, or fetched while in progress). */
  readonly refreshed: number
}

/**
 * Which days a sync fetches: the days of FROM..TO never fetched, the last `lookbackDays` days up to
 * TO, and any day fetched while it was still in progress. Consecutive days share requests.
 */
export function planSync(input: PlanInput): SyncPlan {
  const held = new Map(input.days.map((day) => [day.day, day]))
  const lookbackStart = addDays(input.to, 1 - input.lookbackDays)
  const planned: string[] = []
  let missing = 0
  let refreshed = 0
  let inProgress = 0
  for (let day = input.from; day <= input.to; day = addDays(day, 1)) {
    const state = held.get(day)
    if (!state) {
      missing++
      planned.push(day)
    } else if (state.inProgress || (input.lookbackDays > 0 && day >= lookbackStart)) {
      refreshed++
      if (state.inProgress) inProgress++
      planned.push(day)
    }
  }

  return {chunks: chunkDays(planned, input.chunkDays), inProgress, missing, refreshed}
}

/** Runs of consecutive days (sorted), each split into chunks of at most `size` days. */
export function chunkDays(days: readonly string[], size: number): DateRange[] {
  const runs: DateRange[] = []
  for (const day of days) {
    const last = runs.at(-1)
    if (last && addDays(last.to, 1) === day) runs[runs.length - 1] = {from: last.from, to: day}
    else runs.push({from: day, to: day})
  }

  return runs.flatMap((run) => splitRange(run, size))
}

/** Days of a list as ranges of consecutive days, e.g. for `mpx tables`. */
export function dayRanges(days: readonly string[]): DateRange[] {
  return chunkDays([...days].sort(), Number.MAX_SAFE_INTEGER)
}

/** Days of FROM..TO not in `days`, as ranges. */
export function gapRanges(days: readonly string[]): DateRange[] {
  const sorted = [...days].sort()
  if (sorted.length === 0) return []
  const held = new Set(sorted)
  const gaps: string[] = []
  for (let day = sorted[0]; day <= sorted.at(-1)!; day = addDays(day, 1)) if (!held.has(day)) gaps.push(day)
  return dayRanges(gaps)
}

/** `2024-01-01..2024-01-05, 2024-01-09` */
export function formatRanges(ranges: readonly DateRange[]): string {
  return ranges.map((range) => (range.from === range.to ? range.from : `${range.from}..${range.to}`)).join(', ')
}
