import {createHash} from 'node:crypto'

import type {MixpanelClient} from '../client.js'
import type {RequestContext} from '../errors.js'

import {AuthError, MpxError, UsageError} from '../../errors.js'
import {parseLossless, stringifyLossless} from '../../records/json.js'
import {RetryableError} from '../retry.js'

export type EngageQuery = {
  /** `as_of_timestamp`: Unix time in seconds. */
  readonly asOfTimestamp?: number
  /** `filter_by_cohort`: only members of this cohort. */
  readonly cohortId?: number
  /** One id is sent as `distinct_id`, several as `distinct_ids`. */
  readonly distinctIds?: readonly string[]
  /** `data_group_id`: a group analytics data group. A string: ids have 19 digits. */
  readonly groupId?: string
  /** `include_all_users`: with a cohort, also users without a profile. */
  readonly includeAllUsers?: boolean
  /** At most this many profiles in all (counted by mpx: engage has no limit parameter). */
  readonly limit?: number
  /** `output_properties`: only these properties of each profile. */
  readonly outputProperties?: readonly string[]
  /** A segmentation expression, passed to Mixpanel untouched. */
  readonly where?: string
}

export type EngageOptions = {
  /** Pages requested at once once page 0 is in (1 to 5, default 5). */
  readonly concurrency?: number
  /** Told when a page has been delivered; `pages` is known when Mixpanel sent `total`. */
  readonly onPage?: (page: number, pages: number | undefined) => void
  /** Told when an expired session makes the query start again from page 0. */
  readonly onRestart?: (message: string) => void
  readonly signal?: AbortSignal
}

/** Mixpanel's query API runs at most 5 queries of a project at once. */
export const MAX_ENGAGE_CONCURRENCY = 5
/** Engage's page size when none is asked for (and its maximum). */
export const ENGAGE_PAGE_SIZE = 1000

/** The engage form parameters for a query (`project_id` is added by the client). */
export function engageForm(query: EngageQuery): Record<string, string> {
  const ids = query.distinctIds ?? []
  const json = (value: unknown) => (value === undefined ? undefined : JSON.stringify(value))
  const text = (value: unknown) => (value === undefined ? undefined : String(value))
  // Mixpanel's parameter names: arrays and objects go as JSON text, the rest as strings.
  const parameters: Array<[string, string | undefined]> = [
    ['where', query.where],
    ['filter_by_cohort', json(query.cohortId === undefined ? undefined : {id: query.cohortId})],
    ['output_properties', json(query.outputProperties?.length ? query.outputProperties : undefined)],
    ['distinct_id', ids.length === 1 ? ids[0] : undefined],
    ['distinct_ids', json(ids.length > 1 ? ids : undefined)],
    ['data_group_id', query.groupId],
    ['include_all_users', text(query.includeAllUsers)],
    ['as_of_timestamp', text(query.asOfTimestamp)],
    // A small limit needs no more than one small page.
    ['page_size', text(query.limit !== undefined && query.limit < ENGAGE_PAGE_SIZE ? query.limit : undefined)],
  ]
  return Object.fromEntries(parameters.filter((entry): entry is [string, string] => entry[1] !== undefined))
}

export function checkEngageQuery(query: EngageQuery): void {
  if (query.limit !== undefined && (!Number.isSafeInteger(query.limit) || query.limit < 1)) {
    throw new UsageError('--limit must be a whole number >= 1')
  }

  if (query.cohortId !== undefined && (!Number.isSafeInteger(query.cohortId) || query.cohortId < 0)) {
    throw new UsageError('--cohort must be a cohort id, a whole number')
  }

  if (query.asOfTimestamp !== undefined && (!Number.isSafeInteger(query.asOfTimestamp) || query.asOfTimestamp < 0)) {
    throw new UsageError('--as-of-timestamp must be a Unix time in seconds, e.g. 1704067200')
  }

  if (query.distinctIds?.some((id) => id.length === 0)) throw new UsageError('--distinct-id must not be empty')
  if (query.groupId?.trim().length === 0) throw new UsageError('--group-id must not be empty')
  if (query.outputProperties?.some((name) => name.length === 0)) {
    throw new UsageError('--output-properties must not name an empty property')
  }
}

/**
 * Engage results (one JSON text per profile, exactly as Mixpanel sent it) in page order, in
 * batches of one page. Page 0 gives the session; once it has also given `total`, the later pages
 * are fetched concurrently (at most `concurrency` requested or waiting at a time) and still
 * delivered in order. Each page is retried through the client. A session that expires starts the
 * query again from page 0, skipping (after checking their ids) the profiles already delivered.
 * No request is made before the first batch is asked for.
 *
 * @yields One page's new results, as JSON texts.
 */
export async function* profileLines(
  client: MixpanelClient,
  query: EngageQuery,
  options: EngageOptions = {},
): AsyncGenerator<string[], void, undefined> {
  checkEngageQuery(query)
  const concurrency = options.concurrency ?? MAX_ENGAGE_CONCURRENCY
  if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > MAX_ENGAGE_CONCURRENCY) {
    throw new UsageError(`engage concurrency must be 1 to ${MAX_ENGAGE_CONCURRENCY}`)
  }

  const limit = query.limit ?? Infinity
  const form = engageForm(query)
  const delivered = new DeliveredProfiles(limit)
  for (let restart = 0; ; restart++) {
    delivered.startSession()
    try {
      for await (const page of sessionPages(client, query, form, {...options, concurrency, limit})) {
        const fresh = delivered.take(page.results)
        if (fresh.length > 0) yield fresh
        if (!delivered.replaying) options.onPage?.(page.page, page.pages)
        if (delivered.full) return
      }

      delivered.endSession()
      return
    } catch (error) {
      if (!(error instanceof SessionExpiredError)) throw error
      if (restart + 1 >= client.retry.attempts) {
        throw new MpxError(
          `Mixpanel's engage session kept expiring (${restart + 1} times) before every page was read: ` +
            'run again, with a narrower --where or --cohort if it persists',
        )
      }

      options.onRestart?.(
        `${error.message}: starting again from page 0 (${delivered.count} profiles already delivered)`,
      )
    }
  }
}

/**
 * The profiles delivered so far, remembered as a hash of their ids in order (constant memory). A
 * restarted session must begin with the same ids: those are skipped, and the rest delivered.
 * Ids rather than texts are compared because a profile's properties (`$last_seen`) change while
 * a fetch runs; the copy delivered first is the one kept.
 */
class DeliveredProfiles {
  count = 0
  private expected = ''
  private readonly ids = createHash('sha256')
  private replayed = 0
  private replayIds = createHash('sha256')
  private skip = 0

  constructor(private readonly limit: number) {}

  get full(): boolean {
    return this.count >= this.limit
  }

  /** True while a restarted session is still going over what was delivered. */
  get replaying(): boolean {
    return this.replayed < this.skip
  }

  /** A session that ended must have gone over everything delivered before it. */
  endSession(): void {
    if (this.replaying) throw restartMismatch(this.skip)
  }

  /** A new session starts from page 0: its first `count` profiles were delivered already. */
  startSession(): void {
    this.skip = this.count
    this.replayed = 0
    this.expected = this.skip > 0 ? this.ids.copy().digest('hex') : ''
    this.replayIds = createHash('sha256')
  }

  /** The results not delivered yet, up to the limit. */
  take(results: readonly string[]): string[] {
    const fresh: string[] = []
    for (const text of results) {
      if (this.replaying) {
        this.replayIds.update(distinctIdKey(text)).update('\n')
        this.replayed++
        if (!this.replaying && this.replayIds.digest('hex') !== this.expected) throw restartMismatch(this.skip)
        continue
      }

      if (this.full) break
      this.ids.update(distinctIdKey(text)).update('\n')
      fresh.push(text)
      this.count++
    }

    return fresh
  }
}

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

class SessionExpiredError extends Error {
  constructor(page: number) {
    super(`Mixpanel's engage session expired at page ${page}`)
    this.name = 'SessionExpiredError'
  }
}

/**
 * The pages of one engage session, in order. Page 0 comes first; when it says how many pages
 * there are, the next ones are requested ahead in a sliding window of `concurrency` pages, which
 * also bounds how many wait in memory. Leaving early aborts every request in flight.
 *
 * @yields Each page, with `pages` when known.
 */
async function* sessionPages(
  client: MixpanelClient,
  query: EngageQuery,
  form: Record<string, string>,
  options: EngageOptions & {concurrency: number; limit: number},
): AsyncGenerator<EngagePage, void, undefined> {
  const controller = new AbortController()
  const stop = () => {
    controller.abort(options.signal?.reason)
  }

  options.signal?.addEventListener('abort', stop, {once: true})
  const session: SessionRequest = {client, form, query, signal: controller.signal}
  try {
    options.signal?.throwIfAborted()
    const first = await fetchPage(session, 0)
    // Without page_size, page 0's length is the page size: a full page 0 is never taken for the last.
    const pageSize = first.pageSize ?? first.results.length
    const pages = pageSize === 0 || first.total === undefined ? undefined : Math.ceil(first.total / pageSize)
    const isLast = (page: EngagePage): boolean => page.results.length === 0 || page.results.length < pageSize
    if (isLast(first)) {
      yield {...first, pages}
      return
    }

    const {sessionId} = first
    if (sessionId === undefined) {
      throw new MpxError('Mixpanel sent no session_id with engage page 0, so the next pages cannot be asked for')
    }

    const byLimit = Number.isFinite(options.limit) ? Math.ceil(options.limit / pageSize) : Infinity
    const end = Math.min(pages ?? Infinity, byLimit)
    if (pages === undefined) {
      // No total: nothing says how far to read ahead, so one page at a time until a short one.
      yield {...first, pages}
      for (let n = 1; n < end; n++) {
        const page = await fetchPage(session, n, sessionId)
        yield {...page, pages}
        if (isLast(page)) return
      }

      return
    }

    // The window: the next `concurrency` pages are always requested (or waiting to be taken),
    // also while the consumer works on the page it was given.
    const pending: Array<Promise<EngagePage>> = []
    let next = 1
    const fill = () => {
      while (pending.length < options.concurrency && next < end) {
        const request = fetchPage(session, next++, sessionId)
        request.catch(() => {
          // A failure is seen when this page's turn comes; until then it must not go unhandled.
        })
        pending.push(request)
      }
    }

    fill()
    yield {...first, pages}
    for (let n = 1; n < end; n++) {
      const page = await pending.shift()!
      fill()
      yield {...page, pages}
      if (isLast(page)) return
    }
  } finally {
    options.signal?.removeEventListener('abort', stop)
    controller.abort()
  }
}

const SESSION_EXPIRED = /session\b.*\b(?:expired|invalid|not found|unknown)\b|expired\b.*\bsession/iu

/** What every page request of one session shares. */
type SessionRequest = {
  readonly client: MixpanelClient
  readonly form: Record<string, string>
  readonly query: EngageQuery
  readonly signal: AbortSignal
}

async function fetchPage(
  {client, form, query, signal}: SessionRequest,
  page: number,
  sessionId?: string,
): Promise<EngagePage> {
  // Only page 0 can fail on the expression; later pages' 400s are about the session.
  const context: RequestContext = {what: `engage page ${page}`, where: page === 0 ? query.where : undefined}
  const params = {
    ...form,
    ...Object.fromEntries([['page', String(page)], ...(sessionId ? [['session_id', sessionId]] : [])]),
  }
  try {
    return await client.withRetries(
      context,
      async () => parseEngagePage(await client.postForm(client.endpoints.engage, params, context, signal), page),
      signal,
    )
  } catch (error) {
    if (page > 0 && error instanceof MpxError && !(error instanceof AuthError) && SESSION_EXPIRED.test(error.message)) {
      throw new SessionExpiredError(page)
    }

    throw error
  }
}

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

// ---------------------------------------------------------------------------------------------------
// Slicing result texts out of the response. The text has already passed JSON.parse, so the scanner
// only needs to find where values start and end: it tracks strings and nesting, nothing else.

const QUOTE = 34
const BACKSLASH = 92

function skipWhitespace(text: string, i: number): number {
  while (i < text.length) {
    const c = text.codePointAt(i)
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) break
    i++
  }

  return i
}

/** `i` at an opening quote; returns the index after the closing one. */
function skipString(text: string, i: number): number {
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
function skipValue(text: string, i: number): number {
  const c = text[i]
  if (c === '"') return skipString(text, i)
  if (c !== '{' && c !== '[') {
    while (i < text.length && !',}] \n\r\t'.includes(text[i])) i++
    return i
  }

  let depth = 0
  while (i < text.length) {
    const code = text.codePointAt(i)
    if (code === QUOTE) {
      i = skipString(text, i)
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
  let i = skipWhitespace(text, 0)
  if (text[i] !== '{') return []
  i = skipWhitespace(text, i + 1)
  while (i < text.length && text[i] !== '}') {
    const keyEnd = skipString(text, i)
    const key = JSON.parse(text.slice(i, keyEnd)) as string
    i = skipWhitespace(text, skipWhitespace(text, keyEnd) + 1) // past the colon
    if (key === 'results' && text[i] === '[') {
      const results: string[] = []
      i = skipWhitespace(text, i + 1)
      while (text[i] !== ']') {
        const end = skipValue(text, i)
        const result = text.slice(i, end)
        // JSONL needs one line per record; in valid JSON a line break can only be whitespace.
        results.push(/[\n\r]/u.test(result) ? result.replaceAll(/[\n\r]+/gu, '') : result)
        i = skipWhitespace(text, end)
        if (text[i] === ',') i = skipWhitespace(text, i + 1)
      }

      return results
    }

    i = skipWhitespace(text, skipValue(text, i))
    if (text[i] === ',') i = skipWhitespace(text, i + 1)
  }

  return []
}

const LEADING_ID = /^\{\s*"\$distinct_id"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+)\s*[,}]/u

/** A profile's `$distinct_id` as JSON text: cheap for the usual layout, parsed otherwise. */
function distinctIdKey(text: string): string {
  const match = LEADING_ID.exec(text)
  if (match) return match[1]
  try {
    const id = (parseLossless(text) as {$distinct_id?: unknown}).$distinct_id
    return stringifyLossless(id ?? null)
  } catch {
    return text
  }
}

function restartMismatch(delivered: number): MpxError {
  return new MpxError(
    `Mixpanel's profiles changed while mpx started again after the engage session expired ` +
      `(${delivered} were already delivered, and the new session does not begin with them): fetch the profiles again`,
  )
}
