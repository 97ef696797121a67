/**
 * Raw export lines → normalized lines, on UTF-8 bytes, without decoding them into strings: each
 * line in canonical JSON (see canonical.ts) is rebuilt by copying its own bytes (the event's
 * name, the ids, every kept property) around the new keys; any other line takes the general path
 * (parse, normalize, JSON.stringify). Both give the same bytes for the same line.
 */

import {isUtf8} from 'node:buffer'
import {createHash} from 'node:crypto'

import {ascii, isNull, scanObject, skipString} from './canonical.js'
import {checkEventSeconds} from './event-time.js'
import {JsonLines} from './json-lines.js'
import {trueSeconds, type WallClock} from './wall-clock.js'

const NEWLINE = 10
const QUOTE = 0x22

const EVENT_PREFIX = Buffer.from('{"event":"')
const PROPERTIES_KEY = Buffer.from(',"properties":{')

const OUT_EVENT_NAME = Buffer.from('{"event_name":')
const OUT_EVENT_TIME = Buffer.from(',"event_time":"')
const OUT_DISTINCT_ID = Buffer.from('","distinct_id":')
const OUT_INSERT_ID = Buffer.from(',"insert_id":')
const OUT_PROPERTIES = Buffer.from(',"properties":{')
const OUT_END = Buffer.from('}}\n')
const EMPTY_STRING = Buffer.from('""')

/** How the general path normalizes one line (string in, string out, errors thrown as they are). */
export type LineNormalizer = (line: string) => string

/** What each line gains at most (new keys, a derived insert id, quotes around numeric ids). */
const GROWTH_PER_LINE = 160

// The scan's state: module-level, so that scanning a line allocates nothing for it.
let scanned: Uint8Array = new Uint8Array(0)
let timeStart = -1
let timeEnd = -1
let distinctIdStart = -1
let distinctIdEnd = -1
let insertIdStart = -1
let insertIdEnd = -1
/** The block's wall clock, when its times are a legacy project's (see normalizeEventBlock). */
let blockClock: undefined | WallClock
/** Where the kept members start and end, in pairs: a run of adjacent members is one pair. */
const kept: number[] = []

function startsWith(text: Uint8Array, at: number, prefix: Uint8Array): boolean {
  for (let k = 0; k < prefix.length; k++) if (text[at + k] !== prefix[k]) return false
  return true
}

const TIME_KEY = Buffer.from('"time"')
const DISTINCT_ID_KEY = Buffer.from('"distinct_id"')
const INSERT_ID_KEY = Buffer.from('"$insert_id"')

function onMember(keyStart: number, keyEnd: number, valueStart: number, valueEnd: number): void {
  const length = keyEnd - keyStart
  if (length === 6 && startsWith(scanned, keyStart, TIME_KEY)) {
    timeStart = valueStart
    timeEnd = valueEnd
  } else if (length === 13 && startsWith(scanned, keyStart, DISTINCT_ID_KEY)) {
    distinctIdStart = valueStart
    distinctIdEnd = valueEnd
  } else if (length === 12 && startsWith(scanned, keyStart, INSERT_ID_KEY)) {
    insertIdStart = valueStart
    insertIdEnd = valueEnd
  } else if (kept.length > 0 && kept.at(-1) === keyStart - 1) {
    kept[kept.length - 1] = valueEnd
  } else {
    kept.push(keyStart, valueEnd)
  }
}

/** Output under construction. */
class Output {
  bytes: Buffer
  length = 0

  constructor(capacity: number) {
    this.bytes = Buffer.allocUnsafe(capacity)
  }

  /** Makes room for `more` bytes. */
  ensure(more: number): void {
    if (this.length + more <= this.bytes.length) return
    const bigger = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.length + more))
    this.bytes.copy(bigger, 0, 0, this.length)
    this.bytes = bigger
  }

  put(source: Uint8Array, start = 0, end = source.length): void {
    const {bytes} = this
    let at = this.length
    if (end - start < 48) {
      for (let k = start; k < end; k++) bytes[at++] = source[k]
    } else {
      bytes.set(source.subarray(start, end), at)
      at += end - start
    }

    this.length = at
  }

  putAscii(text: string): void {
    const {bytes} = this
    let at = this.length
    for (let k = 0; k < text.length; k++) bytes[at++] = text.codePointAt(k) as number
    this.length = at
  }

  /** A JSON string of a scalar's text: strings as they are, numbers and booleans quoted (String(value) is their text). */
  putAsString(source: Uint8Array, start: number, end: number): void {
    if (source[start] === QUOTE) {
      this.put(source, start, end)
    } else {
      this.bytes[this.length++] = QUOTE
      this.put(source, start, end)
      this.bytes[this.length++] = QUOTE
    }
  }
}

// The day of the last time written, to write times of the same day without a Date.
let dayStartSeconds = Number.NaN
let dayPrefix = ''
const twoDigits = Array.from({length: 60}, (_, n) => String(n).padStart(2, '0'))

/** `new Date(seconds * 1000).toISOString()`, faster for whole seconds in the day of the previous call. */
export function secondsToIso(seconds: number): string {
  const second = seconds - dayStartSeconds
  if (second >= 0 && second < 86_400 && Number.isInteger(second)) {
    const hours = Math.floor(second / 3600)
    const minutes = Math.floor((second % 3600) / 60)
    return `${dayPrefix}${twoDigits[hours]}:${twoDigits[minutes]}:${twoDigits[second % 60]}.000Z`
  }

  const iso = new Date(seconds * 1000).toISOString()
  if (Number.isInteger(seconds) && iso.length === 24) {
    dayStartSeconds = seconds - (((seconds % 86_400) + 86_400) % 86_400)
    dayPrefix = iso.slice(0, 11)
  }

  return iso
}

/** The number at text[start, end): exact for plain integers of up to 15 digits, else through Number(). */
function numberAt(text: Uint8Array, start: number, end: number): number {
  const negative = text[start] === 0x2d
  const first = negative ? start + 1 : start
  if (end - first <= 15) {
    let value = 0
    let k = first
    for (; k < end; k++) {
      const c = text[k]
      if (c < 0x30 || c > 0x39) break
      value = value * 10 + (c - 0x30)
    }

    if (k === end) return negative ? -value : value
  }

  return Number(ascii(text, start, end))
}

/** The id Mixpanel's dedupe rule falls back on: as derivedInsertId() in events.ts, from the line's bytes. */
function derivedId(text: Uint8Array, start: number, end: number): string {
  return `mpx-${createHash('sha256').update(text.subarray(start, end)).digest('hex').slice(0, 32)}`
}

/**
 * Appends the normalized line for text[start, end) (the newline at `end`) to `out`; false, with
 * nothing appended, when the line is not one the fast path takes.
 */
function spliceLine(text: Uint8Array, start: number, end: number, out: Output): boolean {
  if (!startsWith(text, start, EVENT_PREFIX)) return false
  const eventEnd = skipString(text, start + 9)
  if (eventEnd === -1 || !startsWith(text, eventEnd, PROPERTIES_KEY)) return false
  scanned = text
  timeStart = -1
  distinctIdStart = -1
  insertIdStart = -1
  kept.length = 0
  const propertiesEnd = scanObject(text, eventEnd + 14, 1, onMember)
  scanned = EMPTY_STRING
  if (propertiesEnd !== end - 1 || text[propertiesEnd] !== 0x7d || timeStart === -1) return false
  // The time: a number (a string or anything else takes the general path, with its errors).
  const timeFirst = text[timeStart]
  if (timeFirst !== 0x2d && (timeFirst < 0x30 || timeFirst > 0x39)) return false
  // A time mpx cannot store takes the general path, which says why.
  const seconds = numberAt(text, timeStart, timeEnd)
  if (checkEventSeconds(seconds) !== undefined) return false
  let eventTime: string
  try {
    eventTime = secondsToIso(trueSeconds(seconds, blockClock))
  } catch {
    return false
  }

  // Ids that are objects or arrays take the general path.
  const distinctIdFirst = distinctIdStart === -1 ? 0 : text[distinctIdStart]
  if (distinctIdFirst === 0x7b || distinctIdFirst === 0x5b) return false
  const insertIdFirst = insertIdStart === -1 ? 0 : text[insertIdStart]
  if (insertIdFirst === 0x7b || insertIdFirst === 0x5b) return false

  out.ensure(end - start + GROWTH_PER_LINE)
  out.put(OUT_EVENT_NAME)
  out.put(text, start + 9, eventEnd)
  out.put(OUT_EVENT_TIME)
  out.putAscii(eventTime)
  out.put(OUT_DISTINCT_ID)
  // Absent or null: "".
  if (distinctIdStart === -1 || isNull(text, distinctIdStart)) out.put(EMPTY_STRING)
  else out.putAsString(text, distinctIdStart, distinctIdEnd)
  out.put(OUT_INSERT_ID)
  // Absent, null or "": derived from the line.
  if (
    insertIdStart === -1 ||
    isNull(text, insertIdStart) ||
    (insertIdEnd - insertIdStart === 2 && insertIdFirst === QUOTE)
  ) {
    out.putAscii(`"${derivedId(text, start, end)}"`)
  } else {
    out.putAsString(text, insertIdStart, insertIdEnd)
  }

  out.put(OUT_PROPERTIES)
  for (let k = 0; k < kept.length; k += 2) {
    if (k > 0) out.bytes[out.length++] = 0x2c
    out.put(text, kept[k], kept[k + 1])
  }

  out.put(OUT_END)
  return true
}

/**
 * Normalizes a block of raw export lines. `general` is the general path for the lines the fast
 * path does not take (and for every line of text that is not valid UTF-8, as decoding would
 * replace its bad bytes). A line whose error `skip` accepts (a bad record, handed elsewhere) is
 * left out; any other error is thrown. With `clock`, times are a legacy project's wall clock,
 * converted to UTC.
 */
export function normalizeEventBlock(
  block: JsonLines,
  general: LineNormalizer,
  options: {clock?: WallClock; skip?: (error: unknown) => boolean} = {},
): JsonLines {
  const {clock, skip} = options
  const text = block.bytes
  const out = new Output(text.length + block.count * GROWTH_PER_LINE)
  const valid = isUtf8(text)
  let count = 0
  blockClock = clock
  for (let start = 0; start < text.length;) {
    let end = text.indexOf(NEWLINE, start)
    if (end === -1) end = text.length
    if (valid && spliceLine(text, start, end, out)) {
      count++
    } else {
      let line: string | undefined
      try {
        line = general(text.toString('utf8', start, end))
      } catch (error) {
        if (!skip?.(error)) throw error
      }

      if (line !== undefined) {
        const normalized = Buffer.from(`${line}\n`)
        out.ensure(normalized.length)
        out.put(normalized)
        count++
      }
    }

    start = end + 1
  }

  return new JsonLines(out.bytes.subarray(0, out.length), count)
}
