import type {JsonLines} from '../records/json-lines.js'

/** What a block holds: bytes against the memory budget, and records for `onFetched`. */
export type BlockSize<T> = (block: T) => {bytes: number; count: number}

const jsonLinesSize: BlockSize<JsonLines> = (block) => ({bytes: block.bytes.length, count: block.count})

/** What the source being delivered reads ahead of its consumer. */
const HEAD_READ_AHEAD_BYTES = 512 * 1024

export interface InOrderOptions<T = JsonLines> {
  /** Bytes that sources ahead of the one being delivered may hold, all together. */
  readonly bufferBytes: number
  /** Sources started and not yet delivered in full, at most. */
  readonly concurrency: number
  /** Told the bytes held by every source whenever it grows (tests check the bound). */
  readonly onBuffered?: (bytes: number) => void
  /** Told when source `index` has produced all its blocks, and how many lines they hold. */
  readonly onFetched?: (index: number, count: number) => void
  /** What a block holds (default: a JsonLines block's bytes and lines). */
  readonly size?: BlockSize<T>
  /**
   * Start the next source as soon as the last block of the one being delivered is handed out,
   * rather than once the consumer asks for more: for small sources (engage pages) whose requests
   * should overlap the consumer's work. Off by default: a source ahead may fill the budget.
   */
  readonly startNextOnLastBlock?: boolean
}

export interface InOrderItem<T = JsonLines> {
  /** A block of source `index`; undefined when the delivery of that source starts. */
  readonly block?: T
  readonly index: number
}

/**
 * The blocks of sources 0, 1, 2… in that order, while up to `concurrency` sources run at once:
 * the one being delivered, and the next ones fetching ahead. `start(index)` starts a source, or
 * returns undefined when there are no more; it is called in order, only as slots free up (no
 * source starts before the first item is asked for). A source ahead keeps its blocks in memory
 * within `bufferBytes` (shared by all sources ahead), then is no longer read (an HTTP body then
 * waits in the network until it is its turn); the source being delivered reads at most a little
 * ahead of its consumer. A source's failure is thrown once everything before it is delivered;
 * no source starts after one has failed. Stopping early, or failing, ends every source.
 *
 * @yields Each source's start, then its blocks.
 */
export async function* inOrder<T = JsonLines>(
  start: (index: number) => AsyncGenerator<T, void, undefined> | undefined,
  options: InOrderOptions<T>,
): AsyncGenerator<InOrderItem<T>, void, undefined> {
  const budget = new Budget(options.bufferBytes, options.onBuffered)
  const size = options.size ?? (jsonLinesSize as unknown as BlockSize<T>)
  /** Sources started and not yet delivered in full, in order: the first is being delivered. */
  const running: Array<ChunkFetch<T>> = []
  let next = 0
  let exhausted = false
  const fill = () => {
    while (!exhausted && running.length < options.concurrency && !running.some((fetch) => fetch.failed)) {
      const index = next
      const source = start(index)
      if (!source) {
        exhausted = true
        return
      }

      next++
      running.push(new ChunkFetch(source, budget, size, (count) => options.onFetched?.(index, count)))
    }
  }

  try {
    for (let index = 0; ; index++) {
      fill()
      const current = running[0]
      if (!current) return
      current.deliver()
      yield {index}
      for (;;) {
        const block = await current.take()
        if (!block) break
        if (options.startNextOnLastBlock && current.deliveredInFull && running[0] === current) {
          // Its last block: the slot goes to the next source now, not once the consumer is done.
          running.shift()
          fill()
        }

        yield {block, index}
      }

      if (running[0] === current) running.shift()
    }
  } finally {
    await Promise.all(running.map(async (fetch) => fetch.close()))
  }
}

/** The memory that chunks fetched ahead may fill, shared by all of them. */
class Budget {
  used = 0
  private readonly waiting = new Set<() => void>()

  constructor(
    readonly limit: number,
    private readonly onBuffered?: (bytes: number) => void,
  ) {}

  get spent(): boolean {
    return this.used >= this.limit
  }

  release(bytes: number): void {
    this.used -= bytes
    if (!this.spent) {
      for (const wake of this.waiting) wake()
      this.waiting.clear()
    }
  }

  /** Resolves when the budget has room again (or `wake` is called by whoever else waits on it). */
  async room(wake: (resolve: () => void) => void): Promise<void> {
    await new Promise<void>((resolve) => {
      this.waiting.add(resolve)
      wake(resolve)
    })
  }

  take(bytes: number): void {
    this.used += bytes
    this.onBuffered?.(this.used)
  }
}

/**
 * One source's blocks, read by its own loop into a queue: ahead of delivery, within the shared
 * budget (and always one block, so that every source makes progress); once it is the source being
 * delivered, at most HEAD_READ_AHEAD_BYTES ahead of its consumer.
 */
class ChunkFetch<T> {
  failed = false
  private closed = false
  private done = false
  private failure: unknown
  private readonly pump: Promise<void>
  private readonly queue: T[] = []
  private queuedBytes = 0
  /** Wakes the fetch loop when it waits for room. */
  private resume: (() => void) | undefined
  private taking = false
  /** Wakes the consumer when it waits for records. */
  private wake: (() => void) | undefined

  constructor(
    private readonly source: AsyncGenerator<T, void, undefined>,
    private readonly budget: Budget,
    private readonly size: BlockSize<T>,
    private readonly onFetched: (count: number) => void,
  ) {
    this.pump = this.run()
  }

  /** Every block fetched and taken: nothing more will come of this source. */
  get deliveredInFull(): boolean {
    return this.done && !this.failed && this.queue.length === 0
  }

  /** Stops fetching (the signal given to the source has been aborted) and releases what is held. */
  async close(): Promise<void> {
    this.closed = true
    this.resume?.()
    await this.pump
    this.budget.release(this.queuedBytes)
    this.queuedBytes = 0
    this.queue.length = 0
  }

  /** This chunk is now the one being delivered. */
  deliver(): void {
    this.taking = true
    this.resume?.()
  }

  /** The next block, undefined at the end; throws the chunk's failure once what came before it is taken. */
  async take(): Promise<T | undefined> {
    for (;;) {
      const block = this.queue.shift()
      if (block) {
        const {bytes} = this.size(block)
        this.queuedBytes -= bytes
        this.budget.release(bytes)
        this.resume?.()
        return block
      }

      if (this.done) {
        if (this.failed) throw this.failure
        return undefined
      }

      await new Promise<void>((resolve) => {
        this.wake = resolve
      })
      this.wake = undefined
    }
  }

  private hasRoom(): boolean {
    if (this.closed || this.queuedBytes === 0) return true
    return this.taking ? this.queuedBytes < HEAD_READ_AHEAD_BYTES : !this.budget.spent
  }

  private async run(): Promise<void> {
    let count = 0
    try {
      for (;;) {
        while (!this.hasRoom()) {
          await this.budget.room((resolve) => {
            this.resume = resolve
          })
          this.resume = undefined
        }

        if (this.closed) return
        const next = await this.source.next()
        if (next.done) break
        const size = this.size(next.value)
        count += size.count
        this.queue.push(next.value)
        this.queuedBytes += size.bytes
        this.budget.take(size.bytes)
        this.wake?.()
      }

      this.onFetched(count)
    } catch (error) {
      this.failed = true
      this.failure = error
    } finally {
      this.done = true
      this.wake?.()
      // Ends a source stopped half-way: its connection closes.
      await this.source.return().catch(() => {})
    }
  }
}
