import type {
  RecordBatch,
  RejectedRecord,
  SinkContext,
  SinkResult,
  SinkTarget,
  SinkWriter,
  WriteMode,
} from 'mpx-mixpanel'

import {type DuckDBConnection, DuckDBInstance} from '@duckdb/node-api'
import {once} from 'node:events'
import {createWriteStream, type WriteStream} from 'node:fs'
import {appendFile, copyFile, mkdir, mkdtemp, readFile, rename, rm, stat} from 'node:fs/promises'
import {basename, join} from 'node:path'

import type {ParquetOptions, ParquetSinkSettings} from './options.js'

import {isDirectory, listFiles, moveFiles, removeStaleTemporaries, TEMP_PREFIX} from './files.js'
import {checkRemote, publishRemote, publishRemoteRejects} from './remote.js'

/** The staged columns: the records' own, as mpx's sink contract gives them (`target.schema`). */
function stagedColumns(target: SinkTarget): ReadonlyArray<readonly [string, string]> {
  return target.schema.columns.map((column) => [column.name, column.type] as const)
}

const DEFAULT_FILE_BYTES = 32 * 1024 * 1024
const DEFAULT_MEMORY_LIMIT = '256MB'

/**
 * A reject as mpx writes it beside its own files (see mpx's rejectJsonLine): the columns of its
 * rejects table, `line` (the record exactly as received) last.
 */
function rejectJsonLine(reject: RejectedRecord, table: string, startedAt: Date): string {
  // Key order is the column order of mpx's rejects table: keep it as written.
  /* eslint-disable perfectionist/sort-objects */
  return JSON.stringify({
    table_name: table,
    kind: reject.kind,
    fetch_started_at: startedAt.toISOString(),
    from_date: reject.range?.from ?? null,
    to_date: reject.range?.to ?? null,
    day: reject.day ?? null,
    insert_id: reject.insertId ?? null,
    reason: reject.reason,
    line: reject.line,
  })
  /* eslint-enable perfectionist/sort-objects */
}

/**
 * The fetch's rejects (in `staged`, when it has some) to `<dir>/<table>.rejects.jsonl`, following
 * the write mode: appended to the earlier fetches' rejects, or instead of them (a create or replace
 * that rejected nothing removes them: they described records that are gone). Written under a
 * temporary name, then renamed.
 */
async function publishRejects(staged: string | undefined, path: string, mode: WriteMode, work: string): Promise<void> {
  if (!staged) {
    if (mode !== 'append') await rm(path, {force: true})
    return
  }

  const exists = await stat(path).then(
    () => true,
    () => false,
  )
  if (mode === 'append' && exists) {
    const combined = join(work, 'rejects-combined.jsonl')
    await copyFile(path, combined)
    await appendFile(combined, await readFile(staged))
    staged = combined
  }

  await rename(staged, path)
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`
const literal = (text: string) => `'${text.replaceAll("'", "''")}'`

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0].trim()
}

/** `2024-05-01T10:20:30.123Z` → `20240501T102030Z`: file names of later fetches sort later. */
function stamp(date: Date): string {
  return date
    .toISOString()
    .replaceAll(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
}

/** The fetch's order of each record, added to the staged rows: which duplicate to keep. */
const SEQUENCE = '_mpx_seq'

/**
 * One fetch into Parquet files, in a working directory beside the table's
 * (`<dir>/.mpx-tmp-<table>-<pid>-XXXXXX`). While the fetch goes on, records are staged: every
 * 32 MB of JSON lines becomes a Parquet file, converted by DuckDB in its own threads while the
 * next lines arrive. At commit one COPY deduplicates the staged rows and writes the table's files,
 * which are then renamed into place: nothing under `<dir>/<table>` changes before commit, and
 * abort only removes the working directory.
 */
export async function openParquetWriter(
  target: SinkTarget,
  options: ParquetOptions,
  context: SinkContext,
  settings: ParquetSinkSettings,
): Promise<SinkWriter> {
  const {remote} = options
  // A remote table is checked in its bucket; the local directory is then only where the fetch works.
  if (remote) await checkRemote(target, remote, context)
  const destination = join(options.dir, target.table)
  const existing = remote ? undefined : await isDirectory(destination)
  if (existing === false) throw new Error(`${destination} is not a directory`)
  if (existing && target.mode === 'create') {
    throw new Error(`${destination} already exists: pass --replace to replace it, or --append to add files to it`)
  }

  await mkdir(options.dir, {recursive: true})
  await removeStaleTemporaries(options.dir)
  const work = await mkdtemp(join(options.dir, `${TEMP_PREFIX}${target.table}-${process.pid}-`))
  const startedAt = new Date()
  let instance: DuckDBInstance | undefined
  let connection: DuckDBConnection | undefined
  let finished = false

  const cleanUp = async () => {
    finished = true
    connection?.closeSync()
    instance?.closeSync()
    await rm(work, {force: true, recursive: true})
  }

  try {
    instance = await DuckDBInstance.create(':memory:', {
      memory_limit: options.memoryLimit ?? DEFAULT_MEMORY_LIMIT,
      // Order is kept where it matters (the sequence column): without it DuckDB needs less memory.
      preserve_insertion_order: 'false',
      // What does not fit in memory spills here, and goes with the working directory.
      temp_directory: join(work, 'spill'),
      ...(options.threads === undefined ? {} : {threads: String(options.threads)}),
    })
    connection = await instance.connect()
    // Stored times are instants: UTC makes event_date the UTC day, as mpx's event_time is (or the
    // project's day when the fetch has a timezone, see the COPY).
    await connection.run(`SET TimeZone = 'UTC'`)
    await mkdir(join(work, 'stage'))
  } catch (error) {
    await cleanUp()
    throw new Error(`Could not start DuckDB: ${message(error)}`, {cause: error})
  }

  const duckdb = connection
  const stager = new Stager({
    columns: stagedColumns(target),
    connection: duckdb,
    directory: work,
    fileBytes: settings.fileBytes ?? DEFAULT_FILE_BYTES,
  })
  const onRepair = (lines: number) =>
    context.warn(`${lines} ${target.kind} had invalid Unicode (a lone surrogate), stored as U+FFFD`)

  // Rejected records wait in the working directory and go beside the table's directory at commit.
  const rejectsStaged = join(work, 'rejects.jsonl')
  const rejectsPath = join(options.dir, `${target.table}.rejects.jsonl`)
  let rejected = 0

  return {
    async abort(): Promise<void> {
      if (finished) return
      await stager.abort()
      await cleanUp()
    },

    async commit(): Promise<SinkResult> {
      if (finished) throw new Error('the writer is closed')
      try {
        await stager.finish()
        const out = join(work, 'out')
        await mkdir(out)
        const written =
          stager.staged === 0
            ? 0
            : await writeParquet(duckdb, {
                compression: options.compression,
                existing: existing && target.mode === 'append' ? destination : undefined,
                out,
                prefix: `part-${stamp(startedAt)}-${work.slice(-6)}`,
                stage: join(work, 'stage', '*.parquet'),
                target,
              })
        let location = destination
        let rejectsLocation = rejectsPath
        if (remote) {
          location = await publishRemote(out, target, remote, context)
          if (rejected > 0) rejectsLocation = await publishRemoteRejects(rejectsStaged, target, remote, context)
        } else {
          await publish(out, destination, target, work)
          // After the table: a failure here leaves the records published, and says so.
          await publishRejects(rejected > 0 ? rejectsStaged : undefined, rejectsPath, target.mode, work)
        }

        await cleanUp()
        // The table is a directory (or a prefix): name it (the record kind is in the summary already).
        return {
          location,
          ...(rejected > 0 ? {rejected: {count: rejected, location: rejectsLocation}} : {}),
          written,
        }
      } catch (error) {
        await stager.abort()
        await cleanUp()
        throw error
      }
    },

    async reject(records: readonly RejectedRecord[]): Promise<void> {
      await appendFile(
        rejectsStaged,
        records.map((record) => `${rejectJsonLine(record, target.table, startedAt)}\n`).join(''),
      )
      rejected += records.length
    },

    async write(batch: RecordBatch): Promise<void> {
      // DuckDB's JSON reader refuses lone surrogates: mpx hands the lines with them replaced.
      const {lines, repaired} = batch.wellFormedLines()
      if (repaired > 0) onRepair(repaired)
      await stager.add(lines)
    },
  }
}

interface CopyPlan {
  readonly compression: string
  /** The table's directory when appending to it: events already there are not written again. */
  readonly existing?: string
  readonly out: string
  readonly prefix: string
  /** Glob of the staged Parquet files. */
  readonly stage: string
  readonly target: SinkTarget
}

/**
 * The staged rows into the table's Parquet files under `out`, deduplicated as mpx's DuckDB tables
 * are: events keep the first of each key (and, when appending, skip keys already stored); profiles
 * keep the last version of each. Duplicates are found on the key columns alone, which is cheap on
 * Parquet, and the rows are filtered only when there are some.
 */
async function writeParquet(connection: DuckDBConnection, plan: CopyPlan): Promise<number> {
  const {kind} = plan.target
  const {day, key} = plan.target.schema
  const columns = stagedColumns(plan.target)
  const staged = `read_parquet(${literal(plan.stage)})`
  const match = (left: string, right: string) =>
    key.map((name) => `${left}.${quote(name)} = ${right}.${quote(name)}`).join(' AND ')
  const where: string[] = []
  if (kind === 'profiles' || plan.target.dedupe) {
    const keep = kind === 'profiles' ? 'max' : 'min'
    const keys = key.map((name) => quote(name)).join(', ')
    await connection.run(
      `CREATE OR REPLACE TEMP TABLE duplicates AS SELECT ${keys}, ${keep}(${SEQUENCE}) AS keep FROM ${staged}
         GROUP BY ${keys} HAVING count(*) > 1`,
    )
    const found = await connection.runAndReadAll('SELECT count(*) FROM duplicates')
    if (Number(found.getRows()[0][0]) > 0) {
      where.push(`NOT EXISTS (SELECT 1 FROM duplicates AS d WHERE ${match('d', 's')} AND s.${SEQUENCE} <> d.keep)`)
    }
  }

  if (kind === 'events' && plan.target.dedupe && plan.existing) {
    const files = (await listFiles(plan.existing)).filter((file) => file.endsWith('.parquet'))
    if (files.length > 0) {
      const sources = `[${files.map((file) => literal(join(plan.existing!, file))).join(', ')}]`
      where.push(
        `NOT EXISTS (SELECT 1 FROM read_parquet(${sources}, hive_partitioning = false) AS e WHERE ${match('e', 's')})`,
      )
    }
  }

  const list = columns.map(([name]) => `s.${quote(name)}`).join(', ')
  const filter = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''
  const compression = `COMPRESSION ${literal(plan.compression)}`
  // Records with a day (events) are partitioned by it: <table>/event_date=YYYY-MM-DD/, the
  // project's days (those of its timezone, for a project created before 2023).
  const zone = plan.target.timezone
  const dayOf = (column: string) => (zone ? `timezone(${literal(zone)}, s.${quote(column)})` : `s.${quote(column)}`)
  const sql =
    day === undefined
      ? `COPY (SELECT ${list} FROM ${staged} AS s${filter})
           TO ${literal(join(plan.out, `${plan.prefix}-0.parquet`))} (FORMAT parquet, ${compression})`
      : `COPY (SELECT ${list}, strftime(${dayOf(day)}, '%Y-%m-%d') AS event_date FROM ${staged} AS s${filter})
           TO ${literal(plan.out)} (FORMAT parquet, ${compression}, PARTITION_BY (event_date),
           FILENAME_PATTERN ${literal(`${plan.prefix}-{i}`)}, OVERWRITE_OR_IGNORE)`
  try {
    const result = await connection.run(sql)
    return result.rowsChanged
  } catch (error) {
    throw new Error(`Could not write the Parquet files: ${message(error)}`, {cause: error})
  }
}

/**
 * The new files into place. create: the new directory is renamed to the table's. replace: the old
 * directory is moved aside, the new one renamed in, then the old one removed. append: each new
 * file is renamed into the table's directory (they have names of their own), all or none.
 */
async function publish(out: string, destination: string, target: SinkTarget, work: string): Promise<void> {
  const existing = await isDirectory(destination)
  if (!existing) {
    await rename(out, destination)
    return
  }

  if (target.mode === 'create') throw new Error(`${destination} was created during the fetch: nothing was written`)
  if (target.mode === 'append') {
    await moveFiles(out, destination)
    return
  }

  const previous = join(work, 'previous')
  await rename(destination, previous)
  try {
    await rename(out, destination)
  } catch (error) {
    await rename(previous, destination)
    throw error
  }
}

interface StagerOptions {
  readonly columns: ReadonlyArray<readonly [string, string]>
  readonly connection: DuckDBConnection
  /** The working directory: load files go there, staged Parquet files to its stage/. */
  readonly directory: string
  /** Convert to a new staged file after this many bytes of JSON. */
  readonly fileBytes: number
}

/**
 * Lines into staged Parquet files through DuckDB's JSON reader (parallel, in DuckDB's threads): they
 * go to a newline-delimited file, each record numbered, and each full file is converted while the
 * next one is written. At most one conversion runs at a time, which bounds disk and memory.
 */
class Stager {
  /** Records written to load files so far. */
  staged = 0
  private failure: Error | undefined
  private file: undefined | {bytes: number; path: string; stream: WriteStream}
  private files = 0
  private loading: Promise<void> | undefined

  constructor(private readonly options: StagerOptions) {}

  async abort(): Promise<void> {
    if (this.loading) this.options.connection.interrupt()
    await this.loading?.catch(() => {})
    this.loading = undefined
    this.file?.stream.destroy()
    this.file = undefined
  }

  async add(lines: readonly string[]): Promise<void> {
    this.check()
    if (lines.length === 0) return
    const file = this.file ?? this.open()
    let text = ''
    for (const record of lines) {
      // `{"event_name":...}` → `{"_mpx_seq":N,"event_name":...}`: normalized records are never empty.
      text += `{"${SEQUENCE}":${this.staged++},${record.slice(1)}\n`
    }

    file.bytes += text.length
    if (!file.stream.write(text)) await once(file.stream, 'drain')
    if (file.bytes >= this.options.fileBytes) await this.convert()
  }

  async finish(): Promise<void> {
    await this.convert()
    await this.loading
    this.check()
  }

  private check(): void {
    if (this.failure) throw this.failure
  }

  private async convert(): Promise<void> {
    const {file} = this
    if (!file) return
    this.file = undefined
    file.stream.end()
    await once(file.stream, 'close')
    await this.loading
    this.check()
    const columns = [[SEQUENCE, 'UBIGINT'] as const, ...this.options.columns]
    const types = columns.map(([name, type]) => `${quote(name)}: ${literal(type)}`).join(', ')
    const staged = join(this.options.directory, 'stage', `${basename(file.path, '.jsonl')}.parquet`)
    const sql =
      `COPY (SELECT * FROM read_json(${literal(file.path)}, format = 'newline_delimited', columns = {${types}})) ` +
      `TO ${literal(staged)} (FORMAT parquet, COMPRESSION 'zstd')`
    this.loading = this.options.connection
      .run(sql)
      .then(
        () => {},
        (error: unknown) => {
          // Not the working file's name and line (approximate): they mean nothing to the user.
          const reason = message(error).replace(/\s*in file "[^"]*",?(?: in line \d+)?:?\s*/, ': ')
          this.failure ??= new Error(`DuckDB could not read the records: ${reason}`, {cause: error})
        },
      )
      .finally(() => rm(file.path, {force: true}))
  }

  private open(): NonNullable<Stager['file']> {
    const path = join(this.options.directory, `load-${String(this.files++).padStart(6, '0')}.jsonl`)
    const stream = createWriteStream(path, {flags: 'wx'})
    stream.on('error', (error: NodeJS.ErrnoException) => {
      this.failure ??= new Error(`Cannot write ${path} (${error.code ?? error.message}): check the disk`)
    })
    this.file = {bytes: 0, path, stream}
    return this.file
  }
}
