import type {Writable} from 'node:stream'

import {MpxError} from 'mpx-mixpanel-core/internal/errors.js'

/** Thrown when whoever reads stdout has gone (`| head -3`): not a failure of mpx. */
export class OutputClosedError extends Error {
  constructor() {
    super('output closed')
    this.name = 'OutputClosedError'
  }
}

const guarded = new WeakSet<Writable>()

/**
 * A reader that leaves (`| head`) makes the stream emit EPIPE later, possibly after mpx is done
 * writing: without a listener that would crash the process, so one stays attached.
 */
function ignoreLateEpipe(stream: Writable): void {
  if (guarded.has(stream)) return
  guarded.add(stream)
  // oclif's listener on stdout rethrows every error but EPIPE, which would crash on ENOSPC
  // before mpx could report it: mpx's writers take over.
  stream.removeAllListeners('error')
  // Failures while a writer is active reach it through its own listener.
  stream.on('error', () => {})
}

/** Pieces of output smaller than this are gathered into one write (fewer system calls, fewer wake-ups of the reader). */
const DIRECT_BYTES = 8 * 1024
/** Output held for longer than this is written anyway, so that a slow fetch still streams. */
const HOLD_MS = 50

/** Writes lines to a stream in large pieces, waiting for it to drain; EPIPE becomes OutputClosedError. */
export class LineWriter {
  private failure: Error | undefined
  private held: Uint8Array[] = []
  private heldBytes = 0
  private readonly onError = (error: NodeJS.ErrnoException) => {
    this.failure =
      error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED'
        ? new OutputClosedError()
        : new MpxError(`Cannot write ${this.label} (${error.code ?? error.message}): check the disk or the pipe`)
  }
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly stream: Writable,
    /** What the stream writes to, for errors: a file's path. */
    private readonly label = 'the output',
  ) {
    ignoreLateEpipe(stream)
    stream.on('error', this.onError)
  }

  detach(): void {
    this.stream.off('error', this.onError)
  }

  /** Writes what is held back, and waits until the stream can take more. */
  async flush(): Promise<void> {
    this.writeHeld()
    if (this.stream.writableNeedDrain) await this.drained()
    this.check()
  }

  /** Hands what is held back to the stream without waiting (a fetch that failed: what came before it still goes out). */
  release(): void {
    this.writeHeld()
  }

  async write(lines: readonly string[]): Promise<void> {
    this.check()
    if (lines.length === 0) return
    this.writeHeld()
    // One string per batch: one write call instead of one per record.
    if (!this.stream.write(lines.join('\n') + '\n')) await this.drained()
    this.check()
  }

  /**
   * Writes JSON lines already encoded (each ending with a newline). Small pieces are gathered into
   * larger writes; large ones go as they are (copying them would cost more than the write saves).
   */
  async writeBytes(bytes: Uint8Array): Promise<void> {
    this.check()
    if (bytes.length === 0) return
    if (bytes.length >= DIRECT_BYTES) {
      this.writeHeld()
      if (!this.stream.write(bytes)) await this.drained()
      this.check()
      return
    }

    this.held.push(bytes)
    this.heldBytes += bytes.length
    if (this.heldBytes >= DIRECT_BYTES || this.stream.writableNeedDrain) {
      await this.flush()
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.writeHeld(), HOLD_MS)
      this.timer.unref()
    }
  }

  private check(): void {
    // A stream destroyed by an error reports it only on the next tick: read the error now, or a full
    // disk would pass for a reader that left (exit 0, the output silently incomplete).
    const {errored} = this.stream
    if (!this.failure && errored) this.onError(errored as NodeJS.ErrnoException)
    if (this.failure) throw this.failure
    if (this.stream.destroyed || this.stream.writableEnded) throw new OutputClosedError()
  }

  /** Resolves on drain, or when the stream fails or closes (check() then says which). */
  private async drained(): Promise<void> {
    // A stream that failed never drains.
    if (this.failure || this.stream.destroyed || this.stream.errored) return
    await new Promise<void>((resolve) => {
      const done = () => {
        this.stream.off('drain', done).off('close', done).off('error', done)
        resolve()
      }

      this.stream.on('drain', done).on('close', done).on('error', done)
    })
  }

  /** Hands what is held to the stream (whose buffer then holds it until it drains). */
  private writeHeld(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    if (this.heldBytes === 0) return
    const data = this.held.length === 1 ? this.held[0] : Buffer.concat(this.held, this.heldBytes)
    this.held = []
    this.heldBytes = 0
    if (!this.stream.destroyed && !this.stream.writableEnded) this.stream.write(data)
  }
}
