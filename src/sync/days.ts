import {formatDay, parseDay} from 'mpx-mixpanel-core/internal/mixpanel/dates.js'
import {projectToday as todayIn} from 'mpx-mixpanel-core/internal/mixpanel/today.js'
import {dayIn} from 'mpx-mixpanel-core/internal/records/wall-clock.js'

/**
 * What "a day" is for a sync, in one place: the project's today, and the day an event belongs to,
 * both in the project's timezone (UTC unless the account or --timezone says otherwise), which is
 * what Mixpanel's from_date and to_date mean.
 */

/** Today's date, YYYY-MM-DD, in the project's timezone (MPX_NOW fixes "now", for tests). */
export function projectToday(timezone = 'UTC'): string {
  return todayIn(timezone)
}

/** The day of an event time (epoch ms), YYYY-MM-DD, in the project's timezone. */
export function eventDay(eventTimeMs: number, timezone = 'UTC'): string {
  return timezone === 'UTC' ? formatDay(eventTimeMs) : dayIn(timezone, eventTimeMs)
}

/**
 * The same as eventDay, in DuckDB SQL over a TIMESTAMPTZ column (mpx's sessions are in UTC, so a
 * plain cast takes the UTC date; another zone's date comes through timezone()).
 */
export function eventDaySql(column: string, timezone = 'UTC'): string {
  if (timezone === 'UTC') return `CAST(${column} AS DATE)`
  return `CAST(timezone('${timezone.replaceAll("'", "''")}', ${column}) AS DATE)`
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
