import {expect} from 'chai'
import {JsonLines} from 'mpx-mixpanel-core/internal/records/json-lines.js'
import {WallClock} from 'mpx-mixpanel-core/internal/records/wall-clock.js'
import {formatOffset, TimezoneCheck, type TimezoneMismatch} from 'mpx-mixpanel-core/internal/records/zone-check.js'

import {generateEvents} from '../../support/generate.js'
import {legacyLine} from '../../support/legacy-time.js'

const LA = 'America/Los_Angeles'

/** What a check says about these lines, given in blocks of 100. */
function check(lines: readonly string[], zone?: string): TimezoneMismatch[] {
  const said: TimezoneMismatch[] = []
  const timezoneCheck = new TimezoneCheck(zone ? new WallClock(zone) : undefined, (mismatch) => said.push(mismatch))
  for (let i = 0; i < lines.length; i += 100) timezoneCheck.add(JsonLines.fromLines(lines.slice(i, i + 100)))
  timezoneCheck.finish()
  return said
}

/** Generated events: `time` true UTC, processed 0 to 60 minutes later. */
const utcLines = (from: string, to: string, count = 1500) => [...generateEvents({count, from, seed: 9, to}).lines()]
const event = (time: number, processedMs: number) =>
  `{"event":"E","properties":{"time":${time},"mp_processing_time_ms":${processedMs}}}`

describe('timezone check (time against mp_processing_time_ms)', () => {
  it('says nothing when times are UTC and no zone is set', () => {
    expect(check(utcLines('2024-01-01', '2024-01-05'))).to.deep.equal([])
  })

  it('says once, with the offset seen, when a legacy project’s wall clock is read as UTC', () => {
    const said = check(utcLines('2024-01-01', '2024-01-05').map((line) => legacyLine(LA, line)))
    expect(said).to.have.length(1)
    expect(said[0]).to.include({observedMinutes: -480, samples: 1000, timezone: 'UTC'})
    expect(said[0].message).to.include('UTC-08:00').and.to.include('legacy').and.not.to.include('--')
  })

  it('says nothing when the zone set is the project’s, across a DST change too', () => {
    expect(
      check(
        utcLines('2024-03-09', '2024-03-11').map((line) => legacyLine(LA, line)),
        LA,
      ),
    ).to.deep.equal([])
    expect(
      check(
        utcLines('2024-11-02', '2024-11-04').map((line) => legacyLine(LA, line)),
        LA,
      ),
    ).to.deep.equal([])
  })

  it('says so when the zone set disagrees with the times', () => {
    const legacy = utcLines('2024-07-01', '2024-07-03').map((line) => legacyLine(LA, line))
    const said = check(legacy, 'America/New_York')
    expect(said).to.have.length(1)
    expect(said[0]).to.include({observedMinutes: -420, timezone: 'America/New_York'})
    expect(said[0].message).to.include("do not look like America/New_York's").and.to.include('UTC-07:00')
    // A zone set on a project that is UTC.
    expect(check(utcLines('2024-07-01', '2024-07-03'), LA)[0]).to.include({observedMinutes: 0})
  })

  it('tells an hour apart when events are processed at once, and quarter-hour zones too', () => {
    const start = Date.parse('2024-07-01T00:00:00Z') / 1000
    const prompt = (offsetSeconds: number) =>
      Array.from({length: 200}, (_, i) => event(start + i * 60 + offsetSeconds, (start + i * 60 + 3) * 1000))
    // Paris' summer wall clock read as London's: an hour off.
    expect(check(prompt(2 * 3600), 'Europe/London')[0]).to.include({observedMinutes: 120})
    expect(check(prompt(2 * 3600), 'Europe/Paris')).to.deep.equal([])
    expect(check(prompt(5 * 3600 + 45 * 60))[0]).to.include({observedMinutes: 345})
  })

  it('says nothing on too few events, or on times that do not cluster (events imported long after)', () => {
    const start = Date.parse('2024-01-01T00:00:00Z') / 1000
    const few = Array.from({length: 5}, (_, i) => event(start + i * 60 - 8 * 3600, (start + i * 60) * 1000))
    expect(check(few)).to.deep.equal([])
    // Processed from 0 to 30 days after the event: no offset stands out.
    const imported = Array.from({length: 400}, (_, i) => event(start + i * 600, (start + i * 600 + i * 6480) * 1000))
    expect(check(imported)).to.deep.equal([])
  })

  it('skips lines without both times, and lines that are not JSON', () => {
    const start = Date.parse('2024-01-01T00:00:00Z') / 1000
    const lines = Array.from({length: 50}, (_, i) => event(start + i * 60 - 8 * 3600, (start + i * 60 + 5) * 1000))
    const said = check(['{"event":"E","properties":{"time":1}}', 'not json', '[1]', 'null', ...lines])
    expect(said).to.have.length(1)
    expect(said[0]).to.include({observedMinutes: -480, samples: 50})
  })

  it('writes offsets as UTC±HH:MM', () => {
    expect(formatOffset(-480)).to.equal('UTC-08:00')
    expect(formatOffset(345)).to.equal('UTC+05:45')
    expect(formatOffset(0)).to.equal('UTC+00:00')
  })
})
