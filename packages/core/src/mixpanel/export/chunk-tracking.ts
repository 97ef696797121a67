import type {RejectedRecord} from '../../records/rejects.js'
import type {DateRange} from '../dates.js'

/**
 * Export options that keep a note of the chunk being delivered, so that a bad record can be told
 * with the days of the request it came from (and its day, when the request was for one day).
 */
export function trackChunks<Options extends {onChunk?: (chunk: DateRange, index: number, count: number) => void}>(
  options: Options,
): {exportOptions: Options; located: (reject: RejectedRecord) => RejectedRecord} {
  let chunk: DateRange | undefined
  const exportOptions: Options = {
    ...options,
    onChunk(range: DateRange, index: number, count: number) {
      chunk = range
      options.onChunk?.(range, index, count)
    },
  }
  const located = (reject: RejectedRecord): RejectedRecord =>
    chunk
      ? {
          ...reject,
          day: reject.day ?? (chunk.from === chunk.to ? chunk.from : undefined),
          range: {from: chunk.from, to: chunk.to},
        }
      : reject
  return {exportOptions, located}
}
