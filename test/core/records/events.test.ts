import {expect} from 'chai'
import {
  normalizeEvent,
  normalizeEventLine,
  normalizeEventLines,
  parseRawEvent,
  slowNormalizeEventLine,
} from 'mpx-mixpanel-core/internal/records/events.js'
import {JsonLines} from 'mpx-mixpanel-core/internal/records/json-lines.js'
import {parseLossless, stringifyLossless} from 'mpx-mixpanel-core/internal/records/json.js'
import {BadRecordError, type RejectedRecord} from 'mpx-mixpanel-core/internal/records/rejects.js'

const line =
  '{"event":"Signed up","properties":{"time":1602611311,"distinct_id":"u1","$insert_id":"abc","account_id":1234567890123456789,"$browser":"Chrome","nested":{"big":-9223372036854775807,"list":[1,2.5,null]}}}'

describe('event records', () => {
  it('normalizes to event_name, event_time, distinct_id, insert_id, properties in that order', () => {
    const normalized = normalizeEventLine(line)
    expect(Object.keys(JSON.parse(normalized))).to.deep.equal([
      'event_name',
      'event_time',
      'distinct_id',
      'insert_id',
      'properties',
    ])
    expect(normalized).to.equal(
      '{"event_name":"Signed up","event_time":"2020-10-13T17:48:31.000Z","distinct_id":"u1","insert_id":"abc",' +
        '"properties":{"account_id":1234567890123456789,"$browser":"Chrome","nested":{"big":-9223372036854775807,"list":[1,2.5,null]}}}',
    )
  })

  it('keeps every digit of 19-digit integers, as bigint in objects and as digits in text', () => {
    const raw = parseRawEvent(line)
    expect(raw.properties.account_id).to.equal(1_234_567_890_123_456_789n)
    expect(stringifyLossless(raw)).to.equal(line)
    const event = normalizeEvent(raw, line)
    expect((event.properties.nested as {big: bigint}).big).to.equal(-9_223_372_036_854_775_807n)
  })

  it('leaves safe numbers as numbers and does not mistake digits in strings for integers', () => {
    const value = parseLossless('{"id":"12345678901234567890","n":9007199254740991,"f":0.1}') as Record<string, unknown>
    expect(value).to.deep.equal({f: 0.1, id: '12345678901234567890', n: 9_007_199_254_740_991})
  })

  it('derives the same insert_id for the same event without $insert_id, and different ones for different events', () => {
    const a = '{"event":"A","properties":{"time":1,"distinct_id":"u1"}}'
    const b = '{"event":"A","properties":{"time":2,"distinct_id":"u1"}}'
    const idA = JSON.parse(normalizeEventLine(a)).insert_id as string
    expect(idA).to.match(/^mpx-[0-9a-f]{32}$/)
    expect(JSON.parse(normalizeEventLine(a)).insert_id).to.equal(idA)
    expect(JSON.parse(normalizeEventLine(b)).insert_id).to.not.equal(idA)
  })

  it('turns a numeric distinct_id into a string and keeps sub-second times', () => {
    const normalized = JSON.parse(
      normalizeEventLine('{"event":"A","properties":{"time":1704067200.25,"distinct_id":42,"$insert_id":"x"}}'),
    ) as Record<string, unknown>
    expect(normalized.distinct_id).to.equal('42')
    expect(normalized.event_time).to.equal('2024-01-01T00:00:00.250Z')
  })

  it('refuses a record without a time or that is not JSON, quoting it', () => {
    expect(() => normalizeEventLine('{"event":"A","properties":{"distinct_id":"u"}}')).to.throw(/properties\.time/)
    expect(() => normalizeEventLine('{"event":"A","prop')).to.throw(/not JSON/)
  })

  it('rejects JSON that is not a usable event with a BadRecordError that keeps the line and says why', () => {
    const cases: Array<[string, string]> = [
      ['null', 'not an object but null'],
      ['[1,2]', 'not an object but an array'],
      ['"text"', 'not an object but string'],
      ['{"foo":1}', 'no event name'],
      ['{"event":"X"}', 'no properties'],
      ['{"event":"Y","properties":null}', 'properties is not an object'],
      ['{"event":"Y","properties":[1]}', 'properties is not an object'],
      ['{"event":"A","properties":{"distinct_id":"u"}}', 'no properties.time'],
      [
        '{"event":"A","properties":{"time":1704067211000}}',
        'properties.time 1704067211000 looks like milliseconds, not seconds',
      ],
      ['{"event":"A","properties":{"time":1e30}}', 'properties.time 1e+30 is outside the years 0000 to 9999'],
      ['{"event":"A","properties":{"time":"NaN"}}', 'properties.time is not a finite number'],
      ['{"event":"A","properties":{"time":""}}', 'properties.time is not a finite number'],
      ['{"event":"A","properties":{"time":"1e30"}}', 'properties.time 1e+30 is outside the years 0000 to 9999'],
      [
        '{"event":"A","properties":{"time":253402300800}}',
        'properties.time 253402300800 looks like milliseconds, not seconds',
      ],
    ]
    for (const [line, reason] of cases) {
      let thrown: unknown
      try {
        normalizeEventLine(line)
      } catch (error) {
        thrown = error
      }

      expect(thrown, line).to.be.instanceOf(BadRecordError)
      expect((thrown as BadRecordError).reject).to.deep.include({kind: 'events', line, reason})
    }

    const withId = '{"event":"A","properties":{"time":1e30,"$insert_id":"abc"}}'
    expect(() => normalizeEventLine(withId))
      .to.throw(BadRecordError)
      .with.property('reject')
      .that.includes({insertId: 'abc'})
  })

  it('writes every time it takes as YYYY-MM-DDTHH:MM:SS.sssZ, on both paths', () => {
    for (const [time, iso] of [
      ['-62167219200', '0000-01-01T00:00:00.000Z'],
      ['99999999999.999', '5138-11-16T09:46:39.999Z'],
      ['1704067200', '2024-01-01T00:00:00.000Z'],
    ]) {
      const line = `{"event":"A","properties":{"time":${time},"distinct_id":"u","$insert_id":"i"}}`
      const viaBytes = JSON.parse(normalizeEventLines(JsonLines.fromLines([line])).lines[0]) as {event_time: string}
      expect(viaBytes.event_time).to.equal(iso)
      expect((JSON.parse(slowNormalizeEventLine(line)) as {event_time: string}).event_time).to.equal(iso)
    }
  })

  it('with onReject, leaves bad records out of a block and hands each over, the good ones in order', () => {
    const good = [
      '{"event":"A","properties":{"time":1704067200,"distinct_id":"u","$insert_id":"1"}}',
      '{"event":"B","properties":{"time":"1704067201"}}',
    ]
    const bad = ['null', '{"event":"X"}', '{"event":"A","properties":{"time":1704067211000}}']
    const rejects: RejectedRecord[] = []
    const block = normalizeEventLines(JsonLines.fromLines([bad[0], good[0], bad[1], bad[2], good[1]]), {
      onReject: (reject) => rejects.push(reject),
    })
    expect(block.count).to.equal(2)
    expect(block.lines).to.deep.equal(good.map((line) => slowNormalizeEventLine(line)))
    expect(rejects.map((reject) => reject.line)).to.deep.equal(bad)
    // Without onReject the first bad record is thrown; a line that is not JSON always is.
    expect(() => normalizeEventLines(JsonLines.fromLines(bad))).to.throw(BadRecordError)
    expect(() => normalizeEventLines(JsonLines.fromLines(['{"event"']), {onReject() {}})).to.throw(/not JSON/)
  })
})
