import {expect} from 'chai'
import {ExitCode, InterruptedError} from 'mpx-mixpanel-core/internal/errors.js'

import {storageError} from '../../src/object-storage/errors.js'

const action = {bucket: 'lake', key: 'raw/events.jsonl', verb: 'write'}
/** An error as the AWS SDK throws it for a service answer: its name is the service's code. */
const sdkError = (name: string, status: number, message = 'The message of the service') =>
  Object.assign(new Error(message), {$metadata: {httpStatusCode: status}, name})

describe('object-storage errors', () => {
  it('denied credentials are exit 2, naming bucket, key and the code, never the service message', () => {
    for (const code of ['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken']) {
      const error = storageError(sdkError(code, 403, 'StringToSign AWS4-HMAC-SHA256 secret-ish'), action)
      expect(error).to.have.property('exitCode', ExitCode.Auth)
      expect(error.message).to.equal(
        `Object storage refused to write s3://lake/raw/events.jsonl (${code}): check the credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID) and that they may write bucket lake`,
      )
    }
  })

  it('a missing bucket is exit 4; missing credentials 2; no region 3; others 1 with the code and status', () => {
    expect(storageError(sdkError('NoSuchBucket', 404), action)).to.include({exitCode: ExitCode.NotFound})
    expect(storageError(sdkError('NoSuchBucket', 404), action).message).to.match(
      /^Bucket lake does not exist \(NoSuchBucket\)/,
    )
    const noCredentials = storageError(sdkError('CredentialsProviderError', 0, 'Could not load credentials'), action)
    expect(noCredentials).to.include({exitCode: ExitCode.Auth})
    expect(noCredentials.message).to.match(/^No AWS credentials found to write s3:\/\/lake\/raw\/events\.jsonl: set/)
    expect(storageError(new Error('Region is missing'), action)).to.include({exitCode: ExitCode.Usage})
    const slow = storageError(sdkError('SlowDown', 503), action)
    expect(slow).to.include({exitCode: ExitCode.Failure})
    expect(slow.message).to.equal(
      'Object storage failed to write s3://lake/raw/events.jsonl (SlowDown, HTTP 503): try again later',
    )
    const refused = storageError(Object.assign(new Error('connect ECONNREFUSED'), {code: 'ECONNREFUSED'}), {
      ...action,
      endpoint: '127.0.0.1:9',
    })
    expect(refused.message).to.match(
      /^Cannot reach 127\.0\.0\.1:9 to write s3:\/\/lake\/raw\/events\.jsonl \(ECONNREFUSED\)/,
    )
  })

  it("keeps mpx's own errors and aborts as they are", () => {
    const interrupted = new InterruptedError()
    expect(storageError(interrupted, action)).to.equal(interrupted)
    const abort = Object.assign(new Error('Upload aborted.'), {name: 'AbortError'})
    expect(storageError(abort, action)).to.equal(abort)
  })
})
