import {MpxError} from '../../errors.js'
import {withRemedy} from '../remedy.js'
import {RetryableError} from '../retry.js'
import {noteBufferBytes} from '../young-gc.js'
import {isForeignLastLine, isJson, scanLines, TERMINATED} from './not-an-export.js'

const NEWLINE = 10
const EMPTY_LINE = Buffer.from('\n\n')

/** Where the last line of `lines` (whole lines, at least one) starts. */
function lastLineStart(lines: Buffer): number {
  return lines.length < 2 ? 0 : lines.lastIndexOf(NEWLINE, lines.length - 2) + 1
}

/** The bytes without empty lines (lines are counted and delivered without them). */
function dropEmptyLines(bytes: Buffer): Buffer {
  if (bytes.length === 0 || (bytes[0] !== NEWLINE && !bytes.includes(EMPTY_LINE))) return bytes
  const kept: Buffer[] = []
  let start = 0
  while (start < bytes.length) {
    const newline = bytes.indexOf(NEWLINE, start)
    const end = newline === -1 ? bytes.length : newline + 1
    if (end - start > 1 || newline === -1) kept.push(bytes.subarray(start, end))
    start = end
  }

  return Buffer.concat(kept)
}

/**
 * The whole lines of a decompressed export body, as pieces of its own chunks (copying them would
 * double what the garbage collector sees go by). The last whole line is held back until the next
 * one arrives: a body that ends in `terminated early` has half a record before that line, which
 * must never be delivered. Throws a RetryableError for that, for a body that ends mid-record, and
 * for a line that is not JSON at all (then `foreignLine` says what came back).
 *
 * @yields Whole lines, each ending with a newline (possibly none).
 */
export async function* wholeLines(
  body: AsyncIterable<unknown>,
  range: string,
  foreignLine: (line: string) => Error,
): AsyncGenerator<Buffer, void, undefined> {
  let held: Buffer = Buffer.alloc(0)
  /** The start of the next line. */
  let partial: Buffer = Buffer.alloc(0)
  for await (const chunk of body) {
    const data = chunk as Buffer
    noteBufferBytes(data.length)
    const first = data.indexOf(NEWLINE)
    if (first === -1) {
      partial = Buffer.concat([partial, data])
      continue
    }

    const last = data.lastIndexOf(NEWLINE)
    // Whole lines: the held one, the one this chunk completes, and those inside the chunk.
    const joined = dropEmptyLines(Buffer.concat([held, partial, data.subarray(0, first + 1)]))
    const inside = dropEmptyLines(data.subarray(first + 1, last + 1))
    // `terminated early` anywhere first: the line before it is a cut record, not a foreign answer.
    const scans = [scanLines(joined), scanLines(inside)]
    if (scans[0].terminated || scans[1].terminated) {
      throw new RetryableError(`Mixpanel terminated the export of ${range} early`, endedEarly(range))
    }

    const foreign = scans[0].foreign ?? scans[1].foreign
    if (foreign !== undefined) throw foreignLine(foreign)
    partial = data.subarray(last + 1)
    if (inside.length === 0) {
      const cut = lastLineStart(joined)
      held = joined.subarray(cut)
      yield joined.subarray(0, cut)
    } else {
      const cut = lastLineStart(inside)
      held = inside.subarray(cut)
      yield joined
      yield inside.subarray(0, cut)
    }
  }

  // The end: the held line, and the last line if the body did not end with a newline.
  const tail = dropEmptyLines(partial)
  if (tail.length > 0 && TERMINATED.test(tail.toString('utf8'))) {
    throw new RetryableError(`Mixpanel terminated the export of ${range} early`, endedEarly(range))
  }

  const lastLine = tail.length > 0 ? tail.toString('utf8') : held.toString('utf8', 0, Math.max(0, held.length - 1))
  // A last line that parses is a whole record; one that does not was cut, or is not the API's at all.
  if (lastLine.length > 0 && !isJson(lastLine)) {
    if (isForeignLastLine(lastLine)) throw foreignLine(lastLine)
    throw new RetryableError(`the export of ${range} ended mid-record`, endedEarly(range))
  }

  yield tail.length > 0 ? Buffer.concat([held, tail, Buffer.from('\n')]) : held
}

function endedEarly(range: string): MpxError {
  return withRemedy(
    (message) => new MpxError(message),
    `Mixpanel kept ending the export of ${range} early after every retry`,
    'smaller-chunks',
  )
}
