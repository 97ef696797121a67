import type {Writable} from 'node:stream'

import {once} from 'node:events'
import {createWriteStream} from 'node:fs'
import {copyFile, rename, rm, stat} from 'node:fs/promises'

import type {RecordBatch, Sink, SinkResult, SinkTarget, SinkWriter, WriteMode} from './sink.js'

import {MpxError} from '../errors.js'
import {LineWriter} from '../output/line-writer.js'
import {recordFormats} from '../records/types.js'

export interface JsonlSinkOptions {
  /** Write to this file (via a temporary name renamed at commit); stdout when absent. */
  output?: string
}

/** JSONL to stdout or a file: one record per line, in the fetch's format, byte for byte for raw. */
export function jsonlSink(stdout: Writable = process.stdout): Sink {
  return {
    description: 'JSON Lines to stdout, or to a file with --sink-option output=FILE',
    formats: recordFormats,
    name: 'jsonl',
    async open(target: SinkTarget): Promise<SinkWriter> {
      const output = typeof target.options.output === 'string' ? target.options.output : undefined
      const temporary = output ? `${output}.${process.pid}.partial` : undefined
      if (output && temporary) await prepareFile(output, temporary, target.mode)
      const stream = temporary ? createWriteStream(temporary, {flags: 'a', mode: 0o644}) : stdout
      const writer = new LineWriter(stream)
      let written = 0

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
        },
        async commit(): Promise<SinkResult> {
          await close(true)
          if (temporary && output) await rename(temporary, output)
          return {location: output ?? 'stdout', written}
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
      properties: {output: {description: 'File to write instead of stdout', minLength: 1, type: 'string'}},
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

  await rm(temporary, {force: true})
  if (exists && mode === 'append') await copyFile(output, temporary)
}
