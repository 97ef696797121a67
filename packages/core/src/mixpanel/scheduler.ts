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
  /**
   * A second, longer budget on top of the per-second one: at most `perHour` starts in any `hourMs`
   * (Mixpanel's 60 queries an hour). Off by default: a fetch that needs more is warned instead.
   */
  readonly hourly?: {readonly hourMs?: number; readonly perHour: number}
  /** Told when a start must wait for the hourly budget: how long, in ms (the clock's unit). */
  readonly onHourlyWait?: (waitMs: number) => void
  /** Told the time of each start it lets through (tests). */
  readonly onStart?: (at: number) => void
  /** Starts allowed in any window (default 3). */
  readonly perWindow?: number
  /** The window, in ms (default 1000). */
  readonly windowMs?: number
}

/** Starts in a sliding window: how long the next one must wait. */
class Window {
  /** Start times still inside the window, oldest first. */
  private readonly starts: number[] = []

  constructor(
    private readonly perWindow: number,
    private readonly windowMs: number,
  ) {}

  add(now: number): void {
    this.starts.push(now)
  }

  /** 0 when a start may go at `now`, else the ms to wait. */
  waitAt(now: number): number {
    while (this.starts.length > 0 && this.starts[0] <= now - this.windowMs) this.starts.shift()
    return this.starts.length < this.perWindow ? 0 : this.starts[0] + this.windowMs - now
  }
}

export const HOUR_MS = 3_600_000

export class RequestPacer {
  private readonly clock: Clock
  private readonly hour: undefined | Window
  private queue: Promise<void> = Promise.resolve()
  private readonly second: Window

  constructor(private readonly options: PacerOptions = {}) {
    this.clock = options.clock ?? systemClock
    this.second = new Window(options.perWindow ?? REQUESTS_PER_SECOND, options.windowMs ?? 1000)
    if (options.hourly) this.hour = new Window(options.hourly.perHour, options.hourly.hourMs ?? HOUR_MS)
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
      const hourWait = this.hour?.waitAt(now) ?? 0
      const wait = Math.max(this.second.waitAt(now), hourWait)
      if (wait <= 0) {
        this.second.add(now)
        this.hour?.add(now)
        this.options.onStart?.(now)
        return
      }

      if (hourWait > 0) this.options.onHourlyWait?.(hourWait)
      await this.clock.sleep(wait, signal)
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
