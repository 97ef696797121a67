import {expect} from 'chai'
import {JsonLines} from 'mpx-mixpanel-core/internal/records/json-lines.js'

import {recordBatch} from '../../src/fetch/batch.js'

const good = '{"event_name":"A","properties":{"name":"café ☕"}}'
const lone = String.raw`{"event_name":"B","properties":{"name":"x\ud800y"}}`
const escaped = String.raw`{"event_name":"C","properties":{"name":"\\ud800 is text"}}`
const repairedLone = String.raw`{"event_name":"B","properties":{"name":"x\ufffdy"}}`

describe('record batches (what sinks are handed)', () => {
  for (const [what, make] of [
    ['of bytes', (lines: string[]) => recordBatch('events', 'normalized', JsonLines.fromLines(lines))],
    ['of strings', (lines: string[]) => recordBatch('events', 'normalized', lines)],
  ] as const) {
    describe(what, () => {
      it('hands well-formed lines as they are, and replaces lone surrogates by U+FFFD, counting them', () => {
        expect(make([good, escaped]).wellFormedLines()).to.deep.equal({lines: [good, escaped], repaired: 0})
        expect(make([good, lone, escaped]).wellFormedLines()).to.deep.equal({
          lines: [good, repairedLone, escaped],
          repaired: 1,
        })
      })

      it('gives the same as UTF-8 text, a newline after each line', () => {
        const text = make([good, lone]).wellFormedText()
        expect(Buffer.from(text.bytes).toString('utf8')).to.equal(`${good}\n${repairedLone}\n`)
        expect(text).to.include({count: 2, repaired: 1})
        expect(Buffer.from(make([good]).wellFormedText().bytes).toString('utf8')).to.equal(`${good}\n`)
        expect(make([]).wellFormedText()).to.deep.include({count: 0, repaired: 0})
      })
    })
  }

  it("hands a batch of bytes without a lone surrogate as the source's own bytes, not a copy", () => {
    const block = JsonLines.fromLines([good, good])
    expect(recordBatch('events', 'normalized', block).wellFormedText().bytes).to.equal(block.bytes)
  })
})
