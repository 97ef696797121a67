import type {RecordFormat, RecordKind} from 'mpx-mixpanel-core/internal/records/types.js'

import {JsonLines} from 'mpx-mixpanel-core/internal/records/json-lines.js'
import {parseLossless} from 'mpx-mixpanel-core/internal/records/json.js'

import type {RecordBatch} from '../sinks/sink.js'

/**
 * A batch whose records came as bytes: `lines` are decoded only if a sink reads them, and a sink
 * that writes text takes `text`. A class, not an object literal with a getter: V8 creates such
 * literals outside the young generation, where they would keep every buffer they hold alive until
 * a full collection.
 */
class BytesBatch implements RecordBatch {
  readonly text: {readonly bytes: Uint8Array; readonly count: number}

  constructor(
    readonly kind: RecordKind,
    readonly format: RecordFormat,
    private readonly block: JsonLines,
  ) {
    this.text = {bytes: block.bytes, count: block.count}
  }

  get lines(): readonly string[] {
    return this.block.lines
  }

  records(): unknown[] {
    return this.block.lines.map((line) => parseLossless(line))
  }
}

export function recordBatch(kind: RecordKind, format: RecordFormat, lines: JsonLines | readonly string[]): RecordBatch {
  if (lines instanceof JsonLines) return new BytesBatch(kind, format, lines)
  return {
    format,
    kind,
    lines,
    records: () => lines.map((line) => parseLossless(line)),
  }
}
