import type {RejectQueue} from 'mpx-mixpanel-core/internal/records/rejects.js'
import type {RecordFormat, RecordKind} from 'mpx-mixpanel-core/internal/records/types.js'

import {JsonLines} from 'mpx-mixpanel-core/internal/records/json-lines.js'
import {join} from 'node:path'

import type {Sink, SinkContext, SinkResult, SinkTarget, SinkWriter} from '../sinks/sink.js'

import {RejectsFile} from '../sinks/rejects-file.js'
import {recordBatch} from './batch.js'

export interface FetchRun {
  readonly context: SinkContext
  readonly format: RecordFormat
  readonly kind: RecordKind
  /** Called once every record has been handed to the sink, before it commits (which may take a while). */
  readonly onFinishing?: () => void
  /** Called after each batch is written, with the running count. */
  readonly onProgress?: (count: number) => void
  /** Where the source puts the records it could not normalize: they go to the sink after each batch. */
  readonly rejects?: RejectQueue
  readonly sink: Sink
  /** Batches of JSON lines in `format`. */
  readonly source: AsyncIterable<JsonLines | readonly string[]>
  readonly target: SinkTarget
}

/**
 * Rejects of a writer that does not keep them itself: a file in mpx's data directory,
 * `rejects/<sink>-<table>.jsonl`, committed after the writer.
 */
function fallbackRejects(run: FetchRun, writer: SinkWriter): RejectsFile | undefined {
  if (writer.reject || !run.rejects) return undefined
  const path = join(run.context.dataDir, 'rejects', `${run.sink.name}-${run.target.table}.jsonl`)
  return new RejectsFile(path, run.target.mode, {startedAt: new Date(), table: run.target.table})
}

/**
 * The one data path: source batches into a sink writer, then commit; on any failure or interrupt
 * the writer aborts, which leaves the target as it was, and the error goes on to the caller.
 * Records the source rejected go to the writer's `reject` after each batch.
 */
export async function runFetch(run: FetchRun): Promise<SinkResult> {
  const writer = await run.sink.open(run.target, run.context)
  const fallback = fallbackRejects(run, writer)
  const passRejects = async () => {
    const rejects = run.rejects?.take() ?? []
    if (rejects.length === 0) return
    await (writer.reject ? writer.reject(rejects) : fallback?.add(rejects))
  }

  let count = 0
  try {
    for await (const lines of run.source) {
      run.context.signal.throwIfAborted()

      await writer.write(recordBatch(run.kind, run.format, lines))
      await passRejects()
      count += lines instanceof JsonLines ? lines.count : lines.length
      run.onProgress?.(count)
    }

    await passRejects()
    run.context.signal.throwIfAborted()
  } catch (error) {
    await writer.abort(error)
    await fallback?.abort()
    throw error
  }

  run.onFinishing?.()
  if (!fallback) return writer.commit()
  let result: SinkResult
  try {
    result = await writer.commit()
  } catch (error) {
    await fallback.abort()
    throw error
  }

  const location = await fallback.commit()
  return location ? {...result, rejected: {count: fallback.count, location}} : result
}
