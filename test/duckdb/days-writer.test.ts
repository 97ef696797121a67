import {expect} from 'chai'
import {schemas} from 'mpx-mixpanel-core/internal/records/schemas.js'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import type {DaysCapability, DaysTarget, SinkContext} from '../../src/sinks/sink.js'

import {openDatabase} from '../../src/duckdb/database.js'
import {duckdbDays} from '../../src/duckdb/days-writer.js'
import {recordBatch} from '../../src/fetch/batch.js'
import {queryLines} from '../support/duckdb.js'
import {useFreshDirectory} from '../support/hooks.js'
import {normalizedEvents} from '../support/normalized.js'

/** 300 events over 2024-03-01..2024-03-03. */
const lines = normalizedEvents({count: 300, from: '2024-03-01', seed: 7, to: '2024-03-03'})
const dayOf = (line: string) => (JSON.parse(line) as {event_time: string}).event_time.slice(0, 10)

describe('the DuckDB day writer of a sync', () => {
  let path = ''
  let days: DaysCapability
  const warnings: string[] = []
  const context: SinkContext = {dataDir: '', signal: new AbortController().signal, warn: (line) => warnings.push(line)}
  useFreshDirectory('mpx-days-writer-', (dir) => {
    path = join(dir, 'sync.duckdb')
    days = duckdbDays(() => ({path}))
    warnings.length = 0
  })

  const target = (from: string, to: string, table = 'events'): DaysTarget => ({
    days: {from, to},
    dedupe: true,
    filters: {events: [], limit: null, where: null},
    format: 'normalized',
    kind: 'events',
    mode: 'append',
    options: {path},
    schema: schemas.events,
    sync: {filters: {events: [], where: null}, from: '2024-03-01', oneChunkAtATime: true, today: '2024-03-10'},
    table,
  })
  const save = async (chunk: DaysTarget, records: readonly string[]) => {
    const writer = await days.replaceDays(chunk, context)
    await writer.write(recordBatch('events', 'normalized', records))
    return writer.commit()
  }

  const counts = async () =>
    queryLines(path, `SELECT CAST(day AS VARCHAR) AS day, row_count FROM _mpx_days ORDER BY day`)

  it('replaces exactly its days while it loads: the rows of other days stay, each event once', async () => {
    try {
      expect((await save(target('2024-03-01', '2024-03-03'), lines)).written).to.equal(300)
      const second = lines.filter((line) => dayOf(line) === '2024-03-02').slice(0, 10)
      // The same day again, each event twice: the day then holds those ten events, once each.
      expect((await save(target('2024-03-02', '2024-03-02'), [...second, ...second])).written).to.equal(10)
    } finally {
      await days.release!(target('2024-03-01', '2024-03-03'), context)
    }

    const perDay = (day: string) => lines.filter((line) => dayOf(line) === day).length
    expect(await counts()).to.deep.equal([
      `{"day":"2024-03-01","row_count":${perDay('2024-03-01')}}`,
      '{"day":"2024-03-02","row_count":10}',
      `{"day":"2024-03-03","row_count":${perDay('2024-03-03')}}`,
    ])
    expect(await queryLines(path, 'SELECT count(*) AS n FROM events')).to.deep.equal([
      `{"n":${perDay('2024-03-01') + 10 + perDay('2024-03-03')}}`,
    ])
  })

  it('lets go of the database when someone waits for it, and saves the chunk from its files', async () => {
    const chunk = target('2024-03-01', '2024-03-03')
    try {
      const writer = await days.replaceDays(chunk, context)
      await writer.write(recordBatch('events', 'normalized', lines.slice(0, 150)))
      // The writer opens the file to load into it: a reader then waits for it, and gets in.
      while (!existsSync(path)) await sleep(5)
      const reader = await openDatabase(path, {lockWaitMs: 10_000, readOnly: true})
      try {
        const held = await reader.connection.runAndReadAll(
          `SELECT count(*) FROM duckdb_tables() WHERE table_name = 'events'`,
        )
        expect(held.getRows(), 'nothing of the chunk was committed').to.deep.equal([[0n]])
      } finally {
        reader.close()
      }

      await writer.write(recordBatch('events', 'normalized', lines.slice(150)))
      expect((await writer.commit()).written).to.equal(300)
    } finally {
      await days.release!(chunk, context)
    }

    expect(await queryLines(path, 'SELECT count(*) AS n FROM events')).to.deep.equal(['{"n":300}'])
    expect(await counts()).to.have.length(3)
  })

  it('refuses a table that holds other columns, naming them, and leaves it as it was', async () => {
    const database = await openDatabase(path, {create: true})
    await database.connection.run('CREATE TABLE events (x INTEGER)')
    database.close()
    const chunk = target('2024-03-01', '2024-03-03')
    try {
      const error = await save(chunk, lines).catch((error_: unknown) => error_)
      expect((error as Error).message).to.equal(
        'Table "events" does not hold events (its columns: x): sync into another table',
      )
    } finally {
      await days.release!(chunk, context)
    }

    expect(await queryLines(path, 'SELECT count(*) AS n FROM events')).to.deep.equal(['{"n":0}'])
  })
})
