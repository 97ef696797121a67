import {UsageError} from 'mpx-mixpanel-core/internal/errors.js'

/** An object-storage location: a bucket and a key (a prefix when it names a directory). */
export interface ObjectUrl {
  readonly bucket: string
  /** The key, without a leading slash; empty for the bucket's root. */
  readonly key: string
}

const SCHEME = 's3://'
/** S3's rules, loosely: R2, MinIO and GCS accept the same names (GCS also allows `_`). */
const BUCKET = /^[\da-z][\d._a-z-]{1,61}[\da-z]$/

/** `s3://...`: a target in object storage rather than a local path. */
export function isObjectUrl(target: string): boolean {
  return target.toLowerCase().startsWith(SCHEME)
}

/** `s3://bucket/some/key` → `{bucket, key}`; a one-line usage error for anything else. */
export function parseObjectUrl(target: string): ObjectUrl {
  if (!isObjectUrl(target)) throw new UsageError(`${target} is not an s3:// URL: write s3://BUCKET/KEY`)
  const rest = target.slice(SCHEME.length)
  const slash = rest.indexOf('/')
  const bucket = slash === -1 ? rest : rest.slice(0, slash)
  const key = slash === -1 ? '' : rest.slice(slash + 1).replace(/^\/+/, '')
  if (!BUCKET.test(bucket)) {
    throw new UsageError(
      `${JSON.stringify(bucket)} in ${target} is not a bucket name: 3 to 63 lower-case letters, digits, dots or dashes`,
    )
  }

  if (key.split('/').some((part) => part === '.' || part === '..')) {
    throw new UsageError(`${target} has a "." or ".." in its key: write the key in full`)
  }

  return {bucket, key}
}

/** `{bucket, key}` → `s3://bucket/key`. */
export function formatObjectUrl(bucket: string, key: string): string {
  return `${SCHEME}${bucket}/${key}`
}

/** A key taken as a directory: empty, or ending with one slash. */
export function asPrefix(key: string): string {
  const trimmed = key.replace(/\/+$/, '')
  return trimmed === '' ? '' : `${trimmed}/`
}
