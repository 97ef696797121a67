import type {Readable} from 'node:stream'

import got, {type Got} from 'got'
import {type BrotliOptions, constants, createBrotliDecompress, createUnzip, type ZlibOptions} from 'node:zlib'

import {UsageError} from '../errors.js'
import {authorizationHeader, type Credentials} from './credentials.js'
import {errorForFailure, errorForResponse, type RequestContext} from './errors.js'
import {endpointsFor, type Region} from './regions.js'
import {
  backoffDelay,
  defaultRetryOptions,
  parseRetryAfter,
  RetryableError,
  type RetryOptions,
  waitBeforeRetry,
  withoutRetries,
} from './retry.js'

export interface ClientOptions {
  /** Send every request to this origin instead of Mixpanel's (MPX_API_URL): proxies and tests. */
  apiUrl?: string
  credentials: Credentials
  /** Give up on a connection that sends nothing for this long. */
  idleTimeoutMs?: number
  /** Allow a plain-http apiUrl on a host other than loopback. */
  insecure?: boolean
  /** Called before each retry, e.g. to show it on the spinner. */
  onRetry?: (message: string, delayMs: number) => void
  region?: Region
  retry?: Partial<RetryOptions>
}

const MAX_ERROR_BODY = 64 * 1024

export interface StreamOptions {
  /**
   * Decompress the body here rather than in got's pieces of 16 KB, one at a time: pieces of
   * `chunkBytes`, up to `aheadBytes` ahead of the reader. For a big download (the raw export),
   * fewer, larger pieces cost much less CPU, and decompressing ahead lets zlib's thread work
   * while the reader does.
   */
  readonly decompress?: {readonly aheadBytes: number; readonly chunkBytes: number}
  /** Told the headers of a successful response, before its body is read. */
  readonly onResponse?: (headers: Record<string, string | string[] | undefined>) => void
}

/**
 * A body decompressed as got does it (a body cut short ends where its data ends, an empty one
 * stays empty: the caller checks what it got).
 */
function decompressed(raw: Readable, encoding: unknown, options: {aheadBytes: number; chunkBytes: number}): Readable {
  const name = String(encoding ?? '')
    .trim()
    .toLowerCase()
  const stream = {chunkSize: options.chunkBytes, readableHighWaterMark: options.aheadBytes}
  let decoder
  if (name === 'gzip' || name === 'x-gzip' || name === 'deflate') {
    decoder = createUnzip({
      ...stream,
      finishFlush: constants.Z_SYNC_FLUSH,
      flush: constants.Z_SYNC_FLUSH,
    } as ZlibOptions)
  } else if (name === 'br') {
    decoder = createBrotliDecompress({...stream, finishFlush: constants.BROTLI_OPERATION_FLUSH} as BrotliOptions)
  } else {
    return raw
  }

  raw.once('error', (error) => decoder.destroy(error))
  decoder.once('close', () => raw.destroy())
  return raw.pipe(decoder)
}

function checkApiUrl(apiUrl: string, insecure: boolean): string {
  let url: URL
  try {
    url = new URL(apiUrl)
  } catch {
    throw new UsageError(`MPX_API_URL "${apiUrl}" is not a URL: use e.g. https://proxy.example.com`)
  }

  const loopback = ['127.0.0.1', '::1', '[::1]', 'localhost'].includes(url.hostname) || url.hostname.startsWith('127.')
  if (url.protocol === 'http:' && !loopback && !insecure) {
    throw new UsageError(
      `MPX_API_URL ${url.origin} is plain http: credentials would travel unencrypted; use https, or pass --insecure`,
    )
  }

  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`MPX_API_URL must be an http(s) URL, not ${url.protocol}`)
  }

  return url.origin
}

async function readBounded(stream: Readable): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer)
      size += (chunk as Buffer).length
      if (size >= MAX_ERROR_BODY) break
    }
  } catch {
    // An error body that fails half-way still has a status worth reporting.
  } finally {
    stream.destroy()
  }

  return Buffer.concat(chunks).toString('utf8')
}

/** Mixpanel's HTTP API: auth, regions, retries and error mapping in one place. */
export class MixpanelClient {
  readonly endpoints: {engage: string; export: string}
  readonly retry: RetryOptions
  private readonly http: Got

  constructor(private readonly options: ClientOptions) {
    const apiUrl = options.apiUrl ? checkApiUrl(options.apiUrl, options.insecure ?? false) : undefined
    this.endpoints = endpointsFor(options.region ?? 'us', apiUrl)
    this.retry = {...defaultRetryOptions, ...options.retry}
    this.http = got.extend({
      decompress: true,
      headers: {
        'accept-encoding': 'gzip',
        authorization: authorizationHeader(options.credentials),
        'user-agent': 'mpx (+https://www.npmjs.com/package/mpx)',
      },
      retry: {limit: 0},
      throwHttpErrors: false,
      timeout: {connect: 30_000, socket: options.idleTimeoutMs ?? 120_000},
    })
  }

  /** Query parameters every request carries (`project_id` for service accounts). */
  get projectParams(): Record<string, string> {
    const {projectId} = this.options.credentials
    return projectId ? {project_id: projectId} : {}
  }

  /**
   * One GET whose body is consumed as a stream (decompressed). Resolves once a 2xx status has
   * arrived; any other status is read (bounded) and thrown as a mapped error.
   */
  async openStream(
    url: string,
    searchParams: Record<string, string>,
    context: RequestContext,
    signal?: AbortSignal,
    options: StreamOptions = {},
  ): Promise<Readable> {
    const own = options.decompress
    const stream = this.http.stream(url, {
      decompress: own === undefined,
      searchParams: {...searchParams, ...this.projectParams},
      signal,
    })
    try {
      const response = await new Promise<{headers: Record<string, string | string[] | undefined>; statusCode: number}>(
        (resolve, reject) => {
          stream.once('response', resolve)
          stream.once('error', reject)
        },
      )
      const body = own === undefined ? stream : decompressed(stream, response.headers['content-encoding'], own)
      if (response.statusCode >= 200 && response.statusCode < 300) {
        options.onResponse?.(response.headers)
        return body
      }

      const text = await readBounded(body)
      throw errorForResponse(response.statusCode, text, context, retryAfterOf(response.headers))
    } catch (error) {
      stream.destroy()
      throw errorForFailure(error, context)
    }
  }

  /** One form-encoded POST answered with JSON text (engage). */
  async postForm(
    url: string,
    form: Record<string, string>,
    context: RequestContext,
    signal?: AbortSignal,
  ): Promise<string> {
    try {
      const response = await this.http.post(url, {form, searchParams: this.projectParams, signal})
      if (response.statusCode >= 200 && response.statusCode < 300) return response.body
      throw errorForResponse(response.statusCode, response.body, context, retryAfterOf(response.headers))
    } catch (error) {
      throw errorForFailure(error, context)
    }
  }

  /**
   * Decides what follows failed attempt `n`: waits out the backoff (or Retry-After) when the
   * failure is retryable and attempts remain, else throws the error to report.
   */
  async retryOrThrow(error: unknown, n: number, context: RequestContext, signal?: AbortSignal): Promise<void> {
    const mapped = errorForFailure(error, context)
    if (!(mapped instanceof RetryableError)) throw mapped
    if (signal?.aborted) throw mapped.exhausted
    if (n >= this.retry.attempts) throw n === 1 ? withoutRetries(mapped.exhausted) : mapped.exhausted
    const delay = backoffDelay(n, this.retry, mapped.retryAfterMs)
    this.options.onRetry?.(`${context.what}: ${mapped.message}, retry ${n} in ${(delay / 1000).toFixed(1)}s`, delay)
    await waitBeforeRetry(delay, signal)
  }

  /** Runs `attempt` until it succeeds or `retryOrThrow` gives up. */
  async withRetries<T>(context: RequestContext, attempt: (n: number) => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (let n = 1; ; n++) {
      try {
        return await attempt(n)
      } catch (error) {
        await this.retryOrThrow(error, n, context, signal)
      }
    }
  }
}

function retryAfterOf(headers: Record<string, string | string[] | undefined>): number | undefined {
  const value = headers['retry-after']
  return parseRetryAfter(Array.isArray(value) ? value[0] : value)
}
