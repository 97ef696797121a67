/**
 * Records as UTF-8 JSON text, one per line, each line (the last included) ending with a newline,
 * no line empty: the form records travel in from the HTTP body to the output. Keeping them as bytes
 * saves decoding and re-encoding them where nothing looks inside (raw export to a file or a pipe);
 * `lines` decodes them, once, for whoever needs strings.
 */
export class JsonLines {
  private decoded: string[] | undefined

  constructor(
    /** The text: exactly `count` lines, each ending with "\n". */
    readonly bytes: Buffer,
    readonly count: number,
  ) {}

  static fromLines(lines: readonly string[]): JsonLines {
    const block = new JsonLines(Buffer.from(lines.length === 0 ? '' : `${lines.join('\n')}\n`), lines.length)
    block.decoded = [...lines]
    return block
  }

  /** The lines as strings, without their newlines (decoded when first asked for). */
  get lines(): string[] {
    if (this.decoded === undefined) {
      this.decoded = this.count === 0 ? [] : this.bytes.toString('utf8', 0, this.bytes.length - 1).split('\n')
    }

    return this.decoded
  }

  /** The first `n` lines. */
  head(n: number): JsonLines {
    if (n >= this.count) return this
    return new JsonLines(this.bytes.subarray(0, nthLineEnd(this.bytes, n)), n)
  }
}

/** Index just after the n-th newline (n >= 1) of text that has at least n. */
export function nthLineEnd(bytes: Buffer, n: number, from = 0): number {
  let at = from - 1
  for (let k = 0; k < n; k++) at = bytes.indexOf(10, at + 1)
  return at + 1
}

/** Newlines in bytes[from, to). */
export function countLines(bytes: Buffer, from = 0, to = bytes.length): number {
  let count = 0
  for (let at = bytes.indexOf(10, from); at !== -1 && at < to; at = bytes.indexOf(10, at + 1)) count++
  return count
}
