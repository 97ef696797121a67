import {AuthError, MpxError, RateLimitError, UsageError} from '../errors.js'
import {withRemedy} from './remedy.js'
import {RetryableError} from './retry.js'

/** What a request was for, so that messages can say which range or page failed. */
export interface RequestContext {
  /** e.g. `export 2024-01-01..2024-01-07` or `engage page 3`. */
  readonly what: string
  /** The `where` expression, named in the message when Mixpanel rejects it. */
  readonly where?: string
}

/**
 * Mixpanel's 400 for a to_date after the project's today (its clock or timezone differs from
 * ours): the export retries its chunk once with the day before (see export-source.ts).
 */
export class ToDateAfterTodayError extends UsageError {}

function mixpanelMessage(body: string): string {
  const text = body.trim()
  try {
    const parsed = JSON.parse(text) as {error?: unknown}
    if (parsed && typeof parsed.error === 'string') return parsed.error
  } catch {
    // Plain-text errors are common; use the text itself.
  }

  const firstLine = text.split('\n', 1)[0] ?? ''
  return firstLine.length > 300 ? `${firstLine.slice(0, 300)}…` : firstLine
}

/**
 * The one place where Mixpanel's HTTP answers become mpx errors. Returns a RetryableError for
 * answers worth another attempt (429, 5xx), an MpxError for the rest.
 */
export function errorForResponse(
  status: number,
  body: string,
  context: RequestContext,
  retryAfterMs?: number,
): MpxError | RetryableError {
  const message = mixpanelMessage(body)
  const said = message ? `: ${message}` : ''
  if (status === 401 || status === 403 || (status === 400 && /unable to authenticate/i.test(message))) {
    return withRemedy(
      (text) => new AuthError(text),
      `Mixpanel rejected the credentials (HTTP ${status}${said})`,
      'check-credentials',
    )
  }

  if (status === 429) {
    return new RetryableError(
      `HTTP 429${said}`,
      new RateLimitError(
        `Mixpanel is still rate-limiting ${context.what} after every retry (HTTP 429${said}): wait a while, then run again`,
      ),
      retryAfterMs,
    )
  }

  if (status >= 500) {
    return new RetryableError(
      `HTTP ${status}${said}`,
      // Long export ranges fail more often; a smaller chunk is the remedy there.
      context.what.startsWith('export')
        ? withRemedy(
            (text) => new MpxError(text),
            `Mixpanel kept failing for ${context.what} (HTTP ${status}${said})`,
            'try-later-or-smaller-chunks',
          )
        : new MpxError(`Mixpanel kept failing for ${context.what} (HTTP ${status}${said}): try again later`),
      retryAfterMs,
    )
  }

  if (status === 400 && /to_date cannot be later than today/i.test(message)) {
    return new ToDateAfterTodayError(
      `Mixpanel refused ${context.what}, which ends after the project's today${said}: ` +
        "check the project's timezone, or fetch up to an earlier day",
    )
  }

  if (status === 400) {
    const where = context.where !== undefined && /where|segmentation|expression|parse|syntax/i.test(message)
    return new UsageError(
      where
        ? `Mixpanel rejected the where expression ${JSON.stringify(context.where)}${said}`
        : `Mixpanel rejected the request for ${context.what}${said}`,
    )
  }

  if (status === 402) return new MpxError(`Mixpanel answered 402 Payment Required${said}: check the project's plan`)
  return new MpxError(`Mixpanel answered HTTP ${status} for ${context.what}${said}`)
}

const networkCodes = new Set([
  'EAI_AGAIN',
  'ECONNABORTED',
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ETIMEDOUT',
  'Z_BUF_ERROR',
  'Z_DATA_ERROR',
])

/** Network failures (resets, timeouts, a gzip body cut short) become RetryableErrors. */
export function errorForFailure(error: unknown, context: RequestContext): unknown {
  if (error instanceof MpxError || error instanceof RetryableError) return error
  if (!(error instanceof Error)) return error
  if (error.name === 'AbortError') return error
  const code = (error as NodeJS.ErrnoException).code ?? ''
  const timedOut = error.name === 'TimeoutError' || code === 'ETIMEDOUT'
  if (timedOut || networkCodes.has(code) || error.name === 'ReadError' || error.name === 'RequestError') {
    const reason = timedOut ? 'timed out' : `${code || error.name}: ${error.message}`
    return new RetryableError(
      reason,
      new MpxError(
        `Network failure for ${context.what} after every retry (${reason}): check the connection and run again`,
      ),
      undefined,
      {cause: error},
    )
  }

  return error
}
