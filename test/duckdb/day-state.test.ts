import {expect} from 'chai'
import {join} from 'node:path'

import {openDatabase} from '../../src/duckdb/database.js'
import {dayStart, eventDaySql, eventDaysSql} from '../../src/duckdb/day-state.js'
import {useFreshDirectory} from '../support/hooks.js'

describe('day-state: the rows of a range of project days', () => {
  let directory = ''
  useFreshDirectory('mpx-day-state-', (dir) => {
    directory = dir
  })

  it('starts a day at its first instant, in UTC and across clock changes', () => {
    expect(dayStart('2024-03-10')).to.equal('2024-03-10T00:00:00.000Z')
    expect(dayStart('2024-03-10', 'America/Los_Angeles')).to.equal('2024-03-10T08:00:00.000Z')
    // The day after the spring change starts an hour earlier in UTC.
    expect(dayStart('2024-03-11', 'America/Los_Angeles')).to.equal('2024-03-11T07:00:00.000Z')
    expect(dayStart('2024-11-04', 'America/Los_Angeles')).to.equal('2024-11-04T08:00:00.000Z')
    // São Paulo skipped midnight on 2018-11-04 (00:00 became 01:00): the day starts at the change.
    expect(dayStart('2018-11-04', 'America/Sao_Paulo')).to.equal('2018-11-04T03:00:00.000Z')
    expect(dayStart('2024-06-01', 'Asia/Kolkata')).to.equal('2024-05-31T18:30:00.000Z')
  })

  for (const [timezone, ranges] of [
    ['UTC', [{from: '2024-03-10', to: '2024-03-10'}]],
    [
      'America/Los_Angeles',
      [
        {from: '2024-03-10', to: '2024-03-10'},
        {from: '2024-11-03', to: '2024-11-04'},
      ],
    ],
    ['America/Sao_Paulo', [{from: '2018-11-04', to: '2018-11-04'}]],
    ['Asia/Kolkata', [{from: '2024-03-10', to: '2024-03-11'}]],
  ] as const) {
    it(`selects the same rows as the day of each row, in ${timezone}`, async () => {
      const database = await openDatabase(join(directory, 'days.duckdb'), {create: true})
      try {
        const {connection} = database
        // Every quarter hour around the clock changes of 2018 and 2024, and the instants either side of each.
        await connection.run(`CREATE OR REPLACE TABLE t AS
          WITH instants AS (
            SELECT unnest(generate_series(start, start + INTERVAL 6 DAY, INTERVAL 15 MINUTE)) AS q
            FROM (VALUES (TIMESTAMPTZ '2018-11-01 00:00:00+00'), (TIMESTAMPTZ '2024-03-08 00:00:00+00'),
              (TIMESTAMPTZ '2024-11-01 00:00:00+00')) AS s(start))
          SELECT q + to_microseconds(o) AS event_time FROM instants, (VALUES (0), (-1), (1)) AS v(o)`)
        for (const range of ranges) {
          const count = async (where: string) =>
            Number((await connection.runAndReadAll(`SELECT count(*) FROM t WHERE ${where}`)).getRows()[0][0])
          const byDay = await count(
            `${eventDaySql('event_time', timezone)} BETWEEN DATE '${range.from}' AND DATE '${range.to}'`,
          )
          const bySpan = await count(eventDaysSql('event_time', range, timezone))
          expect(byDay, `${range.from}..${range.to}`).to.be.greaterThan(0)
          expect(bySpan, `${range.from}..${range.to}`).to.equal(byDay)
          const outside = await count(
            `${eventDaysSql('event_time', range, timezone)} AND ${eventDaySql('event_time', timezone)} NOT BETWEEN DATE '${range.from}' AND DATE '${range.to}'`,
          )
          expect(outside).to.equal(0)
        }
      } finally {
        database.close()
      }
    })
  }
})
