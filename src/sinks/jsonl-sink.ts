import type {Writable} from 'node:stream'

import {once} from 'node:events'
import {constants, createWriteStream} from 'node:fs'
import {access, copyFile, rename, rm, stat} from 'node:fs/promises'
import {dirname, resolve} from 'node:path'

import type {RejectedRecord} from '../records/rejects.js'
import type {RecordBatch, Sink, SinkContext, SinkResult, SinkTarget, SinkWriter, WriteMode} from './sink.js'

import {MpxError} from '../errors.js'
import {isObjectUrl} from '../object-storage/url.js'
import {recordFormats} from '../records/types.js'
import {RejectsFile} from './rejects-file.js'

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

export interface JsonlSinkOptions {
  /** Write to this file (via a temporary name renamed at commit); stdout when absent. */
  output?: string
}

/**
 * A reject as one line of stderr: what, the reason, and the record as received as a JSON string
 * (last on the line: everything from `): "` on is JSON), e.g.
 * `Rejected event of 2024-01-02 (no properties): "{\"event\":\"X\"}"`.
 */
export function rejectStderrLine(reject: RejectedRecord): string {
  const what = reject.kind === 'events' ? 'event' : 'profile'
  const range = reject.range && reject.range.from !== reject.range.to ? `${reject.range.from}..${reject.range.to}` : ''
  const day = reject.day ?? range
  return `Rejected ${what}${day ? ` of ${day}` : ''} (${reject.reason}): ${JSON.stringify(reject.line)}`
}

/**
 * JSONL to stdout or a file: one record per line, in the fetch's format, byte for byte for raw.
 * Rejects go to `<file>.rejects.jsonl` beside a file, or as lines on stderr beside stdout (which
 * carries data only).
 */
export function jsonlSink(stdout: Writable = process.stdout, stderr: Writable = process.stderr): Sink {
  return {
    description: 'JSON Lines to stdout, or to a file with --sink-option output=FILE',
    formats: recordFormats,
    name: 'jsonl',
    async open(target: SinkTarget, context: SinkContext): Promise<SinkWriter> {
      const output = typeof target.options.output === 'string' ? target.options.output : undefined
      if (output && isObjectUrl(output)) {
        // The AWS SDK loads only here.
        return (await import('../object-storage/jsonl-object.js')).openJsonlObject(target, output, context)
      }

      const temporary = output ? `${output}.${process.pid}.partial` : undefined
      if (output && temporary) await prepareFile(output, temporary, target.mode)
      const stream = temporary ? createWriteStream(temporary, {flags: 'a', mode: 0o600}) : stdout
      const writer = new LineWriter(stream, output)
      let written = 0
      const rejects = output
        ? new RejectsFile(`${output}.rejects.jsonl`, target.mode, {startedAt: new Date(), table: output})
        : undefined
      let rejectedOnStderr = 0

      const close = async (committing: boolean) => {
        if (committing) await writer.flush()
        else writer.release()
        // A file stream that failed (a full disk) has closed already: waiting for 'close' would never end.
        if (temporary && !stream.closed) {
          stream.end()
          await once(stream, 'close')
        }

        writer.detach()
      }

      return {
        async abort(): Promise<void> {
          await close(false).catch(() => {})
          if (temporary) await rm(temporary, {force: true})
          await rejects?.abort()
        },
        async commit(): Promise<SinkResult> {
          await close(true)
          if (temporary && output) await rename(temporary, output)
          // The rejects file follows the output: a failure here leaves the output whole and says so.
          const rejectsPath = await rejects?.commit()
          const rejected =
            rejects && rejectsPath
              ? {count: rejects.count, location: rejectsPath}
              : rejectedOnStderr > 0
                ? {count: rejectedOnStderr, location: 'stderr'}
                : undefined
          return {location: output ?? 'stdout', written, ...(rejected ? {rejected} : {})}
        },
        async reject(records): Promise<void> {
          if (rejects) {
            await rejects.add(records)
            return
          }

          stderr.write(records.map((record) => `${rejectStderrLine(record)}\n`).join(''))
          rejectedOnStderr += records.length
        },
        async write(batch: RecordBatch): Promise<void> {
          // Bytes when the source has them (the event export): nothing to decode or encode.
          if (batch.text) {
            await writer.writeBytes(batch.text.bytes)
            written += batch.text.count
          } else {
            await writer.write(batch.lines)
            written += batch.lines.length
          }
        },
      }
    },
    optionsSchema: {
      additionalProperties: false,
      properties: {
        output: {description: 'File, or s3://BUCKET/KEY, to write instead of stdout', minLength: 1, type: 'string'},
      },
      type: 'object',
    },
  }
}

/**
 * A file target follows the fetch's write mode, like a table: `create` refuses an existing file,
 * `replace` swaps the new one in at commit, `append` starts the temporary copy from the existing
 * file so that the rename at commit adds the records all at once or not at all.
 */
async function prepareFile(output: string, temporary: string, mode: WriteMode): Promise<void> {
  const exists = await stat(output).then(
    () => true,
    () => false,
  )
  if (exists && mode === 'create') {
    throw new MpxError(`${output} already exists: pass --replace to overwrite it, or --append to add to it`)
  }

  // Before any request: a directory that is missing or not writable, named.
  const directory = dirname(resolve(output))
  try {
    await access(directory, constants.W_OK)
  } catch (error) {
    const {code} = error as NodeJS.ErrnoException
    const why =
      code === 'ENOENT' ? `the directory ${directory} does not exist` : `${directory} is not writable (${code})`
    throw new MpxError(`Cannot write ${output}: ${why}`)
  }

  await rm(temporary, {force: true})
  if (exists && mode === 'append') await copyFile(output, temporary)
}
