/**
 * mpx sync:events end to end (the real binary against the fake Mixpanel): first and repeated
 * syncs, late events, gaps, interrupts, filters, two syncs at once and a reader during a sync.
 */

import {expect} from 'chai'
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {binRun, type CliResult, runMpx} from '../support/cli.js'
import {queryLines} from '../support/duckdb.js'
import {E2E_ACCOUNT, e2eEnv, expectOneLineError} from '../support/e2e.js'
import {type FakeMixpanel, type FakeMixpanelOptions, startFakeMixpanel} from '../support/fake-mixpanel.js'
import {dayStartSeconds, generateEvents} from '../support/generate.js'
import {temporaryDirectory} from '../support/temporary.js'

/** 1200 events over 2024-01-01..2024-01-12; "today" is 2024-01-12 for every run. */
const events = generateEvents({count: 1200, from: '2024-01-01', seed: 12, to: '2024-01-12'})
const TODAY = '2024-01-12'

/** An event of `day` that Mixpanel receives late. */
function lateEvent(day: string, n: number): string {
  const time = dayStartSeconds(day) + 3600 + n
  return JSON.stringify({
    event: 'Late arrival',
    properties: {$insert_id: `late-${day}-${n}`, distinct_id: `late-user-${n}`, time},
  })
}

interface Spawned {
  readonly child: ChildProcess
  readonly closed: Promise<CliResult>
}

describe('mpx sync:events (real binary)', function () {
  this.timeout(120_000)
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>
  let count = 0
  const servers: FakeMixpanel[] = []

  const env = (server: FakeMixpanel) => ({...e2eEnv(server.url, directory.path), MPX_NOW: `${TODAY}T12:00:00Z`})
  const newDb = () => join(directory.path, `sync-${++count}.duckdb`)
  async function server(options: Partial<FakeMixpanelOptions> = {}): Promise<FakeMixpanel> {
    const started = await startFakeMixpanel({auth: E2E_ACCOUNT, events, ...options})
    servers.push(started)
    return started
  }

  /** 2024-01-01..2024-01-10, a day a chunk: ten export requests, to watch or stop a sync between them. */
  const tenDaysByDay = ['--from', '2024-01-01', '--to', '2024-01-10', '--chunk-days', '1']
  const sync = async (fake: FakeMixpanel, db: string, ...args: string[]) =>
    runMpx(['sync:events', '--db', db, ...args], {env: env(fake)})

  function start(fake: FakeMixpanel, args: string[]): Spawned {
    const child = spawn(process.execPath, [binRun, ...args], {
      env: {HOME: process.env.HOME, PATH: process.env.PATH, ...env(fake)},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    const closed = new Promise<CliResult>((resolve) => {
      child.on('close', (code, signal) => resolve({code, signal, stderr, stdout}))
    })
    return {child, closed}
  }

  async function exportRequests(fake: FakeMixpanel, atLeast: number): Promise<void> {
    while (fake.requests.filter((request) => request.endpoint === 'export').length < atLeast) await sleep(20)
  }

  /** The events table, every column, in a stable order. */
  const table = async (db: string, name = 'events') =>
    queryLines(db, `SELECT * FROM "${name}" ORDER BY insert_id, event_name, distinct_id`)
  const days = async (db: string, name = 'events') =>
    queryLines(
      db,
      `SELECT CAST(day AS VARCHAR) AS day, row_count, in_progress FROM _mpx_days WHERE table_name = '${name}' ORDER BY day`,
    )

  /** What an uninterrupted fetch of the range stores. */
  async function fetched(from: string, to: string, fake: FakeMixpanel): Promise<string[]> {
    const db = newDb()
    const result = await runMpx(['fetch:events', from, to, '--db', db, '--quiet'], {env: env(fake)})
    expect(result.code, result.stderr).to.equal(0)
    return table(db)
  }

  before(async () => {
    directory = await temporaryDirectory()
  })

  afterEach(async () => {
    await Promise.all(servers.splice(0).map(async (fake) => fake.close()))
  })

  after(async () => directory.remove())

  it('needs --from on a first sync, then fetches every day, each chunk its own request', async () => {
    const fake = await server()
    const db = newDb()
    const first = await sync(fake, db)
    expect(first.code).to.equal(3)
    expectOneLineError(first.stderr, /has not been synced yet: give --from/)
    expect(existsSync(db), 'no database made').to.equal(false)

    const result = await sync(fake, db, '--from', '2024-01-01', '--to', '2024-01-10', '--chunk-days', '3')
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.equal('')
    expect(result.stderr).to.include('Sync of events 2024-01-01..2024-01-10: 10 days missing, 0 refreshed, 4 requests')
    expect(await table(db)).to.deep.equal(await fetched('2024-01-01', '2024-01-10', fake))
    const recorded = await days(db)
    expect(recorded).to.have.length(10)
    expect(recorded[0]).to.match(/"day":"2024-01-01","row_count":\d+,"in_progress":false/)
  })

  it('a repeated sync re-reads only the look-back days and leaves an identical table; today is in progress', async () => {
    const fake = await server()
    const db = newDb()
    expect((await sync(fake, db, '--from', '2024-01-01', '--chunk-days', '3')).code).to.equal(0)
    const before = await table(db)
    expect(before).to.deep.equal(await fetched('2024-01-01', TODAY, fake))
    expect((await days(db)).at(-1)).to.include('"in_progress":true')

    const requestsBefore = fake.requests.length
    const again = await sync(fake, db, '--chunk-days', '3')
    expect(again.code, again.stderr).to.equal(0)
    expect(again.stderr).to.include('0 days missing, 5 refreshed (1 fetched while in progress), 2 requests')
    const asked = fake.requests
      .slice(requestsBefore)
      .map((request) => `${request.params.from_date}..${request.params.to_date}`)
    expect(asked).to.deep.equal(['2024-01-08..2024-01-10', '2024-01-11..2024-01-12'])
    expect(await table(db)).to.deep.equal(before)
  })

  it('with --concurrency, chunks are fetched ahead while one is saved: the same table', async () => {
    const fake = await server({latencyMs: 50})
    const db = newDb()
    const result = await sync(fake, db, ...tenDaysByDay, '--concurrency', '4')
    expect(result.code, result.stderr).to.equal(0)
    expect(await table(db)).to.deep.equal(await fetched('2024-01-01', '2024-01-10', fake))
    expect(await days(db)).to.have.length(10)
  })

  it('late events: taken in inside the look-back, not outside it; nothing twice', async () => {
    const late = [lateEvent('2024-01-10', 1), lateEvent('2024-01-10', 2), lateEvent('2024-01-03', 3)]
    const fake = await server({lateEvents: {lines: late}})
    const db = newDb()
    expect((await sync(fake, db, '--from', '2024-01-01', '--to', '2024-01-11')).code).to.equal(0)
    const rowsBefore = (await table(db)).length
    fake.arrive()
    const again = await sync(fake, db, '--to', '2024-01-11', '--lookback-days', '3')
    expect(again.code, again.stderr).to.equal(0)
    const rows = await table(db)
    expect(rows.length).to.equal(rowsBefore + 2)
    expect(rows.some((row) => row.includes('late-2024-01-10-1'))).to.equal(true)
    expect(rows.some((row) => row.includes('late-2024-01-03-3'))).to.equal(false)
    // A longer look-back brings the older one in too.
    expect((await sync(fake, db, '--to', '2024-01-11', '--lookback-days', '10')).code).to.equal(0)
    expect((await table(db)).length).to.equal(rowsBefore + 3)
  })

  it('fills the gap between two fetches, fetching only the missing days', async () => {
    const fake = await server()
    const db = newDb()
    const quiet = ['--db', db, '--quiet']
    expect((await runMpx(['fetch:events', '2024-01-01', '2024-01-03', ...quiet], {env: env(fake)})).code).to.equal(0)
    const appended = await runMpx(['fetch:events', '2024-01-06', '2024-01-08', ...quiet, '--append'], {env: env(fake)})
    expect(appended.code, appended.stderr).to.equal(0)
    const listed = await runMpx(['tables', '--db', db, '--json'], {env: env(fake)})
    expect(listed.code, listed.stderr).to.equal(0)
    const [before] = JSON.parse(listed.stdout) as Array<Record<string, unknown>>
    expect(before).to.include({from: '2024-01-01', lastSync: null, to: '2024-01-08'})
    expect(before.days).to.deep.equal({
      covered: ['2024-01-01..2024-01-03', '2024-01-06..2024-01-08'],
      gaps: ['2024-01-04..2024-01-05'],
      inProgress: [],
    })
    const requestsBefore = fake.requests.length
    const result = await sync(fake, db, '--to', '2024-01-08', '--lookback-days', '0')
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stderr).to.include('2024-01-01..2024-01-08: 2 days missing, 0 refreshed, 1 request')
    expect(fake.requests.slice(requestsBefore).map((request) => request.params.from_date)).to.deep.equal(['2024-01-04'])
    expect(await table(db)).to.deep.equal(await fetched('2024-01-01', '2024-01-08', fake))
    const after = await runMpx(['tables:describe', 'events', '--db', db], {env: env(fake)})
    expect(after.code, after.stderr).to.equal(0)
    expect(after.stdout).to.include('Days held: 2024-01-01..2024-01-08\n')
    expect(after.stdout).to.match(/Last sync: \d{4}-\d\d-\d\dT/)
    expect(after.stdout).to.not.include('Gaps')
  })

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
    it(`${signal} midway keeps the saved chunks; the same command continues to the same table`, async () => {
      const fake = await server({latencyMs: 150})
      const db = newDb()
      const args = ['sync:events', '--db', db, ...tenDaysByDay]
      const running = start(fake, args)
      await exportRequests(fake, 5)
      running.child.kill(signal)
      const stopped = await running.closed
      if (signal === 'SIGKILL') {
        expect(stopped.signal).to.equal('SIGKILL')
      } else {
        expect(stopped.code).to.equal(130)
        expect(stopped.stderr).to.match(
          /Error: Interrupted: saved \d+ of 10 chunks \(2024-01-01.*run the same sync again/,
        )
      }

      const saved = await days(db)
      expect(saved.length).to.be.within(1, 9)
      const rerun = await sync(fake, db, '--to', '2024-01-10', '--chunk-days', '1', '--lookback-days', '0')
      expect(rerun.code, rerun.stderr).to.equal(0)
      expect(rerun.stderr).to.include(`${10 - saved.length} days missing`)
      const uninterrupted = newDb()
      expect((await sync(fake, uninterrupted, '--from', '2024-01-01', '--to', '2024-01-10')).code).to.equal(0)
      expect(await table(db)).to.deep.equal(await table(uninterrupted))
      expect(await days(db)).to.deep.equal(await days(uninterrupted))
    })
  }

  it('retries exhausted midway: says what was saved and how to continue; the rerun completes the table', async () => {
    const fake = await server()
    fake.fail('export', {match: (request) => request.params.from_date === '2024-01-05', status: 500}, 1)
    const db = newDb()
    const args = ['--to', '2024-01-08', '--chunk-days', '2', '--retries', '0', '--lookback-days', '0']
    const failed = await sync(fake, db, '--from', '2024-01-01', ...args)
    expect(failed.code, failed.stderr).to.equal(1)
    expect(failed.stderr).to.match(
      /Error: .*500.*\(saved 2 of 4 chunks \(2024-01-01\.\.2024-01-04\); run the same sync again to continue\)\n$/,
    )
    expect(await days(db)).to.have.length(4)
    const rerun = await sync(fake, db, ...args)
    expect(rerun.code, rerun.stderr).to.equal(0)
    expect(rerun.stderr).to.include('4 days missing, 0 refreshed, 2 requests')
    expect(await table(db)).to.deep.equal(await fetched('2024-01-01', '2024-01-08', fake))
  })

  it('refuses a sync whose filters differ from the table’s (exit 3), naming both', async () => {
    const fake = await server()
    const db = newDb()
    expect((await sync(fake, db, '--from', '2024-01-01', '--to', '2024-01-02', '-e', 'Signed up')).code).to.equal(0)
    const other = await sync(fake, db, '--to', '2024-01-02', '-w', 'properties["plan"] == "pro"')
    expect(other.code).to.equal(3)
    expectOneLineError(
      other.stderr,
      /holds "Signed up", where none; this sync asks for all events, where "properties\[\\"plan\\"\] == \\"pro\\""/,
    )
  })

  it('a second sync of the same table fails at once while one runs; a reader is not locked out', async () => {
    const fake = await server({latencyMs: 200})
    const db = newDb()
    const running = start(fake, ['sync:events', 'events', '--db', db, ...tenDaysByDay])
    await exportRequests(fake, 3)
    const second = await sync(fake, db, '--to', '2024-01-10')
    expect(second.code).to.equal(1)
    expectOneLineError(second.stderr, /Table "events" is already being synced by another mpx \(PID \d+\)/)
    const reader = await runMpx(['sql', 'SELECT count(*) > 0 AS some FROM _mpx_days', '--db', db, '--format', 'csv'], {
      env: env(fake),
    })
    expect(reader.code, reader.stderr).to.equal(0)
    expect(reader.stdout).to.include('true')
    const tables = await runMpx(['tables', '--db', db, '--json'], {env: env(fake)})
    expect(tables.code, tables.stderr).to.equal(0)
    const done = await running.closed
    expect(done.code, done.stderr).to.equal(0)
  })

  it('a reader while a chunk is fetched gets in: the sync lets go of the database, then saves the chunk from its files', async () => {
    const fake = await server()
    // One chunk that stalls after 600 records: meanwhile the sync holds the database, loading what came.
    fake.fail('export', {stallAfterRecords: 600, stallMs: 8000})
    const db = newDb()
    const running = start(fake, ['sync:events', 'events', '--db', db, '--from', '2024-01-01', '--to', '2024-01-10'])
    while (!existsSync(db)) await sleep(20)
    const reader = await runMpx(['sql', 'SELECT 42 AS answer', '--db', db, '--format', 'csv'], {env: env(fake)})
    expect(reader.code, reader.stderr).to.equal(0)
    expect(reader.stdout).to.include('42')
    expect(reader.stderr, 'the sync held the database while it fetched').to.match(/in use by another process/)
    expect(running.child.exitCode, 'the sync is still in its one chunk').to.equal(null)
    const done = await running.closed
    expect(done.code, done.stderr).to.equal(0)
    expect(await table(db)).to.deep.equal(await fetched('2024-01-01', '2024-01-10', fake))
    expect(await days(db)).to.have.length(10)
  })

  it('a fetch with --limit records no days; tables:drop forgets them; a --to after today is synced up to today, with a note', async () => {
    const fake = await server()
    const db = newDb()
    const limited = await runMpx(['fetch:events', '2024-01-01', '2024-01-03', '--db', db, '--limit', '5', '--quiet'], {
      env: env(fake),
    })
    expect(limited.code, limited.stderr).to.equal(0)
    const listed = await runMpx(['tables', '--db', db, '--json'], {env: env(fake)})
    expect((JSON.parse(listed.stdout) as Array<{days: unknown}>)[0].days).to.equal(null)
    expect((await sync(fake, db, '--from', '2024-01-01', '--to', '2024-01-03', '--quiet')).code).to.equal(0)
    expect(await days(db)).to.have.length(3)
    const dropped = await runMpx(['tables:drop', 'events', '--db', db], {env: env(fake)})
    expect(dropped.code, dropped.stderr).to.equal(0)
    expect(await queryLines(db, 'SELECT count(*) AS n FROM _mpx_days')).to.deep.equal(['{"n":0}'])
    expect(await queryLines(db, 'SELECT count(*) AS n FROM _mpx_syncs')).to.deep.equal(['{"n":0}'])
    const future = await sync(fake, db, '--from', '2024-01-10', '--to', '2024-01-13')
    expect(future.code, future.stderr).to.equal(0)
    expect(future.stderr).to.match(
      /TO 2024-01-13 is after the project's today \(2024-01-12 UTC\): fetching up to 2024-01-12/,
    )
    const synced = await queryLines(db, "SELECT max(day) AS last FROM _mpx_days WHERE table_name = 'events'")
    expect(synced).to.deep.equal(['{"last":"2024-01-12"}'])
    const fromFuture = await sync(fake, db, '--from', '2024-01-13')
    expect(fromFuture.code).to.equal(3)
    expectOneLineError(fromFuture.stderr, /FROM 2024-01-13 is after the project's today/)
  })

  it('quarantines bad records per day: exit 6, a refreshed day replaces its rejects instead of adding them again', async () => {
    const lines = [...events.lines()]
    const bad = ['null', '{"event":"X"}', '{"event":"Y","properties":null}']
    // The fake sends a line without a readable time with the line before it: all three go with the last event.
    const fake = await server({events: [...lines, ...bad]})
    const db = newDb()
    const first = await sync(fake, db, '--from', '2024-01-01', '--chunk-days', '3', '--quiet')
    expect(first.code, first.stderr).to.equal(6)
    expect(first.stderr, first.stderr).to.include(
      `3 events could not be stored and were quarantined: see _mpx_rejects in ${db}`,
    )
    const rejects = () =>
      queryLines(db, "SELECT line, reason FROM _mpx_rejects WHERE table_name = 'events' ORDER BY line")
    const stored = await rejects()
    expect(stored.map((row) => (JSON.parse(row) as {line: string}).line)).to.deep.equal([...bad].sort())
    expect(await queryLines(db, 'SELECT count(*) AS n FROM events')).to.deep.equal([`{"n":${lines.length}}`])

    // The next sync refreshes the last days (the look-back), where the bad records are: the same three, once.
    const again = await sync(fake, db, '--quiet')
    expect(again.code, again.stderr).to.equal(6)
    expect(await rejects()).to.deep.equal(stored)
    const strict = await sync(fake, db, '--quiet', '--bad-records', 'fail')
    expect(strict.code).to.equal(1)
    expect(await rejects()).to.deep.equal(stored)
  })

  it('refuses the JSONL sink in one line: it keeps no state', async () => {
    const fake = await server()
    const result = await runMpx(['sync:events', '--sink', 'jsonl', '--from', '2024-01-01'], {env: env(fake)})
    expect(result.code).to.equal(3)
    expectOneLineError(result.stderr, /Sink "jsonl" keeps no record of what it holds/)
  })
})
