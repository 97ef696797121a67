import {UsageError} from '../errors.js'

const DAY_MS = 86_400_000
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/** Parses a YYYY-MM-DD calendar date to UTC midnight (ms), refusing impossible dates like 2024-02-30. */
export function parseDay(value: string, name: string): number {
  const match = DATE.exec(value)
  const ms = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Number.NaN
  if (!match || Number.isNaN(ms) || formatDay(ms) !== value) {
    throw new UsageError(`${name} "${value}" is not a date: use YYYY-MM-DD, e.g. 2024-01-31`)
  }

  return ms
}

export function formatDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

export interface DateRange {
  readonly from: string
  readonly to: string
}

/** Checks FROM and TO and that FROM is not after TO. */
export function checkRange(from: string, to: string): DateRange {
  const start = parseDay(from, 'FROM')
  const end = parseDay(to, 'TO')
  if (start > end) throw new UsageError(`FROM ${from} is after TO ${to}: swap them`)
  return {from, to}
}

/** Days in a range, both ends included. */
export function daysIn(range: DateRange): number {
  return (parseDay(range.to, 'TO') - parseDay(range.from, 'FROM')) / DAY_MS + 1
}

/**
 * Splits an inclusive range into consecutive, non-overlapping inclusive chunks of `chunkDays`
 * days (the last may be shorter), in date order.
 */
export function splitRange(range: DateRange, chunkDays: number): DateRange[] {
  if (!Number.isInteger(chunkDays) || chunkDays < 1) throw new UsageError('--chunk-days must be a whole number >= 1')
  const end = parseDay(range.to, 'TO')
  const chunks: DateRange[] = []
  for (let start = parseDay(range.from, 'FROM'); start <= end; start += chunkDays * DAY_MS) {
    chunks.push({from: formatDay(start), to: formatDay(Math.min(end, start + (chunkDays - 1) * DAY_MS))})
  }

  return chunks
}

/** `day` plus `n` days (n may be negative). */
export function addDays(day: string, n: number): string {
  return formatDay(parseDay(day, 'day') + n * 86_400_000)
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

/** Days between the first and the last of `days` that are not in it, as ranges. */
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
