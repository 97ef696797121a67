import {setTimeout as sleep} from 'node:timers/promises'

/** Time as the pacer sees it: real by default, virtual in tests. */
export interface Clock {
  now(): number
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

export const systemClock: Clock = {
  now: () => performance.now(),
  async sleep(ms, signal) {
    await sleep(ms, undefined, {signal})
  },
}

/** Mixpanel's limit: 3 queries a second per project. */
export const REQUESTS_PER_SECOND = 3
/** Mixpanel's limit: 100 concurrent queries per project. */
export const MAX_CONCURRENT_REQUESTS = 100
/** Mixpanel's limit: 60 queries an hour per project. */
export const REQUESTS_PER_HOUR = 60

/**
 * Lets requests start at most `perWindow` in any `windowMs` (a sliding window over the last
 * starts), first come first served.
 */
export interface PacerOptions {
  readonly clock?: Clock
  /** Told the time of each start it lets through (tests). */
  readonly onStart?: (at: number) => void
  /** Starts allowed in any window (default 3). */
  readonly perWindow?: number
  /** The window, in ms (default 1000). */
  readonly windowMs?: number
}

export class RequestPacer {
  private readonly clock: Clock
  private readonly perWindow: number
  private queue: Promise<void> = Promise.resolve()
  /** Start times still inside the window, oldest first. */
  private readonly starts: number[] = []
  private readonly windowMs: number

  constructor(private readonly options: PacerOptions = {}) {
    this.clock = options.clock ?? systemClock
    this.perWindow = options.perWindow ?? REQUESTS_PER_SECOND
    this.windowMs = options.windowMs ?? 1000
  }

  /** Resolves when a request may start, counting it as started; rejects if `signal` aborts first. */
  async acquire(signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(async () => this.waitTurn(signal))
    // The next caller waits for this one's turn, whether it was granted or aborted.
    this.queue = turn.catch(() => {})
    return turn
  }

  private async waitTurn(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted()
      const now = this.clock.now()
      while (this.starts.length > 0 && this.starts[0] <= now - this.windowMs) this.starts.shift()
      if (this.starts.length < this.perWindow) {
        this.starts.push(now)
        this.options.onStart?.(now)
        return
      }

      await this.clock.sleep(this.starts[0] + this.windowMs - now, signal)
    }
  }
}

const pacers = new WeakMap<object, RequestPacer>()

/** The pacer of everything that uses `owner` (a client: one project's credentials). */
export function pacerFor(owner: object): RequestPacer {
  let pacer = pacers.get(owner)
  if (!pacer) {
    pacer = new RequestPacer()
    pacers.set(owner, pacer)
  }

  return pacer
}
