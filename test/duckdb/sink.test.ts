import {expect} from 'chai'
import {ExitCode, InterruptedError, MpxError} from 'mpx-mixpanel-core/internal/errors.js'
import {parseLossless} from 'mpx-mixpanel-core/internal/records/json.js'
import {replaceLoneSurrogates} from 'mpx-mixpanel-core/internal/records/lone-surrogates.js'
import {existsSync} from 'node:fs'
import {readdir} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {quoteIdentifier} from '../../src/duckdb/database.js'
import {duckdbSink} from '../../src/duckdb/sink.js'
import {loadThreads, openTableWriter} from '../../src/duckdb/table-writer.js'
import {recordBatch} from '../../src/fetch/batch.js'
import {validateSinkOptions} from '../../src/sinks/options.js'
import {queryLines, queryValue, store, target} from '../support/duckdb.js'
import {normalizedEvents, normalizedProfiles} from '../support/normalized.js'
import {setEnvironment, temporaryDirectory} from '../support/temporary.js'

const eventLines = normalizedEvents({count: 1500, from: '2024-03-01', seed: 5, to: '2024-03-04'})
const profileLines = normalizedProfiles({count: 300, seed: 9})

const parsed = (lines: readonly string[]): unknown[] => lines.map((line) => parseLossless(line))

async function loadFiles(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((name) => name.startsWith('mpx-load-'))
}

describe('duckdb sink', () => {
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>
  let path: string
  let restoreEnvironment: () => void

  beforeEach(async () => {
    directory = await temporaryDirectory()
    path = join(directory.path, 'nested', 'dir', 'test.duckdb')
    // Load files go to a directory of this test's own, where nothing else runs.
    restoreEnvironment = setEnvironment({TMPDIR: directory.path})
  })

  afterEach(async () => {
    restoreEnvironment()
    await directory.remove()
  })

  it('stores events with the documented schema, field for field as streamed, big integers exact', async () => {
    // Small files: the records cross many load files (rotation, a load in flight while writing).
    const result = await store(path, eventLines, target({dateRange: {from: '2024-03-01', to: '2024-03-04'}}), {
      fileBytes: 50_000,
    })
    expect(result).to.deep.equal({location: `events in ${path}`, written: eventLines.length})

    const columns = await queryLines(
      path,
      `SELECT column_name, data_type, is_nullable FROM duckdb_columns() WHERE table_name = 'events' ORDER BY column_index`,
    )
    expect(parsed(columns)).to.deep.equal([
      {column_name: 'event_name', data_type: 'VARCHAR', is_nullable: false},
      {column_name: 'event_time', data_type: 'TIMESTAMP WITH TIME ZONE', is_nullable: false},
      {column_name: 'distinct_id', data_type: 'VARCHAR', is_nullable: false},
      {column_name: 'insert_id', data_type: 'VARCHAR', is_nullable: false},
      {column_name: 'properties', data_type: 'JSON', is_nullable: true},
    ])

    const stored = await queryLines(path, 'SELECT * FROM events ORDER BY rowid')
    expect(parsed(stored)).to.deep.equal(parsed(eventLines))
    const bigIntegers = stored.join('\n').match(/"account_id":\d{19}[,}]/g) ?? []
    expect(bigIntegers.length).to.be.greaterThan(50)
    // The same 19-digit texts as the stream, not rounded doubles.
    expect(bigIntegers.sort()).to.deep.equal((eventLines.join('\n').match(/"account_id":\d{19}[,}]/g) ?? []).sort())
    expect(await loadFiles()).to.deep.equal([])
  })

  it('keeps one row per (event_name, distinct_id, insert_id), the first, unless dedupe is off', async () => {
    const first = eventLines.slice(0, 200)
    const duplicate = JSON.stringify({...JSON.parse(first[10]), properties: {changed: true}})
    const lines = [...first, ...first.slice(0, 50), duplicate]
    const result = await store(path, lines, target())
    expect(result?.written).to.equal(200)
    expect(parsed(await queryLines(path, 'SELECT * FROM events ORDER BY rowid'))).to.deep.equal(parsed(first))

    const all = await store(path, lines, target({dedupe: false, table: 'everything'}))
    expect(all?.written).to.equal(251)
    expect(await queryValue(path, 'SELECT count(*) FROM everything')).to.equal(251n)
  })

  it('refuses an existing table in create mode, with exit code 1 and nothing changed', async () => {
    await store(path, eventLines.slice(0, 10), target())
    const error = await store(path, eventLines.slice(10, 20), target()).catch((error_: unknown) => error_)
    expect(error).to.be.instanceOf(MpxError)
    expect((error as MpxError).exitCode).to.equal(ExitCode.Failure)
    expect((error as MpxError).message).to.equal(
      `Table "events" already exists in ${path}: pass --replace to replace it, or --append to add to it`,
    )
    expect(await queryValue(path, 'SELECT count(*) FROM events')).to.equal(10n)
    expect(await queryValue(path, 'SELECT count(*) FROM _mpx_fetches')).to.equal(1n)
  })

  it('replaces a table only at commit; an aborted replace leaves the old one as it was', async () => {
    await store(path, eventLines.slice(0, 100), target())
    await store(path, eventLines.slice(100, 1100), target({mode: 'replace'}), {abort: true, fileBytes: 50_000})
    expect(parsed(await queryLines(path, 'SELECT * FROM events ORDER BY rowid'))).to.deep.equal(
      parsed(eventLines.slice(0, 100)),
    )

    const result = await store(path, eventLines.slice(100, 300), target({mode: 'replace'}))
    expect(result?.written).to.equal(200)
    expect(parsed(await queryLines(path, 'SELECT * FROM events ORDER BY rowid'))).to.deep.equal(
      parsed(eventLines.slice(100, 300)),
    )
    // The replaced table's fetches went with it.
    expect(parsed(await queryLines(path, 'SELECT mode, row_count FROM _mpx_fetches'))).to.deep.equal([
      {mode: 'replace', row_count: 200},
    ])
  })

  it('an interrupt while saving (loads still queued, before COMMIT) rolls back: the old table stays', async () => {
    await store(path, eventLines.slice(0, 100), target())
    const controller = new AbortController()
    const writer = await openTableWriter(
      target({mode: 'replace'}),
      {fileBytes: 50_000, path},
      {signal: controller.signal, warn() {}},
    )
    for (let start = 100; start < 1500; start += 100) {
      await writer.write(recordBatch('events', 'normalized', eventLines.slice(start, start + 100)))
    }

    const committing = writer.commit()
    controller.abort(new InterruptedError())
    const error = await committing.catch((error_: unknown) => error_)
    expect(error).to.be.instanceOf(InterruptedError)
    expect(parsed(await queryLines(path, 'SELECT * FROM events ORDER BY rowid'))).to.deep.equal(
      parsed(eventLines.slice(0, 100)),
    )
    expect(await loadFiles()).to.deep.equal([])
  })

  it('a record DuckDB refuses fails the fetch naming the record, not mpx’s temporary file', async () => {
    const refused =
      '{"event_name":"Odd","event_time":"+055969-09-28T03:03:20.000Z","distinct_id":"u","insert_id":"odd-1","properties":{}}'
    const error = await store(path, [...eventLines.slice(0, 50), refused], target()).catch((error_: unknown) => error_)
    expect(error).to.be.instanceOf(MpxError)
    const {message} = error as MpxError
    expect(message).to.match(
      /^DuckDB could not store the event "Odd" \(insert id odd-1\): JSON transform error: invalid timestamp/,
    )
    expect(message).to.not.match(/mpx-load|\.jsonl|in line/)
    expect(existsSync(path)).to.equal(false)
    expect(await loadFiles()).to.deep.equal([])
  })

  it('keeps rejected records in _mpx_rejects, in the fetch’s transaction: none after an abort', async () => {
    const reject = {
      kind: 'events' as const,
      line: '{"event":"X"}',
      range: {from: '2024-03-01', to: '2024-03-04'},
      reason: 'no properties',
    }
    const writer = await openTableWriter(target(), {path}, {warn() {}})
    await writer.write(recordBatch('events', 'normalized', eventLines.slice(0, 10)))
    await writer.reject!([reject, {...reject, line: 'null', reason: 'not an object but null'}])
    const result = await writer.commit()
    expect(result.rejected).to.deep.equal({count: 2, location: `_mpx_rejects in ${path}`})
    expect(
      await queryLines(path, 'SELECT table_name, from_date, day, line, reason FROM _mpx_rejects ORDER BY rowid'),
    ).to.deep.equal([
      String.raw`{"table_name":"events","from_date":"2024-03-01","day":null,"line":"{\"event\":\"X\"}","reason":"no properties"}`,
      '{"table_name":"events","from_date":"2024-03-01","day":null,"line":"null","reason":"not an object but null"}',
    ])

    const aborted = await openTableWriter(target({mode: 'append'}), {path}, {warn() {}})
    await aborted.reject!([reject])
    await aborted.abort(new Error('test abort'))
    expect(await queryValue(path, 'SELECT count(*) FROM _mpx_rejects')).to.equal(2n)
    expect(await loadFiles()).to.deep.equal([])
  })

  it('appends only records not already stored; an aborted append adds nothing', async () => {
    await store(path, eventLines.slice(0, 300), target())
    await store(path, eventLines.slice(200, 900), target({mode: 'append'}), {abort: true, fileBytes: 50_000})
    expect(await queryValue(path, 'SELECT count(*) FROM events')).to.equal(300n)

    const result = await store(
      path,
      [...eventLines.slice(200, 500), ...eventLines.slice(450, 500)],
      target({mode: 'append'}),
    )
    expect(result?.written).to.equal(200)
    const stored = parsed(await queryLines(path, 'SELECT * FROM events ORDER BY event_time, insert_id'))
    const expected = parsed(eventLines.slice(0, 500)) as Array<{event_time: string; insert_id: string}>
    const byTimeAndId = (a: {event_time: string; insert_id: string}, b: {event_time: string; insert_id: string}) =>
      a.event_time === b.event_time ? (a.insert_id < b.insert_id ? -1 : 1) : a.event_time < b.event_time ? -1 : 1
    expect(stored).to.deep.equal(expected.sort(byTimeAndId))

    const noDedupe = await store(path, eventLines.slice(0, 20), target({dedupe: false, mode: 'append'}))
    expect(noDedupe?.written).to.equal(20)
    expect(await queryValue(path, 'SELECT count(*) FROM events')).to.equal(520n)
  })

  it('appends into a new table when there is none yet', async () => {
    const result = await store(path, eventLines.slice(0, 30), target({mode: 'append', table: 'fresh'}))
    expect(result?.written).to.equal(30)
    expect(await queryValue(path, 'SELECT count(*) FROM fresh')).to.equal(30n)
  })

  it('stores profiles with a primary key; the last version of a profile wins, and append updates', async () => {
    const profiles = target({kind: 'profiles', table: 'profiles'})
    const changed = (line: string, plan: string) => {
      const profile = JSON.parse(line)
      return JSON.stringify({...profile, properties: {...profile.properties, plan}})
    }

    const lines = [...profileLines.slice(0, 100), changed(profileLines[5], 'first-fetch-last-word')]
    const result = await store(path, lines, profiles)
    expect(result?.written).to.equal(100)
    const columns = await queryLines(
      path,
      `SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'profiles'`,
    )
    expect(parsed(columns)).to.deep.equal([
      {column_name: 'distinct_id', data_type: 'VARCHAR'},
      {column_name: 'last_seen', data_type: 'TIMESTAMP WITH TIME ZONE'},
      {column_name: 'properties', data_type: 'JSON'},
    ])
    expect(
      await queryValue(path, `SELECT count(*) FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY'`),
    ).to.equal(1n)
    // In the order they came (u5's version that counts came last).
    const order = parsed(await queryLines(path, 'SELECT distinct_id FROM profiles ORDER BY rowid'))
    const ids = profileLines.slice(0, 100).map((line) => ({distinct_id: JSON.parse(line).distinct_id as string}))
    expect(order).to.deep.equal([...ids.filter((id) => id.distinct_id !== 'u5'), {distinct_id: 'u5'}])
    const five = parsed(await queryLines(path, `SELECT * FROM profiles WHERE distinct_id = 'u5'`))
    expect(five).to.deep.equal([parseLossless(lines.at(-1)!)])

    const appended = await store(path, [changed(profileLines[7], 'updated'), ...profileLines.slice(100, 150)], {
      ...profiles,
      mode: 'append',
    })
    expect(appended?.written).to.equal(51)
    expect(await queryValue(path, 'SELECT count(*) FROM profiles')).to.equal(150n)
    expect(await queryValue(path, `SELECT properties->>'plan' FROM profiles WHERE distinct_id = 'u7'`)).to.equal(
      'updated',
    )
    const all = parsed(
      await queryLines(path, `SELECT * FROM profiles WHERE distinct_id NOT IN ('u5', 'u7') ORDER BY distinct_id`),
    )
    const expected = parsed(profileLines.slice(0, 150)).filter(
      (profile) => !['u5', 'u7'].includes((profile as {distinct_id: string}).distinct_id),
    ) as Array<{distinct_id: string}>
    expect(all).to.deep.equal(expected.sort((a, b) => (a.distinct_id < b.distinct_id ? -1 : 1)))
    expect(Number(await queryValue(path, 'SELECT count(*) FROM profiles WHERE last_seen IS NULL'))).to.be.greaterThan(0)
  })

  it('refuses to append events to a table that holds something else', async () => {
    await store(path, profileLines.slice(0, 5), target({kind: 'profiles', table: 'people'}))
    const error = await store(path, eventLines.slice(0, 5), target({mode: 'append', table: 'people'})).catch(
      (error_: unknown) => error_,
    )
    expect((error as Error).message).to.match(/^Table "people" does not hold events \(its columns: distinct_id VARCHAR/)
  })

  it('records each committed fetch in _mpx_fetches', async () => {
    const filters = {events: ['Search'], limit: null, where: 'properties["big"] == 1234567890123456789'}
    await store(path, eventLines.slice(0, 40), target({dateRange: {from: '2024-03-01', to: '2024-03-02'}, filters}))
    await store(
      path,
      eventLines.slice(30, 60),
      target({dateRange: {from: '2024-03-03', to: '2024-03-04'}, mode: 'append'}),
    )
    const [first, second] = parsed(
      await queryLines(
        path,
        `SELECT *, finished_at >= started_at AS ordered, finished_at > now() - INTERVAL 1 MINUTE AS recent
           FROM _mpx_fetches ORDER BY started_at`,
      ),
    ) as Array<Record<string, unknown>>
    expect(first).to.include({
      deduplicated: true,
      from_date: '2024-03-01',
      kind: 'events',
      mode: 'create',
      ordered: true,
      recent: true,
      row_count: 40,
      table_name: 'events',
      to_date: '2024-03-02',
    })
    expect(first.filters).to.deep.equal(filters)
    expect(second).to.include({from_date: '2024-03-03', mode: 'append', row_count: 20, to_date: '2024-03-04'})
  })

  it('fails with a clear error, changing nothing, when DuckDB cannot load a record', async () => {
    await store(path, eventLines.slice(0, 10), target())
    const broken = JSON.stringify({...JSON.parse(eventLines[20]), event_time: null})
    const lines = [...eventLines.slice(10, 500), broken, ...eventLines.slice(500, 900)]
    const error = await store(path, lines, target({mode: 'append'}), {fileBytes: 50_000}).catch(
      (error_: unknown) => error_,
    )
    expect(error).to.be.instanceOf(MpxError)
    expect((error as Error).message).to.match(/^DuckDB could not load the records: Constraint Error: NOT NULL/)
    expect(await queryValue(path, 'SELECT count(*) FROM events')).to.equal(10n)
    expect(await queryValue(path, 'SELECT count(*) FROM _mpx_fetches')).to.equal(1n)
  })

  it('removes a database file it created when the fetch is aborted', async () => {
    await store(path, eventLines.slice(0, 50), target(), {abort: true})
    expect(existsSync(path)).to.equal(false)
    expect(existsSync(`${path}.wal`)).to.equal(false)
  })

  it('stores lone surrogates as U+FFFD, which DuckDB would refuse', async () => {
    const line = JSON.stringify({
      distinct_id: 'u1',
      event_name: 'Search',
      event_time: '2024-03-01T00:00:00.000Z',
      insert_id: 'i1',
      properties: {cut: 'emoji \uD83D', escaped: String.raw`\ud83d`, pair: '😀'},
    })
    expect(line).to.include(String.raw`emoji \ud83d`)
    const warnings: string[] = []
    await store(path, [line, eventLines[0]], target(), {warn: (message) => warnings.push(message)})
    expect(warnings).to.deep.equal(['1 events had invalid Unicode (a lone surrogate), stored as U+FFFD'])
    const [stored] = parsed(await queryLines(path, 'SELECT properties FROM events ORDER BY rowid')) as Array<{
      properties: unknown
    }>
    expect(stored.properties).to.deep.equal({cut: 'emoji \uFFFD', escaped: String.raw`\ud83d`, pair: '😀'})
    expect(replaceLoneSurrogates(String.raw`"\\\ud800 \\ud800"`)).to.equal(String.raw`"\\\ufffd \\ud800"`)
  })

  it('leaves one core to the fetch: DuckDB loads with one thread fewer than there are cores, and at least one', () => {
    expect([1, 2, 8].map((cores) => loadThreads(cores))).to.deep.equal([1, 1, 7])
  })

  it('quotes table names as identifiers', async () => {
    expect(quoteIdentifier('x"; DROP TABLE y; --')).to.equal('"x""; DROP TABLE y; --"')
    const weird = 'x"; DROP TABLE events; --'
    await store(path, eventLines.slice(0, 3), target())
    await store(path, eventLines.slice(0, 2), target({table: weird}))
    expect(await queryValue(path, 'SELECT count(*) FROM events')).to.equal(3n)
    expect(await queryValue(path, `SELECT count(*) FROM ${quoteIdentifier(weird)}`)).to.equal(2n)
  })

  describe('as a sink', () => {
    it('takes normalized records only, and needs a path', () => {
      const sink = duckdbSink()
      expect(sink.formats).to.deep.equal(['normalized'])
      expect(() => validateSinkOptions(sink, {})).to.throw(/path/)
      expect(() => validateSinkOptions(sink, {nope: 1, path: 'x'})).to.throw(/nope is not an option/)
      expect(() => validateSinkOptions(sink, {memory_limit: 'lots', path: 'x'})).to.throw(/memory_limit/)
      expect(validateSinkOptions(sink, {memory_limit: '1GB', path: 'x', threads: '2'})).to.deep.equal({
        memory_limit: '1GB',
        path: 'x',
        threads: 2,
      })
    })

    it('opens, writes and commits through the Sink interface', async () => {
      const sink = duckdbSink()
      const controller = new AbortController()
      const writer = await sink.open(target({options: {memory_limit: '256MB', path, threads: 1}}), {
        dataDir: directory.path,
        signal: controller.signal,
        warn() {},
      })
      await writer.write(recordBatch('events', 'normalized', eventLines.slice(0, 25)))
      expect(await writer.commit()).to.deep.equal({location: `events in ${path}`, written: 25})
      expect(await queryValue(path, 'SELECT count(*) FROM events')).to.equal(25n)
    })
  })
})
