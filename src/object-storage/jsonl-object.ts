import {MpxError, UsageError} from 'mpx-mixpanel-core/internal/errors.js'
import {PassThrough} from 'node:stream'

import type {RecordBatch, SinkContext, SinkResult, SinkTarget, SinkWriter} from '../sinks/sink.js'

import {LineWriter} from '../output/line-writer.js'
import {ObjectStore} from './client.js'
import {parseObjectUrl} from './url.js'

/**
 * JSONL streamed into one object, `-o s3://bucket/key.jsonl`. The lines go into a multipart
 * upload to the final key itself: S3 shows an object only once its upload completes, which mpx
 * does at commit, so readers see the old object (or none) until then and the whole new one after;
 * no copy is needed (and no 5 GB copy limit applies). Abort drops the upload and its parts.
 */
export async function openJsonlObject(target: SinkTarget, output: string, context: SinkContext): Promise<SinkWriter> {
  const {bucket, key} = parseObjectUrl(output)
  if (key === '' || key.endsWith('/')) throw new UsageError(`${output} names no object: write s3://BUCKET/KEY.jsonl`)
  if (target.mode === 'append') {
    throw new UsageError(`Objects cannot be appended to (${output}): write a new key, or replace this one`)
  }

  const store = new ObjectStore(bucket, {})
  // Checked before any request to Mixpanel: credentials, bucket, and whether the key is taken.
  try {
    if ((await store.exists(key)) && target.mode === 'create') {
      throw new MpxError(`${output} already exists: replace it, or write another key`)
    }
  } catch (error) {
    store.close()
    throw error
  }

  // Backpressure: the upload reads the stream as fast as its parts go out, at most QUEUE_SIZE at a time.
  const body = new PassThrough()
  const upload = store.upload(key, body, 'application/x-ndjson')
  let failure: Error | undefined
  upload.done().catch((error: unknown) => {
    failure = error as Error
    // Unblocks a writer waiting for the stream to drain.
    body.destroy(failure)
  })
  const writer = new LineWriter(body)
  let written = 0
  /** The clean-up once started: an interrupt starts it, and abort() waits for the same one. */
  let stopping: Promise<void> | undefined

  const check = (error?: unknown) => {
    if (failure) throw failure
    if (error) throw error
  }

  const stop = () => {
    stopping ??= (async () => {
      writer.detach()
      // The upload is aborted first: a body that merely ended would let it complete.
      const aborted = upload.abort()
      body.destroy(new Error('aborted'))
      await aborted
      store.close()
    })()
    return stopping
  }

  const onAbort = () => {
    stop().catch(() => {})
  }

  context.signal.addEventListener('abort', onAbort, {once: true})

  return {
    async abort(): Promise<void> {
      context.signal.removeEventListener('abort', onAbort)
      await stop()
    },
    async commit(): Promise<SinkResult> {
      context.signal.removeEventListener('abort', onAbort)
      try {
        await writer.flush().catch(check)
        writer.detach()
        body.end()
        await upload.done()
        stopping = Promise.resolve()
        store.close()
        return {location: output, written}
      } catch (error) {
        await stop()
        throw error
      }
    },
    async write(batch: RecordBatch): Promise<void> {
      try {
        if (batch.text) {
          await writer.writeBytes(batch.text.bytes)
          written += batch.text.count
        } else {
          await writer.write(batch.lines)
          written += batch.lines.length
        }
      } catch (error) {
        check(error)
      }
    },
  }
}
