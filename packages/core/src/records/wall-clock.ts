/**
 * A legacy Mixpanel project (created before 2023) stores `time` as the project timezone's
 * wall-clock seconds (the local date and time written as if it were UTC), not as the instant.
 * This module turns such wall-clock seconds into true UTC seconds by the zone's rules, DST
 * included, with Intl only (no timezone database of our own), and caches the offset per
 * wall-clock hour so that the fast normalizer pays a division and a subtraction per record.
 *
 * The two wall-clock times that do not name exactly one instant are resolved as JavaScript's Date
 * and Temporal's `compatible` disambiguation do:
 * - a time in the repeated autumn hour (01:30 on 2024-11-03 in Los Angeles happens twice) is the
 *   earlier instant, in daylight time (01:30 PDT = 08:30 UTC);
 * - a time in the skipped spring hour (02:30 on 2024-03-10 in Los Angeles never happens) is read
 *   with the offset in force before the change (02:30 PST = 10:30 UTC, i.e. 03:30 PDT).
 */

import {UsageError} from '../errors.js'

const HOUR = 3600
const DAY = 86_400
/** Date's range (8.64e15 ms) less the two days exactToUtc looks around a time. */
const MAX_SECONDS = 8.64e12 - 2 * DAY

let knownZones: Map<string, string> | undefined

/**
 * `zone` as the IANA database spells it (`america/los_angeles` → `America/Los_Angeles`); a usage
 * error naming it, and where it came from, when Intl does not know it.
 */
export function checkTimezone(zone: string, from: string): string {
  try {
    // Throws a RangeError for a zone it does not know.
    const resolved = new Intl.DateTimeFormat('en-US', {timeZone: zone}).resolvedOptions().timeZone
    knownZones ??= new Map(Intl.supportedValuesOf('timeZone').map((name) => [name.toLowerCase(), name]))
    // Intl's own name may be an old alias (Asia/Calcutta for Asia/Kolkata): keep the name as given.
    return knownZones.get(zone.toLowerCase()) ?? (resolved.toLowerCase() === zone.toLowerCase() ? resolved : zone)
  } catch {
    throw new UsageError(
      `Unknown timezone "${zone}" in ${from}: use an IANA name such as America/Los_Angeles, Europe/Paris or UTC`,
    )
  }
}

/** True when `zone` is a timezone Intl knows. */
export function isTimezone(zone: string): boolean {
  try {
    checkTimezone(zone, '')
    return true
  } catch {
    return false
  }
}

/** True for the zones whose offset is always 0: no conversion needed. */
export function isUtc(zone: string): boolean {
  // The default, at every fetch: no Intl, whose list of zones costs a few ms of each start-up.
  if (zone === 'UTC') return true
  const resolved = new Intl.DateTimeFormat('en-US', {timeZone: checkTimezone(zone, 'the timezone')}).resolvedOptions()
  return ['Etc/GMT', 'Etc/UCT', 'Etc/Universal', 'Etc/UTC', 'Etc/Zulu', 'GMT', 'UCT', 'UTC'].includes(resolved.timeZone)
}

/** A zone's offsets from UTC and the conversion of its wall-clock seconds to UTC seconds. */
export class WallClock {
  readonly zone: string
  private readonly format: Intl.DateTimeFormat
  /** Offset (seconds) of each wall-clock hour seen, or NaN for an hour in which it changes. */
  private readonly hourOffsets = new Map<number, number>()
  private lastHour = Number.NaN
  private lastOffset = 0

  constructor(zone: string) {
    this.zone = checkTimezone(zone, 'the timezone')
    this.format = new Intl.DateTimeFormat('en-US', {
      day: 'numeric',
      era: 'short',
      hour: 'numeric',
      hourCycle: 'h23',
      minute: 'numeric',
      month: 'numeric',
      second: 'numeric',
      timeZone: this.zone,
      year: 'numeric',
    })
  }

  /** The UTC seconds of wall-clock seconds, without the cache. */
  exactToUtc(wallSeconds: number): number {
    const whole = Math.floor(wallSeconds)
    // The offsets a day either side: at most one change lies between them.
    const before = this.offsetAt(whole - DAY)
    const after = this.offsetAt(whole + DAY)
    const early = whole - Math.max(before, after)
    const late = whole - Math.min(before, after)
    let utc: number
    if (this.offsetAt(early) === whole - early) utc = early
    else if (this.offsetAt(late) === whole - late) utc = late
    // In the skipped hour: the offset before the change.
    else utc = whole - before
    return utc + (wallSeconds - whole)
  }

  /** The zone's offset from UTC, in whole seconds, at the instant `utcSeconds`. */
  offsetAt(utcSeconds: number): number {
    const instant = Math.floor(utcSeconds)
    const fields: Record<string, number> = {}
    let bc = false
    for (const part of this.format.formatToParts(instant * 1000)) {
      if (part.type === 'era') bc = part.value === 'BC' || part.value === 'B'
      else if (part.type !== 'literal') fields[part.type] = Number(part.value)
    }

    const wall = Date.UTC(
      bc ? 1 - fields.year : fields.year,
      fields.month - 1,
      fields.day,
      fields.hour,
      fields.minute,
      fields.second,
    )
    // Date.UTC maps years 0-99 to 1900-1999: set the year again for those.
    const date = new Date(wall)
    date.setUTCFullYear(bc ? 1 - fields.year : fields.year)
    return date.getTime() / 1000 - instant
  }

  /** The UTC seconds of wall-clock seconds in the zone (see the module's comment for the ambiguous hours). */
  toUtc(wallSeconds: number): number {
    // Not a time Date can hold: left as it is, for the time checks to judge.
    if (!(Math.abs(wallSeconds) < MAX_SECONDS)) return wallSeconds
    const hour = Math.floor(wallSeconds / HOUR)
    if (hour === this.lastHour) return wallSeconds - this.lastOffset
    let offset = this.hourOffsets.get(hour)
    if (offset === undefined) {
      offset = this.hourOffset(hour)
      this.hourOffsets.set(hour, offset)
    }

    if (Number.isNaN(offset)) return this.exactToUtc(wallSeconds)
    this.lastHour = hour
    this.lastOffset = offset
    return wallSeconds - offset
  }

  /** The offset of a whole wall-clock hour, or NaN when it is not the same all through the hour. */
  private hourOffset(hour: number): number {
    const start = hour * HOUR
    const first = start - this.exactToUtc(start)
    const last = start + HOUR - 1 - this.exactToUtc(start + HOUR - 1)
    return first === last ? first : Number.NaN
  }
}

/** Normalized time's seconds: `seconds` as they are, or converted from `clock`'s wall clock. */
export function trueSeconds(seconds: number, clock: undefined | WallClock): number {
  return clock === undefined ? seconds : clock.toUtc(seconds)
}

/** The calendar day (YYYY-MM-DD) of the instant `ms` in `zone`. */
export function dayIn(zone: string, ms: number): string {
  // UTC's offset is always 0: no Intl for the default zone (see isUtc).
  const offset = zone === 'UTC' ? 0 : new WallClock(zone).offsetAt(ms / 1000)
  return new Date(Math.floor(ms / 1000 + offset) * 1000).toISOString().slice(0, 10)
}
