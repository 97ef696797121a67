import type {RecordBatch} from '../sinks/sink.js'
import type {RecordFormat, RecordKind} from './types.js'

import {parseLossless} from './json.js'

export function recordBatch(kind: RecordKind, format: RecordFormat, lines: readonly string[]): RecordBatch {
  return {
    format,
    kind,
    lines,
    records: () => lines.map((line) => parseLossless(line)),
  }
}
