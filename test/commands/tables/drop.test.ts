import {expect} from 'chai'

import {queryValue, store, target} from '../../support/duckdb.js'
import {useDatabase} from '../../support/hooks.js'
import {normalizedEvents} from '../../support/normalized.js'

const events = normalizedEvents({count: 50, from: '2024-06-01', seed: 44, to: '2024-06-02'})

describe('tables:drop', () => {
  const database = useDatabase(
    'drop.duckdb',
    async (path) => {
      await store(path, events, target())
      await store(path, events.slice(0, 10), target({table: 'keep'}))
    },
    'each test',
  )

  it('drops the table and forgets its fetches, leaving the others', async () => {
    const result = await database.run(['tables:drop', 'events', '--db', database.path])
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.equal(`Dropped table events (50 rows) from ${database.path}\n`)
    const listed = await database.run(['tables', '--db', database.path, '--json'])
    const tables = JSON.parse(listed.stdout) as Array<{name: string}>
    expect(tables.map((table) => table.name)).to.deep.equal(['keep'])
    expect(await queryValue(database.path, `SELECT list(table_name) FROM _mpx_fetches`))
      .to.have.property('items')
      .that.deep.equals(['keep'])

    // The name is free again for a plain (create) fetch.
    await store(database.path, events.slice(0, 5), target())
    expect(await queryValue(database.path, 'SELECT count(*) FROM events')).to.equal(5n)
  })

  it('exits 4 for an unknown table and 3 for mpx’s own, changing nothing', async () => {
    const unknown = await database.run(['tables:drop', 'nope', '--db', database.path])
    expect(unknown.code).to.equal(4)
    expect(unknown.stderr).to.include('No table "nope"')

    const own = await database.run(['tables:drop', '_mpx_fetches', '--db', database.path])
    expect(own.code).to.equal(3)
    expect(await queryValue(database.path, 'SELECT count(*) FROM _mpx_fetches')).to.equal(2n)
    expect(await queryValue(database.path, 'SELECT count(*) FROM events')).to.equal(50n)
  })
})
