import {MpxError} from '../../errors.js'
import {RetryableError} from '../retry.js'
import {resultTexts} from './results.js'

/** One engage page, its results sliced out of the response text. */
export type EngagePage = {
  readonly page: number
  /** Pages in the session, when Mixpanel sent `total`. */
  readonly pages?: number
  readonly pageSize?: number
  readonly results: readonly string[]
  readonly sessionId?: string
  readonly total?: number
}

export class SessionExpiredError extends Error {
  constructor(page: number) {
    super(`Mixpanel's engage session expired at page ${page}`)
    this.name = 'SessionExpiredError'
  }
}

export const SESSION_EXPIRED = /session\b.*\b(?:expired|invalid|not found|unknown)\b|expired\b.*\bsession/iu

/**
 * Reads an engage response: its metadata from JSON.parse (which also proves the text whole),
 * its results as the exact texts Mixpanel sent, so that no number is ever rounded.
 */
export function parseEngagePage(text: string, page: number): EngagePage {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new RetryableError(
      `engage page ${page} is not complete JSON`,
      new MpxError(`Mixpanel kept sending incomplete JSON for engage page ${page} after every retry: run again later`),
    )
  }

  const body = (parsed ?? {}) as Record<string, unknown>
  if (typeof body.error === 'string' || (typeof body.status === 'string' && body.status !== 'ok')) {
    const said = typeof body.error === 'string' ? body.error : `status ${String(body.status)}`
    if (page > 0 && SESSION_EXPIRED.test(said)) throw new SessionExpiredError(page)
    throw new MpxError(`Mixpanel answered engage page ${page} with an error: ${said}`)
  }

  if (!Array.isArray(body.results)) {
    throw new MpxError(`Mixpanel's answer for engage page ${page} has no results: ${text.slice(0, 200)}`)
  }

  const results = resultTexts(text)
  if (results.length !== body.results.length) {
    throw new MpxError(`mpx misread engage page ${page}: ${results.length} results for ${body.results.length}`)
  }

  return {
    page,
    pageSize: positiveInteger(body.page_size),
    results,
    sessionId: typeof body.session_id === 'string' && body.session_id.length > 0 ? body.session_id : undefined,
    total:
      typeof body.total === 'number' && Number.isSafeInteger(body.total) && body.total >= 0 ? body.total : undefined,
  }
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined
}
