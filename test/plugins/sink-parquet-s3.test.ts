/**
 * The Parquet sink plugin with `dir=s3://bucket/prefix`: files written locally, then published
 * into a real S3 protocol server on 127.0.0.1 (test/support/fake-s3.ts) through mpx's object
 * storage, and read back with DuckDB.
 */
import {expect} from 'chai'
import {parseLossless} from 'mpx-mixpanel-core/internal/records/json.js'
import {spawn} from 'node:child_process'
import {readdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {binRun, outcome, runMpx} from '../support/cli.js'
import {startFakeMixpanel} from '../support/fake-mixpanel.js'
import {type FakeS3, startFakeS3} from '../support/fake-s3.js'
import {useParquetCli} from '../support/hooks.js'
import {
  byIdentity,
  oclifHomeWithParquet,
  parquetFixture,
  parquetSinkFlags,
  query,
  readParquetEvents,
} from '../support/plugins.js'

const {events, profiles} = parquetFixture

const lines = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((line) => parseLossless(line))

describe('the Parquet sink plugin with dir=s3://bucket/prefix', () => {
  let s3: FakeS3
  let counter = 0

  before(async () => {
    s3 = await startFakeS3()
  })

  after(async () => s3.close())

  const cli = useParquetCli(() => s3.env())
  const {run} = cli
  const sink = (prefix: string) => [...parquetSinkFlags(`dir=s3://lake/${prefix}`), '--quiet']
  /** The objects under `prefix`, downloaded, read as events. */
  const storedEvents = async (prefix: string) => {
    const local = join(cli.home.path, `download-${counter++}`)
    await s3.download(prefix, local)
    return readParquetEvents(`${local}/${prefix}/**/*.parquet`)
  }

  it('publishes events by day and profiles, equal to --stdout, with a _SUCCESS marker and no staging left', async () => {
    const stdout = await run(['fetch:events', '2024-01-01', '2024-01-06', '--stdout', '--quiet'])
    const result = await run(['fetch:events', '2024-01-01', '2024-01-06', ...sink('lake1').slice(0, -1)])
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stderr).to.match(/^Fetched 600 events to s3:\/\/lake\/lake1\/events in [\d.]+s\n$/)
    const keys = await s3.keys()
    expect(keys).to.include('lake1/events/_SUCCESS')
    const files = keys.filter((key) => key !== 'lake1/events/_SUCCESS')
    expect(files).to.have.length(6)
    for (const key of files) {
      expect(key).to.match(/^lake1\/events\/event_date=2024-01-0[1-6]\/part-\d{8}T\d{6}Z-[\w-]{6}-\d+\.parquet$/)
    }

    const stored = await storedEvents('lake1/events')
    expect(byIdentity(stored.map((row) => row.record))).to.deep.equal(byIdentity(lines(stdout.stdout)))

    const profileResult = await run(['fetch:profiles', ...sink('lake1')])
    expect(profileResult.code, profileResult.stderr).to.equal(0)
    const local = join(cli.home.path, 'profiles-download')
    await s3.download('lake1/profiles', local)
    const rows = await query(
      `SELECT distinct_id, epoch_ms(last_seen) AS ms, properties::VARCHAR AS properties FROM '${local}/lake1/profiles/*.parquet' ORDER BY distinct_id`,
    )
    const streamed = lines((await run(['fetch:profiles', '--stdout', '--quiet'])).stdout) as Array<{
      distinct_id: string
    }>
    expect(
      rows.map((row) => ({
        distinct_id: row.distinct_id,
        last_seen: row.ms === null ? null : new Date(Number(row.ms)).toISOString(),
        properties: parseLossless(String(row.properties)),
      })),
    ).to.deep.equal([...streamed].sort((a, b) => (a.distinct_id < b.distinct_id ? -1 : 1)))

    expect((await s3.keys()).filter((key) => key.includes('.mpx-staging'))).to.deep.equal([])
    expect(await s3.openUploads()).to.deep.equal([])
  })

  it('refuses an existing table; --replace replaces the days fetched and keeps the others', async () => {
    const first = await run(['fetch:events', '2024-01-01', '2024-01-06', ...sink('lake2')])
    expect(first.code, first.stderr).to.equal(0)
    const before = (await s3.keys()).filter((key) => key.startsWith('lake2/'))

    const again = await run(['fetch:events', '2024-01-01', '2024-01-06', ...sink('lake2')])
    expect(again.code, again.stderr).to.equal(1)
    expect(again.stderr).to.match(
      /^Error: Sink "parquet" \(mpx-mixpanel-sink-parquet\): s3:\/\/lake\/lake2\/events already holds files: pass --replace/,
    )
    expect((await s3.keys()).filter((key) => key.startsWith('lake2/'))).to.deep.equal(before)

    const replaced = await run(['fetch:events', '2024-01-02', '2024-01-03', ...sink('lake2'), '--replace'])
    expect(replaced.code, replaced.stderr).to.equal(0)
    const after = (await s3.keys()).filter((key) => key.startsWith('lake2/'))
    const day = (keys: string[], date: string) => keys.filter((key) => key.includes(`event_date=${date}/`))
    for (const date of ['2024-01-01', '2024-01-04', '2024-01-05', '2024-01-06']) {
      expect(day(after, date), date).to.deep.equal(day(before, date))
    }

    for (const date of ['2024-01-02', '2024-01-03']) {
      expect(day(after, date), date).to.have.length(1)
      expect(day(after, date)[0], date).to.not.equal(day(before, date)[0])
    }

    // Every event once: the replaced days hold the new files only.
    const stdout = await run(['fetch:events', '2024-01-01', '2024-01-06', '--stdout', '--quiet'])
    const stored = await storedEvents('lake2/events')
    expect(byIdentity(stored.map((row) => row.record))).to.deep.equal(byIdentity(lines(stdout.stdout)))
    expect(after.filter((key) => key.includes('.mpx-staging'))).to.deep.equal([])
  })

  it('an interrupted --replace leaves the prefix as it was', async () => {
    const first = await run(['fetch:events', '2024-01-01', '2024-01-06', ...sink('lake3')])
    expect(first.code, first.stderr).to.equal(0)
    const before = await s3.keys()
    const slow = await startFakeMixpanel({bytesPerSecond: 20_000, events})
    try {
      const child = spawn(
        process.execPath,
        [binRun, 'fetch:events', '2024-01-01', '2024-01-06', ...sink('lake3'), '--replace'],
        {env: {HOME: process.env.HOME, PATH: process.env.PATH, ...cli.env, MPX_API_URL: slow.url}},
      )
      const closed = outcome(child)
      while (slow.requests.length === 0) await sleep(50)
      await sleep(200)
      child.kill('SIGINT')
      const result = await closed
      expect(result.code, result.stderr).to.equal(130)
      expect(await s3.keys()).to.deep.equal(before)
      expect(await s3.openUploads()).to.deep.equal([])
    } finally {
      await slow.close()
    }
  })

  it('takes the endpoint as a sink option (path-style), and checks it before any request', async () => {
    const withOption = [...sink('lake5'), '--sink-option', `endpoint=${s3.url}`]
    const result = await run(['fetch:profiles', ...withOption], {AWS_ENDPOINT_URL: ''})
    expect(result.code, result.stderr).to.equal(0)
    expect(await s3.keys()).to.include('lake5/profiles/_SUCCESS')

    const requests = cli.server.requests.length
    for (const options of [
      ['dir=s3://lake/lake6', 'endpoint=minio:9000'],
      [`dir=${join(cli.home.path, 'local')}`, `endpoint=${s3.url}`],
      ['dir=s3://lake/lake6', 'path_style=maybe'],
    ]) {
      const refused = await run(['fetch:profiles', ...parquetSinkFlags(...options)])
      expect(refused.code, `${options.join(' ')}: ${refused.stderr}`).to.equal(3)
      expect(refused.stderr.trim().split('\n'), refused.stderr).to.have.length(1)
    }

    expect(cli.server.requests.length).to.equal(requests)
  })

  it('denied credentials exit 2 and a missing bucket exits 4, before Mixpanel is asked', async () => {
    const requests = cli.server.requests.length
    const denied = await run(['fetch:events', '2024-01-01', '2024-01-06', ...sink('lake4')], {
      AWS_ACCESS_KEY_ID: 'AKIAWRONGWRONGWRONG1',
    })
    expect(denied.code).to.equal(2)
    expect(denied.stderr).to.match(
      /^Error: Object storage refused to list s3:\/\/lake\/lake4\/events\/ \(InvalidAccessKeyId\)/,
    )
    expect(denied.stderr.trim().split('\n')).to.have.length(1)

    const missing = await run([
      'fetch:events',
      '2024-01-01',
      '2024-01-06',
      ...parquetSinkFlags('dir=s3://no-such-bucket/lake'),
    ])
    expect(missing.code).to.equal(4)
    expect(missing.stderr).to.match(/^Error: Bucket no-such-bucket does not exist \(NoSuchBucket\)/)
    expect(cli.server.requests.length).to.equal(requests)

    const append = await run(['fetch:events', '2024-01-01', '2024-01-06', ...sink('lake4'), '--append'])
    expect(append.code).to.equal(3)
    expect(append.stderr).to.match(/replace the days instead, or append with --no-dedupe/)
  })

  it('quarantines bad records beside the table prefix, never under it, byte for byte, and exits 6', async () => {
    const bad = ['null', '{"event":"M","properties":{"time":1704153600000}}']
    cli.server.setEvents([...events.lines(), ...bad])
    try {
      const result = await run(['fetch:events', '2024-01-01', '2024-01-06', ...sink('lake5')])
      expect(result.code, result.stderr).to.equal(6)
      const keys = await s3.keys()
      const rejectKeys = keys.filter((key) => key.startsWith('lake5/events.rejects/'))
      expect(rejectKeys).to.have.length(1)
      expect(result.stderr).to.include(`s3://lake/${rejectKeys[0]}`)
      expect(keys.filter((key) => key.startsWith('lake5/events/') && key.includes('rejects'))).to.deep.equal([])
      expect(await storedEvents('lake5/events')).to.have.length(600)
      const local = join(cli.home.path, 'rejects-download')
      await s3.download('lake5/events.rejects', local)
      const directory = join(local, 'lake5/events.rejects')
      const [file] = await readdir(directory)
      const rejected = (await readFile(join(directory, file), 'utf8'))
        .trimEnd()
        .split('\n')
        .map((line) => (JSON.parse(line) as {line: string}).line)
      expect(rejected).to.deep.equal(bad)
    } finally {
      cli.server.setEvents(events)
    }
  })

  describe('sync:events into dir=s3://bucket/prefix', () => {
    const now = {MPX_NOW: '2024-01-06T12:00:00Z'}
    const syncArgs = (prefix: string, ...more: string[]) => [
      'sync:events',
      ...parquetSinkFlags(`dir=s3://lake/${prefix}`),
      '--to',
      '2024-01-06',
      ...more,
    ]
    const late = (day: string, id: string) =>
      JSON.stringify({
        event: 'Late arrival',
        properties: {$insert_id: id, distinct_id: 'late', time: Date.parse(`${day}T12:00:00Z`) / 1000},
      })
    const keysUnder = async (prefix: string) => (await s3.keys()).filter((key) => key.startsWith(prefix))
    const dayKeys = (keys: string[], day: string) => keys.filter((key) => key.includes(`/event_date=${day}/`))
    const stateOf = async (prefix: string) =>
      JSON.parse(await s3.read(`${prefix}/events.mpx-sync.json`)) as {
        days: Record<string, {fetchedAt: string; inProgress: boolean; rows: number}>
        filters: unknown
        from: string
        kind: string
        lastSyncAt?: string
      }
    const eventsOf = (text: string) => lines(text) as Array<{event_time: string; insert_id: string}>
    const rowsByDay = (records: Array<{event_time: string}>) => {
      const rows: Record<string, number> = {}
      for (const record of records)
        rows[record.event_time.slice(0, 10)] = (rows[record.event_time.slice(0, 10)] ?? 0) + 1
      return rows
    }

    it("publishes each chunk's days with _SUCCESS, keeps its state beside the prefix, and a later sync replaces only the refreshed days, late events in", async () => {
      const fake = await startFakeMixpanel({
        auth: {apiSecret: 'x'},
        events,
        lateEvents: {lines: [late('2024-01-05', 'late-5'), late('2024-01-02', 'late-2')]},
      })
      try {
        const extra = {...now, MPX_API_URL: fake.url}
        const first = await run(syncArgs('sync1', '--from', '2024-01-01', '--chunk-days', '2', '--quiet'), extra)
        expect(first.code, first.stderr).to.equal(0)
        const streamed = eventsOf(
          (await run(['fetch:events', '2024-01-01', '2024-01-06', '--stdout', '--quiet'], extra)).stdout,
        )
        expect(byIdentity((await storedEvents('sync1/events')).map((row) => row.record))).to.deep.equal(
          byIdentity(streamed),
        )

        // The state object beside the prefix, never under it; every day whole, the marker, nothing staged.
        const before = await keysUnder('sync1/')
        expect(before).to.include.members(['sync1/events.mpx-sync.json', 'sync1/events/_SUCCESS'])
        expect(before.filter((key) => key.startsWith('sync1/events/') && !key.endsWith('.parquet'))).to.deep.equal([
          'sync1/events/_SUCCESS',
        ])
        for (const day of ['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05', '2024-01-06']) {
          expect(dayKeys(before, day), day).to.have.length(1)
        }

        expect((await s3.keys()).filter((key) => key.includes('.mpx-staging'))).to.deep.equal([])
        expect(await s3.openUploads()).to.deep.equal([])
        const state = await stateOf('sync1')
        expect(state).to.include({from: '2024-01-01', kind: 'events'})
        expect(state.filters).to.deep.equal({events: [], where: null})
        expect(state.lastSyncAt).to.be.a('string')
        expect(Object.fromEntries(Object.entries(state.days).map(([day, entry]) => [day, entry.rows]))).to.deep.equal(
          rowsByDay(streamed),
        )
        expect(Object.keys(state.days).filter((day) => state.days[day].inProgress)).to.deep.equal(['2024-01-06'])
        // The local lock and working directories are gone.
        expect(await readdir(join(cli.home.path, 'data', 'mpx', 'parquet-work'))).to.deep.equal([])

        fake.arrive()
        const again = await run(syncArgs('sync1', '--lookback-days', '2'), extra)
        expect(again.code, again.stderr).to.equal(0)
        expect(again.stderr).to.include('0 days missing, 2 refreshed (1 fetched while in progress), 1 request')
        const after = await keysUnder('sync1/')
        for (const day of ['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04']) {
          expect(dayKeys(after, day), day).to.deep.equal(dayKeys(before, day))
        }

        for (const day of ['2024-01-05', '2024-01-06']) {
          expect(dayKeys(after, day), day).to.have.length(1)
          expect(dayKeys(after, day), day).to.not.deep.equal(dayKeys(before, day))
        }

        // The refreshed days hold what Mixpanel returns now (late-5 in); the others are untouched (late-2 not fetched).
        const stored = (await storedEvents('sync1/events')).map((row) => row.record as {event_time: string})
        const refreshed = eventsOf(
          (await run(['fetch:events', '2024-01-05', '2024-01-06', '--stdout', '--quiet'], extra)).stdout,
        )
        expect(refreshed.map((event) => event.insert_id)).to.include('late-5')
        expect(byIdentity(stored.filter((event) => event.event_time >= '2024-01-05'))).to.deep.equal(
          byIdentity(refreshed),
        )
        expect(byIdentity(stored.filter((event) => event.event_time < '2024-01-05'))).to.deep.equal(
          byIdentity(streamed.filter((event) => event.event_time < '2024-01-05')),
        )
        const updated = await stateOf('sync1')
        expect(updated.days['2024-01-05'].rows).to.equal(state.days['2024-01-05'].rows + 1)
        expect(updated.days['2024-01-04']).to.deep.equal(state.days['2024-01-04'])
        expect(updated.days['2024-01-06'].fetchedAt > state.days['2024-01-06'].fetchedAt).to.equal(true)
        expect(updated.lastSyncAt! > state.lastSyncAt!).to.equal(true)
      } finally {
        await fake.close()
      }
    })

    it('refuses, before Mixpanel is asked: denied credentials (exit 2), a missing bucket (exit 4), a prefix a fetch filled (exit 3)', async () => {
      const requests = cli.server.requests.length
      const denied = await run(syncArgs('sync3', '--from', '2024-01-01'), {
        ...now,
        AWS_ACCESS_KEY_ID: 'AKIAWRONGWRONGWRONG1',
      })
      expect(denied.code, denied.stderr).to.equal(2)
      expect(denied.stderr).to.match(
        /^Error: .*Object storage refused to read s3:\/\/lake\/sync3\/events\.mpx-sync\.json \(InvalidAccessKeyId\)/,
      )
      expect(denied.stderr).to.not.include('S3RVER')
      const missing = await run(
        ['sync:events', ...parquetSinkFlags('dir=s3://no-such-bucket/lake'), '--from', '2024-01-01'],
        now,
      )
      expect(missing.code, missing.stderr).to.equal(4)
      expect(missing.stderr).to.match(/Bucket no-such-bucket does not exist \(NoSuchBucket\)/)
      expect(cli.server.requests.length).to.equal(requests)

      const fetched = await run(['fetch:events', '2024-01-01', '2024-01-02', ...sink('sync3')])
      expect(fetched.code, fetched.stderr).to.equal(0)
      const keys = await keysUnder('sync3/')
      const refused = await run(syncArgs('sync3', '--from', '2024-01-01'), now)
      expect(refused.code, refused.stderr).to.equal(3)
      expect(refused.stderr).to.match(/^Error: Table "events" holds rows mpx did not fetch/)
      expect(await keysUnder('sync3/')).to.deep.equal(keys)
    })

    it("interrupted during a chunk's publish keeps whole days and a state of what was committed; a rerun from another machine completes it", async () => {
      // The second chunk's upload is slow: Ctrl-C arrives while it is being published.
      s3.hold(/^PUT \/lake\/sync2\/\.mpx-staging\/events-[^/]+\/event_date(=|%3D)2024-01-03\//, 10_000)
      const extra = {...now}
      const child = spawn(
        process.execPath,
        [binRun, ...syncArgs('sync2', '--from', '2024-01-01', '--chunk-days', '2', '--quiet')],
        {env: {HOME: process.env.HOME, PATH: process.env.PATH, ...cli.env, ...extra}},
      )
      const closed = outcome(child)
      while (
        !s3.requests.some((request) =>
          /^PUT \/lake\/sync2\/\.mpx-staging\/.*event_date(=|%3D)2024-01-03\//.test(request),
        )
      ) {
        await sleep(20)
      }

      // Meanwhile a second sync of the same table on this machine fails at once (the lock).
      const second = await run(syncArgs('sync2', '--from', '2024-01-01'), extra)
      expect(second.code, second.stderr).to.equal(1)
      expect(second.stderr).to.match(/^Error: Table "events" is already being synced by another mpx \(PID \d+\)/)
      child.kill('SIGINT')
      const result = await closed
      expect(result.code, result.stderr).to.equal(130)
      expect(result.stderr).to.match(
        /^Error: Interrupted: saved 1 of 3 chunks \(2024-01-01\.\.2024-01-02\); run the same sync again to continue/m,
      )
      const keys = await keysUnder('sync2/')
      expect(keys.filter((key) => key.startsWith('sync2/events/event_date='))).to.have.length(2)
      expect(dayKeys(keys, '2024-01-01')).to.have.length(1)
      expect(dayKeys(keys, '2024-01-02')).to.have.length(1)
      expect(await s3.openUploads()).to.deep.equal([])
      const state = await stateOf('sync2')
      expect(Object.keys(state.days).sort()).to.deep.equal(['2024-01-01', '2024-01-02'])
      expect(state.lastSyncAt).to.equal(undefined)

      // Another machine (its own data directory) continues from the state in the bucket.
      const other = await oclifHomeWithParquet()
      try {
        const otherEnv = {...cli.env, ...other.env, ...extra}
        const rerun = await runMpx(syncArgs('sync2', '--lookback-days', '0', '--chunk-days', '2'), {env: otherEnv})
        expect(rerun.code, rerun.stderr).to.equal(0)
        expect(rerun.stderr).to.include('4 days missing, 0 refreshed')
      } finally {
        await other.remove()
      }

      const streamed = eventsOf((await run(['fetch:events', '2024-01-01', '2024-01-06', '--stdout', '--quiet'])).stdout)
      expect(byIdentity((await storedEvents('sync2/events')).map((row) => row.record))).to.deep.equal(
        byIdentity(streamed),
      )
      const after = await keysUnder('sync2/')
      expect(dayKeys(after, '2024-01-01')).to.deep.equal(dayKeys(keys, '2024-01-01'))
      expect(Object.keys((await stateOf('sync2')).days)).to.have.length(6)
      expect(after.filter((key) => key.includes('.mpx-staging'))).to.deep.equal([])
    })
  })

  it('sync:profiles refreshes a bucket table whole, replacing what an earlier sync left; --changed-only is refused', async () => {
    const first = await run(['sync:profiles', ...sink('lake-profiles')])
    expect(first.code, first.stderr).to.equal(0)
    const keysOf = async () => (await s3.keys()).filter((key) => key.startsWith('lake-profiles/profiles/'))
    const before = await keysOf()
    expect(before).to.include('lake-profiles/profiles/_SUCCESS')
    const again = await run(['sync:profiles', ...sink('lake-profiles')])
    expect(again.code, again.stderr).to.equal(0)
    const after = await keysOf()
    // One set of files after each refresh: the new ones replaced the old.
    expect(after.filter((key) => key.endsWith('.parquet'))).to.have.length(
      before.filter((key) => key.endsWith('.parquet')).length,
    )
    expect(after.filter((key) => key.endsWith('.parquet'))).to.not.deep.equal(
      before.filter((key) => key.endsWith('.parquet')),
    )
    const local = join(cli.home.path, 'sync-profiles-download')
    await s3.download('lake-profiles/profiles', local)
    const rows = await query(`SELECT count(*) AS n FROM '${local}/lake-profiles/profiles/*.parquet'`)
    expect(Number(rows[0].n)).to.equal(profiles.count)
    const changed = await run(['sync:profiles', ...sink('lake-profiles'), '--changed-only'])
    expect(changed.code).to.equal(3)
    expect(changed.stderr).to.match(/Only a DuckDB table can take just the profiles that changed/)
  })
})
