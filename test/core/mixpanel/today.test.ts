import {expect} from 'chai'
import {UsageError} from 'mpx-mixpanel-core/internal/errors.js'
import {clampToToday, dayBefore, now, projectToday} from 'mpx-mixpanel-core/internal/mixpanel/today.js'

const LA = 'America/Los_Angeles'
// 05:00 UTC on 2024-03-12 is still 2024-03-11 in Los Angeles.
const NOW = Date.parse('2024-03-12T05:00:00Z')

describe("the project's today", () => {
  it('is the day in the project’s timezone', () => {
    expect(projectToday('UTC', NOW)).to.equal('2024-03-12')
    expect(projectToday(LA, NOW)).to.equal('2024-03-11')
  })

  it('leaves a range that ends today or before as it is', () => {
    expect(clampToToday({from: '2024-03-01', to: '2024-03-11'}, LA, NOW)).to.deep.equal({
      range: {from: '2024-03-01', to: '2024-03-11'},
    })
  })

  it('clamps TO after today to today, with a note', () => {
    const {note, range} = clampToToday({from: '2024-03-01', to: '9999-12-31'}, LA, NOW)
    expect(range).to.deep.equal({from: '2024-03-01', to: '2024-03-11'})
    expect(note).to.equal(
      "TO 9999-12-31 is after the project's today (2024-03-11 in America/Los_Angeles): fetching up to 2024-03-11",
    )
  })

  it('refuses FROM after today (a usage error)', () => {
    expect(() => clampToToday({from: '2024-03-12', to: '2024-03-12'}, LA, NOW)).to.throw(
      UsageError,
      /FROM 2024-03-12 is after the project's today \(2024-03-11 in America\/Los_Angeles\)/,
    )
    expect(clampToToday({from: '2024-03-12', to: '2024-03-12'}, 'UTC', NOW).range.to).to.equal('2024-03-12')
  })

  it('takes now from MPX_NOW when set (tests), else the clock', () => {
    expect(now({MPX_NOW: '2024-03-12T05:00:00Z'})).to.equal(NOW)
    expect(Math.abs(now({}) - Date.now())).to.be.lessThan(60_000)
    expect(() => now({MPX_NOW: 'yesterday'})).to.throw(UsageError, /MPX_NOW/)
  })

  it('knows the day before', () => {
    expect(dayBefore('2024-03-01')).to.equal('2024-02-29')
  })
})
