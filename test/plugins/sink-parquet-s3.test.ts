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
import {type FakeMixpanel, startFakeMixpanel} from '../support/fake-mixpanel.js'
import {type FakeS3, startFakeS3} from '../support/fake-s3.js'
import {generateEvents, generateProfiles} from '../support/generate.js'
import {byIdentity, oclifHome, parquetPluginDir, query, readParquetEvents} from '../support/plugins.js'

const events = generateEvents({count: 600, from: '2024-01-01', seed: 11, to: '2024-01-06'})
const profiles = generateProfiles({count: 120, seed: 4})

const lines = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((line) => parseLossless(line))

describe('the Parquet sink plugin with dir=s3://bucket/prefix', () => {
  let server: FakeMixpanel
  let s3: FakeS3
  let home: Awaited<ReturnType<typeof oclifHome>>
  let env: Record<string, string>
  let counter = 0
  const run = (args: string[], extra: Record<string, string> = {}) => runMpx(args, {env: {...env, ...extra}})
  const sink = (prefix: string) => ['--sink', 'parquet', '--sink-option', `dir=s3://lake/${prefix}`, '--quiet']
  /** The objects under `prefix`, downloaded, read as events. */
  const storedEvents = async (prefix: string) => {
    const local = join(home.path, `download-${counter++}`)
    await s3.download(prefix, local)
    return readParquetEvents(`${local}/${prefix}/**/*.parquet`)
  }

  before(async () => {
    server = await startFakeMixpanel({auth: {apiSecret: 'x'}, events, profiles})
    s3 = await startFakeS3()
    home = await oclifHome()
    env = {...home.env, ...s3.env(), MP_API_SECRET: 'x', MPX_API_URL: server.url, MPX_RETRY_DELAY_MS: '1'}
    const linked = await run(['plugins:link', parquetPluginDir])
    expect(linked.code, linked.stderr).to.equal(0)
  })

  after(async () => {
    await server.close()
    await s3.close()
    await home.remove()
  })

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
    const local = join(home.path, 'profiles-download')
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
        {env: {HOME: process.env.HOME, PATH: process.env.PATH, ...env, MPX_API_URL: slow.url}},
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

    const requests = server.requests.length
    for (const options of [
      ['--sink-option', 'dir=s3://lake/lake6', '--sink-option', 'endpoint=minio:9000'],
      ['--sink-option', `dir=${join(home.path, 'local')}`, '--sink-option', `endpoint=${s3.url}`],
      ['--sink-option', 'dir=s3://lake/lake6', '--sink-option', 'path_style=maybe'],
    ]) {
      const refused = await run(['fetch:profiles', '--sink', 'parquet', ...options])
      expect(refused.code, `${options.join(' ')}: ${refused.stderr}`).to.equal(3)
      expect(refused.stderr.trim().split('\n'), refused.stderr).to.have.length(1)
    }

    expect(server.requests.length).to.equal(requests)
  })

  it('denied credentials exit 2 and a missing bucket exits 4, before Mixpanel is asked', async () => {
    const requests = server.requests.length
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
      '--sink',
      'parquet',
      '--sink-option',
      'dir=s3://no-such-bucket/lake',
    ])
    expect(missing.code).to.equal(4)
    expect(missing.stderr).to.match(/^Error: Bucket no-such-bucket does not exist \(NoSuchBucket\)/)
    expect(server.requests.length).to.equal(requests)

    const append = await run(['fetch:events', '2024-01-01', '2024-01-06', ...sink('lake4'), '--append'])
    expect(append.code).to.equal(3)
    expect(append.stderr).to.match(/replace the days instead, or append with --no-dedupe/)
  })

  it('quarantines bad records beside the table prefix, never under it, byte for byte, and exits 6', async () => {
    const bad = ['null', '{"event":"M","properties":{"time":1704153600000}}']
    server.setEvents([...events.lines(), ...bad])
    try {
      const result = await run(['fetch:events', '2024-01-01', '2024-01-06', ...sink('lake5')])
      expect(result.code, result.stderr).to.equal(6)
      const keys = await s3.keys()
      const rejectKeys = keys.filter((key) => key.startsWith('lake5/events.rejects/'))
      expect(rejectKeys).to.have.length(1)
      expect(result.stderr).to.include(`s3://lake/${rejectKeys[0]}`)
      expect(keys.filter((key) => key.startsWith('lake5/events/') && key.includes('rejects'))).to.deep.equal([])
      expect(await storedEvents('lake5/events')).to.have.length(600)
      const local = join(home.path, 'rejects-download')
      await s3.download('lake5/events.rejects', local)
      const directory = join(local, 'lake5/events.rejects')
      const [file] = await readdir(directory)
      const rejected = (await readFile(join(directory, file), 'utf8'))
        .trimEnd()
        .split('\n')
        .map((line) => (JSON.parse(line) as {line: string}).line)
      expect(rejected).to.deep.equal(bad)
    } finally {
      server.setEvents(events)
    }
  })
})
