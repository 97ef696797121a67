/**
 * JSON without precision loss. Mixpanel properties can hold integers beyond 2^53 (19-digit ids);
 * plain JSON.parse would round them. Lines that might hold one are parsed with the source text of
 * each number and such integers become `bigint`; everything else takes the fast path.
 */

import {MpxError} from '../errors.js'

// Sixteen digits in a row is the shortest integer that can exceed Number.MAX_SAFE_INTEGER.
const MAYBE_UNSAFE = /\d{16}/

type SourceReviver = (key: string, value: unknown, context?: {source?: string}) => unknown

const keepBigIntegers: SourceReviver = (_key, value, context) => {
  if (typeof value === 'number' && !Number.isSafeInteger(value) && context?.source && /^-?\d+$/.test(context.source)) {
    return BigInt(context.source)
  }

  return value
}

/** JSON.parse, except that integers too large for a double come back as `bigint`. */
export function parseLossless(text: string): unknown {
  if (!MAYBE_UNSAFE.test(text)) return JSON.parse(text)
  return JSON.parse(text, keepBigIntegers as Parameters<typeof JSON.parse>[1])
}

/**
 * parseLossless of one record as Mixpanel sent it (`what`: `an export record`, `an engage profile`):
 * text that is not JSON at all is an MpxError quoting its start.
 */
export function parseRecordText(text: string, what: string): unknown {
  try {
    return parseLossless(text)
  } catch {
    const preview = text.length > 80 ? `${text.slice(0, 80)}…` : text
    throw new MpxError(`Mixpanel sent ${what} that mpx cannot read (not JSON): ${preview}`)
  }
}

declare global {
  interface JSON {
    rawJSON(text: string): unknown
  }
}

const writeBigIntegers = (_key: string, value: unknown): unknown =>
  typeof value === 'bigint' ? JSON.rawJSON(value.toString()) : value

/** JSON.stringify that writes `bigint` values as plain JSON integers. */
export function stringifyLossless(value: unknown, mayHoldBigInts = true): string {
  return mayHoldBigInts ? JSON.stringify(value, writeBigIntegers) : JSON.stringify(value)
}

/** True when text may contain an integer that parseLossless turns into a bigint. */
export function mayHoldBigIntegers(text: string): boolean {
  return MAYBE_UNSAFE.test(text)
}
