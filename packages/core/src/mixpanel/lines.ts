import {StringDecoder} from 'node:string_decoder'

/**
 * Splits a byte stream into lines. Chunks (gzip's included) do not align with lines or even with
 * UTF-8 characters, so a partial line and partial character are carried to the next chunk.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8')
  private rest = ''

  /** What is left once the stream has ended: the last line when it had no newline. */
  end(): string {
    const last = this.rest + this.decoder.end()
    this.rest = ''
    return last
  }

  /** The complete lines so far; the trailing partial line is kept for later. */
  push(chunk: Buffer): string[] {
    const text = this.rest + this.decoder.write(chunk)
    const lines = text.split('\n')
    this.rest = lines.pop() ?? ''
    return lines
  }
}
