import {expect} from 'chai'

import {store, target} from '../../support/duckdb.js'
import {useDatabase} from '../../support/hooks.js'
import {normalizedEvents} from '../../support/normalized.js'

const events = normalizedEvents({count: 300, from: '2024-06-01', seed: 43, to: '2024-06-03'})

describe('tables:describe', () => {
  const database = useDatabase('describe.duckdb', (path) =>
    store(path, events, target({dateRange: {from: '2024-06-01', to: '2024-06-03'}})),
  )

  it('gives the columns and the most common keys of properties, with their JSON types', async () => {
    const result = await database.run(['tables:describe', 'events', '--db', database.path, '--keys', '40', '--json'])
    expect(result.code, result.stderr).to.equal(0)
    const table = JSON.parse(result.stdout)
    expect(table).to.include({from: '2024-06-01', kind: 'events', name: 'events', rows: 300, to: '2024-06-03'})
    expect(table.columns).to.deep.equal([
      {name: 'event_name', nullable: false, type: 'VARCHAR'},
      {name: 'event_time', nullable: false, type: 'TIMESTAMP WITH TIME ZONE'},
      {name: 'distinct_id', nullable: false, type: 'VARCHAR'},
      {name: 'insert_id', nullable: false, type: 'VARCHAR'},
      {name: 'properties', nullable: true, type: 'JSON'},
    ])
    const {examined, keys} = table.keys.properties as {
      examined: number
      keys: Array<{key: string; rows: number; types: string[]}>
    }
    expect(examined).to.equal(300)
    // Every event has $browser; about one in ten an account_id (a 19-digit integer).
    expect(keys[0]).to.deep.equal({key: '$browser', rows: 300, types: ['VARCHAR']})
    const accountId = keys.find((key) => key.key === 'account_id')
    expect(accountId?.types).to.deep.equal(['UBIGINT'])
    expect(accountId?.rows).to.equal(events.filter((line) => line.includes('"account_id"')).length)
    expect(keys.find((key) => key.key === 'cart')?.types).to.deep.equal(['OBJECT'])
    const counts = keys.map((key) => key.rows)
    expect(counts).to.deep.equal([...counts].sort((a, b) => b - a))
  })

  it('prints them as tables, limited to --keys', async () => {
    const result = await database.run(['tables:describe', 'EVENTS', '--db', database.path, '--keys', '3'])
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.match(/^events: 300 rows, events from 2024-06-01 to 2024-06-03, last fetched /)
    expect(result.stdout).to.match(/\nproperties +JSON +yes\n/)
    const keyLines = result.stdout.split('Most common keys of properties:\n\n')[1].trimEnd().split('\n')
    expect(keyLines[0]).to.match(/^KEY +ROWS +SHARE +TYPES$/)
    expect(keyLines).to.have.length(2 + 3)
    expect(keyLines[2]).to.match(/^\$browser +300 +100% +VARCHAR$/)
  })

  it('exits 4 for an unknown table', async () => {
    const result = await database.run(['tables:describe', 'nope', '--db', database.path])
    expect(result.code).to.equal(4)
    expect(result.stderr).to.include('No table "nope"')
  })
})
