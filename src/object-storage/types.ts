/**
 * Object storage as mpx lends it to sinks (`SinkContext.objectStorage`): S3 and S3-compatible
 * services (MinIO, Cloudflare R2, Google Cloud Storage's XML API). Credentials, region and endpoint
 * come from the AWS SDK's default chain; the SDK loads on the first call, not before.
 */

/** How to reach the service, beyond what the environment says. */
export interface ObjectStorageSettings {
  /** An S3-compatible endpoint, e.g. `http://127.0.0.1:9000`; default: $AWS_ENDPOINT_URL_S3, else $AWS_ENDPOINT_URL, else AWS. */
  readonly endpoint?: string
  /** Path-style addressing (`https://host/bucket/key`); default: on with a custom endpoint, off for AWS. */
  readonly pathStyle?: boolean
}

/**
 * What `publishDirectory` does with objects already under the destination:
 * `create` refuses when there are any; `add` keeps them (the new files have names of their own);
 * `replace` removes, once every new file is in place, the old objects under each of `replace`'s
 * sub-prefixes (day partitions such as `event_date=2024-01-01`; `''` is the whole destination).
 */
export type PublishMode = 'add' | 'create' | 'replace'

export interface PublishRequest extends ObjectStorageSettings {
  /** `s3://bucket/prefix/table`: the files go under it, at their paths relative to `source`. */
  readonly destination: string
  /** Written (empty) under the destination once everything is in place; default `_SUCCESS`, `''` for none. */
  readonly marker?: string
  readonly mode: PublishMode
  /** With `replace`: the sub-prefixes whose old objects go, e.g. `['event_date=2024-01-01']`. */
  readonly replace?: readonly string[]
  /** Aborts the uploads (the destination is then left as it was). */
  readonly signal?: AbortSignal
  /** A local directory: every file under it is published. */
  readonly source: string
}

export interface PublishResult {
  /** New objects now under the destination. */
  readonly published: number
  /** Old objects removed (replace). */
  readonly removed: number
  /** `s3://bucket/prefix/table`. */
  readonly url: string
}

export interface ObjectStorage {
  /** Whether any object lies under `url` taken as a directory (`s3://bucket/prefix/table/...`). */
  hasObjects(url: string, settings?: ObjectStorageSettings): Promise<boolean>
  /**
   * A local directory's files into object storage, all of them or none: uploaded to a staging
   * prefix beside the destination (`<parent>/.mpx-staging/<name>-<id>/`), copied into place,
   * then the replaced objects removed, the marker written and the staging prefix removed.
   */
  publishDirectory(request: PublishRequest): Promise<PublishResult>
  /** A small object's content as text (a state file), or undefined when there is none at `url`. */
  readObject(url: string, settings?: ObjectStorageSettings): Promise<string | undefined>
  /**
   * A small object written in one request (a state file): readers see the old content or the
   * new, never a part (S3 replaces an object whole).
   */
  writeObject(url: string, body: string, settings?: ObjectStorageSettings): Promise<void>
}
