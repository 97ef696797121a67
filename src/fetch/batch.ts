import type {RecordFormat, RecordKind} from 'mpx-mixpanel-core/internal/records/types.js'

import {JsonLines} from 'mpx-mixpanel-core/internal/records/json-lines.js'
import {parseLossless} from 'mpx-mixpanel-core/internal/records/json.js'
import {mayHoldLoneSurrogate, wellFormedLines} from 'mpx-mixpanel-core/internal/records/lone-surrogates.js'

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

  wellFormedLines(): {lines: readonly string[]; repaired: number} {
    return wellFormedLines(this.block.lines)
  }

  wellFormedText(): {bytes: Uint8Array; count: number; repaired: number} {
    if (!mayHoldLoneSurrogate(this.text.bytes)) return {...this.text, repaired: 0}
    return wellFormedText(this.block.lines)
  }
}

/**
 * Lines as well-formed UTF-8 text, a newline after each. One join serves both the scan for lone
 * surrogates and the text (joined again only when some were replaced); the text is encoded into
 * a buffer sized for it, rather than `+ '\n'`, which V8 would copy once more to encode.
 */
function wellFormedText(lines: readonly string[]): {bytes: Uint8Array; count: number; repaired: number} {
  if (lines.length === 0) return {bytes: new Uint8Array(0), count: 0, repaired: 0}
  const joined = lines.join('\n')
  const {lines: fixed, repaired} = wellFormedLines(lines, joined)
  const text = repaired === 0 ? joined : fixed.join('\n')
  const bytes = Buffer.allocUnsafe(Buffer.byteLength(text) + 1)
  bytes.write(text)
  bytes[bytes.length - 1] = 0x0a
  return {bytes, count: lines.length, repaired}
}

export function recordBatch(kind: RecordKind, format: RecordFormat, lines: JsonLines | readonly string[]): RecordBatch {
  if (lines instanceof JsonLines) return new BytesBatch(kind, format, lines)
  return {
    format,
    kind,
    lines,
    records: () => lines.map((line) => parseLossless(line)),
    wellFormedLines: () => wellFormedLines(lines),
    wellFormedText: () => wellFormedText(lines),
  }
}
