import {expect} from 'chai'
import {join} from 'node:path'

import {store, target} from '../../support/duckdb.js'
import {useDatabase} from '../../support/hooks.js'
import {normalizedEvents, normalizedProfiles} from '../../support/normalized.js'

const events = normalizedEvents({count: 120, from: '2024-06-01', seed: 41, to: '2024-06-03'})
const profiles = normalizedProfiles({count: 30, seed: 42})

describe('tables', () => {
  const database = useDatabase('tables.duckdb', async (path) => {
    await store(path, events.slice(0, 100), target({dateRange: {from: '2024-06-01', to: '2024-06-02'}}))
    await store(path, events.slice(90), target({dateRange: {from: '2024-06-03', to: '2024-06-03'}, mode: 'append'}))
    await store(path, profiles, target({kind: 'profiles', table: 'people'}))
    const made = await database.run(['sql', 'CREATE TABLE notes AS SELECT 1 AS x', '--db', path, '--write'])
    expect(made.code, made.stderr).to.equal(0)
  })

  it('lists tables with row counts, the days fetched and when, as JSON', async () => {
    const result = await database.run(['tables', '--db', database.path, '--json'])
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
    const result = await database.run(['tables', '--db', database.path])
    expect(result.code, result.stderr).to.equal(0)
    const lines = result.stdout.trimEnd().split('\n')
    expect(lines[0]).to.match(/^TABLE +KIND +ROWS +FROM +TO +GAPS +IN PROGRESS +FETCHED +SYNCED$/)
    expect(lines[2]).to.match(/^events +events +120 +2024-06-01 +2024-06-03 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/)
    expect(lines[3]).to.match(/^notes +1$/)
    expect(lines[4]).to.match(/^people +profiles +30 +\d{4}/)
  })

  it('says when there are no tables, and exits 4 when there is no database', async () => {
    const empty = join(database.directory, 'empty.duckdb')
    expect((await database.run(['sql', 'SELECT 1', '--db', empty, '--write'])).code).to.equal(0)
    const none = await database.run(['tables', '--db', empty])
    expect(none.code).to.equal(0)
    expect(none.stdout).to.include(`No tables in ${empty} yet`)

    const missing = await database.run(['tables', '--db', join(database.directory, 'missing.duckdb')])
    expect(missing.code).to.equal(4)
    expect(missing.stderr).to.include('No database at')
  })
})
