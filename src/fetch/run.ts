import type {RecordFormat, RecordKind} from '../records/types.js'
import type {Sink, SinkContext, SinkResult, SinkTarget} from '../sinks/sink.js'

import {JsonLines} from '../records/json-lines.js'
import {recordBatch} from './batch.js'

export interface FetchRun {
  readonly context: SinkContext
  readonly format: RecordFormat
  readonly kind: RecordKind
  /** Called once every record has been handed to the sink, before it commits (which may take a while). */
  readonly onFinishing?: () => void
  /** Called after each batch is written, with the running count. */
  readonly onProgress?: (count: number) => void
  readonly sink: Sink
  /** Batches of JSON lines in `format`. */
  readonly source: AsyncIterable<JsonLines | readonly string[]>
  readonly target: SinkTarget
}

/**
 * The one data path: source batches into a sink writer, then commit; on any failure or interrupt
 * the writer aborts, which leaves the target as it was, and the error goes on to the caller.
 */
export async function runFetch(run: FetchRun): Promise<SinkResult> {
  const writer = await run.sink.open(run.target, run.context)
  let count = 0
  try {
    for await (const lines of run.source) {
      run.context.signal.throwIfAborted()

      await writer.write(recordBatch(run.kind, run.format, lines))
      count += lines instanceof JsonLines ? lines.count : lines.length
      run.onProgress?.(count)
    }

    run.context.signal.throwIfAborted()
  } catch (error) {
    await writer.abort(error)
    throw error
  }

  run.onFinishing?.()
  return writer.commit()
}
