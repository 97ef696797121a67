import {expect} from 'chai'

import {normalizeEvent, normalizeEventLine, parseRawEvent} from '../../src/records/events.js'
import {parseLossless, stringifyLossless} from '../../src/records/json.js'

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
})
