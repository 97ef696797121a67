import type {RejectedRecord} from 'mpx-mixpanel-core/internal/records/rejects.js'
import type {Writable} from 'node:stream'

import {MpxError} from 'mpx-mixpanel-core/internal/errors.js'
import {recordFormats} from 'mpx-mixpanel-core/internal/records/types.js'
import {once} from 'node:events'
import {constants, createWriteStream} from 'node:fs'
import {access, copyFile, rename, rm, stat} from 'node:fs/promises'
import {dirname, resolve} from 'node:path'

import type {RecordBatch, Sink, SinkContext, SinkResult, SinkTarget, SinkWriter, WriteMode} from './sink.js'

import {isObjectUrl} from '../object-storage/url.js'
import {LineWriter} from '../output/line-writer.js'
import {RejectsFile} from './rejects-file.js'

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
