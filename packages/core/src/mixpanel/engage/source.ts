import type {MixpanelClient} from '../client.js'
import type {RequestContext} from '../errors.js'
import type {RequestPacer} from '../scheduler.js'

import {AuthError, MpxError} from '../../errors.js'
import {parseLossless, stringifyLossless} from '../../records/json.js'
import {inOrder} from '../ordered-chunks.js'
import {withRemedy} from '../remedy.js'
import {ReplayGuard} from '../replay.js'
import {type EngagePage, parseEngagePage, SESSION_EXPIRED, SessionExpiredError} from './page.js'
import {type CheckedEngage, checkEngage, type EngageQuery} from './query.js'

export type EngageOptions = {
  /** Pages requested at once once page 0 is in (1 to 5, default 5). */
  readonly concurrency?: number
  /** Told when a page has been delivered; `pages` is known when Mixpanel sent `total`. */
  readonly onPage?: (page: number, pages: number | undefined) => void
  /** Told when an expired session makes the query start again from page 0. */
  readonly onRestart?: (message: string) => void
  /** Paces every page request, retries included (default: none). */
  readonly pacer?: RequestPacer
  readonly signal?: AbortSignal
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
  yield* readProfiles(client, checkEngage(query, options), options)
}

/**
 * profileLines for a query already checked (by checkEngage): the CLI checks before it opens its
 * sink, and does not check again.
 *
 * @yields One page's new results, as JSON texts.
 */
export async function* readProfiles(
  client: MixpanelClient,
  checked: CheckedEngage,
  options: Omit<EngageOptions, 'concurrency'> = {},
): AsyncGenerator<string[], void, undefined> {
  const {concurrency, form, query} = checked
  const limit = query.limit ?? Infinity
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
        throw withRemedy(
          (message) => new MpxError(message),
          `Mixpanel's engage session kept expiring (${restart + 1} times) before every page was read`,
          'narrower-query',
        )
      }

      options.onRestart?.(
        `${error.message}: starting again from page 0 (${delivered.count} profiles already delivered)`,
      )
    }
  }
}

/**
 * The profiles delivered so far, remembered by their ids in order (a count and a fingerprint:
 * constant memory). A restarted session must begin with the same ids: those are skipped, and the
 * rest delivered. Ids rather than texts are compared because a profile's properties
 * (`$last_seen`) change while a fetch runs; the copy delivered first is the one kept.
 */
class DeliveredProfiles {
  private readonly guard = new ReplayGuard(restartMismatch)

  constructor(private readonly limit: number) {}

  get count(): number {
    return this.guard.count
  }

  get full(): boolean {
    return this.count >= this.limit
  }

  /** True while a restarted session is still going over what was delivered. */
  get replaying(): boolean {
    return this.guard.replaying
  }

  /** A session that ended must have gone over everything delivered before it. */
  endSession(): void {
    this.guard.end()
  }

  /** A new session starts from page 0: its first `count` profiles were delivered already. */
  startSession(): void {
    this.guard.start()
  }

  /** The results not delivered yet, up to the limit. */
  take(results: readonly string[]): string[] {
    const fresh: string[] = []
    for (const text of results) {
      const id = Buffer.from(`${distinctIdKey(text)}\n`)
      if (this.guard.replaying) {
        this.guard.skipped(id, 1)
        continue
      }

      if (this.full) break
      this.guard.deliver(id, 1)
      fresh.push(text)
    }

    return fresh
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
  const session: SessionRequest = {client, form, pacer: options.pacer, query, signal: controller.signal}
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

    // The window (the one in-order window of src/mixpanel): the next `concurrency` pages are
    // always requested (or waiting to be taken), also while the consumer works on the page it was
    // given. Each page is a source of one block; it holds no bytes against a budget.
    const ahead = inOrder<EngagePage>(
      (index) => (index + 1 < end ? onePage(session, index + 1, sessionId) : undefined),
      {
        bufferBytes: Infinity,
        concurrency: options.concurrency,
        size: (page) => ({bytes: 0, count: page.results.length}),
        startNextOnLastBlock: true,
      },
    )
    try {
      // The first item only says page 1's delivery starts: asking for it starts the window.
      await ahead.next()
      yield {...first, pages}
      for (;;) {
        const {done, value} = await ahead.next()
        if (done) return
        if (!value.block) continue
        yield {...value.block, pages}
        if (isLast(value.block)) return
      }
    } finally {
      // Requests in flight end first: closing the window waits for each.
      controller.abort()
      await ahead.return()
    }
  } finally {
    options.signal?.removeEventListener('abort', stop)
    controller.abort()
  }
}

/**
 * One page as a source of the in-order window.
 *
 * @yields The page.
 */
async function* onePage(session: SessionRequest, page: number, sessionId: string): AsyncGenerator<EngagePage> {
  yield await fetchPage(session, page, sessionId)
}

/** What every page request of one session shares. */
type SessionRequest = {
  readonly client: MixpanelClient
  readonly form: Record<string, string>
  readonly pacer?: RequestPacer
  readonly query: EngageQuery
  readonly signal: AbortSignal
}

async function fetchPage(
  {client, form, pacer, query, signal}: SessionRequest,
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
      async () => {
        await pacer?.acquire(signal)
        return parseEngagePage(await client.postForm(client.endpoints.engage, params, context, signal), page)
      },
      signal,
    )
  } catch (error) {
    if (page > 0 && error instanceof MpxError && !(error instanceof AuthError) && SESSION_EXPIRED.test(error.message)) {
      throw new SessionExpiredError(page)
    }

    throw error
  }
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
