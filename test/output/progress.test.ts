import {expect} from 'chai'
import {Writable} from 'node:stream'

import {formatCount, Progress} from '../../src/output/progress.js'

/** A stand-in for stderr on a terminal `columns` wide, keeping what was written. */
function terminal(columns: number): NodeJS.WriteStream & {text: () => string} {
  const chunks: string[] = []
  let cleared = 0
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(String(chunk))
      callback()
    },
  })
  return Object.assign(stream, {
    clearLine() {
      // Fails the test, instead of hanging it, if lines are cleared without end.
      if (++cleared > 10_000) throw new Error('more than 10,000 lines cleared: an endless clear')
      return true
    },
    columns,
    cursorTo: () => true,
    isTTY: true,
    moveCursor: () => true,
    text: () => chunks.join(''),
  }) as unknown as NodeJS.WriteStream & {text: () => string}
}

describe('progress on stderr', () => {
  it('spins with the count on a terminal, and ends with the summary', async () => {
    const stream = terminal(80)
    const progress = await Progress.start({noun: 'events', quiet: false, stream})
    progress.note('all events received, saving')
    progress.update(1234)
    progress.done('Fetched 1,234 events')
    expect(stream.text()).to.include('Fetching events').and.include('Fetched 1,234 events')
  })

  it('draws no spinner on a terminal that reports no width, where ora would clear lines forever', async () => {
    const stream = terminal(0)
    const progress = await Progress.start({noun: 'events', quiet: false, stream})
    progress.update(5)
    progress.warn('a retry')
    progress.done('Fetched 5 events')
    expect(stream.text()).to.equal('Warning: a retry\nFetched 5 events\n')
  })

  it('writes counts as en-US does, grouped by three', () => {
    const intl = new Intl.NumberFormat('en-US')
    for (const n of [
      0,
      7,
      999,
      1000,
      12_345,
      999_999,
      1_000_000,
      123_456_789,
      Number.MAX_SAFE_INTEGER,
      -1234,
      1.5,
      2 ** 60,
    ]) {
      expect(formatCount(n), String(n)).to.equal(intl.format(n))
    }

    expect(formatCount(1_234_567)).to.equal('1,234,567')
  })
})
