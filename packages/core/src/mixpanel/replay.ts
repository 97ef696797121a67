import {createHash} from 'node:crypto'
import * as zlib from 'node:zlib'

/**
 * A running fingerprint of bytes, to check that a replay matches what was delivered: CRC-32 where
 * zlib has it (Node 22.2 and later), else SHA-256.
 */
class Fingerprint {
  private crc = 0
  // eslint-disable-next-line n/no-unsupported-features/node-builtins -- feature-detected, with a fallback
  private readonly hash = typeof zlib.crc32 === 'function' ? undefined : createHash('sha256')

  update(bytes: Uint8Array): void {
    if (this.hash) this.hash.update(bytes)
    // eslint-disable-next-line n/no-unsupported-features/node-builtins -- feature-detected, with a fallback
    else this.crc = zlib.crc32(bytes, this.crc)
  }

  value(): string {
    return this.hash ? this.hash.copy().digest('hex') : String(this.crc)
  }
}

/**
 * What a source has delivered of a request that may start again from the beginning (an export
 * chunk retried, an engage query restarted): a count and a running fingerprint. Each new start
 * must bring the records delivered before it first, in the same order: those are checked and
 * skipped, and only the rest is delivered, so that nothing is lost or repeated.
 */
export class ReplayGuard {
  /** Records delivered so far. */
  count = 0
  private readonly delivered = new Fingerprint()
  private expected = ''
  private replay = new Fingerprint()
  private replayed = 0
  private skip = 0

  /** `mismatch(delivered)` is the error for a replay that differs from what was delivered. */
  constructor(private readonly mismatch: (delivered: number) => Error) {}

  /** True while a new start is still going over what was delivered. */
  get replaying(): boolean {
    return this.replayed < this.skip
  }

  /** Records of the replay still to be skipped. */
  get toSkip(): number {
    return this.skip - this.replayed
  }

  /** `records` new records, whose fingerprint is `bytes`, go to the consumer. */
  deliver(bytes: Uint8Array, records: number): void {
    this.delivered.update(bytes)
    this.count += records
  }

  /** The start has ended: it must have gone over everything delivered before it. */
  end(): void {
    if (this.replaying) throw this.mismatch(this.skip)
  }

  /** `records` records delivered before came again, as `bytes`: checked once all of them have. */
  skipped(bytes: Uint8Array, records: number): void {
    this.replay.update(bytes)
    this.replayed += records
    if (!this.replaying && this.replay.value() !== this.expected) throw this.mismatch(this.skip)
  }

  /** A new start from the beginning: its first `count` records were delivered already. */
  start(): void {
    this.skip = this.count
    this.replayed = 0
    this.expected = this.skip > 0 ? this.delivered.value() : ''
    this.replay = new Fingerprint()
  }
}
