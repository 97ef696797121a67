import type {NormalizedProfile, RawProfile} from './types.js'

import {END_EVENT_SECONDS, MIN_EVENT_SECONDS} from './event-time.js'
import {mayHoldBigIntegers, parseRecordText, stringifyLossless} from './json.js'
import {BadRecordError, type RejectedRecord} from './rejects.js'

function badProfile(line: string, reason: string): BadRecordError {
  return new BadRecordError({kind: 'profiles', line, reason})
}

/** Parses one engage result, keeping big integers exact; one that is not a profile is a BadRecordError. */
export function parseRawProfile(text: string): RawProfile {
  const profile = parseRecordText(text, 'an engage profile') as Partial<RawProfile> | undefined
  if (!profile || typeof profile !== 'object' || Array.isArray(profile)) throw badProfile(text, 'not an object')
  if (profile.$distinct_id === undefined || profile.$distinct_id === null) throw badProfile(text, 'no $distinct_id')
  if (typeof profile.$distinct_id === 'object') throw badProfile(text, '$distinct_id is not a string or number')
  const properties = profile.$properties
  if (
    properties !== undefined &&
    (properties === null || typeof properties !== 'object' || Array.isArray(properties))
  ) {
    throw badProfile(text, '$properties is not an object')
  }

  return profile as RawProfile
}

// Engage dates: `2024-01-15T14:20:00`, without a zone, in UTC; a zone, fraction or space is taken too.
const ENGAGE_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/u

/** An engage date (or epoch seconds or milliseconds) as ISO 8601 UTC, or undefined when it is not one. */
export function engageDateToIso(value: unknown): string | undefined {
  let ms: number
  if (typeof value === 'string') {
    const text = value.trim().replace(' ', 'T')
    const match = ENGAGE_DATE.exec(text)
    if (!match) return undefined
    // Date.parse reads a date-time without zone as local time: engage's are UTC.
    ms = Date.parse(match[4] || !match[1] ? text : `${text}Z`)
  } else if (typeof value === 'number') {
    ms = value > 1e11 ? value : value * 1000
  } else {
    return undefined
  }

  // Only the years 0000 to 9999, which every reader of the ISO text (DuckDB, Parquet) understands.
  return Number.isFinite(ms) && ms >= MIN_EVENT_SECONDS * 1000 && ms < END_EVENT_SECONDS * 1000
    ? new Date(ms).toISOString()
    : undefined
}

/**
 * The normalized profile for an engage result: `last_seen` from `$last_seen` in UTC, and the other
 * properties as they are. A `$last_seen` that is not a date stays in `properties`, not to be lost.
 */
export function normalizeProfile(raw: RawProfile): NormalizedProfile {
  // Ids are strings, or numbers (big ones as bigint) in projects that sent them so.
  const distinctId: unknown = raw.$distinct_id
  const {$last_seen: lastSeenValue, ...rest} = raw.$properties ?? {}
  const lastSeen = lastSeenValue === undefined || lastSeenValue === null ? undefined : engageDateToIso(lastSeenValue)
  const isUnreadable = lastSeenValue !== undefined && lastSeenValue !== null && lastSeen === undefined
  return {
    distinct_id: String(distinctId),
    last_seen: lastSeen ?? null,
    properties: isUnreadable ? (raw.$properties ?? {}) : rest,
  }
}

/** Engage result text → normalized JSON line: the CLI's and the sinks' path. */
export function normalizeProfileLine(text: string): string {
  return stringifyLossless(normalizeProfile(parseRawProfile(text)), mayHoldBigIntegers(text))
}

/** Engage results → normalized lines; with `onReject`, bad profiles go to it and are left out. */
export function normalizeProfileLines(texts: readonly string[], onReject?: (reject: RejectedRecord) => void): string[] {
  if (!onReject) return texts.map((text) => normalizeProfileLine(text))
  const lines: string[] = []
  for (const text of texts) {
    try {
      lines.push(normalizeProfileLine(text))
    } catch (error) {
      if (!(error instanceof BadRecordError)) throw error
      onReject(error.reject)
    }
  }

  return lines
}
