/**
 * A scanner for JSON text, as UTF-8 bytes, already in canonical form: the form that
 * JSON.stringify(JSON.parse(text)) gives back unchanged. From such text any member can be copied
 * into new JSON byte for byte, with the same result as parsing and re-serializing it, at a fraction
 * of the cost and without decoding the text into strings.
 *
 * The scanner accepts a strict subset of JSON and refuses (returns -1 for) everything else, which
 * then takes the slow, general path. Accepted text has:
 * - no whitespace outside strings and no control character anywhere;
 * - only the escapes JSON.stringify writes: \" \\ \b \f \n \r \t and \u00XX (lower-case) for the
 *   other control characters; never \/, \uXXXX of a printable character, or lone surrogates;
 * - numbers in JavaScript's shortest form: integers without a minus zero (integers beyond 2^53 are
 *   kept digit for digit by the lossless path, see json.ts), other numbers only where
 *   String(Number(text)) === text;
 * - in every object, distinct keys, none starting with a digit (JavaScript moves integer-like keys
 *   first, so their order would change).
 *
 * The text must be valid UTF-8 (callers check with buffer.isUtf8) and each line must end with a
 * newline: a control character, the newline is where every scan of a line stops.
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const COLON = 0x3a
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const MINUS = 0x2d
const PLUS = 0x2b
const DOT = 0x2e
const ZERO = 0x30
const ONE = 0x31
const NINE = 0x39
const LOWER_E = 0x65
const UPPER_E = 0x45
const LOWER_U = 0x75

/** Deeper nesting than this is left to JSON.parse. */
const MAX_DEPTH = 64

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE
}

function isHexLower(c: number): boolean {
  return (c >= ZERO && c <= NINE) || (c >= 0x61 && c <= 0x66)
}

/** `i` at an opening quote; the index after the closing quote, or -1. */
export function skipString(text: Uint8Array, i: number): number {
  let j = i + 1
  for (;;) {
    const c = text[j]
    if (c === QUOTE) return j + 1
    // Also false past the end (undefined): a control character, or the end of the line.
    if (!(c >= 0x20)) return -1
    if (c === BACKSLASH) {
      switch (text[j + 1]) {
        case 0x62: // b
        case 0x66: // f
        case 0x6e: // n
        case 0x72: // r
        case 0x74:
        case BACKSLASH:
        case QUOTE: {
          // t
          j += 2
          continue
        }

        case LOWER_U: {
          // JSON.stringify writes \u00XX only for control characters without a short escape.
          if (text[j + 2] !== ZERO || text[j + 3] !== ZERO) return -1
          const high = text[j + 4]
          const low = text[j + 5]
          if ((high !== ZERO && high !== ONE) || !isHexLower(low)) return -1
          const code = (high - ZERO) * 16 + (low <= NINE ? low - ZERO : low - 0x61 + 10)
          if (code === 8 || code === 9 || code === 10 || code === 12 || code === 13) return -1
          j += 6
          continue
        }

        default: {
          return -1
        }
      }
    }

    j++
  }
}

/** The ASCII text of text[start, end). */
export function ascii(text: Uint8Array, start: number, end: number): string {
  let out = ''
  for (let k = start; k < end; k++) out += String.fromCodePoint(text[k])
  return out
}

/** A number's text is canonical when JavaScript would write the same text for its value. */
function canonicalNumberEnd(text: Uint8Array, start: number, end: number): number {
  const source = ascii(text, start, end)
  const value = Number(source)
  return Number.isFinite(value) && String(value) === source ? end : -1
}

/** `i` at a minus or a digit; the index after the number, or -1. */
export function skipNumber(text: Uint8Array, i: number): number {
  let j = i
  if (text[j] === MINUS) j++
  const integerStart = j
  let c = text[j]
  if (c === ZERO) {
    j++
  } else if (c >= ONE && c <= NINE) {
    j++
    while (isDigit(text[j])) j++
  } else {
    return -1
  }

  const integerDigits = j - integerStart
  const zeroInteger = integerDigits === 1 && text[integerStart] === ZERO
  c = text[j]
  if (c !== DOT && c !== LOWER_E && c !== UPPER_E) {
    // An integer: written back digit for digit (big ones through the lossless path), but -0 is 0.
    return zeroInteger && integerStart !== i ? -1 : j
  }

  if (c === DOT) {
    j++
    const fractionStart = j
    while (isDigit(text[j])) j++
    if (j === fractionStart) return -1
    c = text[j]
    if (c !== LOWER_E && c !== UPPER_E) {
      // Fixed notation with at most 15 significant digits, no trailing zero and a value of at
      // least 1e-6 is the shortest form of its double (15 digits always round-trip), so it is
      // what JavaScript writes; anything else is checked the slow way.
      if (text[j - 1] !== ZERO) {
        let leadingZeros = 0
        if (zeroInteger) while (text[fractionStart + leadingZeros] === ZERO) leadingZeros++
        const significant = (zeroInteger ? 0 : integerDigits) + (j - fractionStart) - leadingZeros
        if (significant <= 15 && leadingZeros <= 5) return j
      }

      return canonicalNumberEnd(text, i, j)
    }
  }

  // An exponent.
  j++
  c = text[j]
  if (c === PLUS || c === MINUS) j++
  const exponentStart = j
  while (isDigit(text[j])) j++
  if (j === exponentStart) return -1
  return canonicalNumberEnd(text, i, j)
}

/** `i` at a value; the index after it, or -1. */
export function skipValue(text: Uint8Array, i: number, depth: number): number {
  switch (text[i]) {
    case 0x66: {
      // false
      return text[i + 1] === 0x61 && text[i + 2] === 0x6c && text[i + 3] === 0x73 && text[i + 4] === 0x65 ? i + 5 : -1
    }

    case 0x6e: {
      return isNull(text, i) ? i + 4 : -1
    }

    case 0x74: {
      // true
      return text[i + 1] === 0x72 && text[i + 2] === 0x75 && text[i + 3] === 0x65 ? i + 4 : -1
    }

    case OPEN_BRACE: {
      return depth >= MAX_DEPTH ? -1 : scanObject(text, i, depth + 1)
    }

    case OPEN_BRACKET: {
      return depth >= MAX_DEPTH ? -1 : skipArray(text, i, depth + 1)
    }

    case QUOTE: {
      return skipString(text, i)
    }

    default: {
      return skipNumber(text, i)
    }
  }
}

/** True when `null` starts at i. */
export function isNull(text: Uint8Array, i: number): boolean {
  return text[i] === 0x6e && text[i + 1] === 0x75 && text[i + 2] === 0x6c && text[i + 3] === 0x6c
}

function skipArray(text: Uint8Array, i: number, depth: number): number {
  let j = i + 1
  if (text[j] === CLOSE_BRACKET) return j + 1
  for (;;) {
    j = skipValue(text, j, depth)
    if (j === -1) return -1
    const c = text[j]
    if (c === COMMA) j++
    else if (c === CLOSE_BRACKET) return j + 1
    else return -1
  }
}

/* eslint-disable no-bitwise -- a hash table of key positions */

/** Keys per object the fast path handles (more go the general way). */
const MAX_KEYS = 256
const SLOTS = 512
const MAX_GENERATION = 0x7f_ff_ff_ff

/**
 * The keys of one object being scanned, by position in the text (nothing is copied or allocated),
 * in an open-addressing table; `current` marks which slots belong to the object being scanned, so
 * starting an object costs nothing. One table per nesting depth.
 */
class KeyTable {
  private count = 0
  private current = 0
  private readonly ends = new Int32Array(SLOTS)
  private readonly generations = new Int32Array(SLOTS)
  private readonly starts = new Int32Array(SLOTS)

  /** Adds the key text[start, end) (quotes included); false when the object has it already or has too many keys. */
  add(text: Uint8Array, start: number, end: number): boolean {
    if (++this.count > MAX_KEYS) return false
    const length = end - start
    // Length and three bytes: distinct keys rarely collide, and a collision only costs a comparison.
    let slot =
      (Math.imul(length, 0x9e_37_79_b1) ^
        Math.imul(text[start + 1], 0x85_eb_ca_6b) ^
        Math.imul(text[start + (length >> 1)], 0xc2_b2_ae_35) ^
        text[end - 2]) &
      (SLOTS - 1)
    const {current, ends, generations, starts} = this
    while (generations[slot] === current) {
      const otherStart = starts[slot]
      if (ends[slot] - otherStart === length && sameBytes(text, start, otherStart, length)) return false
      slot = (slot + 1) & (SLOTS - 1)
    }

    generations[slot] = current
    starts[slot] = start
    ends[slot] = end
    return true
  }

  /** Starts a new object. */
  clear(): void {
    this.count = 0
    if (this.current === MAX_GENERATION) {
      // After 2^31 objects: forget every old mark rather than risk a stale one.
      this.generations.fill(0)
      this.current = 0
    }

    this.current++
  }
}

/* eslint-enable no-bitwise */

function sameBytes(text: Uint8Array, a: number, b: number, length: number): boolean {
  for (let k = 0; k < length; k++) if (text[a + k] !== text[b + k]) return false
  return true
}

const tables: KeyTable[] = []

/** Told each member of the object scanned by scanMembers: key with its quotes, then value. */
export type MemberCallback = (keyStart: number, keyEnd: number, valueStart: number, valueEnd: number) => void

/** `i` at an object; the index after it, or -1. */
export function scanObject(text: Uint8Array, i: number, depth: number, member?: MemberCallback): number {
  let j = i + 1
  if (text[j] === CLOSE_BRACE) return j + 1
  let keys = tables[depth]
  if (!keys) {
    keys = new KeyTable()
    tables[depth] = keys
  }

  keys.clear()
  for (;;) {
    if (text[j] !== QUOTE || isDigit(text[j + 1])) return -1
    const keyEnd = skipString(text, j)
    // Canonical keys are equal exactly when their bytes are.
    if (keyEnd === -1 || text[keyEnd] !== COLON || !keys.add(text, j, keyEnd)) return -1
    const valueStart = keyEnd + 1
    const valueEnd = skipValue(text, valueStart, depth)
    if (valueEnd === -1) return -1
    member?.(j, keyEnd, valueStart, valueEnd)
    const c = text[valueEnd]
    if (c === CLOSE_BRACE) return valueEnd + 1
    if (c !== COMMA) return -1
    j = valueEnd + 1
  }
}
