import {expect} from 'chai'
import {MpxError} from 'mpx-mixpanel-core/internal/errors.js'
import {stringifyLossless} from 'mpx-mixpanel-core/internal/records/json.js'
import {
  engageDateToIso,
  normalizeProfile,
  normalizeProfileLine,
  parseRawProfile,
} from 'mpx-mixpanel-core/internal/records/profiles.js'

const text =
  '{"$distinct_id":"u1","$properties":{"$email":"a@b.c","$last_seen":"2024-01-15T14:20:00","company_id":1234567890123456789,' +
  '"nested":{"big":-9223372036854775807,"list":[1,2.5,null]},"$created":"2022-03-01T08:00:00"}}'

describe('profile records', () => {
  it('normalizes to distinct_id, last_seen (UTC) and properties without $last_seen, in that order', () => {
    expect(normalizeProfileLine(text)).to.equal(
      '{"distinct_id":"u1","last_seen":"2024-01-15T14:20:00.000Z","properties":{"$email":"a@b.c",' +
        '"company_id":1234567890123456789,"nested":{"big":-9223372036854775807,"list":[1,2.5,null]},' +
        '"$created":"2022-03-01T08:00:00"}}',
    )
  })

  it('keeps the raw profile as sent, 19-digit integers as bigint', () => {
    const raw = parseRawProfile(text)
    expect(Object.keys(raw)).to.deep.equal(['$distinct_id', '$properties'])
    expect(raw.$properties.company_id).to.equal(1_234_567_890_123_456_789n)
    expect(stringifyLossless(raw)).to.equal(text)
    const profile = normalizeProfile(raw)
    expect((profile.properties.nested as {big: bigint}).big).to.equal(-9_223_372_036_854_775_807n)
  })

  it('gives last_seen null when the profile was never seen', () => {
    expect(JSON.parse(normalizeProfileLine('{"$distinct_id":"u2","$properties":{"plan":"free"}}'))).to.deep.equal({
      distinct_id: 'u2',
      last_seen: null,
      properties: {plan: 'free'},
    })
    expect(normalizeProfile({$distinct_id: 'u3', $properties: {$last_seen: null}})).to.deep.equal({
      distinct_id: 'u3',
      last_seen: null,
      properties: {},
    })
  })

  it('keeps a $last_seen that is not a date in properties rather than lose it', () => {
    expect(normalizeProfile({$distinct_id: 'u4', $properties: {$last_seen: 'yesterday', a: 1}})).to.deep.equal({
      distinct_id: 'u4',
      last_seen: null,
      properties: {$last_seen: 'yesterday', a: 1},
    })
  })

  it('reads engage dates as UTC, and dates with a zone, a fraction or epoch numbers too', () => {
    expect(engageDateToIso('2024-01-15T14:20:00')).to.equal('2024-01-15T14:20:00.000Z')
    expect(engageDateToIso('2024-01-15 14:20:00')).to.equal('2024-01-15T14:20:00.000Z')
    expect(engageDateToIso('2024-01-15T14:20:00.250Z')).to.equal('2024-01-15T14:20:00.250Z')
    expect(engageDateToIso('2024-01-15T14:20:00+01:00')).to.equal('2024-01-15T13:20:00.000Z')
    expect(engageDateToIso('2024-01-15')).to.equal('2024-01-15T00:00:00.000Z')
    expect(engageDateToIso(1_705_328_400)).to.equal('2024-01-15T14:20:00.000Z')
    expect(engageDateToIso(1_705_328_400_000)).to.equal('2024-01-15T14:20:00.000Z')
    expect(engageDateToIso('2024-13-45T99:00:00')).to.equal(undefined)
    expect(engageDateToIso('')).to.equal(undefined)
    expect(engageDateToIso(true)).to.equal(undefined)
    // Only the years 0000 to 9999, which DuckDB and Parquet readers understand: the rest stays in properties.
    expect(engageDateToIso(1e15)).to.equal(undefined)
    expect(engageDateToIso('10000-01-01T00:00:00')).to.equal(undefined)
  })

  it('turns numeric distinct ids into exact strings', () => {
    expect(
      JSON.parse(normalizeProfileLine('{"$distinct_id":12345678901234567890,"$properties":{}}')).distinct_id,
    ).to.equal('12345678901234567890')
  })

  it('takes a profile without $properties, and refuses one it cannot read', () => {
    expect(normalizeProfileLine('{"$distinct_id":"u5"}')).to.equal(
      '{"distinct_id":"u5","last_seen":null,"properties":{}}',
    )
    for (const bad of ['{"$distinct_id":"u1"', '[]', '{"$properties":{}}', '{"$distinct_id":"u1","$properties":[1]}']) {
      expect(() => normalizeProfileLine(bad), bad).to.throw(MpxError, /profile/)
    }
  })
})
