import type {Readable} from 'node:stream'

import type {MixpanelClient} from './client.js'

import {MpxError, RateLimitError} from '../errors.js'
import {formatDay} from './dates.js'
import {LineSplitter} from './lines.js'
import {RetryableError} from './retry.js'

const DAY_MS = 86_400_000

/** Bytes read at most from the answer: enough for the first line of any real export. */
const MAX_PEEK_BYTES = 1024 * 1024

/**
 * Checks credentials with one cheap authenticated request: an export of yesterday (UTC, which is
 * never later than "today" in the project's time zone) with `limit=1`, of which no more than the
 * first line is read. Resolves when Mixpanel accepts the credentials; otherwise throws the
 * mapped error (AuthError for 401/403 or 400 `Unable to authenticate request`).
 */
export async function verifyCredentials(client: MixpanelClient, now: Date = new Date()): Promise<void> {
  const day = formatDay(now.getTime() - DAY_MS)
  const context = {what: `the test export of ${day}`}
  let body: Readable
  try {
    const params = {from_date: day, limit: '1', to_date: day}
    body = await client.openStream(client.endpoints.export, params, context)
  } catch (error) {
    // One request, no retries: a busy or unreachable Mixpanel says nothing about the credentials.
    if (error instanceof RetryableError) {
      const message = `Could not check the credentials: ${context.what} failed (${error.message}); try again later`
      throw error.exhausted instanceof RateLimitError ? new RateLimitError(message) : new MpxError(message)
    }

    throw error
  }

  const first = await firstLine(body).finally(() => body.destroy())
  // An empty day, a record, or (unlikely with limit=1) a cut export: all mean the credentials passed.
  if (first !== '' && !isJsonObject(first) && !/terminated early\s*$/.test(first)) {
    throw new MpxError(
      `${client.endpoints.export} accepted the request but did not answer with export data: check MPX_API_URL (it began "${first.slice(0, 80)}")`,
    )
  }
}

async function firstLine(body: AsyncIterable<Buffer>): Promise<string> {
  const splitter = new LineSplitter()
  let size = 0
  try {
    for await (const chunk of body) {
      const [line] = splitter.push(chunk)
      if (line !== undefined) return line
      size += chunk.length
      // A first line this long is data, not an error page.
      if (size >= MAX_PEEK_BYTES) return ''
    }
  } catch (error) {
    throw new MpxError(`Could not check the credentials: the answer broke off (${(error as Error).message}); try again`)
  }

  return splitter.end()
}

function isJsonObject(line: string): boolean {
  try {
    const parsed: unknown = JSON.parse(line)
    return typeof parsed === 'object' && parsed !== null
  } catch {
    return false
  }
}
