import {AuthError, MpxError, NotFoundError, UsageError} from 'mpx-mixpanel-core/internal/errors.js'

import {formatObjectUrl} from './url.js'

/** What mpx was doing when the object storage failed: named in the one-line error. */
export interface StorageAction {
  readonly bucket: string
  /** The endpoint when not AWS's (a host is not a secret; it tells which service answered). */
  readonly endpoint?: string
  readonly key: string
  /** e.g. `write`, `list`, `copy into`. */
  readonly verb: string
}

/** Codes S3 (and S3-compatible services) answer when the credentials are wrong or not allowed. */
const DENIED = new Set([
  'AccessDenied',
  'AllAccessDisabled',
  'ExpiredToken',
  'InvalidAccessKeyId',
  'InvalidToken',
  'SignatureDoesNotMatch',
  'TokenRefreshRequired',
])
const NETWORK = new Set(['EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'ETIMEDOUT'])

interface SdkError {
  $metadata?: {httpStatusCode?: number}
  Code?: string
  code?: string
  message?: string
  name?: string
}

/**
 * An error of the AWS SDK as one line: where, the service's code, what to do. Only the code is
 * taken from the service's answer, never its message or the error's fields (a SignatureDoesNotMatch
 * carries the string that was signed; nothing of the credentials goes into mpx's output).
 */
export function storageError(error: unknown, action: StorageAction): Error {
  if (error instanceof MpxError) return error
  const sdk = (typeof error === 'object' && error !== null ? error : {}) as SdkError
  if (sdk.name === 'AbortError') return error as Error
  const where = formatObjectUrl(action.bucket, action.key)
  const code = sdk.Code ?? sdk.name ?? 'Error'
  const status = sdk.$metadata?.httpStatusCode
  const options = {cause: error}
  if (sdk.name === 'CredentialsProviderError') {
    return new AuthError(
      `No AWS credentials found to ${action.verb} ${where}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE`,
      options,
    )
  }

  if (/region is missing/i.test(sdk.message ?? '')) {
    return new UsageError(`No AWS region is set to ${action.verb} ${where}: set AWS_REGION (e.g. us-east-1)`, options)
  }

  const network = sdk.code && NETWORK.has(sdk.code) ? sdk.code : undefined
  if (network) {
    const endpoint = action.endpoint ?? 'the S3 endpoint'
    return new MpxError(
      `Cannot reach ${endpoint} to ${action.verb} ${where} (${network}): check the network, or AWS_ENDPOINT_URL / endpoint=`,
      undefined,
      options,
    )
  }

  if (DENIED.has(code)) {
    return new AuthError(
      `Object storage refused to ${action.verb} ${where} (${code}): check the credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID) and that they may ${action.verb} bucket ${action.bucket}`,
      options,
    )
  }

  if (code === 'NoSuchBucket') {
    return new NotFoundError(
      `Bucket ${action.bucket} does not exist (NoSuchBucket) to ${action.verb} ${where}: create it, or check the name, AWS_REGION and the endpoint`,
      options,
    )
  }

  if (code === 'NoSuchKey' || code === 'NotFound') {
    return new NotFoundError(`${where} does not exist (${code})`, options)
  }

  const http = status === undefined ? '' : `, HTTP ${status}`
  return new MpxError(
    `Object storage failed to ${action.verb} ${where} (${code}${http}): try again later`,
    undefined,
    options,
  )
}
