import {expect} from 'chai'
import {AuthError, ExitCode, MpxError, RateLimitError, UsageError} from 'mpx-mixpanel-core/internal/errors.js'
import {errorForFailure, errorForResponse} from 'mpx-mixpanel-core/internal/mixpanel/errors.js'
import {RetryableError} from 'mpx-mixpanel-core/internal/mixpanel/retry.js'

const exportContext = {what: 'export 2024-01-01..2024-01-07', where: 'properties["plan"] == "pro"'}
const engageContext = {what: 'engage page 3'}

describe("Mixpanel's HTTP answers as mpx errors", () => {
  describe('errorForResponse', () => {
    it('maps 401, 403 and a 400 "Unable to authenticate request" to AuthError (exit 2)', () => {
      for (const [status, body] of [
        [401, '{"error": "Invalid credentials"}'],
        [403, 'Forbidden'],
        [400, '{"error": "Unable to authenticate request"}'],
      ] as const) {
        const error = errorForResponse(status, body, exportContext)
        expect(error, String(status)).to.be.instanceOf(AuthError)
        expect((error as MpxError).exitCode).to.equal(ExitCode.Auth)
        expect(error.message).to.include(`HTTP ${status}`)
      }
    })

    it("quotes Mixpanel's JSON error, or the first line of a plain-text one", () => {
      expect(errorForResponse(401, '{"error": "Invalid credentials"}', exportContext).message).to.include(
        ': Invalid credentials',
      )
      expect(errorForResponse(402, 'plan expired\nmore text', exportContext).message).to.equal(
        "Mixpanel answered 402 Payment Required: plan expired: check the project's plan",
      )
    })

    it('cuts a very long error line short', () => {
      const error = errorForResponse(418, 'x'.repeat(1000), engageContext)
      expect(error.message.length).to.be.lessThan(400)
      expect(error.message).to.include('…')
    })

    it('makes 429 retryable, reporting a RateLimitError (exit 5) with the Retry-After once retries are spent', () => {
      const error = errorForResponse(429, '{"error": "rate limited"}', exportContext, 7000)
      expect(error).to.be.instanceOf(RetryableError)
      const retryable = error as RetryableError
      expect(retryable.retryAfterMs).to.equal(7000)
      expect(retryable.exhausted).to.be.instanceOf(RateLimitError)
      expect(retryable.exhausted.message).to.include('export 2024-01-01..2024-01-07')
    })

    it('makes 5xx retryable, reporting a failure (exit 1) that names the request once retries are spent', () => {
      for (const status of [500, 502, 503, 504]) {
        const error = errorForResponse(status, '', engageContext)
        expect(error, String(status)).to.be.instanceOf(RetryableError)
        const {exhausted} = error as RetryableError
        expect(exhausted).to.be.instanceOf(MpxError)
        expect((exhausted as MpxError).exitCode).to.equal(ExitCode.Failure)
        expect(exhausted.message).to.include('engage page 3').and.include(`HTTP ${status}`)
      }
    })

    it('names the where expression when Mixpanel rejects it, and the request for other 400s (exit 3)', () => {
      const where = errorForResponse(400, '{"error": "invalid where: syntax error"}', exportContext)
      expect(where).to.be.instanceOf(UsageError)
      expect(where.message).to.include(JSON.stringify(exportContext.where))
      const other = errorForResponse(400, '{"error": "bad from_date"}', exportContext)
      expect(other).to.be.instanceOf(UsageError)
      expect(other.message).to.include('export 2024-01-01..2024-01-07').and.include('bad from_date')
    })

    it('reports any other status as a failure naming the request', () => {
      const error = errorForResponse(404, 'Not Found', engageContext)
      expect(error).to.be.instanceOf(MpxError)
      expect(error).to.not.be.instanceOf(RetryableError)
      expect(error.message).to.equal('Mixpanel answered HTTP 404 for engage page 3: Not Found')
    })
  })

  describe('errorForFailure', () => {
    const failure = (name: string, code?: string) => Object.assign(new Error('socket trouble'), {code, name})

    it('makes resets, refused connections, DNS failures, timeouts and cut gzip bodies retryable', () => {
      for (const error of [
        failure('Error', 'ECONNRESET'),
        failure('Error', 'ECONNREFUSED'),
        failure('Error', 'ENOTFOUND'),
        failure('Error', 'Z_BUF_ERROR'),
        failure('TimeoutError'),
        failure('ReadError'),
        failure('RequestError'),
      ]) {
        const mapped = errorForFailure(error, engageContext)
        expect(mapped, `${error.name} ${String((error as {code?: string}).code)}`).to.be.instanceOf(RetryableError)
        const {exhausted} = mapped as RetryableError
        expect(exhausted.message).to.match(/^Network failure for engage page 3 after every retry/)
        expect((mapped as Error).cause).to.equal(error)
      }
    })

    it('says "timed out" for a timeout', () => {
      expect((errorForFailure(failure('TimeoutError'), engageContext) as Error).message).to.equal('timed out')
    })

    it('passes mpx errors, retryable errors, aborts and anything else through untouched', () => {
      const mpx = new UsageError('bad')
      const retryable = new RetryableError('again', new MpxError('gave up'))
      const abort = failure('AbortError')
      const other = new TypeError('bug')
      for (const error of [mpx, retryable, abort, other, 'a string']) {
        expect(errorForFailure(error, engageContext)).to.equal(error)
      }
    })
  })
})
