import {expect} from 'chai'
import {normalizeEventBlock} from 'mpx-mixpanel-core/internal/records/event-block.js'
import {
  normalizeEventLine,
  normalizeEventLines,
  slowNormalizeEventLine,
} from 'mpx-mixpanel-core/internal/records/events.js'
import {JsonLines} from 'mpx-mixpanel-core/internal/records/json-lines.js'

import {generateEvents, mulberry32} from '../../support/generate.js'

/** The general path's result for each line, or its error message. */
function expected(line: string): string {
  try {
    return slowNormalizeEventLine(line)
  } catch (error) {
    return `error: ${(error as Error).message}`
  }
}

function fast(line: string): string {
  try {
    return normalizeEventLine(line)
  } catch (error) {
    return `error: ${(error as Error).message}`
  }
}

const base = '{"event":"E","properties":{"time":1704067200,"distinct_id":"u1","$insert_id":"i1"'

describe('normalizing export lines from their bytes', () => {
  it('gives exactly the general path’s bytes for realistic events, line by line and in blocks', () => {
    const lines = [...generateEvents({count: 3000, from: '2024-01-01', seed: 21, to: '2024-02-15'}).lines()]
    const want = lines.map((line) => slowNormalizeEventLine(line))
    for (const size of [1, 7, 500, 3000]) {
      const got: string[] = []
      for (let i = 0; i < lines.length; i += size)
        got.push(...normalizeEventLines(JsonLines.fromLines(lines.slice(i, i + size))).lines)
      expect(got, `blocks of ${size}`).to.deep.equal(want)
    }
  })

  it('matches the general path on the shapes it copies and on those it must leave to it', () => {
    const cases = [
      // Escapes: the ones JSON.stringify writes are copied; others are re-serialized.
      `${base},"s":"a\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f"}}`,
      `${base},"s":"caf\\u00e9 \\/ \\u2028 \\ud83d\\ude00"}}`,
      `${base},"s":"\\u000a"}}`,
      `${base},"s":"lone \\udc00"}}`,
      `${base},"s":"unicode é 東京 👩‍👩‍👧 \u2028 \u007F"}}`,
      // Numbers.
      `${base},"n":[0,-0,1.0,1.5,1.50,1e5,1E5,1e-7,4e-7,1e21,1e+21,0.1,0.000001,0.0000001,-2.5e-3]}}`,
      `${base},"n":[123456789012345.6,12345678901234.56,9007199254740993,12345678901234567890,-9223372036854775808]}}`,
      `${base},"n":[100000000000000000000,1.7976931348623157e308,5e-324,2e308,-0.0,0.10]}}`,
      // Keys: duplicates (top level, nested), integer-like keys, __proto__.
      `${base},"a":1,"a":2}}`,
      `${base},"o":{"x":1,"y":{"x":2},"x":3}}}`,
      `${base},"10":1,"b":2}}`,
      `${base},"__proto__":{"x":1},"b":{"__proto__":2}}}`,
      `{"event":"E","properties":{"time":1704067200,"time":1704067201,"distinct_id":"u1"}}`,
      // Ids: absent, null, empty, numbers, big numbers, booleans, objects.
      '{"event":"E","properties":{"time":1704067200}}',
      '{"event":"E","properties":{"time":1704067200,"distinct_id":null,"$insert_id":null}}',
      '{"event":"E","properties":{"time":1704067200,"distinct_id":"","$insert_id":""}}',
      '{"event":"E","properties":{"time":1704067200,"distinct_id":42,"$insert_id":7}}',
      '{"event":"E","properties":{"time":1704067200,"distinct_id":12345678901234567890,"$insert_id":1.5}}',
      '{"event":"E","properties":{"time":1704067200,"distinct_id":true,"$insert_id":false}}',
      '{"event":"E","properties":{"time":1704067200,"distinct_id":{"a":1},"$insert_id":"x"}}',
      '{"event":"E","properties":{"time":1704067200,"distinct_id":"u","$insert_id":[1]}}',
      // Times: fractions, negative, exponents, strings, huge, missing.
      '{"event":"E","properties":{"time":1704067200.25,"distinct_id":"u"}}',
      '{"event":"E","properties":{"time":-86401,"distinct_id":"u"}}',
      '{"event":"E","properties":{"time":1.7e9,"distinct_id":"u"}}',
      '{"event":"E","properties":{"time":"1704067200","distinct_id":"u"}}',
      '{"event":"E","properties":{"time":1e20,"distinct_id":"u"}}',
      '{"event":"E","properties":{"distinct_id":"u"}}',
      // Layout: whitespace, other top-level keys or order, other shapes, not JSON.
      '{"event": "E", "properties": {"time": 1704067200, "distinct_id": "u"}}',
      '{"properties":{"time":1704067200},"event":"E"}',
      '{"event":"E","properties":{"time":1704067200},"extra":1}',
      '{"event":"E","properties":{"time":1704067200}} ',
      '{"event":1,"properties":{"time":1704067200}}',
      '{"event":"E","properties":[]}',
      '{"event":"E","properties":{"time":1704067200,"x":tru}}',
      '{"event":"E","properties":{"time":1704067200,"x":"unterminated}}',
      '{"event":"E","properties":{"time":1704067200,"x":"tab\there"}}',
      '{"event":"E","properties":{"time":1704067200,"x":[1,2,]}}',
      '{"event":"E","prop',
      `${base},"deep":${'['.repeat(100)}${']'.repeat(100)}}}`,
      `${base},"deep":${'{"a":'.repeat(70)}1${'}'.repeat(70)}}}`,
    ]
    for (const line of cases) expect(fast(line), line).to.equal(expected(line))
  })

  it('matches the general path on lines that are not valid UTF-8', () => {
    const good = `${base},"s":"ok"}}`
    const bad = Buffer.concat([Buffer.from(`${base},"s":"`), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}}')])
    const block = new JsonLines(Buffer.concat([Buffer.from(`${good}\n`), bad, Buffer.from('\n')]), 2)
    const decoded = block.lines
    expect(normalizeEventLines(block).lines).to.deep.equal(decoded.map((line) => slowNormalizeEventLine(line)))
  })

  it('matches the general path on random lines, canonical or not (fuzz)', () => {
    const random = mulberry32(99)
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]
    const keys = ['a', 'b', 'time', 'distinct_id', '$insert_id', '$os', '10', 'k k', 'é', '__proto__', '"q"']
    const strings = ['x', '', 'é', '東京', 'a"b', String.raw`a\b`, 'line\nbreak', '\u0001', '/', '\u2028', '😀']
    const numbers = [
      '0',
      '-0',
      '1',
      '-1',
      '1.5',
      '1.50',
      '0.1',
      '1e3',
      '2E-7',
      '4e-7',
      '123456789012345678',
      '9007199254740993',
    ]
    const escapeAll = (text: string) =>
      [...text]
        .map((c) =>
          c.codePointAt(0)! < 128 && random() < 0.3 ? `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}` : c,
        )
        .join('')
    const jsonString = (text: string) => {
      const canonical = JSON.stringify(text)
      return random() < 0.1
        ? `"${escapeAll(canonical.slice(1, -1)).replaceAll(String.raw`\u005c`, '\\\\')}"`
        : canonical
    }

    const space = () => (random() < 0.05 ? ' ' : '')
    const value = (depth: number): string => {
      const kind = random()
      if (kind < 0.3) return jsonString(pick(strings))
      if (kind < 0.55) return pick(numbers)
      if (kind < 0.65) return pick(['true', 'false', 'null'])
      if (depth > 3) return '1'
      if (kind < 0.8) {
        const items = Array.from({length: Math.floor(random() * 4)}, () => value(depth + 1))
        return `[${items.join(`,${space()}`)}]`
      }

      const members = Array.from(
        {length: Math.floor(random() * 4)},
        () => `${jsonString(pick(keys))}:${space()}${value(depth + 1)}`,
      )
      return `{${members.join(',')}}`
    }

    const lines: string[] = []
    for (let n = 0; n < 3000; n++) {
      const members = [`"time":${pick(['1704067200', '1704067200.5', '"1704067200"', '1.7e9'])}`]
      if (random() < 0.9) members.push(`"distinct_id":${value(3)}`)
      if (random() < 0.9) members.push(`"$insert_id":${value(3)}`)
      for (let k = Math.floor(random() * 6); k > 0; k--) members.push(`${jsonString(pick(keys))}:${value(0)}`)
      // Shuffle: the removed keys are not always first.
      members.sort(() => random() - 0.5)
      const line = `{"event":${jsonString(pick(strings))},"properties":{${members.join(',')}}}`
      // A raw newline would make two lines: those stay in strings only as escapes.
      if (!line.includes('\n')) lines.push(line)
    }

    let general = 0
    for (const line of lines) {
      const want = expected(line)
      expect(fast(line), line).to.equal(want)
      // Which path took it: both must have had plenty.
      if (!want.startsWith('error')) {
        normalizeEventBlock(JsonLines.fromLines([line]), (text) => {
          general++
          return slowNormalizeEventLine(text)
        })
      }
    }

    const valid = lines.filter((line) => !expected(line).startsWith('error')).length
    expect(general, 'lines left to the general path').to.be.greaterThan(100)
    expect(valid - general, 'lines copied from their bytes').to.be.greaterThan(100)
  })
})
