/**
 * The library's Workspace against the CLI: the same arguments give the same tables, row for row
 * (the CLI is the real binary, the library runs in this process; both against one fake Mixpanel).
 */

import {expect} from 'chai'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {Workspace} from '../../src/index.js'
import {repeatFlag, runMpx} from '../support/cli.js'
import {queryLines} from '../support/duckdb.js'
import {E2E_ACCOUNT, e2eEnv} from '../support/e2e.js'
import {type FakeMixpanel, startFakeMixpanel} from '../support/fake-mixpanel.js'
import {generateEvents, generateProfiles} from '../support/generate.js'
import {oclifHome, writeSinkPlugin} from '../support/plugins.js'
import {setEnvironment, temporaryDirectory} from '../support/temporary.js'

const TODAY = '2024-01-12'
const events = generateEvents({count: 600, from: '2024-01-01', seed: 19, to: '2024-01-12'})
const profiles = generateProfiles({count: 250, seed: 19})

describe('Workspace and the CLI store the same tables', function () {
  this.timeout(120_000)
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>
  let fake: FakeMixpanel
  let restore: () => void
  let count = 0
  const newDb = () => join(directory.path, `library-${++count}.duckdb`)
  const workspace = (db: string) =>
    new Workspace({
      apiUrl: fake.url,
      credentials: {projectId: 4242, ...E2E_ACCOUNT},
      dataDir: join(directory.path, 'data'),
      db,
      retry: {minDelayMs: 1},
    })
  const cli = async (...args: string[]) => {
    const result = await runMpx([...args, '--quiet'], {
      env: {...e2eEnv(fake.url, directory.path), MPX_NOW: `${TODAY}T12:00:00Z`},
    })
    expect(result.code, result.stderr).to.equal(0)
    return result
  }

  const rows = async (db: string, table: string, order: string) =>
    queryLines(db, `SELECT * FROM "${table}" ORDER BY ${order}`)
  const eventRows = async (db: string, table = 'events') => rows(db, table, 'insert_id, event_name, distinct_id')
  const days = async (db: string, table = 'events') =>
    queryLines(
      db,
      `SELECT CAST(day AS VARCHAR) AS day, row_count, in_progress FROM _mpx_days WHERE table_name = '${table}' ORDER BY day`,
    )

  before(async () => {
    directory = await temporaryDirectory()
    fake = await startFakeMixpanel({auth: E2E_ACCOUNT, events, profiles})
    restore = setEnvironment({MPX_NOW: `${TODAY}T12:00:00Z`})
  })

  after(async () => {
    restore()
    await fake.close()
    await directory.remove()
  })

  it('fetchEvents: the table of fetch:events with the same range and filters, and its summary', async () => {
    // The same event names for both, as -e flags and as the events option.
    const names = ['Signed up', 'Search']
    const nameFlags = repeatFlag('-e', names)
    const byCli = newDb()
    await cli('fetch:events', '2024-01-02', '2024-01-08', 'signups', '--db', byCli, ...nameFlags, '--chunk-days', '3')
    const byLibrary = newDb()
    const progress: number[] = []
    const result = await workspace(byLibrary).fetchEvents({
      chunkDays: 3,
      events: names,
      from: '2024-01-02',
      onProgress: (n) => progress.push(n),
      table: 'signups',
      to: '2024-01-08',
    })
    const stored = await eventRows(byLibrary, 'signups')
    expect(stored.length).to.be.greaterThan(0)
    expect(stored).to.deep.equal(await eventRows(byCli, 'signups'))
    expect(await days(byLibrary, 'signups')).to.deep.equal(await days(byCli, 'signups'))
    expect(result).to.deep.include({
      days: {from: '2024-01-02', to: '2024-01-08'},
      rows: stored.length,
      table: 'signups',
    })
    expect(result.location).to.include(byLibrary)
    expect(progress.at(-1)).to.be.at.least(stored.length)

    // append adds nothing twice (deduplicated), as --append
    await cli('fetch:events', '2024-01-06', '2024-01-10', 'signups', '--db', byCli, ...nameFlags, '--append')
    await workspace(byLibrary).fetchEvents({
      events: names,
      from: '2024-01-06',
      mode: 'append',
      table: 'signups',
      to: '2024-01-10',
    })
    expect(await eventRows(byLibrary, 'signups')).to.deep.equal(await eventRows(byCli, 'signups'))
  })

  it('fetchProfiles: the table of fetch:profiles', async () => {
    const byCli = newDb()
    await cli('fetch:profiles', '--db', byCli)
    const byLibrary = newDb()
    const result = await workspace(byLibrary).fetchProfiles()
    const stored = await rows(byLibrary, 'profiles', 'distinct_id')
    expect(stored).to.have.length(250)
    expect(stored).to.deep.equal(await rows(byCli, 'profiles', 'distinct_id'))
    expect(result).to.deep.include({rows: 250, table: 'profiles'})
  })

  it('syncEvents: the table and days of sync:events, first and repeated', async () => {
    const byCli = newDb()
    await cli('sync:events', '--db', byCli, '--from', '2024-01-01', '--chunk-days', '2')
    await cli('sync:events', '--db', byCli, '--chunk-days', '2', '--lookback-days', '3')
    const byLibrary = newDb()
    const ws = workspace(byLibrary)
    const info: string[] = []
    const first = await ws.syncEvents({chunkDays: 2, from: '2024-01-01', onInfo: (line) => info.push(line)})
    expect(info[0]).to.match(/^Sync of events 2024-01-01\.\.2024-01-12: 12 days missing, 0 refreshed, 6 requests/)
    expect(first).to.deep.include({chunks: 6, days: 12, range: {from: '2024-01-01', to: TODAY}, table: 'events'})
    const second = await ws.syncEvents({chunkDays: 2, lookbackDays: 3})
    expect(second.plan.refreshed).to.equal(3)
    expect(await eventRows(byLibrary)).to.deep.equal(await eventRows(byCli))
    expect(await days(byLibrary)).to.deep.equal(await days(byCli))
    expect(first.rows).to.equal(600)
  })

  it('a query while syncEvents runs in the same process waits for the sync to let go of the file; the sync then completes', async () => {
    const slow = await startFakeMixpanel({auth: E2E_ACCOUNT, events, latencyMs: 200})
    try {
      const db = newDb()
      const warnings: string[] = []
      const ws = new Workspace({
        apiUrl: slow.url,
        credentials: {projectId: 4242, ...E2E_ACCOUNT},
        db,
        onWarning: (message) => warnings.push(message),
      })
      let synced = false
      const syncing = ws.syncEvents({chunkDays: 1, from: '2024-01-01'}).then((result) => {
        synced = true
        return result
      })
      while (!existsSync(db)) await sleep(10)
      const [row] = await ws.sql('SELECT 42 AS answer')
      expect(Number(row.answer)).to.equal(42)
      expect(synced, 'the query did not wait for the whole sync').to.equal(false)
      // DuckDB does not keep one process's opens of a file apart: mpx does, as for another process.
      expect(warnings.join('\n')).to.match(
        /is in use in this process \(a fetch or sync into it runs\): waiting up to 15 s/,
      )
      expect((await syncing).rows).to.equal(600)
      expect(await days(db)).to.have.length(12)
    } finally {
      await slow.close()
    }
  })

  it('syncProfiles: the table of sync:profiles', async () => {
    const byCli = newDb()
    await cli('sync:profiles', '--db', byCli)
    const byLibrary = newDb()
    const result = await workspace(byLibrary).syncProfiles()
    expect(result.rows).to.equal(250)
    expect(await rows(byLibrary, 'profiles', 'distinct_id')).to.deep.equal(await rows(byCli, 'profiles', 'distinct_id'))
  })

  it('finds a plugin sink by name, as the CLI does (the plugins linked with mpx plugins:link)', async () => {
    const home = await oclifHome()
    const plugin = await writeSinkPlugin(join(home.path, 'plugin'), 'mpx-sink-counting', ['counting'])
    const linked = await runMpx(['plugins:link', plugin], {env: home.env})
    expect(linked.code, linked.stderr).to.equal(0)
    const restoreHome = setEnvironment(home.env)
    try {
      const ws = new Workspace({
        apiUrl: fake.url,
        credentials: {projectId: 4242, ...E2E_ACCOUNT},
        retry: {minDelayMs: 1},
      })
      const result = await ws.fetchEvents({from: '2024-01-01', sink: 'counting', table: 'counted', to: '2024-01-02'})
      expect(result).to.deep.include({rows: 0, table: 'counted'})
      const unknown = await ws
        .fetchEvents({from: '2024-01-01', sink: 'nope', to: '2024-01-02'})
        .catch((error: unknown) => error)
      expect((unknown as Error).message).to.match(/^No sink named "nope": available sinks are jsonl, duckdb, counting/)
    } finally {
      restoreHome()
      await home.remove()
    }
  })
})
