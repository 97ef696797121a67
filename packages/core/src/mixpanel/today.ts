/**
 * "Today" as Mixpanel means it: the project's day, in its timezone. Mixpanel refuses an export
 * whose to_date is after it (400 "to_date cannot be later than today").
 */

import {UsageError} from '../errors.js'
import {dayIn} from '../records/wall-clock.js'
import {type DateRange, formatDay, parseDay} from './dates.js'

/**
 * The current time in ms: the clock, or MPX_NOW (an ISO 8601 instant) so that tests can say
 * when "now" is.
 */
export function now(env: NodeJS.ProcessEnv = process.env): number {
  const fixed = env.MPX_NOW
  if (fixed === undefined || fixed === '') return Date.now()
  const ms = Date.parse(fixed)
  if (Number.isNaN(ms)) throw new UsageError(`MPX_NOW="${fixed}" is not a time: use e.g. 2024-01-31T12:00:00Z`)
  return ms
}

/** The project's today (YYYY-MM-DD) in `timezone`. */
export function projectToday(timezone: string, nowMs = now()): string {
  return dayIn(timezone, nowMs)
}

/**
 * The range with TO no later than the project's today: a note says so when TO was clamped; FROM
 * after today is a usage error (there is nothing to fetch).
 */
export function clampToToday(range: DateRange, timezone: string, nowMs = now()): {note?: string; range: DateRange} {
  const today = projectToday(timezone, nowMs)
  const where = timezone === 'UTC' ? 'UTC' : `in ${timezone}`
  if (range.from > today) {
    throw new UsageError(
      `FROM ${range.from} is after the project's today (${today} ${where}): Mixpanel has no events from the future`,
    )
  }

  if (range.to <= today) return {range}
  return {
    note: `TO ${range.to} is after the project's today (${today} ${where}): fetching up to ${today}`,
    range: {from: range.from, to: today},
  }
}

/** The day before `day` (YYYY-MM-DD). */
export function dayBefore(day: string): string {
  return formatDay(parseDay(day, 'TO') - 86_400_000)
}
