import {expect} from 'chai'
import {parseLossless} from 'mpx-mixpanel-core/internal/records/json.js'
import {spawn} from 'node:child_process'
import {readdir, readFile, rm, stat} from 'node:fs/promises'
import {dirname, join} from 'node:path'

import {binRun} from '../support/cli.js'
import {startFakeMixpanel} from '../support/fake-mixpanel.js'
import {useParquetCli} from '../support/hooks.js'
import {
  byIdentity,
  parquetFixture,
  parquetSinkFlags,
  query,
  readParquetEvents,
  writeSinkPlugin,
} from '../support/plugins.js'

const {events} = parquetFixture

/** Every file under `dir`, relative, with its inode and modification time (to tell rewritten files). */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>()
  for (const entry of await readdir(dir, {recursive: true, withFileTypes: true})) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath, entry.name)
    const info = await stat(path)
    files.set(path.slice(dir.length + 1), `${info.ino}:${info.mtimeMs}`)
  }

  return files
}

describe('the Parquet sink plugin (plugins/sink-parquet), linked into mpx', () => {
  const cli = useParquetCli()
  const {run} = cli
  let dir: string
  let counter = 0
  /** The flags that pick the Parquet sink into this test's `dir`. */
  const parquetIntoDir = () => parquetSinkFlags(`dir=${dir}`)

  beforeEach(() => {
    dir = join(cli.home.path, `parquet-${counter++}`)
  })

  it('is listed by mpx plugins and mpx sinks, with its plugin and its options', async () => {
    const plugins = await run(['plugins'])
    expect(plugins.stdout).to.match(/mpx-mixpanel-sink-parquet 0\.1\.0 \(link\)/)

    const text = await run(['sinks'])
    expect(text.code, text.stderr).to.equal(0)
    expect(text.stdout).to.include('parquet (mpx-mixpanel-sink-parquet): Parquet files')
    expect(text.stdout).to.match(/compression=zstd\|snappy\|gzip\|lz4\|uncompressed +Parquet compression codec/)

    const json = await run(['sinks', '--json'])
    const {sinks} = JSON.parse(json.stdout) as {sinks: Array<{name: string; options: unknown[]; plugin: string}>}
    expect(sinks.map((sink) => `${sink.name} ${sink.plugin}`)).to.deep.equal([
      'jsonl mpx',
      'duckdb mpx',
      'parquet mpx-mixpanel-sink-parquet',
    ])
    expect(sinks[2].options).to.deep.include({
      default: 'zstd',
      description: 'Parquet compression codec',
      enum: ['zstd', 'snappy', 'gzip', 'lz4', 'uncompressed'],
      name: 'compression',
      required: false,
      type: 'string',
    })
  })

  it('writes hive-partitioned, zstd Parquet that holds exactly what --stdout prints, big integers included', async () => {
    const range = ['2024-01-01', '2024-01-06']
    const stdout = await run(['fetch:events', ...range, '--stdout', '--quiet'])
    expect(stdout.code, stdout.stderr).to.equal(0)
    const streamed = stdout.stdout
      .trimEnd()
      .split('\n')
      .map((line) => parseLossless(line))
    expect(streamed).to.have.length(600)

    const result = await run(['fetch:events', ...range, ...parquetIntoDir()])
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stderr).to.match(new RegExp(`Fetched 600 events to ${dir}/events in `))

    const stored = await readParquetEvents(`${dir}/**/*.parquet`)
    expect(byIdentity(stored.map((row) => row.record))).to.deep.equal(byIdentity(streamed))
    // The comparison covered integers beyond 2^53, exact.
    const big = streamed.filter((record) =>
      JSON.stringify(record, (_k, v) => (typeof v === 'bigint' ? 'BIG' : v)).includes('BIG'),
    )
    expect(big.length).to.be.greaterThan(10)

    for (const row of stored) {
      const {event_time: time} = row.record as {event_time: string}
      expect(row.event_date).to.equal(time.slice(0, 10))
      expect(row.file).to.match(
        new RegExp(`^${dir}/events/event_date=${row.event_date}/part-\\d{8}T\\d{6}Z-[\\w-]{6}-\\d+\\.parquet$`),
      )
    }

    expect(new Set(stored.map((row) => row.event_date)).size).to.equal(6)
    const columns = await query(
      `SELECT name, type, logical_type::VARCHAR AS logical FROM parquet_schema('${dir}/events/*/*.parquet') WHERE name <> 'duckdb_schema'`,
    )
    expect([...new Set(columns.map((column) => column.name))]).to.deep.equal([
      'event_name',
      'event_time',
      'distinct_id',
      'insert_id',
      'properties',
    ])
    const codecs = await query(`SELECT DISTINCT compression FROM parquet_metadata('${dir}/events/*/*.parquet')`)
    expect(codecs).to.deep.equal([{compression: 'ZSTD'}])
    // Nothing else was left in the directory: no working directory, no load files.
    expect(await readdir(dir)).to.deep.equal(['events'])
    // Users' personal data: owner-only, whatever the umask mpx was started with.
    // eslint-disable-next-line no-bitwise -- permission bits
    const permissions = async (path: string) => ((await stat(path)).mode & 0o777).toString(8)
    for (const file of new Set(stored.map((row) => row.file))) {
      expect(await permissions(file), file).to.equal('600')
      expect(await permissions(dirname(file)), dirname(file)).to.equal('700')
    }

    expect(await permissions(`${dir}/events`)).to.equal('700')
  })

  it('quarantines bad records in <dir>/<table>.rejects.jsonl beside the table, byte for byte, and exits 6', async () => {
    const good = [...events.lines()]
    const bad = [
      'null',
      '{"event":"X"}',
      '{"event":"Y","properties":null}',
      '{"event":"M","properties":{"time":1704153600000}}',
    ]
    cli.server.setEvents([...good.slice(0, 300), bad[0], bad[1], ...good.slice(300), bad[2], bad[3]])
    try {
      const sink = parquetIntoDir()
      const result = await run(['fetch:events', '2024-01-01', '2024-01-06', ...sink])
      expect(result.code, result.stderr).to.equal(6)
      const rejectsFile = join(dir, 'events.rejects.jsonl')
      expect(result.stderr, result.stderr).to.include(
        `4 events could not be stored and were quarantined: see ${rejectsFile}`,
      )
      expect(await readParquetEvents(`${dir}/events/**/*.parquet`)).to.have.length(600)
      const rejects = (await readFile(rejectsFile, 'utf8'))
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as {line: string; reason: string; table_name: string})
      expect(rejects.map((reject) => reject.line)).to.deep.equal(bad)
      expect(rejects[3].reason).to.match(/looks like milliseconds/)
      expect((await readdir(dir)).sort()).to.deep.equal(['events', 'events.rejects.jsonl'])

      // Appending adds to the rejects; a replace without any removes them (they described what is gone).
      const appended = await run(['fetch:events', '2024-01-01', '2024-01-06', ...sink, '--append', '--quiet'])
      expect(appended.code, appended.stderr).to.equal(6)
      expect((await readFile(rejectsFile, 'utf8')).trimEnd().split('\n')).to.have.length(8)
      cli.server.setEvents(events)
      const replaced = await run(['fetch:events', '2024-01-01', '2024-01-06', ...sink, '--replace', '--quiet'])
      expect(replaced.code, replaced.stderr).to.equal(0)
      expect(await readdir(dir)).to.deep.equal(['events'])
    } finally {
      cli.server.setEvents(events)
    }
  })

  it("partitions by the project's days, those FROM and TO mean, with --timezone", async () => {
    const zone = 'America/Los_Angeles'
    const result = await run(['fetch:events', '2024-01-02', '2024-01-03', ...parquetIntoDir(), '--timezone', zone])
    expect(result.code, result.stderr).to.equal(0)
    const stored = await readParquetEvents(`${dir}/**/*.parquet`)
    expect(stored.length).to.be.greaterThan(100)
    const dayIn = new Intl.DateTimeFormat('en-CA', {day: '2-digit', month: '2-digit', timeZone: zone, year: 'numeric'})
    for (const row of stored) {
      const {event_time: time} = row.record as {event_time: string}
      expect(row.event_date, time).to.equal(dayIn.format(new Date(time)))
    }

    expect([...new Set(stored.map((row) => row.event_date))].sort()).to.deep.equal(['2024-01-02', '2024-01-03'])
  })

  it("a sync with --timezone records each project day's events as its partition holds them", async () => {
    const zone = 'America/Los_Angeles'
    const args = ['sync:events', ...parquetIntoDir(), '--from', '2024-01-02', '--to', '2024-01-04', '--timezone', zone]
    const result = await run([...args, '--chunk-days', '2', '--quiet'], {MPX_NOW: '2024-01-06T12:00:00Z'})
    expect(result.code, result.stderr).to.equal(0)
    const stored = await readParquetEvents(`${dir}/events/**/*.parquet`)
    const perPartition: Record<string, number> = {}
    for (const row of stored) perPartition[row.event_date] = (perPartition[row.event_date] ?? 0) + 1
    const state = JSON.parse(await readFile(join(dir, 'events.mpx-sync.json'), 'utf8')) as {
      days: Record<string, {rows: number}>
    }
    expect(Object.keys(perPartition).sort()).to.deep.equal(['2024-01-02', '2024-01-03', '2024-01-04'])
    expect(Object.fromEntries(Object.entries(state.days).map(([day, entry]) => [day, entry.rows]))).to.deep.equal(
      perPartition,
    )
  })

  it('refuses an existing table, appends files without touching the old ones, and replaces all at once', async () => {
    const sink = [...parquetIntoDir(), '--quiet']
    const first = await run(['fetch:events', '2024-01-01', '2024-01-03', ...sink])
    expect(first.code, first.stderr).to.equal(0)
    const before = await snapshot(join(dir, 'events'))

    const again = await run(['fetch:events', '2024-01-01', '2024-01-03', ...sink])
    expect(again.code).to.equal(1)
    expect(again.stderr).to.match(/already exists: pass --replace to replace it, or --append/)
    expect(again.stderr.trim().split('\n')).to.have.length(1)
    // The refusal came before any request: only the first fetch asked Mixpanel.
    expect(cli.server.requests).to.have.length(1)

    const appended = await run(['fetch:events', '2024-01-03', '2024-01-06', ...sink, '--append'])
    expect(appended.code, appended.stderr).to.equal(0)
    const after = await snapshot(join(dir, 'events'))
    for (const [file, identity] of before) expect(after.get(file), file).to.equal(identity)
    expect(after.size).to.be.greaterThan(before.size)
    // 2024-01-03 was in both fetches: deduplicated against what was there, so each event once.
    const stored = await readParquetEvents(`${dir}/events/**/*.parquet`)
    expect(stored).to.have.length(600)

    const replaced = await run(['fetch:events', '2024-01-02', '2024-01-02', ...sink, '--replace'])
    expect(replaced.code, replaced.stderr).to.equal(0)
    // Another table: the summary names its directory.
    const other = await run(['fetch:events', '2024-01-02', '2024-01-02', 'ev2', ...sink.slice(0, -1)])
    expect(other.code, other.stderr).to.equal(0)
    expect(other.stderr).to.match(new RegExp(`Fetched \\d+ events to ${dir}/ev2 in `))
    await rm(join(dir, 'ev2'), {recursive: true})
    const dates = new Set((await readParquetEvents(`${dir}/events/**/*.parquet`)).map((row) => row.event_date))
    expect([...dates]).to.deep.equal(['2024-01-02'])
    expect(await readdir(dir)).to.deep.equal(['events'])
  })

  it('leaves no files when the fetch fails midway, and keeps the old table when a replace fails', async () => {
    cli.server.fail('export', {resetAfterRecords: 200})
    const failed = await run(['fetch:events', '2024-01-01', '2024-01-06', ...parquetIntoDir(), '--retries', '0'])
    expect(failed.code).to.not.equal(0)
    expect(await readdir(dir)).to.deep.equal([])

    const created = await run(['fetch:events', '2024-01-01', '2024-01-02', ...parquetIntoDir()])
    expect(created.code, created.stderr).to.equal(0)
    const before = await snapshot(join(dir, 'events'))
    cli.server.fail('export', {resetAfterRecords: 100})
    const replace = [...parquetIntoDir(), '--retries', '0', '--replace']
    const failedReplace = await run(['fetch:events', '2024-01-03', '2024-01-06', ...replace])
    expect(failedReplace.code).to.not.equal(0)
    expect(await snapshot(join(dir, 'events'))).to.deep.equal(before)
    expect(await readdir(dir)).to.deep.equal(['events'])
  })

  it('removes its working directory when interrupted (Ctrl-C), and exits 130', async () => {
    cli.server.fail('export', {stallAfterRecords: 300, stallMs: 30_000})
    const args = ['fetch:events', '2024-01-01', '2024-01-06', ...parquetIntoDir()]
    const child = spawn(process.execPath, [binRun, ...args], {
      env: {HOME: process.env.HOME, PATH: process.env.PATH, ...cli.env},
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    const closed = new Promise<null | number>((resolve) => {
      child.on('close', resolve)
    })
    // The sink is open and has records (a load file in its working directory): interrupt.
    const loading = async () => {
      const work = (await readdir(dir).catch(() => [])).find((name) => name.startsWith('.mpx-tmp-events-'))
      return (
        work !== undefined && (await readdir(join(dir, work)).catch(() => [])).some((name) => name.startsWith('load-'))
      )
    }

    while (!(await loading())) {
      await new Promise((resolve) => {
        setTimeout(resolve, 20)
      })
    }

    child.kill('SIGINT')
    expect(await closed).to.equal(130)
    expect(await readdir(dir)).to.deep.equal([])
  })

  it('keeps a table current with sync:events: a day is a partition, replaced as a whole, the others untouched', async () => {
    const sync = (...more: string[]) =>
      run(['sync:events', ...parquetIntoDir(), '--to', '2024-01-06', ...more], {
        MPX_NOW: '2024-01-06T12:00:00Z',
      })
    const first = await sync('--from', '2024-01-01', '--chunk-days', '2', '--quiet')
    expect(first.code, first.stderr).to.equal(0)
    const streamed = await run(['fetch:events', '2024-01-01', '2024-01-06', '--stdout'])
    const expected = streamed.stdout
      .trimEnd()
      .split('\n')
      .map((line) => parseLossless(line))
    const glob = join(dir, 'events', '**', '*.parquet')
    const stored = await readParquetEvents(glob)
    expect(byIdentity(stored.map((row) => row.record))).to.deep.equal(byIdentity(expected))
    const before = await snapshot(join(dir, 'events'))

    const late = (day: string, id: string) =>
      JSON.stringify({
        event: 'Late arrival',
        properties: {$insert_id: id, distinct_id: 'late', time: Date.parse(`${day}T12:00:00Z`) / 1000},
      })
    cli.server.setEvents([...events.lines(), late('2024-01-05', 'late-5'), late('2024-01-02', 'late-2')])
    try {
      const again = await sync('--lookback-days', '2')
      expect(again.code, again.stderr).to.equal(0)
      expect(again.stderr).to.include('0 days missing, 2 refreshed (1 fetched while in progress), 1 request')
    } finally {
      cli.server.setEvents(events)
    }

    const after = await snapshot(join(dir, 'events'))
    for (const [file, identity] of before) {
      const day = /event_date=(\d{4}-\d\d-\d\d)/.exec(file)![1]
      if (day < '2024-01-05') expect(after.get(file), file).to.equal(identity)
      else expect(after.has(file), `${file} replaced`).to.equal(false)
    }

    const ids = (await readParquetEvents(glob)).map((row) => (row.record as {insert_id: string}).insert_id)
    expect(ids).to.include('late-5')
    expect(ids).to.not.include('late-2')
    expect(ids).to.have.length(expected.length + 1)
  })

  it('sync:events killed midway (SIGKILL) keeps the saved days; the same command completes the same files', async () => {
    const slow = await startFakeMixpanel({auth: {apiSecret: 'x'}, events, latencyMs: 300})
    try {
      const args = ['sync:events', ...parquetIntoDir(), '--to', '2024-01-06']
      const extra = {MPX_API_URL: slow.url, MPX_NOW: '2024-01-06T12:00:00Z'}
      const child = spawn(process.execPath, [binRun, ...args, '--from', '2024-01-01', '--chunk-days', '1'], {
        env: {HOME: process.env.HOME, PATH: process.env.PATH, ...cli.env, ...extra},
        stdio: 'ignore',
      })
      const exited = new Promise((resolve) => {
        child.on('close', resolve)
      })
      while (slow.requests.filter((request) => request.endpoint === 'export').length < 3) {
        await new Promise((resolve) => {
          setTimeout(resolve, 20)
        })
      }

      child.kill('SIGKILL')
      await exited
      const rerun = await run([...args, '--lookback-days', '0'], extra)
      expect(rerun.code, rerun.stderr).to.equal(0)
      expect(rerun.stderr).to.match(/: [1-5] days missing, 0 refreshed/)
    } finally {
      await slow.close()
    }

    const streamed = await run(['fetch:events', '2024-01-01', '2024-01-06', '--stdout'])
    const expected = streamed.stdout
      .trimEnd()
      .split('\n')
      .map((line) => parseLossless(line))
    const stored = await readParquetEvents(join(dir, 'events', '**', '*.parquet'))
    expect(byIdentity(stored.map((row) => row.record))).to.deep.equal(byIdentity(expected))
    expect((await readdir(dir)).filter((name) => name.startsWith('.mpx-tmp-'))).to.deep.equal([])
  })

  it('writes profiles as one file set with the DuckDB columns', async () => {
    const result = await run(['fetch:profiles', ...parquetIntoDir(), '--quiet'])
    expect(result.code, result.stderr).to.equal(0)
    const stdout = await run(['fetch:profiles', '--stdout', '--quiet'])
    const streamed = stdout.stdout
      .trimEnd()
      .split('\n')
      .map((line) => parseLossless(line) as {distinct_id: string})
    const rows = await query(
      `SELECT distinct_id, epoch_ms(last_seen) AS ms, properties::VARCHAR AS properties FROM '${dir}/profiles/*.parquet' ORDER BY distinct_id`,
    )
    const stored = rows.map((row) => ({
      distinct_id: row.distinct_id,
      last_seen: row.ms === null ? null : new Date(Number(row.ms)).toISOString(),
      properties: parseLossless(String(row.properties)),
    }))
    expect(stored).to.deep.equal([...streamed].sort((a, b) => (a.distinct_id < b.distinct_id ? -1 : 1)))
    expect((await readdir(join(dir, 'profiles'))).every((file) => file.endsWith('.parquet'))).to.equal(true)
  })

  it('checks --sink-option against the sink schema before any request (exit 3)', async () => {
    for (const option of ['compression=brotli', 'nope=1', 'threads=many', 'dir=']) {
      const result = await run(['fetch:events', '2024-01-01', '2024-01-02', ...parquetSinkFlags(option)])
      expect(result.code, `${option}: ${result.stderr}`).to.equal(3)
      expect(result.stderr.trim().split('\n'), result.stderr).to.have.length(1)
    }

    const unknown = await run(['fetch:events', '2024-01-01', '2024-01-02', '--sink', 'nosuch'])
    expect(unknown.code).to.equal(4)
    expect(unknown.stderr).to.include('No sink named "nosuch": available sinks are jsonl, duckdb, parquet')
    expect(cli.server.requests).to.have.length(0)
  })

  it('reports two sinks with one name as an error naming both plugins, and still runs the others', async () => {
    const other = await writeSinkPlugin(join(cli.home.path, 'other-plugin'), 'mpx-sink-other', ['parquet', 'other'])
    const linked = await run(['plugins:link', other, '--no-install'])
    expect(linked.code, linked.stderr).to.equal(0)
    try {
      const sinks = await run(['sinks'])
      expect(sinks.code).to.equal(3)
      expect(sinks.stderr, sinks.stderr).to.include(
        'Two sinks are named "parquet": one from mpx-mixpanel-sink-parquet, one from mpx-sink-other',
      )

      const fetch = await run(['fetch:events', '2024-01-01', '2024-01-02', '--sink', 'parquet'])
      expect(fetch.code).to.equal(3)
      expect(fetch.stderr).to.include('mpx-sink-other')
      expect(cli.server.requests).to.have.length(0)

      const stdout = await run(['fetch:events', '2024-01-01', '2024-01-02', '--stdout', '--quiet'])
      expect(stdout.code, stdout.stderr).to.equal(0)
      expect(stdout.stdout.length).to.be.greaterThan(0)
    } finally {
      const removed = await run(['plugins:uninstall', 'mpx-sink-other'])
      expect(removed.code, removed.stderr).to.equal(0)
    }
  })
})
