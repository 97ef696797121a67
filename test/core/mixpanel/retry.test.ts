import {expect} from 'chai'
import {
  backoffDelay,
  parseRetryAfter,
  RetryableError,
  type RetryOptions,
  waitBeforeRetry,
} from 'mpx-mixpanel-core/internal/mixpanel/retry.js'

import {rejection} from '../../support/rejection.js'

const options: RetryOptions = {attempts: 6, maxDelayMs: 60_000, minDelayMs: 1000}

describe('retry', () => {
  describe('backoffDelay', () => {
    it('waits between half and all of a ceiling that doubles with each attempt', () => {
      for (const [attempt, ceiling] of [
        [1, 1000],
        [2, 2000],
        [3, 4000],
        [5, 16_000],
      ]) {
        for (let i = 0; i < 50; i++) {
          const delay = backoffDelay(attempt, options)
          expect(delay, `attempt ${attempt}`).to.be.within(ceiling / 2, ceiling)
        }
      }
    })

    it('never waits longer than maxDelayMs, however many attempts', () => {
      for (let i = 0; i < 50; i++) expect(backoffDelay(30, options)).to.be.within(30_000, 60_000)
    })

    it("takes the server's Retry-After instead, capped at maxDelayMs", () => {
      expect(backoffDelay(1, options, 5000)).to.equal(5000)
      expect(backoffDelay(4, options, 0)).to.equal(0)
      expect(backoffDelay(1, options, 3_600_000)).to.equal(60_000)
    })
  })

  describe('parseRetryAfter', () => {
    const now = Date.parse('2024-01-01T00:00:00Z')

    it('reads delta seconds, whole or not', () => {
      expect(parseRetryAfter('120', now)).to.equal(120_000)
      expect(parseRetryAfter(' 1.5 ', now)).to.equal(1500)
      expect(parseRetryAfter('0', now)).to.equal(0)
    })

    it('reads an HTTP date as the time left until then, never less than zero', () => {
      expect(parseRetryAfter('Mon, 01 Jan 2024 00:00:30 GMT', now)).to.equal(30_000)
      expect(parseRetryAfter('Sun, 31 Dec 2023 23:59:00 GMT', now)).to.equal(0)
    })

    it('ignores a missing or unreadable value', () => {
      expect(parseRetryAfter(undefined, now)).to.equal(undefined)
      expect(parseRetryAfter('', now)).to.equal(undefined)
      expect(parseRetryAfter('soon', now)).to.equal(undefined)
    })
  })

  describe('RetryableError', () => {
    it('carries the error to report once no attempt is left, and the Retry-After', () => {
      const exhausted = new Error('gave up')
      const error = new RetryableError('HTTP 503', exhausted, 2000)
      expect(error.name).to.equal('RetryableError')
      expect(error.message).to.equal('HTTP 503')
      expect(error.exhausted).to.equal(exhausted)
      expect(error.retryAfterMs).to.equal(2000)
    })
  })

  describe('waitBeforeRetry', () => {
    it('waits, and stops waiting when the signal aborts', async () => {
      await waitBeforeRetry(1)
      const controller = new AbortController()
      const waiting = waitBeforeRetry(60_000, controller.signal)
      controller.abort()
      expect((await rejection(waiting)).name).to.equal('AbortError')
    })
  })
})
