/**
 * What a fetch or a sync tells its caller while it runs. The CLI draws it on stderr (Progress
 * implements it); the library hands it to the caller's callbacks, or to nobody.
 */
export interface FetchReporter {
  /** A line worth keeping, e.g. a sync's plan or that its requests are paced. */
  info(message: string): void
  /** What is going on now, e.g. the chunk being fetched or when the next request goes. */
  note(detail: string): void
  /** Records received so far. */
  update(count: number): void
  /** Something worth knowing that is not an error (a retry, a `to` after today fetched up to today). */
  warn(message: string): void
}

/** A library caller's callbacks, any of them left out. */
export interface ReporterCallbacks {
  /** Lines worth keeping (a sync's plan, pacing); default: none. */
  readonly onInfo?: (message: string) => void
  /** What is going on now (the chunk, the page, the next paced request); default: none. */
  readonly onNote?: (detail: string) => void
  /** Records received so far, after each batch; default: none. */
  readonly onProgress?: (count: number) => void
  /** Warnings (retries, times that look shifted, a `to` clamped to today); default: process.emitWarning. */
  readonly onWarning?: (message: string) => void
}

/** A reporter that passes each event to the matching callback. */
export function callbackReporter(callbacks: ReporterCallbacks): FetchReporter {
  return {
    info: (message) => callbacks.onInfo?.(message),
    note: (detail) => callbacks.onNote?.(detail),
    update: (count) => callbacks.onProgress?.(count),
    warn: callbacks.onWarning ?? ((message) => process.emitWarning(message, 'MpxWarning')),
  }
}
