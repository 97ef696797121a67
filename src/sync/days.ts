import {UsageError} from '../errors.js'
import {formatDay, parseDay} from '../mixpanel/dates.js'

/**
 * What "a day" is for a sync, in one place: today's date, and the day an event belongs to.
 * UTC for now; a project's time zone replaces UTC here (and only here) when mpx knows it.
 */

/**
 * Today's date, YYYY-MM-DD, as the project counts days (UTC for now). `MPX_TODAY` overrides it,
 * for tests that sync dates of the past as if they were recent.
 */
export function projectToday(now: Date = new Date(), env: NodeJS.ProcessEnv = process.env): string {
  const override = env.MPX_TODAY
  if (override) {
    parseDay(override, 'MPX_TODAY')
    return override
  }

  return formatDay(now.getTime())
}

/** The day of an event time (epoch ms), YYYY-MM-DD: the UTC date for now. */
export function eventDay(eventTimeMs: number): string {
  return formatDay(eventTimeMs)
}

/**
 * The same as eventDay, in DuckDB SQL over a TIMESTAMPTZ column (mpx's sessions are in UTC, so the
 * cast takes the UTC date).
 */
export function eventDaySql(column: string): string {
  return `CAST(${column} AS DATE)`
}

/** `day` plus `n` days (n may be negative). */
export function addDays(day: string, n: number): string {
  return formatDay(parseDay(day, 'day') + n * 86_400_000)
}

/** Checks a --from / --to date. */
export function checkDay(value: string, name: string): string {
  parseDay(value, name)
  return value
}

/** Refuses a day after today (Mixpanel refuses a to_date later than its today). */
export function checkNotFuture(day: string, today: string, name: string): void {
  if (day > today) throw new UsageError(`${name} ${day} is after today (${today}): Mixpanel has no events there yet`)
}
