/** What an event fetch needs to know of the project's time: its timezone, and who hears of a mismatch. */

import {isUtc, WallClock} from './wall-clock.js'
import {type TimezoneCheck, timezoneCheck, type TimezoneMismatch} from './zone-check.js'

export interface TimeOptions {
  /** Told once when event times look shifted by a zone offset the timezone does not account for. */
  readonly onTimezoneMismatch?: (mismatch: TimezoneMismatch) => void
  /**
   * The project's timezone (IANA name), for a project created before 2023 whose times are its
   * wall clock: normalized event_time is then converted to the true instant. Default UTC.
   */
  readonly timezone?: string
}

/** The clock that converts a legacy project's times (none for UTC), and the check of the first events. */
export function projectClock(options: TimeOptions): {check?: TimezoneCheck; clock?: WallClock} {
  const zone = options.timezone ?? 'UTC'
  const clock = isUtc(zone) ? undefined : new WallClock(zone)
  return {check: timezoneCheck(clock, options.onTimezoneMismatch), clock}
}
