import {expect} from 'chai'
import {AuthError, MpxError} from 'mpx-mixpanel-core/internal/errors.js'
import {errorForResponse} from 'mpx-mixpanel-core/internal/mixpanel/errors.js'
import {RetryableError} from 'mpx-mixpanel-core/internal/mixpanel/retry.js'

import {cliMessage} from '../src/cli-hints.js'

describe('CLI hints: the API layer names remedies, the CLI words them', () => {
  it('the library says what to check; the CLI points to mpx auth:test', () => {
    const error = errorForResponse(401, '{"error": "Invalid credentials"}', {what: 'export 2024-01-01..2024-01-07'})
    expect(error).to.be.instanceOf(AuthError)
    expect(error.message).to.equal(
      'Mixpanel rejected the credentials (HTTP 401: Invalid credentials): check them, and the project id and region',
    )
    expect(cliMessage(error)).to.equal(
      'Mixpanel rejected the credentials (HTTP 401: Invalid credentials): check them with mpx auth:test, and the project id and region',
    )
  })

  it('the library names no --chunk-days when an export keeps failing; the CLI does', () => {
    const {exhausted} = errorForResponse(503, '', {what: 'export 2024-01-01..2024-01-07'}) as RetryableError
    expect(exhausted.message).to.not.include('--')
    expect(cliMessage(exhausted)).to.equal(
      'Mixpanel kept failing for export 2024-01-01..2024-01-07 (HTTP 503): try again later or use a smaller --chunk-days',
    )
  })

  it('leaves every other message as it is', () => {
    const {exhausted} = errorForResponse(503, '', {what: 'engage page 2'}) as RetryableError
    expect(cliMessage(exhausted)).to.equal(exhausted.message)
    expect(cliMessage(new MpxError('anything'))).to.equal('anything')
  })
})
