import {addDays, chunkDays, type DateRange} from 'mpx-mixpanel-core/internal/mixpanel/dates.js'

import type {DayState} from '../duckdb/day-state.js'

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
