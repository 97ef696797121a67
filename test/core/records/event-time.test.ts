import {expect} from 'chai'
import {
  checkEventSeconds,
  END_EVENT_SECONDS,
  MILLISECONDS_FROM,
  MIN_EVENT_SECONDS,
} from 'mpx-mixpanel-core/internal/records/event-time.js'

describe('checkEventSeconds: which times an event may have', () => {
  it('takes seconds from the year 0000 to 5138, fractions and negatives included', () => {
    for (const seconds of [
      0,
      1_704_067_200,
      1_704_067_200.25,
      -86_401,
      1.7e9,
      MIN_EVENT_SECONDS,
      MILLISECONDS_FROM - 0.001,
    ]) {
      expect(checkEventSeconds(seconds), String(seconds)).to.equal(undefined)
    }

    expect(new Date(MIN_EVENT_SECONDS * 1000).toISOString()).to.equal('0000-01-01T00:00:00.000Z')
    expect(new Date((END_EVENT_SECONDS - 0.001) * 1000).toISOString()).to.equal('9999-12-31T23:59:59.999Z')
  })

  it('says when a value looks like milliseconds, without guessing', () => {
    // Seconds of the years 5138 to 9999 are milliseconds of 1973 to 1977: neither is taken.
    expect(checkEventSeconds(END_EVENT_SECONDS - 1)).to.match(/looks like milliseconds/)
    expect(checkEventSeconds(1_704_067_211_000)).to.equal(
      'properties.time 1704067211000 looks like milliseconds, not seconds',
    )
    expect(checkEventSeconds(-1_000_000_000_000)).to.match(/looks like milliseconds/)
    // From the year 5138 on, a value is taken for milliseconds (no event is that far ahead).
    expect(checkEventSeconds(1e11)).to.match(/looks like milliseconds/)
    expect(checkEventSeconds(1e11 - 1)).to.equal(undefined)
  })

  it('refuses what is outside the years 0000 to 9999 or not a finite number', () => {
    expect(checkEventSeconds(1e30)).to.equal('properties.time 1e+30 is outside the years 0000 to 9999')
    expect(checkEventSeconds(END_EVENT_SECONDS * 1000)).to.match(/outside the years 0000 to 9999/)
    expect(checkEventSeconds(MIN_EVENT_SECONDS - 1)).to.match(/outside the years/)
    expect(checkEventSeconds(-1e20)).to.match(/outside the years/)
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number('NaN'), Number('x')]) {
      expect(checkEventSeconds(value)).to.equal('properties.time is not a finite number')
    }
  })
})
