import {createHash} from 'node:crypto'

import type {NormalizedEvent, RawEvent} from './types.js'

import {normalizeEventBlock, secondsToIso} from './event-block.js'
import {checkEventSeconds} from './event-time.js'
import {JsonLines} from './json-lines.js'
import {mayHoldBigIntegers, parseRecordText, stringifyLossless} from './json.js'
import {BadRecordError, type RejectedRecord} from './rejects.js'
import {trueSeconds, type WallClock} from './wall-clock.js'

function badEvent(line: string, reason: string, insertId?: unknown): BadRecordError {
  const id = typeof insertId === 'string' && insertId !== '' ? {insertId} : {}
  return new BadRecordError({...id, kind: 'events', line, reason})
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * Parses one raw export line, keeping big integers exact. A line that is not JSON is an MpxError
 * (the response is not an export); JSON that is not an event is a BadRecordError.
 */
export function parseRawEvent(line: string): RawEvent {
  const value = parseRecordText(line, 'an export record')
  if (!isObject(value))
    throw badEvent(
      line,
      `not an object but ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
    )
  if (typeof value.event !== 'string') throw badEvent(line, 'no event name')
  if (value.properties === undefined) throw badEvent(line, 'no properties')
  if (!isObject(value.properties)) throw badEvent(line, 'properties is not an object')
  return value as unknown as RawEvent
}

/** Seconds as a number: numbers, big integers and numeric strings (Mixpanel has sent all three). */
function secondsOf(time: unknown): number {
  if (typeof time === 'number') return time
  if (typeof time === 'bigint') return Number(time)
  if (typeof time === 'string' && time.trim() !== '') return Number(time)
  return Number.NaN
}

function epochToIso(time: unknown, line: string, insertId: unknown, clock?: WallClock): string {
  if (time === undefined || time === null) throw badEvent(line, 'no properties.time', insertId)
  const seconds = secondsOf(time)
  const reason = checkEventSeconds(seconds)
  if (reason) throw badEvent(line, reason, insertId)
  return secondsToIso(trueSeconds(seconds, clock))
}

/**
 * An id for events exported without `$insert_id`, derived from the record itself so that the same
 * event always gets the same id (and exact duplicates collapse on dedupe).
 */
export function derivedInsertId(line: string): string {
  return `mpx-${createHash('sha256').update(line).digest('hex').slice(0, 32)}`
}

/**
 * The normalized event for a raw export line. With `clock`, `time` is a legacy project's wall
 * clock (see wall-clock.ts), converted to the true instant.
 */
export function normalizeEvent(raw: RawEvent, line: string, clock?: WallClock): NormalizedEvent {
  const {$insert_id: insertId, distinct_id: distinctId, time, ...properties} = raw.properties
  // Key order is the output's column order: keep it as written.
  /* eslint-disable perfectionist/sort-objects */
  return {
    event_name: raw.event,
    event_time: epochToIso(time, line, insertId, clock),
    distinct_id: distinctId === undefined || distinctId === null ? '' : String(distinctId),
    insert_id:
      typeof insertId === 'string' && insertId.length > 0
        ? insertId
        : insertId === undefined || insertId === null || insertId === ''
          ? derivedInsertId(line)
          : String(insertId),
    properties,
  }
  /* eslint-enable perfectionist/sort-objects */
}

/** Raw export line → normalized JSON line: the CLI's and the sinks' path (see event-block.ts). */
export function normalizeEventLine(line: string, clock?: WallClock): string {
  if (line.length === 0 || line.includes('\n')) return slowNormalizeEventLine(line, clock)
  return normalizeEventLines(JsonLines.fromLines([line]), {clock}).lines[0]
}

export interface EventLineOptions {
  /** A legacy project's wall clock: times are converted from it to UTC. */
  readonly clock?: WallClock
  /** Bad records go here and are left out; without it, the first one is thrown (a BadRecordError). */
  readonly onReject?: (reject: RejectedRecord) => void
}

/** Raw export lines → normalized lines, as blocks of bytes: the fast path, same result as normalizeEventLine. */
export function normalizeEventLines(block: JsonLines, options: EventLineOptions = {}): JsonLines {
  const {clock, onReject} = options
  const general = clock === undefined ? slowNormalizeEventLine : (line: string) => slowNormalizeEventLine(line, clock)
  const skip =
    onReject &&
    ((error: unknown) => {
      if (!(error instanceof BadRecordError)) return false
      onReject(error.reject)
      return true
    })
  return normalizeEventBlock(block, general, {clock, skip})
}

/** The general path: parse, normalize, serialize. */
export function slowNormalizeEventLine(line: string, clock?: WallClock): string {
  return stringifyLossless(normalizeEvent(parseRawEvent(line), line, clock), mayHoldBigIntegers(line))
}
