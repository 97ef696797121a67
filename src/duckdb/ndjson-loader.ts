import type {DuckDBConnection} from '@duckdb/node-api'
import type {TableSchema} from 'mpx-mixpanel-core/internal/records/schemas.js'

import {MpxError} from 'mpx-mixpanel-core/internal/errors.js'
import {closeSync, openSync, readFileSync, writeSync} from 'node:fs'
import {mkdtemp, readdir, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {RecordBatch} from '../sinks/sink.js'

import {duckdbMessage} from './database.js'
import {insertJsonLinesSql} from './schemas.js'
import {isRunning} from './waiting.js'

/**
 * Bytes of JSON lines per file handed to DuckDB. Large enough that each INSERT's fixed cost is
 * small, small enough that DuckDB's JSON reader buffers stay modest (measured: 16 to 64 MB load
 * at the same speed).
 */
export const DEFAULT_FILE_BYTES = 32 * 1024 * 1024

/**
 * The first file's size: the files grow from it to the full size, so that DuckDB starts loading
 * while the fetch has barely begun instead of idling until 32 MB have arrived.
 */
export const FIRST_FILE_BYTES = 2 * 1024 * 1024

/**
 * Full files that may wait for DuckDB. A load that completes a row group (about 122k rows) also
 * compresses it and takes several times longer than the others; files queue up meanwhile instead
 * of stalling the fetch. Bounds the temporary disk used to (this + 1) files.
 */
export const QUEUED_FILES = 4

const LOAD_DIRECTORY = /^mpx-load-(\d+)-/

/** Load files of fetches that were killed (their process is gone): nothing else removes them. */
export async function removeAbandonedLoads(directory: string): Promise<void> {
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

/** `in file "/tmp/mpx-load-.../0.jsonl", in line 12: ` in DuckDB's JSON reader's errors. */
const FILE_AND_LINE = /\s*in file "[^"]*",?(?: in line \d+)?:?\s*/

/**
 * A failed load's error, in terms of the record rather than mpx's temporary file: DuckDB's reason
 * without the file, and the record's event, day and id when the reason quotes a value that one
 * record of the file holds (DuckDB's line numbers are approximate: they are not relied on).
 */
export function loadFailure(error: unknown, path: string): string {
  const message = duckdbMessage(error)
  const reason = message
    .replace(FILE_AND_LINE, ': ')
    .replaceAll(path, 'the load')
    .replace(/^Invalid Input Error: /, '')
  const quoted = /"((?:[^"\\]|\\.)+)"/.exec(reason)?.[0]
  let record: Record<string, unknown> | undefined
  if (quoted && reason !== message) {
    try {
      const line = readFileSync(path, 'utf8')
        .split('\n')
        .find((text) => text.includes(quoted))
      if (line) record = JSON.parse(line) as Record<string, unknown>
    } catch {
      // The record cannot be found: the reason alone.
    }
  }

  if (!record) return `DuckDB could not load the records: ${reason}`
  const time = record.event_time ?? record.last_seen
  const day = typeof time === 'string' && /^\d{4}-\d\d-\d\d/.test(time) ? ` of ${time.slice(0, 10)}` : ''
  const id =
    typeof record.insert_id === 'string'
      ? ` (insert id ${record.insert_id})`
      : typeof record.distinct_id === 'string'
        ? ` (distinct id ${record.distinct_id})`
        : ''
  const what = 'event_name' in record ? `the event ${JSON.stringify(record.event_name)}` : 'a record'
  return `DuckDB could not store ${what}${day}${id}: ${reason}`
}

export interface NdjsonLoaderOptions {
  /** Where the files are loaded; without one they are only written, until `attach`. */
  readonly connection?: DuckDBConnection
  /** Rotate to a new file after this many bytes (default 32 MB). */
  readonly fileBytes?: number
  /**
   * Keep every file, loaded or not, until `remove` (or `abort`): a sync that gives up its
   * transaction (a reader waits for the database) loads them all again when it commits.
   */
  readonly keepFiles?: boolean
  /** Told how many lines had lone surrogates replaced (once per batch that had some). */
  readonly onRepair?: (lines: number) => void
  readonly schema: TableSchema
  /** Table the rows go into. */
  readonly table: string
  /**
   * DuckDB's threads once every record has arrived: the loads still queued then, and what follows
   * them, no longer share the cores with the fetch.
   */
  readonly threadsOnceFetched?: number
}

/**
 * Loads JSON lines into a table through DuckDB's own JSON reader, which parses in parallel in
 * DuckDB's threads: the lines go to temporary NDJSON files and each full file is loaded with one
 * `INSERT ... FROM read_json(...)` while the next ones are being written, so DuckDB's work overlaps
 * with mpx's. Loads run one after another, in file order; at most QUEUED_FILES full files wait,
 * which bounds the disk used.
 */
export class NdjsonLoader {
  private aborted = false
  private connection: DuckDBConnection | undefined
  private directory: string | undefined
  private failure: Error | undefined
  private file: undefined | {bytes: number; fd: number; limit: number; path: string}
  private readonly fileBytes: number
  private fileCount = 0
  /** Every file written and closed so far (with keepFiles). */
  private readonly files: string[] = []
  /** Set by finish: no record is coming any more. */
  private finishing = false
  /** Loads queued or running, oldest first: each starts when the one before it has settled. */
  private readonly loads: Promise<void>[] = []
  private running = false
  private threadsRaised = false
  /** Files closed while there was no connection to load them into. */
  private unloaded: string[] = []

  constructor(private readonly options: NdjsonLoaderOptions) {
    this.connection = options.connection
    this.fileBytes = options.fileBytes ?? DEFAULT_FILE_BYTES
  }

  /** The files written so far, each complete (with keepFiles): what a commit loads after `detach`. */
  get keptFiles(): readonly string[] {
    return this.files
  }

  /** Settles once every load queued so far has. */
  private get lastLoad(): Promise<void> {
    return this.loads.at(-1) ?? Promise.resolve()
  }

  /** Stops: interrupts the load in flight, forgets what is queued and removes the files. */
  async abort(): Promise<void> {
    this.aborted = true
    if (this.running) this.connection?.interrupt()
    await this.lastLoad
    if (this.file) {
      closeSync(this.file.fd)
      this.file = undefined
    }

    await this.removeDirectory()
  }

  /**
   * Appends a batch (JSON objects with the schema's fields); waits only while QUEUED_FILES files
   * are waiting for DuckDB. Records that came as UTF-8 bytes are written as they are, without
   * decoding them to strings.
   */
  async add(batch: Pick<RecordBatch, 'wellFormedText'>): Promise<void> {
    this.throwIfFailed()
    // DuckDB's JSON reader refuses lone surrogates: the batch's text has them replaced.
    const {bytes, repaired} = batch.wellFormedText()
    if (repaired > 0) this.options.onRepair?.(repaired)
    if (bytes.length === 0) return
    const file = this.file ?? (await this.openFile())
    this.write(file, bytes)

    if (file.bytes >= file.limit) await this.loadFile()
  }

  /** Loads the files written so far and each one after it into `connection`. */
  attach(connection: DuckDBConnection): void {
    this.connection = connection
    for (const path of this.unloaded.splice(0)) this.queueLoad(path)
  }

  /**
   * Stops loading: the load in flight is interrupted (its transaction is about to be rolled back)
   * and the files are only written from now on. Every kept file counts as not loaded again.
   */
  async detach(): Promise<void> {
    const {connection} = this
    this.connection = undefined
    if (this.running) connection?.interrupt()
    await this.lastLoad
    this.unloaded = [...this.files]
  }

  /** Loads what is left (when attached) and waits until every row is in the table. */
  async finish(): Promise<void> {
    this.finishing = true
    await this.loadFile()
    await this.lastLoad
    this.throwIfFailed()
    if (!this.options.keepFiles) await this.removeDirectory()
  }

  /** Removes the files (kept ones too). */
  async remove(): Promise<void> {
    await this.removeDirectory()
  }

  /** A file system call on a load file, its error (a full disk) as an mpx error. */
  private fileCall<T>(path: string, call: () => T): T {
    try {
      return call()
    } catch (error) {
      const {code, message} = error as NodeJS.ErrnoException
      throw new MpxError(`Cannot write the load file ${path} (${code ?? message}): check the disk`, undefined, {
        cause: error,
      })
    }
  }

  /** One file into the table; a failure is recorded and thrown by the next call. */
  private async load(path: string, connection: DuckDBConnection): Promise<void> {
    const {schema, table} = this.options
    const sql = insertJsonLinesSql(table, schema, [path])
    this.running = true
    try {
      const {threadsOnceFetched} = this.options
      if (this.finishing && threadsOnceFetched !== undefined && !this.threadsRaised) {
        this.threadsRaised = true
        await connection.run(`SET threads = ${threadsOnceFetched}`)
      }

      await connection.run(sql)
    } catch (error) {
      // Interrupted by detach: not a failure, the file is loaded again later.
      if (this.connection === connection) {
        this.failure ??= new MpxError(loadFailure(error, path), undefined, {cause: error})
      }
    } finally {
      this.running = false
    }
  }

  /** Closes the current file and queues its load; waits while too many files are queued. */
  private async loadFile(): Promise<void> {
    const {file} = this
    if (!file) return
    this.file = undefined
    this.fileCall(file.path, () => closeSync(file.fd))
    if (this.options.keepFiles) this.files.push(file.path)
    if (this.connection) this.queueLoad(file.path)
    else this.unloaded.push(file.path)
    while (this.loads.length > QUEUED_FILES) await this.loads[0]
    this.throwIfFailed()
  }

  private async openFile(): Promise<NonNullable<NdjsonLoader['file']>> {
    if (!this.directory) {
      await removeAbandonedLoads(tmpdir())
      this.directory = await mkdtemp(join(tmpdir(), `mpx-load-${process.pid}-`))
    }

    const path = join(this.directory, `${this.fileCount}.jsonl`)
    // Files double in size from the first one up to fileBytes.
    const limit = Math.min(this.fileBytes, FIRST_FILE_BYTES * 2 ** Math.min(this.fileCount, 20))
    this.fileCount++
    this.file = {bytes: 0, fd: this.fileCall(path, () => openSync(path, 'wx')), limit, path}
    return this.file
  }

  /** Queues a file's load into the connection of now, after the loads queued before it. */
  private queueLoad(path: string): void {
    const {connection} = this
    const load = this.lastLoad.then(async () => {
      try {
        if (!this.failure && !this.aborted && connection && this.connection === connection) {
          await this.load(path, connection)
        }
      } finally {
        if (!this.options.keepFiles) await rm(path, {force: true}).catch(() => {})
      }
    })
    this.loads.push(load)
    load.finally(() => this.loads.splice(this.loads.indexOf(load), 1)).catch(() => {})
  }

  private async removeDirectory(): Promise<void> {
    if (this.directory) await rm(this.directory, {force: true, recursive: true})
    this.directory = undefined
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure
  }

  /**
   * Load files are written synchronously: to the page cache that is a memory copy, which costs
   * less than the thread-pool round trip and the buffers a stream keeps alive until it drains
   * (measured: the asynchronous stream spent 0.5 s more in garbage collection on 300k events).
   */
  private write(file: NonNullable<NdjsonLoader['file']>, bytes: Uint8Array): void {
    let written = 0
    while (written < bytes.length) {
      written += this.fileCall(file.path, () => writeSync(file.fd, bytes, written))
    }

    file.bytes += bytes.length
  }
}
