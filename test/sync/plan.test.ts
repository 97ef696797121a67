import {expect} from 'chai'
import {chunkDays, dayRanges, formatRanges, gapRanges} from 'mpx-mixpanel-core/internal/mixpanel/dates.js'
import {projectToday} from 'mpx-mixpanel-core/internal/mixpanel/today.js'

import {type DayState, eventDaySql} from '../../src/duckdb/day-state.js'
import {planSync} from '../../src/sync/plan.js'
import {describePlan} from '../../src/sync/sync-events.js'
import {setEnvironment} from '../support/temporary.js'

const held = (day: string, inProgress = false): DayState => ({
  day,
  fetchedAt: '2024-01-01T00:00:00Z',
  inProgress,
  rows: 1,
})
const daysOf = (from: number, to: number) =>
  Array.from({length: to - from + 1}, (_, i) => held(`2024-01-${String(from + i).padStart(2, '0')}`))

describe('sync planner', () => {
  it('a first sync plans every day, in chunks of --chunk-days', () => {
    const plan = planSync({chunkDays: 3, days: [], from: '2024-01-01', lookbackDays: 5, to: '2024-01-10'})
    expect(plan).to.include({inProgress: 0, missing: 10, refreshed: 0})
    expect(formatRanges(plan.chunks)).to.equal(
      '2024-01-01..2024-01-03, 2024-01-04..2024-01-06, 2024-01-07..2024-01-09, 2024-01-10',
    )
  })

  it('then the last N days up to TO, and nothing else', () => {
    const plan = planSync({chunkDays: 7, days: daysOf(1, 10), from: '2024-01-01', lookbackDays: 5, to: '2024-01-10'})
    expect(plan).to.include({missing: 0, refreshed: 5})
    expect(formatRanges(plan.chunks)).to.equal('2024-01-06..2024-01-10')
  })

  it('plans gaps, new days and days fetched while in progress; gaps do not share a request with other days', () => {
    const days = [...daysOf(1, 3), ...daysOf(6, 7), held('2024-01-08', true)]
    const plan = planSync({chunkDays: 30, days, from: '2024-01-01', lookbackDays: 1, to: '2024-01-12'})
    expect(plan).to.include({inProgress: 1, missing: 6, refreshed: 1})
    expect(formatRanges(plan.chunks)).to.equal('2024-01-04..2024-01-05, 2024-01-08..2024-01-12')
  })

  it('with --lookback-days 0 plans only missing days; a complete table needs no request', () => {
    const plan = planSync({chunkDays: 7, days: daysOf(1, 10), from: '2024-01-01', lookbackDays: 0, to: '2024-01-10'})
    expect(plan).to.deep.equal({chunks: [], inProgress: 0, missing: 0, refreshed: 0})
  })

  it('an earlier FROM plans the days before the table', () => {
    const plan = planSync({chunkDays: 7, days: daysOf(5, 10), from: '2024-01-03', lookbackDays: 0, to: '2024-01-10'})
    expect(formatRanges(plan.chunks)).to.equal('2024-01-03..2024-01-04')
  })

  it('day ranges and gaps, for mpx tables', () => {
    const days = ['2024-01-05', '2024-01-01', '2024-01-02', '2024-01-09', '2024-01-03']
    expect(formatRanges(dayRanges(days))).to.equal('2024-01-01..2024-01-03, 2024-01-05, 2024-01-09')
    expect(formatRanges(gapRanges(days))).to.equal('2024-01-04, 2024-01-06..2024-01-08')
    expect(chunkDays([], 3)).to.deep.equal([])
  })

  it("today and an event's day (in SQL) are the project's: UTC by default, else its timezone's", () => {
    const restore = setEnvironment({MPX_NOW: '2024-03-01T23:59:59Z'})
    try {
      expect(projectToday('UTC')).to.equal('2024-03-01')
      expect(projectToday('Asia/Tokyo')).to.equal('2024-03-02')
      expect(projectToday('America/Los_Angeles')).to.equal('2024-03-01')
    } finally {
      restore()
    }

    expect(eventDaySql('event_time')).to.equal('CAST(event_time AS DATE)')
    expect(eventDaySql('event_time', 'America/Los_Angeles')).to.equal(
      "CAST(timezone('America/Los_Angeles', event_time) AS DATE)",
    )
  })

  it('says the days missing, refreshed and requests, and the pace beyond 60 requests an hour', () => {
    const small = planSync({chunkDays: 7, days: [], from: '2024-01-01', lookbackDays: 5, to: '2024-01-10'})
    expect(describePlan('events', small, {from: '2024-01-01', to: '2024-01-10'})).to.equal(
      'Sync of events 2024-01-01..2024-01-10: 10 days missing, 0 refreshed, 2 requests',
    )
    const big = planSync({chunkDays: 1, days: [], from: '2024-01-01', lookbackDays: 5, to: '2024-05-09'})
    expect(big.chunks).to.have.length(130)
    expect(describePlan('events', big, {from: '2024-01-01', to: '2024-05-09'})).to.match(
      /130 requests, paced at Mixpanel's 60 an hour \(about 2 h\)$/,
    )
  })
})
