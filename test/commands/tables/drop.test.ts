import {expect} from 'chai'
import {normalizeEventLine} from 'mpx-mixpanel-core/internal/records/events.js'
import {join} from 'node:path'

import {runMpx} from '../../support/cli.js'
import {queryValue, store, target} from '../../support/duckdb.js'
import {generateEvents} from '../../support/generate.js'
import {temporaryDirectory} from '../../support/temporary.js'

const events = [...generateEvents({count: 50, from: '2024-06-01', seed: 44, to: '2024-06-02'}).lines()].map((line) =>
  normalizeEventLine(line),
)

describe('tables:drop', () => {
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>
  let db: string
  const env = {MPX_CONFIG: '/nonexistent/mpx-test/config.json'}

  beforeEach(async () => {
    directory = await temporaryDirectory()
    db = join(directory.path, 'drop.duckdb')
    await store(db, events, target())
    await store(db, events.slice(0, 10), target({table: 'keep'}))
  })

  afterEach(async () => directory.remove())

  it('drops the table and forgets its fetches, leaving the others', async () => {
    const result = await runMpx(['tables:drop', 'events', '--db', db], {env})
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.equal(`Dropped table events (50 rows) from ${db}\n`)
    const tables = JSON.parse((await runMpx(['tables', '--db', db, '--json'], {env})).stdout) as Array<{name: string}>
    expect(tables.map((table) => table.name)).to.deep.equal(['keep'])
    expect(await queryValue(db, `SELECT list(table_name) FROM _mpx_fetches`))
      .to.have.property('items')
      .that.deep.equals(['keep'])

    // The name is free again for a plain (create) fetch.
    await store(db, events.slice(0, 5), target())
    expect(await queryValue(db, 'SELECT count(*) FROM events')).to.equal(5n)
  })

  it('exits 4 for an unknown table and 3 for mpx’s own, changing nothing', async () => {
    const unknown = await runMpx(['tables:drop', 'nope', '--db', db], {env})
    expect(unknown.code).to.equal(4)
    expect(unknown.stderr).to.include('No table "nope"')

    const own = await runMpx(['tables:drop', '_mpx_fetches', '--db', db], {env})
    expect(own.code).to.equal(3)
    expect(await queryValue(db, 'SELECT count(*) FROM _mpx_fetches')).to.equal(2n)
    expect(await queryValue(db, 'SELECT count(*) FROM events')).to.equal(50n)
  })
})
