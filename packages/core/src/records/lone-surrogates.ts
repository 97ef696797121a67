/**
 * Lone surrogates: JavaScript strings may hold them and JSON.stringify writes them as `\udXXX`
 * escapes, but they are not Unicode, and strict readers (DuckDB's JSON reader, Parquet writers)
 * refuse them. Sinks that feed such readers get the records with each one replaced by U+FFFD, as
 * any UTF-8 encoder would make it.
 */

/** `\udXXX` in JSON text: a lone surrogate (paired ones are written as they are). */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F][\dA-Fa-f]{2}/
const SURROGATE_ESCAPES = /(?<!\\)((?:\\\\)*)\\u[dD][89a-fA-F][\dA-Fa-f]{2}/g

/** The line with every escaped lone surrogate replaced by U+FFFD (the same string when it has none). */
export function replaceLoneSurrogates(line: string): string {
  return SURROGATE_ESCAPE.test(line) ? line.replaceAll(SURROGATE_ESCAPES, String.raw`$1\ufffd`) : line
}

/** Whether JSON text may hold an escaped lone surrogate (a `\ud` escape): a quick scan of bytes. */
export function mayHoldLoneSurrogate(bytes: Uint8Array): boolean {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return buffer.includes(String.raw`\ud`) || buffer.includes(String.raw`\uD`)
}

/**
 * The lines with lone surrogates replaced, and how many lines changed. `joined`, the lines joined
 * by newlines, spares a second join when the caller has it already.
 */
export function wellFormedLines(
  lines: readonly string[],
  joined = lines.join('\n'),
): {lines: readonly string[]; repaired: number} {
  // One scan of the batch; lines are fixed only when it found something.
  if (!SURROGATE_ESCAPE.test(joined)) return {lines, repaired: 0}
  const fixed = lines.map((line) => replaceLoneSurrogates(line))
  return {lines: fixed, repaired: fixed.filter((line, i) => line !== lines[i]).length}
}
