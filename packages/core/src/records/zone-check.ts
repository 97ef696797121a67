/**
 * Detects a legacy project whose timezone is not set (or is set wrong), never changing any data:
 * Mixpanel stamps `mp_processing_time_ms` in true UTC when it processes an event, most events
 * are processed within minutes of happening, so `time` (read as the instant mpx takes it for)
 * minus `mp_processing_time_ms` clusters just below 0 when the timezone is right, and just below
 * the zone's offset when a legacy project's wall-clock times are read as UTC.
 */

import type {JsonLines} from './json-lines.js'

import {trueSeconds, type WallClock} from './wall-clock.js'

/** Events with both times looked at: the first ones of a fetch. */
export const SAMPLE_SIZE = 1000
/** Fewer than this and nothing is said: too little to tell. */
const MIN_SAMPLES = 20
const QUARTER_HOUR_MS = 15 * 60_000
/** How late after their time most events are processed, at most: a cluster is this wide. */
const PROCESSING_DELAY_MS = 60 * 60_000
/** Offsets looked for: zones lie within UTC-12 to UTC+14. */
const MAX_OFFSET_MS = 14 * 3_600_000

/** A fetch whose event times are shifted from UTC by what looks like a zone's offset. */
export interface TimezoneMismatch {
  /** The library's message (no CLI flags in it). */
  readonly message: string
  /** What `time` is shifted by from `mp_processing_time_ms`, in minutes (e.g. -480 for UTC-08:00). */
  readonly observedMinutes: number
  /** Events looked at. */
  readonly samples: number
  /** The timezone the fetch was made with (UTC when none was set). */
  readonly timezone: string
}

/** `-480` → `UTC-08:00`. */
export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+'
  const abs = Math.abs(minutes)
  return `UTC${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
}

/** How many of the numbers are in [low, high] (at most SAMPLE_SIZE of them: a scan is cheap). */
function countBetween(numbers: readonly number[], low: number, high: number): number {
  let count = 0
  for (const value of numbers) if (value >= low && value <= high) count++
  return count
}

/** Events that an offset explains: their difference is the offset less up to an hour of processing delay. */
function explained(differences: readonly number[], offset: number): number {
  return countBetween(differences, offset - PROCESSING_DELAY_MS - QUARTER_HOUR_MS / 2, offset + QUARTER_HOUR_MS / 2)
}

/**
 * The zone offset (ms, a whole quarter-hour, as zone offsets are) that explains most of the
 * differences (time minus processing time), when it explains at least half of them. Among offsets
 * that explain as many, the lowest: events processed at once sit at the offset itself, and the
 * offsets up to an hour above it explain them too.
 */
function clusterOf(differences: readonly number[]): number | undefined {
  let best: number | undefined
  let bestCount = 0
  for (let offset = -MAX_OFFSET_MS; offset <= MAX_OFFSET_MS; offset += QUARTER_HOUR_MS) {
    const count = explained(differences, offset)
    if (count > bestCount) {
      best = offset
      bestCount = count
    }
  }

  return bestCount * 2 >= differences.length ? best : undefined
}

/**
 * Looks at the first events of a fetch (raw export lines) and reports, once, when their times are
 * shifted from UTC by what looks like a zone offset the fetch does not account for.
 */
export class TimezoneCheck {
  private decided = false
  /** `time` as taken (converted with the zone, if any) minus processing time, ms. */
  private readonly residuals: number[] = []
  /** `time` as sent minus processing time, ms. */
  private readonly shifts: number[] = []

  constructor(
    private readonly clock: undefined | WallClock,
    private readonly onMismatch: (mismatch: TimezoneMismatch) => void,
  ) {}

  /** Samples a block's events, until there are enough; then decides. */
  add(block: JsonLines): void {
    if (this.decided) return
    const text = block.bytes
    for (let start = 0; start < text.length && this.shifts.length < SAMPLE_SIZE;) {
      let end = text.indexOf(10, start)
      if (end === -1) end = text.length
      this.sample(text.toString('utf8', start, end))
      start = end + 1
    }

    if (this.shifts.length >= SAMPLE_SIZE) this.finish()
  }

  /** Decides with what was sampled (at the end of the fetch, when it had fewer events). */
  finish(): void {
    if (this.decided) return
    this.decided = true
    if (this.shifts.length < MIN_SAMPLES) return
    // Times as the fetch takes them are processed within the hour (offset 0), or no offset stands out.
    const residual = clusterOf(this.residuals)
    if (residual === undefined || residual === 0) return
    const observed = clusterOf(this.shifts) ?? residual
    const observedMinutes = observed / 60_000
    const samples = this.shifts.length
    const seen = `in the first ${samples} events, time is ${formatOffset(observedMinutes)} from mp_processing_time_ms (which Mixpanel stamps in UTC)`
    const timezone = this.clock?.zone ?? 'UTC'
    const message = this.clock
      ? `Event times do not look like ${timezone}'s: ${seen}; check the timezone in the project's settings in Mixpanel (event_time is converted with ${timezone} as set)`
      : `Event times look like a legacy project's local times, not UTC: ${seen}; a project created before 2023 stores its timezone's wall clock, so event_time is off by that much until the project's timezone is set (nothing was changed)`
    this.onMismatch({message, observedMinutes, samples, timezone})
  }

  private sample(line: string): void {
    let properties: unknown
    try {
      properties = (JSON.parse(line) as {properties?: unknown}).properties
    } catch {
      return
    }

    if (typeof properties !== 'object' || properties === null) return
    const {mp_processing_time_ms: processed, time} = properties as Record<string, unknown>
    if (typeof time !== 'number' || typeof processed !== 'number') return
    if (!Number.isFinite(time) || !Number.isFinite(processed)) return
    this.shifts.push(time * 1000 - processed)
    this.residuals.push(trueSeconds(time, this.clock) * 1000 - processed)
  }
}

/**
 * The check for a fetch's export blocks, or nothing to check with when nobody listens.
 */
export function timezoneCheck(
  clock: undefined | WallClock,
  onMismatch: ((mismatch: TimezoneMismatch) => void) | undefined,
): TimezoneCheck | undefined {
  return onMismatch ? new TimezoneCheck(clock, onMismatch) : undefined
}
