import {expect} from 'chai'
import {UsageError} from 'mpx-mixpanel-core/internal/errors.js'
import {normalizeEventLine, slowNormalizeEventLine} from 'mpx-mixpanel-core/internal/records/events.js'
import {checkTimezone, dayIn, isUtc, WallClock} from 'mpx-mixpanel-core/internal/records/wall-clock.js'

import {generateEvents} from '../../support/generate.js'
import {legacyLine, wallClockSeconds} from '../../support/legacy-time.js'

const LA = 'America/Los_Angeles'
const seconds = (iso: string): number => Date.parse(iso) / 1000
const iso = (utcSeconds: number): string => new Date(utcSeconds * 1000).toISOString()
/** Wall-clock seconds of a local date and time, written as if UTC. */
const wall = (local: string): number => seconds(`${local}Z`)

describe('wall clock to UTC', () => {
  it('converts a legacy project’s wall-clock seconds to the true instant, in winter and in summer', () => {
    const clock = new WallClock(LA)
    expect(iso(clock.toUtc(wall('2024-01-15T09:30:00')))).to.equal('2024-01-15T17:30:00.000Z')
    expect(iso(clock.toUtc(wall('2024-07-04T23:59:59')))).to.equal('2024-07-05T06:59:59.000Z')
    expect(iso(new WallClock('Asia/Kolkata').toUtc(wall('2024-01-15T05:30:00')))).to.equal('2024-01-15T00:00:00.000Z')
  })

  it('finds every instant again from its wall clock, around both DST changes, in zones with odd offsets too', () => {
    for (const zone of [LA, 'America/St_Johns', 'Australia/Lord_Howe', 'Asia/Kathmandu']) {
      const clock = new WallClock(zone)
      let repeated = 0
      for (let utc = seconds('2024-01-01T00:00:00Z'); utc < seconds('2025-01-01T00:00:00Z'); utc += 1201) {
        const back = clock.toUtc(wallClockSeconds(zone, utc))
        if (back === utc) continue
        // Only the second pass of a repeated hour may differ: it is read as the first.
        expect(wallClockSeconds(zone, back), `${zone} ${iso(utc)}`).to.equal(wallClockSeconds(zone, utc))
        expect(back, `${zone} ${iso(utc)}`).to.be.lessThan(utc)
        repeated++
      }

      if (zone !== 'Asia/Kathmandu') expect(repeated, zone).to.be.greaterThan(0)
    }
  })

  it('reads the repeated autumn hour as the earlier, daylight-time instant', () => {
    const clock = new WallClock(LA)
    // 01:30 on 2024-11-03 happens at 08:30 UTC (PDT) and again at 09:30 UTC (PST).
    expect(iso(clock.toUtc(wall('2024-11-03T01:30:00')))).to.equal('2024-11-03T08:30:00.000Z')
    expect(iso(clock.toUtc(wall('2024-11-03T00:59:59')))).to.equal('2024-11-03T07:59:59.000Z')
    expect(iso(clock.toUtc(wall('2024-11-03T02:00:00')))).to.equal('2024-11-03T10:00:00.000Z')
  })

  it('reads the skipped spring hour with the offset before the change', () => {
    const clock = new WallClock(LA)
    // 02:30 on 2024-03-10 never happens: read as PST, 10:30 UTC (03:30 PDT).
    expect(iso(clock.toUtc(wall('2024-03-10T02:30:00')))).to.equal('2024-03-10T10:30:00.000Z')
    expect(iso(clock.toUtc(wall('2024-03-10T01:59:59')))).to.equal('2024-03-10T09:59:59.000Z')
    expect(iso(clock.toUtc(wall('2024-03-10T03:00:00')))).to.equal('2024-03-10T10:00:00.000Z')
  })

  it('keeps fractions of a second, and leaves times Date cannot hold as they are (for the time checks)', () => {
    const clock = new WallClock(LA)
    expect(clock.toUtc(wall('2024-01-15T09:30:00') + 0.25)).to.equal(seconds('2024-01-15T17:30:00Z') + 0.25)
    expect(clock.toUtc(Number.NaN)).to.be.NaN
    expect(clock.toUtc(1e20)).to.equal(1e20)
  })

  it('gives the same bytes on the fast and the general normalizer paths, with the zone', () => {
    const clock = new WallClock(LA)
    const lines = [...generateEvents({count: 500, from: '2024-11-02', seed: 5, to: '2024-11-04'}).lines()].map((line) =>
      legacyLine(LA, line),
    )
    for (const line of lines) expect(normalizeEventLine(line, clock)).to.equal(slowNormalizeEventLine(line, clock))
    const utc = JSON.parse(normalizeEventLine(lines[0])) as {event_time: string}
    const converted = JSON.parse(normalizeEventLine(lines[0], clock)) as {event_time: string}
    expect(Date.parse(converted.event_time) - Date.parse(utc.event_time)).to.be.oneOf([7 * 3_600_000, 8 * 3_600_000])
  })

  describe('timezone names', () => {
    it('spells a known zone as the IANA database does; refuses an unknown one, naming it and where it came from', () => {
      expect(checkTimezone('america/los_angeles', '--timezone')).to.equal(LA)
      expect(checkTimezone('UTC', '--timezone')).to.equal('UTC')
      expect(() => checkTimezone('Mars/Olympus', 'MP_TIMEZONE')).to.throw(
        UsageError,
        /Unknown timezone "Mars\/Olympus" in MP_TIMEZONE/,
      )
    })

    it('knows the zones that are UTC all year', () => {
      expect(isUtc('UTC')).to.equal(true)
      expect(isUtc('Etc/UTC')).to.equal(true)
      expect(isUtc('Europe/London')).to.equal(false)
    })

    it('gives the day of an instant in a zone', () => {
      expect(dayIn(LA, Date.parse('2024-03-12T05:00:00Z'))).to.equal('2024-03-11')
      expect(dayIn('UTC', Date.parse('2024-03-12T05:00:00Z'))).to.equal('2024-03-12')
      expect(dayIn('Asia/Tokyo', Date.parse('2024-03-11T15:00:00Z'))).to.equal('2024-03-12')
    })
  })
})
