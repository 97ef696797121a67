import {setTimeout as sleep} from 'node:timers/promises'

export interface RetryOptions {
  /** Attempts per request, the first included. */
  attempts: number
  /** Upper bound of one wait. */
  maxDelayMs: number
  /** First backoff step; doubles with each attempt. */
  minDelayMs: number
}

export const defaultRetryOptions: RetryOptions = {attempts: 6, maxDelayMs: 60_000, minDelayMs: 1000}

/** A failure worth trying again: 429, 5xx, a reset, a timeout, a body cut short. */
export class RetryableError extends Error {
  constructor(
    message: string,
    /** What to throw when no attempt is left. */
    readonly exhausted: Error,
    /** The server's Retry-After, when it sent one. */
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = 'RetryableError'
  }
}

/** Full-jitter exponential backoff (halved floor so waits never collapse to zero), or Retry-After. */
export function backoffDelay(attempt: number, options: RetryOptions, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, options.maxDelayMs)
  const ceiling = Math.min(options.maxDelayMs, options.minDelayMs * 2 ** (attempt - 1))
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2)
}

/** Parses Retry-After: delta seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined
  const trimmed = value.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000)
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

export async function waitBeforeRetry(delayMs: number, signal?: AbortSignal): Promise<void> {
  await sleep(delayMs, undefined, {signal})
}

/**
 * The error for a request that failed with retries turned off (one attempt): the wording made for
 * "after every retry" would mislead.
 */
export function withoutRetries(error: Error): Error {
  const reword = (text: string): string => {
    const failed = /^Mixpanel kept failing for (.+?) \(/.exec(text)
    return failed
      ? text.replace(failed[0], `Mixpanel failed for ${failed[1]}, with retries turned off (`)
      : text
          .replace(' after every retry', ', with retries turned off')
          .replace('Mixpanel kept ending', 'Mixpanel ended')
          .replace('Mixpanel kept sending', 'Mixpanel sent')
          .replace('Mixpanel is still rate-limiting', 'Mixpanel is rate-limiting')
  }

  error.message = reword(error.message)
  // An error with a remedy is worded again by the CLI from its problem: that is reworded too.
  const remedied = error as Error & {problem?: unknown}
  if (typeof remedied.problem === 'string') remedied.problem = reword(remedied.problem)
  return error
}
