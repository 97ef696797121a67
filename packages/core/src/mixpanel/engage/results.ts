/**
 * Slicing result texts out of an engage response. The text has already passed JSON.parse, so the
 * scanner only needs to find where values start and end: it tracks strings and nesting, nothing
 * else, and takes any JSON (whitespace, escapes, number forms). It is not records/canonical.ts,
 * which checks bytes for the one canonical form a record can be copied from unchanged, and refuses
 * everything else.
 */

const QUOTE = 34
const BACKSLASH = 92

function whitespaceEnd(text: string, i: number): number {
  while (i < text.length) {
    const c = text.codePointAt(i)
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) break
    i++
  }

  return i
}

/** `i` at an opening quote; returns the index after the closing one. */
function stringEnd(text: string, i: number): number {
  let j = i + 1
  for (;;) {
    j = text.indexOf('"', j)
    if (j === -1) return text.length
    // An odd run of backslashes before the quote escapes it.
    let backslashes = 0
    while (text.codePointAt(j - 1 - backslashes) === BACKSLASH) backslashes++
    if (backslashes % 2 === 0) return j + 1
    j++
  }
}

/** `i` at the start of a value; returns the index after it. */
function valueEnd(text: string, i: number): number {
  const c = text[i]
  if (c === '"') return stringEnd(text, i)
  if (c !== '{' && c !== '[') {
    while (i < text.length && !',}] \n\r\t'.includes(text[i])) i++
    return i
  }

  let depth = 0
  while (i < text.length) {
    const code = text.codePointAt(i)
    if (code === QUOTE) {
      i = stringEnd(text, i)
      continue
    }

    if (code === 123 || code === 91) depth++
    else if (code === 125 || code === 93) {
      depth--
      if (depth === 0) return i + 1
    }

    i++
  }

  return i
}

/** The texts of the `results` array's elements, in order. Newlines between tokens are dropped. */
export function resultTexts(text: string): string[] {
  let i = whitespaceEnd(text, 0)
  if (text[i] !== '{') return []
  i = whitespaceEnd(text, i + 1)
  while (i < text.length && text[i] !== '}') {
    const keyEnd = stringEnd(text, i)
    const key = JSON.parse(text.slice(i, keyEnd)) as string
    i = whitespaceEnd(text, whitespaceEnd(text, keyEnd) + 1) // past the colon
    if (key === 'results' && text[i] === '[') {
      const results: string[] = []
      i = whitespaceEnd(text, i + 1)
      while (text[i] !== ']') {
        const end = valueEnd(text, i)
        const result = text.slice(i, end)
        // JSONL needs one line per record; in valid JSON a line break can only be whitespace.
        results.push(/[\n\r]/u.test(result) ? result.replaceAll(/[\n\r]+/gu, '') : result)
        i = whitespaceEnd(text, end)
        if (text[i] === ',') i = whitespaceEnd(text, i + 1)
      }

      return results
    }

    i = whitespaceEnd(text, valueEnd(text, i))
    if (text[i] === ',') i = whitespaceEnd(text, i + 1)
  }

  return []
}
