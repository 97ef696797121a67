import {expect} from 'chai'
import {normalizeEventLine} from 'mpx-mixpanel-core/internal/records/events.js'
import {parseLossless} from 'mpx-mixpanel-core/internal/records/json.js'
import {existsSync} from 'node:fs'
import {mkdir, readdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

import type {Sink, SinkResult, SinkTarget} from '../../src/sinks/sink.js'

import {recordBatch} from '../../src/fetch/batch.js'
import {target} from '../support/duckdb.js'
import {normalizedEvents} from '../support/normalized.js'
import {byIdentity, parquetPluginDir, query, readParquetEvents} from '../support/plugins.js'
import {temporaryDirectory} from '../support/temporary.js'

type ParquetSinkFactory = (settings?: {fileBytes?: number}) => Sink

/** The plugin as mpx loads it: its build output (`npm test` builds it first). */
async function loadParquetSink(): Promise<ParquetSinkFactory> {
  const entry = join(parquetPluginDir, 'dist', 'index.js')
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run npm run build first`)
  const plugin = (await import(pathToFileURL(entry).href)) as {parquetSink: ParquetSinkFactory}
  return plugin.parquetSink
}

const eventLines = normalizedEvents({count: 400, from: '2024-03-01', seed: 8, to: '2024-03-04'})

describe('the Parquet sink writer', () => {
  let parquetSink: ParquetSinkFactory
  let dir: {path: string; remove: () => Promise<void>}
  const warnings: string[] = []

  before(async () => {
    parquetSink = await loadParquetSink()
  })

  beforeEach(async () => {
    dir = await temporaryDirectory()
    warnings.length = 0
  })

  afterEach(async () => dir.remove())

  async function store(
    lines: readonly string[],
    overrides: Partial<SinkTarget> = {},
    options: {abortAfter?: number; fileBytes?: number} = {},
  ): Promise<SinkResult | undefined> {
    const sinkTarget = target({options: {compression: 'zstd', dir: dir.path}, ...overrides})
    const writer = await parquetSink({fileBytes: options.fileBytes}).open(sinkTarget, {
      dataDir: dir.path,
      signal: new AbortController().signal,
      warn: (message) => warnings.push(message),
    })
    for (let start = 0; start < lines.length; start += 50) {
      if (options.abortAfter !== undefined && start >= options.abortAfter) {
        await writer.abort(new Error('interrupted'))
        return undefined
      }

      await writer.write(recordBatch(sinkTarget.kind, 'normalized', lines.slice(start, start + 50)))
    }

    return writer.commit()
  }

  it('stages many small files while the fetch goes on and writes each record once, exactly', async () => {
    const lines = [...eventLines]
    // A lone surrogate, which DuckDB's JSON reader refuses: stored as U+FFFD, with a warning.
    lines[7] = lines[7].replace('"properties":{', String.raw`"properties":{"odd":"a\ud800b",`)
    const result = await store(lines, {}, {fileBytes: 4000})
    expect(result).to.deep.equal({location: join(dir.path, 'events'), written: 400})
    expect(warnings).to.deep.equal(['1 events had invalid Unicode (a lone surrogate), stored as U+FFFD'])
    const stored = await readParquetEvents(`${dir.path}/events/**/*.parquet`)
    const expected = lines.map((line) => parseLossless(line.replace(String.raw`\ud800`, '\uFFFD')))
    expect(byIdentity(stored.map((row) => row.record))).to.deep.equal(byIdentity(expected))
    // One file per day however many files were staged.
    expect(await readdir(join(dir.path, 'events'))).to.deep.equal([
      'event_date=2024-03-01',
      'event_date=2024-03-02',
      'event_date=2024-03-03',
      'event_date=2024-03-04',
    ])
    for (const day of await readdir(join(dir.path, 'events'))) {
      expect(await readdir(join(dir.path, 'events', day))).to.have.length(1)
    }

    expect(await readdir(dir.path)).to.deep.equal(['events'])
  })

  it("partitions events by the project's days when the fetch has a timezone", async () => {
    // 07:30 UTC on 2024-03-02 is still the 1st in Los Angeles.
    const line = (time: string, id: string) =>
      normalizeEventLine(`{"event":"E","properties":{"time":${Date.parse(time) / 1000},"$insert_id":"${id}"}}`)
    const lines = [line('2024-03-02T07:30:00Z', 'a'), line('2024-03-02T08:30:00Z', 'b')]
    await store(lines, {timezone: 'America/Los_Angeles'})
    expect(await readdir(join(dir.path, 'events'))).to.deep.equal(['event_date=2024-03-01', 'event_date=2024-03-02'])
    const stored = await readParquetEvents(`${dir.path}/events/**/*.parquet`)
    expect(stored).to.have.length(2)
  })

  it('keeps the first of duplicate events, or all of them with dedupe off', async () => {
    const lines = [...eventLines.slice(0, 100), ...eventLines.slice(0, 30)]
    expect(await store(lines)).to.include({written: 100})
    expect(await store(lines, {dedupe: false, table: 'all_events'})).to.include({written: 130})
    const counted = await query(`SELECT count(*)::INTEGER AS n FROM '${dir.path}/all_events/*/*.parquet'`)
    expect(counted).to.deep.equal([{n: 130}])
  })

  it('keeps the last version of each profile, in one file with the DuckDB columns', async () => {
    const profile = (id: string, plan: string, lastSeen: null | string) =>
      `{"distinct_id":"${id}","last_seen":${lastSeen ? `"${lastSeen}"` : 'null'},"properties":{"plan":"${plan}","n":1234567890123456789}}`
    const lines = [
      profile('a', 'free', '2024-01-01T00:00:00.000Z'),
      profile('b', 'free', null),
      profile('a', 'pro', '2024-02-01T10:00:00.000Z'),
    ]
    expect(await store(lines, {kind: 'profiles', table: 'profiles'})).to.include({written: 2})
    const files = await readdir(join(dir.path, 'profiles'))
    expect(files).to.have.length(1)
    const rows = await query(
      `SELECT distinct_id, last_seen::VARCHAR AS last_seen, properties::VARCHAR AS properties
         FROM '${dir.path}/profiles/*.parquet' ORDER BY distinct_id`,
    )
    expect(rows).to.deep.equal([
      {distinct_id: 'a', last_seen: '2024-02-01 10:00:00+00', properties: '{"plan":"pro","n":1234567890123456789}'},
      {distinct_id: 'b', last_seen: null, properties: '{"plan":"free","n":1234567890123456789}'},
    ])
  })

  it('appends only events not already stored, in new files, leaving the old ones alone', async () => {
    await store(eventLines.slice(0, 200))
    const before = await readParquetEvents(`${dir.path}/events/**/*.parquet`)
    const oldFiles = new Set(before.map((row) => row.file))
    const result = await store(eventLines.slice(150), {mode: 'append'})
    expect(result).to.include({written: 200})
    const after = await readParquetEvents(`${dir.path}/events/**/*.parquet`)
    expect(after).to.have.length(400)
    for (const row of after.filter((r) => oldFiles.has(r.file))) {
      expect(before.some((old) => old.file === row.file)).to.equal(true)
    }

    expect(after.filter((row) => !oldFiles.has(row.file))).to.have.length(200)
  })

  it('refuses an existing table in create mode, and swaps it whole in replace mode', async () => {
    await store(eventLines.slice(0, 100))
    const refused = await store(eventLines.slice(100, 200)).catch((error: unknown) => error)
    expect((refused as Error).message).to.equal(
      `${join(dir.path, 'events')} already exists: pass --replace to replace it, or --append to add files to it`,
    )
    expect(await store(eventLines.slice(300), {mode: 'replace'})).to.include({written: 100})
    const stored = await readParquetEvents(`${dir.path}/events/**/*.parquet`)
    expect(byIdentity(stored.map((row) => row.record))).to.deep.equal(
      byIdentity(eventLines.slice(300).map((line) => parseLossless(line))),
    )
    expect(await readdir(dir.path)).to.deep.equal(['events'])
  })

  it('leaves nothing behind on abort, even after staged files were converted', async () => {
    expect(await store(eventLines, {}, {abortAfter: 300, fileBytes: 4000})).to.equal(undefined)
    expect(await readdir(dir.path)).to.deep.equal([])
  })

  it('creates an empty table for an empty fetch', async () => {
    expect(await store([])).to.include({written: 0})
    expect(await readdir(join(dir.path, 'events'))).to.deep.equal([])
  })

  it('a record DuckDB refuses fails the commit without naming the working file; an abort keeps no rejects', async () => {
    const refused =
      '{"event_name":"Odd","event_time":"+055969-09-28T03:03:20.000Z","distinct_id":"u","insert_id":"odd","properties":{}}'
    const error = await store([...eventLines.slice(0, 10), refused]).catch((error_: unknown) => error_)
    expect((error as Error).message).to.match(/^DuckDB could not read the records: .*invalid timestamp/)
    expect((error as Error).message).to.not.match(/\.mpx-tmp|load-\d+\.jsonl|in line/)

    const sinkTarget = target({options: {compression: 'zstd', dir: dir.path}})
    const writer = await parquetSink().open(sinkTarget, {
      dataDir: dir.path,
      signal: new AbortController().signal,
      warn() {},
    })
    await writer.reject!([{kind: 'events', line: 'null', reason: 'not an object but null'}])
    await writer.abort(new Error('interrupted'))
    expect(await readdir(dir.path)).to.deep.equal([])
  })

  it('removes the working directories of fetches that were killed', async () => {
    const stale = join(dir.path, '.mpx-tmp-events-999999999-abc123')
    const live = join(dir.path, `.mpx-tmp-events-${process.pid}-abc123`)
    await mkdir(stale)
    await mkdir(live)
    await writeFile(join(stale, 'load-000000.jsonl'), '{}\n')
    await store(eventLines.slice(0, 10))
    expect((await readdir(dir.path)).sort()).to.deep.equal([`.mpx-tmp-events-${process.pid}-abc123`, 'events'])
  })
})
