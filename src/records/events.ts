import {createHash} from 'node:crypto'

import type {NormalizedEvent, RawEvent} from './types.js'

import {MpxError} from '../errors.js'
import {normalizeEventBlock, secondsToIso} from './event-block.js'
import {JsonLines} from './json-lines.js'
import {mayHoldBigIntegers, parseLossless, stringifyLossless} from './json.js'
import {trueSeconds, type WallClock} from './wall-clock.js'

function malformed(line: string, why: string): MpxError {
  const preview = line.length > 80 ? `${line.slice(0, 80)}…` : line
  return new MpxError(`Mixpanel sent an export record that mpx cannot read (${why}): ${preview}`)
}

/** Parses one raw export line, keeping big integers exact. */
export function parseRawEvent(line: string): RawEvent {
  let value: unknown
  try {
    value = parseLossless(line)
  } catch {
    throw malformed(line, 'not JSON')
  }

  const event = value as null | Partial<RawEvent>
  if (!event || typeof event !== 'object' || typeof event.event !== 'string' || typeof event.properties !== 'object') {
    throw malformed(line, 'no event name or properties')
  }

  return event as RawEvent
}

function epochToIso(time: unknown, line: string, clock?: WallClock): string {
  const seconds = typeof time === 'bigint' ? Number(time) : typeof time === 'string' ? Number(time) : time
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) throw malformed(line, 'no numeric properties.time')
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
    event_time: epochToIso(time, line, clock),
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
  return normalizeEventLines(JsonLines.fromLines([line]), clock).lines[0]
}

/** Raw export lines → normalized lines, as blocks of bytes: the fast path, same result as normalizeEventLine. */
export function normalizeEventLines(block: JsonLines, clock?: WallClock): JsonLines {
  const general = clock === undefined ? slowNormalizeEventLine : (line: string) => slowNormalizeEventLine(line, clock)
  return normalizeEventBlock(block, general, clock)
}

/** The general path: parse, normalize, serialize. */
export function slowNormalizeEventLine(line: string, clock?: WallClock): string {
  return stringifyLossless(normalizeEvent(parseRawEvent(line), line, clock), mayHoldBigIntegers(line))
}
