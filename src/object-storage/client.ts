/**
 * The AWS SDK, behind a few calls mpx needs: this module is imported only when an s3:// target is
 * used (start-up never loads the SDK).
 */
import type {Readable} from 'node:stream'

import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3'
import {Upload} from '@aws-sdk/lib-storage'

import type {ObjectStorageSettings} from './types.js'

import {storageError} from './errors.js'
import {formatObjectUrl} from './url.js'

/**
 * A streaming upload holds at most QUEUE_SIZE parts of PART_BYTES in memory (32 MB), whatever the
 * object's size; S3 allows 10,000 parts, so one object can reach 80 GB.
 */
export const PART_BYTES = 8 * 1024 * 1024
export const QUEUE_SIZE = 4
/** How copies are made: CopyObject up to `singleBytes` (S3's limit is 5 GB), else parts of `partBytes` (UploadPartCopy). */
export interface CopyLimits {
  readonly partBytes: number
  readonly singleBytes: number
}

const COPY_LIMITS: CopyLimits = {partBytes: 512 * 1024 * 1024, singleBytes: 5 * 1024 * 1024 * 1024}
/** DeleteObjects takes at most this many keys. */
const DELETE_BATCH = 1000

export interface ObjectInfo {
  readonly key: string
  readonly size: number
}

/** A multipart upload under way: `done` completes it (the object appears then), `abort` drops its parts. */
export interface UploadHandle {
  abort(): Promise<void>
  done(): Promise<void>
}

/** The endpoint in force: the setting, else the SDK's own environment variables for it. */
export function configuredEndpoint(settings: ObjectStorageSettings, env = process.env): string | undefined {
  if (settings.endpoint) return settings.endpoint
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === 'true') return undefined
  return env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined
}

/** The client's configuration: the SDK's default chain, plus what S3-compatible services need. */
export function clientConfig(settings: ObjectStorageSettings, env = process.env): S3ClientConfig {
  const endpoint = configuredEndpoint(settings, env)
  const config: S3ClientConfig = {followRegionRedirects: true}
  if (endpoint) {
    config.endpoint = endpoint
    // MinIO and most self-hosted services serve buckets as paths, not as sub-domains.
    config.forcePathStyle = settings.pathStyle ?? true
    // Requests are signed for a region, which most S3-compatible services ignore (R2 takes us-east-1 for auto).
    if (!env.AWS_REGION && !env.AWS_DEFAULT_REGION) config.region = 'us-east-1'
    // Not every S3-compatible service knows the SDK's newer default checksums: send them only where required.
    if (!env.AWS_REQUEST_CHECKSUM_CALCULATION) config.requestChecksumCalculation = 'WHEN_REQUIRED'
    if (!env.AWS_RESPONSE_CHECKSUM_VALIDATION) config.responseChecksumValidation = 'WHEN_REQUIRED'
  } else if (settings.pathStyle !== undefined) {
    config.forcePathStyle = settings.pathStyle
  }

  return config
}

/** One bucket, with errors made one line (bucket, key, the service's code, what to do). */
export class ObjectStore {
  private readonly client: S3Client
  private readonly endpoint: string | undefined

  constructor(
    readonly bucket: string,
    settings: ObjectStorageSettings = {},
    private readonly copyLimits: CopyLimits = COPY_LIMITS,
  ) {
    const config = clientConfig(settings)
    this.endpoint = typeof config.endpoint === 'string' ? new URL(config.endpoint).host : undefined
    this.client = new S3Client(config)
  }

  /** Whether any object's key starts with `prefix` (one page: some S3-compatible servers fail on a truncated one). */
  async any(prefix: string): Promise<boolean> {
    const answer = await this.call('list', prefix, () =>
      this.client.send(new ListObjectsV2Command({Bucket: this.bucket, Prefix: prefix})),
    )
    return (answer.Contents?.length ?? 0) > 0
  }

  close(): void {
    this.client.destroy()
  }

  /**
   * Server-side copy within the bucket: no data passes through mpx. `size` is the source's: an
   * object larger than CopyObject takes is copied in parts, all or nothing (AbortMultipartUpload).
   */
  async copy(from: string, to: string, size = 0): Promise<void> {
    const {bucket, client} = this
    const source = encodeCopySource(bucket, from)
    if (size <= this.copyLimits.singleBytes) {
      await this.call('copy into', to, () =>
        client.send(new CopyObjectCommand({Bucket: bucket, CopySource: source, Key: to})),
      )
      return
    }

    await this.call('copy into', to, async () => {
      const {UploadId: uploadId} = await client.send(new CreateMultipartUploadCommand({Bucket: bucket, Key: to}))
      try {
        const parts: Array<{ETag?: string; PartNumber: number}> = []
        for (let start = 0; start < size; start += this.copyLimits.partBytes) {
          const end = Math.min(start + this.copyLimits.partBytes, size) - 1
          const partNumber = parts.length + 1
          const answer = await client.send(
            new UploadPartCopyCommand({
              Bucket: bucket,
              CopySource: source,
              CopySourceRange: `bytes=${start}-${end}`,
              Key: to,
              PartNumber: partNumber,
              UploadId: uploadId,
            }),
          )
          parts.push({ETag: answer.CopyPartResult?.ETag, PartNumber: partNumber})
        }

        await client.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: to,
            MultipartUpload: {Parts: parts},
            UploadId: uploadId,
          }),
        )
      } catch (error) {
        await client
          .send(new AbortMultipartUploadCommand({Bucket: bucket, Key: to, UploadId: uploadId}))
          .catch(() => {})
        throw error
      }
    })
  }

  /** Removes these keys (missing ones are no error). */
  async delete(keys: readonly string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      const batch = keys.slice(start, start + DELETE_BATCH)
      const answer = await this.call('delete from', batch[0], () =>
        this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: {Objects: batch.map((key) => ({Key: key})), Quiet: true},
          }),
        ),
      )
      const [failed] = answer.Errors ?? []
      if (failed) {
        throw storageError(
          {$metadata: {}, name: failed.Code ?? 'DeleteFailed'},
          this.action('delete from', failed.Key ?? batch[0]),
        )
      }
    }
  }

  /** Whether an object has exactly this key. */
  async exists(key: string): Promise<boolean> {
    // A listing rather than HeadObject: its 404 says which of bucket and key is missing.
    const answer = await this.call('read', key, () =>
      this.client.send(new ListObjectsV2Command({Bucket: this.bucket, Prefix: key})),
    )
    return answer.Contents?.[0]?.Key === key
  }

  /** A small object's content as text; undefined when no object has this key. */
  async get(key: string): Promise<string | undefined> {
    try {
      const answer = await this.client.send(new GetObjectCommand({Bucket: this.bucket, Key: key}))
      return (await answer.Body?.transformToString('utf8')) ?? ''
    } catch (error) {
      const {name} = (error ?? {}) as {name?: string}
      if (name === 'NoSuchKey' || name === 'NotFound') return undefined
      throw storageError(error, this.action('read', key))
    }
  }

  /** Every object whose key starts with `prefix`, in key order. */
  async list(prefix: string): Promise<ObjectInfo[]> {
    const objects: ObjectInfo[] = []
    let token: string | undefined
    do {
      const answer = await this.call('list', prefix, () =>
        this.client.send(new ListObjectsV2Command({Bucket: this.bucket, ContinuationToken: token, Prefix: prefix})),
      )
      for (const item of answer.Contents ?? []) {
        if (item.Key !== undefined) objects.push({key: item.Key, size: item.Size ?? 0})
      }

      token = answer.IsTruncated ? answer.NextContinuationToken : undefined
    } while (token)

    return objects
  }

  /** A small object in one request (a marker, a state file). */
  async put(key: string, body: string): Promise<void> {
    const bytes = Buffer.from(body)
    await this.call('write', key, () =>
      this.client.send(new PutObjectCommand({Body: bytes, Bucket: this.bucket, ContentLength: bytes.length, Key: key})),
    )
  }

  /**
   * Streams `body` into `key` as a multipart upload (parts retried by the SDK, at most QUEUE_SIZE
   * in memory). Nothing is visible at `key` before `done()` resolves; `abort()` (or a failure)
   * aborts the multipart upload, so no parts are left stored.
   */
  upload(key: string, body: Buffer | Readable, contentType?: string): UploadHandle {
    const upload = new Upload({
      client: this.client,
      leavePartsOnError: false,
      params: {Body: body, Bucket: this.bucket, ContentType: contentType, Key: key},
      partSize: PART_BYTES,
      queueSize: QUEUE_SIZE,
    })
    const finished = upload.done().then(
      () => {},
      (error: unknown) => {
        throw storageError(error, this.action('write', key))
      },
    )
    // Read only through done() or abort(): an unobserved failure is not an unhandled rejection.
    finished.catch(() => {})
    let aborting: Promise<void> | undefined
    const {bucket, client} = this
    return {
      // Once: a second call waits for the first.
      abort() {
        aborting ??= (async () => {
          await upload.abort()
          await finished.catch(() => {})
          // lib-storage aborts the multipart upload in the background after done() has given up:
          // abort it here too, and wait for the answer, so that an interrupted mpx leaves no parts.
          const {uploadId} = upload as unknown as {uploadId?: string}
          if (uploadId) {
            await client
              .send(new AbortMultipartUploadCommand({Bucket: bucket, Key: key, UploadId: uploadId}))
              .catch(() => {})
          }
        })()
        return aborting
      },
      done: () => finished,
    }
  }

  /** `s3://bucket/key`. */
  url(key: string): string {
    return formatObjectUrl(this.bucket, key)
  }

  private action(verb: string, key: string) {
    return {bucket: this.bucket, endpoint: this.endpoint, key, verb}
  }

  private async call<T>(verb: string, key: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request()
    } catch (error) {
      throw storageError(error, this.action(verb, key))
    }
  }
}

/**
 * CopySource is `bucket/key`, URL-encoded; slashes and the `=` of hive partitions stay as they are
 * (S3 decodes either form; some S3-compatible servers decode only the reserved characters they expect).
 */
function encodeCopySource(bucket: string, key: string): string {
  return `${bucket}/${encodeURIComponent(key).replaceAll('%2F', '/').replaceAll('%3D', '=')}`
}
