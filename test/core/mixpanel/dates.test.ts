import {expect} from 'chai'
import {checkRange, daysIn, splitRange} from 'mpx-mixpanel-core/internal/mixpanel/dates.js'

describe('date ranges', () => {
  it('splits a range into consecutive chunks that never overlap and cover every day once', () => {
    const chunks = splitRange({from: '2024-01-30', to: '2024-03-02'}, 7)
    expect(chunks.map((chunk) => `${chunk.from}..${chunk.to}`)).to.deep.equal([
      '2024-01-30..2024-02-05',
      '2024-02-06..2024-02-12',
      '2024-02-13..2024-02-19',
      '2024-02-20..2024-02-26',
      '2024-02-27..2024-03-02',
    ])
    const days = chunks.reduce((sum, chunk) => sum + daysIn(chunk), 0)
    expect(days).to.equal(daysIn({from: '2024-01-30', to: '2024-03-02'}))
  })

  it('keeps a one-day range as one chunk', () => {
    expect(splitRange({from: '2024-05-05', to: '2024-05-05'}, 7)).to.deep.equal([
      {from: '2024-05-05', to: '2024-05-05'},
    ])
  })

  it('refuses impossible dates, wrong formats and FROM after TO', () => {
    expect(() => checkRange('2024-02-30', '2024-03-01')).to.throw(/FROM "2024-02-30" is not a date/)
    expect(() => checkRange('2024/01/01', '2024-03-01')).to.throw(/YYYY-MM-DD/)
    expect(() => checkRange('2024-03-02', '2024-03-01')).to.throw(/after TO/)
  })
})
