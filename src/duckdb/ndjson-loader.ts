import type {DuckDBConnection} from '@duckdb/node-api'

import {once} from 'node:events'
import {createWriteStream, type WriteStream} from 'node:fs'
import {mkdtemp, readdir, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {RecordBatch} from '../sinks/sink.js'

import {MpxError} from '../errors.js'
import {duckdbMessage, quoteIdentifier, quoteLiteral} from './database.js'
import {columnList, readJsonColumns, type TableSchema} from './schemas.js'

/**
 * Bytes of JSON lines per file handed to DuckDB. Large enough that each INSERT's fixed cost is
 * small, small enough that DuckDB's JSON reader buffers stay modest (measured: 16 to 64 MB load
 * at the same speed).
 */
export const DEFAULT_FILE_BYTES = 32 * 1024 * 1024

/** `\udXXX` in JSON text produced by JSON.stringify: a lone surrogate (paired ones are written as is). */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F][\dA-Fa-f]{2}/
const SURROGATE_ESCAPES = /(?<!\\)((?:\\\\)*)\\u[dD][89a-fA-F][\dA-Fa-f]{2}/g

/**
 * DuckDB's JSON reader refuses lone surrogates (invalid Unicode) where JavaScript allows them: they
 * become U+FFFD, as any UTF-8 encoder would make them.
 */
export function replaceLoneSurrogates(line: string): string {
  return SURROGATE_ESCAPE.test(line) ? line.replaceAll(SURROGATE_ESCAPES, String.raw`$1\ufffd`) : line
}

/** A `\ud...` escape may be a lone surrogate: such batches take the string path, which repairs them. */
function mayHoldSurrogateEscape(bytes: Uint8Array): boolean {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return buffer.includes(String.raw`\ud`) || buffer.includes(String.raw`\uD`)
}

const LOAD_DIRECTORY = /^mpx-load-(\d+)-/

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Load files of fetches that were killed (their process is gone): nothing else removes them. */
async function removeAbandonedLoads(directory: string): Promise<void> {
  const names = await readdir(directory).catch(() => [])
  await Promise.all(
    names.map(async (name) => {
      const pid = Number(LOAD_DIRECTORY.exec(name)?.[1] ?? Number.NaN)
      if (Number.isInteger(pid) && pid !== process.pid && !isRunning(pid)) {
        await rm(join(directory, name), {force: true, recursive: true}).catch(() => {})
      }
    }),
  )
}

export interface NdjsonLoaderOptions {
  readonly connection: DuckDBConnection
  /** Rotate to a new file after this many bytes (default 32 MB). */
  readonly fileBytes?: number
  /** Told how many lines had lone surrogates replaced (once per batch that had some). */
  readonly onRepair?: (lines: number) => void
  readonly schema: TableSchema
  /** Table the rows go into. */
  readonly table: string
}

/**
 * Loads JSON lines into a table through DuckDB's own JSON reader, which parses in parallel in
 * DuckDB's threads: the lines go to a temporary NDJSON file and each full file is loaded with one
 * `INSERT ... FROM read_json(...)` while the next one is being written, so DuckDB's work overlaps
 * with mpx's. At most one load runs at a time, which bounds both disk and memory.
 */
export class NdjsonLoader {
  private directory: string | undefined
  private failure: Error | undefined
  private file: undefined | {bytes: number; path: string; stream: WriteStream}
  private readonly fileBytes: number
  private fileCount = 0
  private loading: Promise<void> | undefined

  constructor(private readonly options: NdjsonLoaderOptions) {
    this.fileBytes = options.fileBytes ?? DEFAULT_FILE_BYTES
  }

  /** Stops: interrupts the load in flight, forgets what is pending and removes the files. */
  async abort(): Promise<void> {
    if (this.loading) this.options.connection.interrupt()
    await this.loading?.catch(() => {})
    this.loading = undefined
    if (this.file) {
      this.file.stream.destroy()
      this.file = undefined
    }

    await this.removeDirectory()
  }

  /**
   * Appends a batch (JSON objects with the schema's fields); may wait for the load in flight.
   * Records that came as UTF-8 bytes are written as they are, without decoding them to strings.
   */
  async add(batch: Pick<RecordBatch, 'lines' | 'text'>): Promise<void> {
    this.throwIfFailed()
    const bytes = batch.text && !mayHoldSurrogateEscape(batch.text.bytes) ? batch.text.bytes : undefined
    if (bytes ? bytes.length === 0 : batch.lines.length === 0) return
    const file = this.file ?? (await this.openFile())
    let ready = true
    if (bytes) {
      file.bytes += bytes.length
      ready = file.stream.write(bytes)
    } else {
      const {lines} = batch
      // One flat string a batch (no `+ '\n'`, which V8 would copy again to scan or encode it).
      let text = lines.join('\n')
      // One scan of the batch; lines are fixed only when it found something.
      if (SURROGATE_ESCAPE.test(text)) {
        const repaired = lines.map((line) => replaceLoneSurrogates(line))
        this.options.onRepair?.(repaired.filter((line, i) => line !== lines[i]).length)
        text = repaired.join('\n')
      }

      file.bytes += text.length + 1
      file.stream.write(text)
      ready = file.stream.write('\n')
    }

    // A write error is recorded by the stream's listener and thrown as such just below.
    if (!ready) await once(file.stream, 'drain').catch(() => {})
    this.throwIfFailed()
    if (file.bytes >= this.fileBytes) await this.loadFile()
  }

  /** Loads what is left and waits until every row is in the table. */
  async finish(): Promise<void> {
    await this.loadFile()
    await this.loading
    this.throwIfFailed()
    await this.removeDirectory()
  }

  /** Closes the current file and starts loading it, once the previous load has finished. */
  private async loadFile(): Promise<void> {
    const {file} = this
    if (!file) return
    this.file = undefined
    file.stream.end()
    // A write error (a full disk) is recorded by the stream's listener and thrown below as an mpx
    // error; a stream it destroyed may have closed already.
    if (!file.stream.closed) await once(file.stream, 'close').catch(() => {})
    await this.loading
    this.throwIfFailed()
    const {connection, schema, table} = this.options
    const sql =
      `INSERT INTO ${quoteIdentifier(table)} (${columnList(schema)}) SELECT ${columnList(schema)} ` +
      `FROM read_json(${quoteLiteral(file.path)}, format = 'newline_delimited', columns = ${readJsonColumns(schema)})`
    this.loading = connection
      .run(sql)
      .then(
        () => {},
        (error: unknown) => {
          this.failure ??= new MpxError(`DuckDB could not load the records: ${duckdbMessage(error)}`, undefined, {
            cause: error,
          })
        },
      )
      .finally(() => rm(file.path, {force: true}).catch(() => {}))
  }

  private async openFile(): Promise<NonNullable<NdjsonLoader['file']>> {
    if (!this.directory) {
      await removeAbandonedLoads(tmpdir())
      this.directory = await mkdtemp(join(tmpdir(), `mpx-load-${process.pid}-`))
    }

    const path = join(this.directory, `${this.fileCount++}.jsonl`)
    const stream = createWriteStream(path, {flags: 'wx'})
    stream.on('error', (error: NodeJS.ErrnoException) => {
      this.failure ??= new MpxError(
        `Cannot write the load file ${path} (${error.code ?? error.message}): check the disk`,
      )
    })
    this.file = {bytes: 0, path, stream}
    return this.file
  }

  private async removeDirectory(): Promise<void> {
    if (this.directory) await rm(this.directory, {force: true, recursive: true})
    this.directory = undefined
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure
  }
}
