import {MpxError} from '../../errors.js'

/**
 * A 200 whose body is not Mixpanel's export at all: an HTML login page from a proxy, a text
 * message, any line that is not JSON. (A line that is JSON but not a usable event is a bad record,
 * which is another matter.) Asking again once is plenty: a proxy that answers so twice will again.
 */
export class NotAnExportError extends MpxError {}

const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const NEWLINE = 10
/** How much of the offending text an error quotes. */
const QUOTED_CHARACTERS = 60

/** Mixpanel's line after the half record of an export it cut short (`terminated early`, `export terminated early`). */
export const TERMINATED = /terminated early\s*$/

/** True for text that is JSON (any value, `null` included); blank text is not. */
export function isJson(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/** What one look at every line of a body found. */
export interface LineScan {
  /** The first line that is not JSON at all, if any. */
  readonly foreign?: string
  /** Whether a line is Mixpanel's `terminated early` (ends with those words). */
  readonly terminated: boolean
}

/**
 * Looks at each of `lines` (whole lines, each ending with a newline) for what stops an export: a
 * line that is not JSON at all, and Mixpanel's `terminated early`. A record starts with `{` and
 * ends with `}`, so a normal body costs two bytes' look per line: only a line that starts with
 * something else is parsed (a cut record is found elsewhere), and only one that ends with something
 * else is matched against TERMINATED (measured: searching the whole text for the words instead
 * cost as much CPU as the rest of the raw export's own work).
 */
export function scanLines(lines: Buffer): LineScan {
  let foreign: string | undefined
  let terminated = false
  for (let start = 0; start < lines.length;) {
    const newline = lines.indexOf(NEWLINE, start)
    const end = newline === -1 ? lines.length : newline
    if (end > start) {
      if (foreign === undefined && lines[start] !== OPEN_BRACE) {
        const line = lines.toString('utf8', start, end)
        if (line.trim() !== '' && !isJson(line)) foreign = line
      }

      if (!terminated && lines[end - 1] !== CLOSE_BRACE)
        terminated = TERMINATED.test(lines.toString('utf8', start, end))
    }

    start = end + 1
  }

  return {foreign, terminated}
}

/** The first of `lines` (whole lines, each ending with a newline) that is not JSON at all, if any. */
export function firstNonJsonLine(lines: Buffer): string | undefined {
  return scanLines(lines).foreign
}

/** True when a last line that is not a whole record is not even the start of one. */
export function isForeignLastLine(line: string): boolean {
  return !line.trimStart().startsWith('{') && !isJson(line)
}

/** `text`'s first characters as a JSON string: control characters and quotes escaped. */
export function quoteStart(text: string): string {
  const characters = [...text]
  const start = characters.slice(0, QUOTED_CHARACTERS).join('')
  return `${JSON.stringify(start)}${characters.length > QUOTED_CHARACTERS ? '…' : ''}`
}

/** What to report when the answer for `range` was not an export: what came back, and that it is not one. */
export function notAnExport(range: string, contentType: string | undefined, line: string): NotAnExportError {
  return new NotAnExportError(
    `The answer for ${range} is not a Mixpanel export (a proxy or login page in the way?): ` +
      `HTTP 200, content type ${contentType ? JSON.stringify(contentType) : 'not given'}, ` +
      `a line starting ${quoteStart(line)}`,
  )
}
