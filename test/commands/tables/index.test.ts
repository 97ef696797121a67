import {expect} from 'chai'
import {normalizeEventLine} from 'mpx-mixpanel-core/internal/records/events.js'
import {normalizeProfileLine} from 'mpx-mixpanel-core/internal/records/profiles.js'
import {join} from 'node:path'

import {runMpx} from '../../support/cli.js'
import {store, target} from '../../support/duckdb.js'
import {generateEvents, generateProfiles} from '../../support/generate.js'
import {temporaryDirectory} from '../../support/temporary.js'

const events = [...generateEvents({count: 120, from: '2024-06-01', seed: 41, to: '2024-06-03'}).lines()].map((line) =>
  normalizeEventLine(line),
)
const profiles = [...generateProfiles({count: 30, seed: 42}).lines()].map((line) => normalizeProfileLine(line))

describe('tables', () => {
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>
  let db: string
  const env = {MPX_CONFIG: '/nonexistent/mpx-test/config.json'}

  before(async () => {
    directory = await temporaryDirectory()
    db = join(directory.path, 'tables.duckdb')
    await store(db, events.slice(0, 100), target({dateRange: {from: '2024-06-01', to: '2024-06-02'}}))
    await store(db, events.slice(90), target({dateRange: {from: '2024-06-03', to: '2024-06-03'}, mode: 'append'}))
    await store(db, profiles, target({kind: 'profiles', table: 'people'}))
    const made = await runMpx(['sql', 'CREATE TABLE notes AS SELECT 1 AS x', '--db', db, '--write'], {env})
    expect(made.code, made.stderr).to.equal(0)
  })

  after(async () => directory.remove())

  it('lists tables with row counts, the days fetched and when, as JSON', async () => {
    const result = await runMpx(['tables', '--db', db, '--json'], {env})
    expect(result.code, result.stderr).to.equal(0)
    const tables = JSON.parse(result.stdout) as Array<Record<string, unknown>>
    expect(tables.map((table) => table.name)).to.deep.equal(['events', 'notes', 'people'])
    expect(tables[0]).to.include({fetches: 2, from: '2024-06-01', kind: 'events', rows: 120, to: '2024-06-03'})
    expect(tables[0].fetchedAt).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/)
    expect(tables[0].days).to.deep.equal({covered: ['2024-06-01..2024-06-03'], gaps: [], inProgress: []})
    expect(tables[1]).to.deep.equal({
      days: null,
      fetchedAt: null,
      fetches: 0,
      from: null,
      kind: null,
      lastSync: null,
      name: 'notes',
      rejected: 0,
      rejectedIn: null,
      rows: 1,
      to: null,
    })
    expect(tables[2]).to.include({fetches: 1, from: null, kind: 'profiles', rows: 30, to: null})
  })

  it('prints them as a table', async () => {
    const result = await runMpx(['tables', '--db', db], {env})
    expect(result.code, result.stderr).to.equal(0)
    const lines = result.stdout.trimEnd().split('\n')
    expect(lines[0]).to.match(/^TABLE +KIND +ROWS +FROM +TO +GAPS +IN PROGRESS +FETCHED +SYNCED$/)
    expect(lines[2]).to.match(/^events +events +120 +2024-06-01 +2024-06-03 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/)
    expect(lines[3]).to.match(/^notes +1$/)
    expect(lines[4]).to.match(/^people +profiles +30 +\d{4}/)
  })

  it('says when there are no tables, and exits 4 when there is no database', async () => {
    const empty = join(directory.path, 'empty.duckdb')
    expect((await runMpx(['sql', 'SELECT 1', '--db', empty, '--write'], {env})).code).to.equal(0)
    const none = await runMpx(['tables', '--db', empty], {env})
    expect(none.code).to.equal(0)
    expect(none.stdout).to.include(`No tables in ${empty} yet`)

    const missing = await runMpx(['tables', '--db', join(directory.path, 'missing.duckdb')], {env})
    expect(missing.code).to.equal(4)
    expect(missing.stderr).to.include('No database at')
  })
})
