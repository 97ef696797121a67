import {expect} from 'chai'
import {inOrder, type InOrderItem} from 'mpx-mixpanel-core/internal/mixpanel/ordered-chunks.js'
import {JsonLines} from 'mpx-mixpanel-core/internal/records/json-lines.js'

const line = (source: number, n: number) => `{"source":${source},"n":${n}}`

function block(source: number, from: number, count: number): JsonLines {
  return JsonLines.fromLines(Array.from({length: count}, (_, k) => line(source, from + k)))
}

async function collect(items: AsyncIterable<InOrderItem>): Promise<{lines: string[]; starts: number[]}> {
  const lines: string[] = []
  const starts: number[] = []
  for await (const item of items) {
    if (item.block) lines.push(...item.block.lines)
    else starts.push(item.index)
  }

  return {lines, starts}
}

const tick = async () =>
  new Promise((resolve) => {
    setImmediate(resolve)
  })

describe('in-order delivery of concurrent sources', () => {
  it('delivers in source order when later sources finish first', async () => {
    const finished: number[] = []
    let releaseFirst: () => void = () => {}
    const firstMayGo = new Promise<void>((resolve) => {
      releaseFirst = resolve
    })
    async function* source(index: number) {
      // Source 0 answers only once sources 1 and 2 have delivered everything.
      if (index === 0) await firstMayGo
      for (let k = 0; k < 3; k++) yield block(index, k * 2, 2)
    }

    const items = inOrder((index) => (index < 4 ? source(index) : undefined), {
      bufferBytes: 1_048_576,
      concurrency: 3,
      onFetched(index) {
        finished.push(index)
        if (finished.includes(1) && finished.includes(2)) releaseFirst()
      },
    })
    const {lines, starts} = await collect(items)
    expect(finished.slice(0, 2)).to.have.members([1, 2])
    expect(starts).to.deep.equal([0, 1, 2, 3])
    const expected = [0, 1, 2, 3].flatMap((index) => Array.from({length: 6}, (_, n) => line(index, n)))
    expect(lines).to.deep.equal(expected)
  })

  it('starts nothing before the first item is asked for, and at most `concurrency` sources at once', async () => {
    let running = 0
    let most = 0
    const started: number[] = []
    async function* source(index: number) {
      running++
      most = Math.max(most, running)
      try {
        for (let k = 0; k < 5; k++) {
          await tick()
          yield block(index, k, 1)
        }
      } finally {
        running--
      }
    }

    const items = inOrder(
      (index) => {
        if (index >= 12) return
        started.push(index)
        return source(index)
      },
      {bufferBytes: 1_048_576, concurrency: 4},
    )
    await tick()
    expect(started).to.deep.equal([])
    const {lines} = await collect(items)
    expect(lines).to.have.length(60)
    expect(most).to.equal(4)
    expect(started).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
  })

  it('keeps what sources ahead hold within the budget, plus one block each, whatever their number', async () => {
    const padding = 'x'.repeat(200)
    const bigBlock = (index: number, k: number) =>
      JsonLines.fromLines(Array.from({length: 80}, (_, n) => `{"source":${index},"n":${k * 80 + n},"p":"${padding}"}`))
    const blockBytes = bigBlock(0, 0).bytes.length
    async function* source(index: number) {
      for (let k = 0; k < 20; k++) yield bigBlock(index, k)
    }

    for (const concurrency of [2, 8, 32]) {
      let most = 0
      const items = inOrder((index) => (index < concurrency * 2 ? source(index) : undefined), {
        bufferBytes: 4 * blockBytes,
        concurrency,
        onBuffered(bytes) {
          most = Math.max(most, bytes)
        },
      })
      let seen = 0
      for await (const item of items) {
        // A slow consumer: every source ahead runs into the budget.
        if (item.block) seen += item.block.count
        await tick()
      }

      expect(seen).to.equal(concurrency * 2 * 20 * 80)
      // The budget, one block per source, and the delivered source's read-ahead (512 KB): far
      // below the 2 * concurrency * 20 blocks that would pile up unbounded.
      const bound = 4 * blockBytes + concurrency * blockBytes + 512 * 1024 + blockBytes
      expect(most, `concurrency ${concurrency}`).to.be.at.most(bound)
      expect(bound).to.be.below(concurrency * 2 * 20 * blockBytes)
    }
  })

  it('throws a later source failure after everything before it, and starts no source after it', async () => {
    const started: number[] = []
    async function* source(index: number) {
      yield block(index, 0, 2)
      if (index === 2) throw new Error('source 2 failed')
      yield block(index, 2, 2)
    }

    const lines: string[] = []
    let failure: unknown
    try {
      for await (const item of inOrder(
        (index) => {
          if (index >= 10) return
          started.push(index)
          return source(index)
        },
        {bufferBytes: 1_048_576, concurrency: 3},
      )) {
        if (item.block) lines.push(...item.block.lines)
      }
    } catch (error) {
      failure = error
    }

    expect((failure as Error).message).to.equal('source 2 failed')
    expect(lines).to.deep.equal([
      line(0, 0),
      line(0, 1),
      line(0, 2),
      line(0, 3),
      line(1, 0),
      line(1, 1),
      line(1, 2),
      line(1, 3),
      line(2, 0),
      line(2, 1),
    ])
    expect(Math.max(...started)).to.be.at.most(4)
  })

  it('ends every running source when the consumer stops early', async () => {
    const ended: number[] = []
    async function* source(index: number) {
      try {
        for (let k = 0; ; k++) {
          await tick()
          yield block(index, k, 1)
        }
      } finally {
        ended.push(index)
      }
    }

    const items = inOrder((index) => (index < 5 ? source(index) : undefined), {bufferBytes: 1_048_576, concurrency: 3})
    for await (const item of items) if (item.block) break
    expect(ended.sort()).to.deep.equal([0, 1, 2])
  })
})
