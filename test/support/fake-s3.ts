/**
 * A real S3 protocol server on 127.0.0.1 for tests: s3rver (npm), on a temporary directory. It
 * speaks enough of S3 for mpx (multipart upload, CopyObject, ListObjectsV2, DeleteObjects,
 * NoSuchBucket, InvalidAccessKeyId for an unknown key id) but not AbortMultipartUpload (added
 * here, and counted) nor UploadPartCopy (added here); it does not check SigV4 signatures, so a
 * denied credential is an unknown access key id.
 */
import {GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client} from '@aws-sdk/client-s3'
import {mkdir, readdir, writeFile} from 'node:fs/promises'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {temporaryDirectory} from './temporary.js'

/** The access key pair s3rver knows (any other key id is refused with InvalidAccessKeyId). */
export const S3_ACCESS_KEY = 'S3RVER'
export const S3_SECRET_KEY = 'S3RVER'
export const S3_BUCKET = 'lake'

interface KoaContext {
  body: unknown
  headers: Record<string, string | undefined>
  method: string
  path: string
  query: Record<string, string | undefined>
  status: number
}
type Middleware = (context: KoaContext, next: () => Promise<void>) => Promise<void>

interface S3rverServer {
  close(): Promise<void>
  middleware: Middleware[]
  run(): Promise<{port: number}>
  store: {
    getObject(bucket: string, key: string, range: {end: number; start: number}): Promise<null | {content: unknown}>
    getResourcePath(bucket: string, key: string | undefined, resource: string): string
    putPart(bucket: string, uploadId: string, part: number, content: unknown): Promise<{md5: string}>
  }
}

type S3rverClass = new (options: Record<string, unknown>) => S3rverServer

export interface FakeS3 {
  /** Multipart uploads aborted so far. */
  readonly aborts: number
  close(): Promise<void>
  /** Copies every object under `prefix` to `directory`, at its key's path (to read Parquet back with DuckDB). */
  download(prefix: string, directory: string, bucket?: string): Promise<void>
  /** The environment mpx needs to use it: endpoint, region, credentials, and no shared files or instance roles. */
  env(overrides?: Record<string, string>): Record<string, string>
  /** Answers every request whose `METHOD /bucket/key?query` matches `ms` late (a slow upload to interrupt). */
  hold(match: RegExp, ms: number): void
  /** Every key in the bucket, sorted. */
  keys(bucket?: string): Promise<string[]>
  /** Multipart uploads started and neither completed nor aborted. */
  openUploads(bucket?: string): Promise<string[]>
  /** Stores an object (a test's "what was there before"). */
  put(key: string, body: string, bucket?: string): Promise<void>
  /** An object's content as text. */
  read(key: string, bucket?: string): Promise<string>
  /** Requests seen, `METHOD /bucket/key?query`. */
  readonly requests: string[]
  readonly url: string
}

export async function startFakeS3(buckets: readonly string[] = [S3_BUCKET]): Promise<FakeS3> {
  const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass
  const directory = await temporaryDirectory()
  const server = new S3rver({
    address: '127.0.0.1',
    configureBuckets: buckets.map((name) => ({name})),
    directory: directory.path,
    port: 0,
    silent: true,
    vhostBuckets: false,
  })
  const requests: string[] = []
  const holds: Array<{match: RegExp; ms: number}> = []
  let aborts = 0
  // First in the chain: sees every request, and answers AbortMultipartUpload as S3 does.
  server.middleware.unshift(async (context, next) => {
    const query = new URLSearchParams(context.query as Record<string, string>).toString()
    const request = `${context.method} ${context.path}${query ? `?${query}` : ''}`
    requests.push(request)
    const held = holds.find((hold) => hold.match.test(request))
    if (held) {
      // Done at once, answered late: a slow upload whose object is in place once mpx gives up on it.
      await next()
      await sleep(held.ms)
      return
    }

    const {uploadId} = context.query
    if (context.method === 'DELETE' && uploadId) {
      const bucket = context.path.split('/')[1]
      const {rm} = await import('node:fs/promises')
      await rm(join(server.store.getResourcePath(bucket, undefined, 'uploads'), uploadId), {
        force: true,
        recursive: true,
      })
      aborts++
      context.status = 204
      return
    }

    const copySource = context.headers['x-amz-copy-source']
    if (context.method === 'PUT' && uploadId && copySource) {
      // UploadPartCopy: a byte range of an object stored as a part.
      const [bucket] = context.path.split('/').slice(1)
      const [sourceBucket, ...sourceKey] = decodeURIComponent(copySource.replace(/^\//, '')).split('/')
      const [start, end] = (context.headers['x-amz-copy-source-range'] ?? '')
        .replace('bytes=', '')
        .split('-')
        .map(Number)
      const object = await server.store.getObject(sourceBucket, sourceKey.join('/'), {end, start})
      const {md5} = await server.store.putPart(bucket, uploadId, Number(context.query.partNumber), object?.content)
      context.status = 200
      context.body = `<?xml version="1.0" encoding="UTF-8"?>\n<CopyPartResult><ETag>"${md5}"</ETag></CopyPartResult>`
      return
    }

    await next()
  })
  const {port} = await server.run()
  const url = `http://127.0.0.1:${port}`
  const client = new S3Client({
    credentials: {accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY},
    endpoint: url,
    forcePathStyle: true,
    region: 'us-east-1',
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
  return {
    get aborts() {
      return aborts
    },
    async close() {
      client.destroy()
      await server.close()
      await directory.remove()
    },
    async download(prefix, target, bucket = S3_BUCKET) {
      const answer = await client.send(new ListObjectsV2Command({Bucket: bucket, Prefix: prefix}))
      for (const {Key: key = ''} of answer.Contents ?? []) {
        const object = await client.send(new GetObjectCommand({Bucket: bucket, Key: key}))
        const path = join(target, key)
        await mkdir(dirname(path), {recursive: true})
        await writeFile(path, (await object.Body?.transformToByteArray()) ?? new Uint8Array())
      }
    },
    env: (overrides = {}) => ({
      AWS_ACCESS_KEY_ID: S3_ACCESS_KEY,
      AWS_CONFIG_FILE: join(directory.path, 'no-aws-config'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL: url,
      AWS_REGION: 'us-east-1',
      AWS_SECRET_ACCESS_KEY: S3_SECRET_KEY,
      AWS_SHARED_CREDENTIALS_FILE: join(directory.path, 'no-aws-credentials'),
      ...overrides,
    }),
    hold(match, ms) {
      holds.push({match, ms})
    },
    async keys(bucket = S3_BUCKET) {
      const keys: string[] = []
      let token: string | undefined
      do {
        const answer = await client.send(new ListObjectsV2Command({Bucket: bucket, ContinuationToken: token}))
        keys.push(...(answer.Contents ?? []).map((object) => object.Key ?? ''))
        token = answer.IsTruncated ? answer.NextContinuationToken : undefined
      } while (token)

      return keys.sort()
    },
    async openUploads(bucket = S3_BUCKET) {
      const uploads = server.store.getResourcePath(bucket, undefined, 'uploads')
      return readdir(uploads).catch(() => [])
    },
    async put(key, body, bucket = S3_BUCKET) {
      await client.send(new PutObjectCommand({Body: body, Bucket: bucket, Key: key}))
    },
    async read(key, bucket = S3_BUCKET) {
      const answer = await client.send(new GetObjectCommand({Bucket: bucket, Key: key}))
      return (await answer.Body?.transformToString('utf8')) ?? ''
    },
    requests,
    url,
  }
}
