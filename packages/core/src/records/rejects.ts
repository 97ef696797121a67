/**
 * Bad records: lines that are JSON but not a usable event or profile (`null`, an array, no
 * properties, a time mpx cannot store). One such record must not stop a fetch, nor be dropped
 * silently: it is quarantined (kept as received, with the reason), within a limit the caller sets.
 */
import type {RecordKind} from './types.js'

import {MpxError} from '../errors.js'

/** A record mpx could not normalize or store, as received. */
export interface RejectedRecord {
  /** The record's UTC day (`YYYY-MM-DD`), when its time could be read. */
  readonly day?: string
  /** Its `$insert_id`, when it has one. */
  readonly insertId?: string
  readonly kind: RecordKind
  /** The record exactly as Mixpanel sent it: the export line, or the engage result's JSON text. */
  readonly line: string
  /** The export request's days (events), inclusive: where to look for the record in Mixpanel. */
  readonly range?: {readonly from: string; readonly to: string}
  /** Why it was not stored, one line, e.g. `properties.time 1704067211000 looks like milliseconds, not seconds`. */
  readonly reason: string
}

/** One record that cannot be normalized or stored: thrown where no one takes rejects. */
export class BadRecordError extends MpxError {
  readonly reject: RejectedRecord

  constructor(reject: RejectedRecord, message?: string) {
    super(
      message ?? `Mixpanel sent ${describe(reject)} that mpx cannot store (${reject.reason}): ${preview(reject.line)}`,
    )
    this.reject = reject
  }
}

/** How a fetch treats bad records: quarantine them all, fail at the first, or fail past a number. */
export type BadRecordsPolicy = 'fail' | 'quarantine' | number

/** `quarantine`, `fail` or a whole number, as typed; undefined when it is none of them. */
export function parseBadRecordsPolicy(text: string): BadRecordsPolicy | undefined {
  if (text === 'quarantine' || text === 'fail') return text
  return /^\d{1,15}$/.test(text) ? Number(text) : undefined
}

function preview(line: string): string {
  return line.length > 80 ? `${line.slice(0, 80)}…` : line
}

/** ` of 2024-01-02` (the record's day, else the export request's days), or nothing. */
function ofDay(reject: RejectedRecord): string {
  if (reject.day) return ` of ${reject.day}`
  if (!reject.range) return ''
  const {from, to} = reject.range
  return ` of ${from === to ? from : `${from}..${to}`}`
}

function describe(reject: RejectedRecord): string {
  return `${reject.kind === 'events' ? 'an event' : 'a profile'}${ofDay(reject)}`
}

/**
 * The rejects of one fetch on their way to where they are kept: counted, checked against the
 * policy (which throws a BadRecordError naming the record once it is exceeded), and handed over
 * in batches with `take`.
 */
export class RejectQueue {
  /** Adds a reject (bound: usable as a callback). */
  readonly add = (reject: RejectedRecord): void => {
    this.count++
    const {policy} = this
    if (policy === 'fail') throw new BadRecordError(reject)
    if (typeof policy === 'number' && this.count > policy) {
      throw new BadRecordError(
        reject,
        `More than ${policy} bad ${reject.kind} in this fetch; the last${ofDay(reject)}: ${reject.reason}: ` +
          preview(reject.line),
      )
    }

    this.pending.push(reject)
  }
  /** Records rejected so far in the fetch. */
  count = 0
  private pending: RejectedRecord[] = []

  constructor(private readonly policy: BadRecordsPolicy = 'quarantine') {}

  /** The rejects added since the last call. */
  take(): RejectedRecord[] {
    const taken = this.pending
    this.pending = []
    return taken
  }
}
