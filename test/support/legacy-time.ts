/**
 * A legacy Mixpanel project (created before 2023), as the fake Mixpanel plays it: from_date and
 * to_date are the project timezone's days, `time` is its wall clock (the local date and time
 * written as epoch seconds as if UTC), `mp_processing_time_ms` stays true UTC. Written apart from
 * mpx's own conversion (UTC to wall clock here, the direction that is never ambiguous) so that
 * tests check one against the other.
 */

const formats = new Map<string, Intl.DateTimeFormat>()

/** The wall-clock seconds in `zone` of the instant `utcSeconds`. */
export function wallClockSeconds(zone: string, utcSeconds: number): number {
  let format = formats.get(zone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      day: 'numeric',
      hour: 'numeric',
      hourCycle: 'h23',
      minute: 'numeric',
      month: 'numeric',
      second: 'numeric',
      timeZone: zone,
      year: 'numeric',
    })
    formats.set(zone, format)
  }

  const part = Object.fromEntries(
    format.formatToParts(utcSeconds * 1000).map(({type, value}) => [type, Number(value)]),
  ) as Record<string, number>
  return Date.UTC(part.year, part.month - 1, part.day, part.hour, part.minute, part.second) / 1000
}

/** The instant (UTC seconds) at which `day` (YYYY-MM-DD) starts in `zone`. */
export function zoneDayStart(zone: string, day: string): number {
  const wall = Date.parse(`${day}T00:00:00Z`) / 1000
  // Offsets change by hours at most: two steps find midnight's instant.
  let utc = wall - (wallClockSeconds(zone, wall) - wall)
  utc = wall - (wallClockSeconds(zone, utc) - utc)
  return utc
}

const TIME = /"time":(-?\d+)/

/** An export line with true UTC `time` as a legacy project sends it: `time` the zone's wall clock. */
export function legacyLine(zone: string, line: string): string {
  return line.replace(TIME, (_match, seconds: string) => `"time":${wallClockSeconds(zone, Number(seconds))}`)
}
