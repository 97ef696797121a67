/**
 * Which `time` values an event may have: a finite number of seconds since the epoch whose UTC time
 * falls in the years 0000 to 9999, the range every reader of `event_time` (ISO 8601 text, DuckDB,
 * Parquet) understands. A value that looks like milliseconds (from 1e11, the year 5138, on) is
 * refused rather than guessed at: so in effect seconds are taken from the year 0000 to 5138.
 */

/** 0000-01-01T00:00:00Z, in seconds. */
export const MIN_EVENT_SECONDS = -62_167_219_200
/** 10000-01-01T00:00:00Z, in seconds (excluded). */
export const END_EVENT_SECONDS = 253_402_300_800
/**
 * Seconds from here on (the year 5138) are taken for milliseconds: no Mixpanel event is that far
 * ahead, while every millisecond time since 1973 is beyond it (the threshold engage dates use too).
 */
export const MILLISECONDS_FROM = 1e11

const inRange = (seconds: number) => seconds >= MIN_EVENT_SECONDS && seconds < END_EVENT_SECONDS

/** Why `seconds` is not a usable event time, or undefined when it is one. */
export function checkEventSeconds(seconds: number): string | undefined {
  if (!Number.isFinite(seconds)) return 'properties.time is not a finite number'
  if (Math.abs(seconds) >= MILLISECONDS_FROM && inRange(seconds / 1000)) {
    return `properties.time ${seconds} looks like milliseconds, not seconds`
  }

  if (!inRange(seconds)) return `properties.time ${seconds} is outside the years 0000 to 9999`
  return undefined
}
