import {expect} from 'chai'
import {UsageError} from 'mpx-mixpanel-core/internal/errors.js'
import {estimateQueries} from 'mpx-mixpanel-core/internal/mixpanel/export/query.js'
import {exportBlocks, exportLines} from 'mpx-mixpanel-core/internal/mixpanel/export/source.js'
import {type Clock, RequestPacer} from 'mpx-mixpanel-core/internal/mixpanel/scheduler.js'

import {type FakeMixpanel} from '../../../support/fake-mixpanel.js'
import {generateEvents} from '../../../support/generate.js'
import {useFakeMixpanel} from '../../../support/hooks.js'
import {collect, testClient} from '../../../support/source.js'

const events = generateEvents({count: 800, from: '2024-01-01', seed: 11, to: '2024-01-20'})
const allLines = [...events.lines()]
const range = {from: '2024-01-01', to: '2024-01-20'}

/** A pacer on virtual time (never waits for real) that records when it let each request start. */
function recordingPacer(): {grants: number[]; pacer: RequestPacer} {
  let now = 0
  const grants: number[] = []
  const clock: Clock = {
    now: () => now,
    async sleep(ms) {
      now += ms
    },
  }
  const pacer = new RequestPacer({clock, onStart: (at) => grants.push(at)})
  return {grants, pacer}
}

describe('export source with --concurrency', () => {
  let server: FakeMixpanel

  useFakeMixpanel({events, gzipChunkBytes: 700}, (started) => {
    server = started
  })

  it('delivers records in date order when later chunks answer first', async () => {
    // The first chunk says nothing for a while; the others answer at once.
    server.fail('export', {
      match: (request) => request.query.from_date === '2024-01-01',
      stallAfterRecords: 0,
      stallMs: 400,
    })
    const {pacer} = recordingPacer()
    let requestsAtFirstBlock = 0
    const lines: string[] = []
    for await (const block of exportBlocks(testClient(server.url), range, {chunkDays: 5, concurrency: 3, pacer})) {
      if (lines.length === 0) requestsAtFirstBlock = server.requests.length
      lines.push(...block.lines)
    }

    expect(lines).to.deep.equal(allLines)
    // Later chunks were requested while the first one was still silent.
    expect(requestsAtFirstBlock).to.equal(3)
    expect(server.requests.map((request) => request.query.from_date)).to.deep.equal([
      '2024-01-01',
      '2024-01-06',
      '2024-01-11',
      '2024-01-16',
    ])
  })

  it('starts at most 3 requests a second, retries included (virtual clock)', async () => {
    server.fail('export', {match: (request) => request.query.from_date === '2024-01-05', status: 503})
    const {grants, pacer} = recordingPacer()
    const lines = await collect(exportLines(testClient(server.url), range, {chunkDays: 2, concurrency: 5, pacer}))
    expect(lines).to.deep.equal(allLines)
    // 10 chunks and one retry: every request went through the pacer.
    expect(server.requests).to.have.length(11)
    expect(grants).to.have.length(11)
    for (const [i, at] of grants.entries()) {
      expect(grants.filter((other) => other > at - 1000 && other <= at).length, `window before #${i}`).to.be.at.most(3)
    }
  })

  it('resumes a chunk that fails mid-stream while others run, nothing lost or repeated', async () => {
    server.fail('export', {match: (request) => request.query.from_date === '2024-01-09', resetAfterRecords: 30})
    server.fail('export', {
      match: (request) => request.query.from_date === '2024-01-13',
      terminatedEarlyAfterRecords: 12,
    })
    const {pacer} = recordingPacer()
    const lines = await collect(exportLines(testClient(server.url), range, {chunkDays: 4, concurrency: 4, pacer}))
    expect(lines).to.deep.equal(allLines)
    expect(server.requests).to.have.length(7)
  })

  it('stops at the limit, in date order', async () => {
    const {pacer} = recordingPacer()
    const lines = await collect(
      exportLines(testClient(server.url), {...range, limit: 250}, {chunkDays: 3, concurrency: 3, pacer}),
    )
    expect(lines).to.deep.equal(allLines.slice(0, 250))
  })

  it('keeps within a tiny memory budget: chunks ahead wait, nothing is lost', async () => {
    const {pacer} = recordingPacer()
    const lines: string[] = []
    for await (const batch of exportLines(testClient(server.url), range, {
      bufferBytes: 1,
      chunkDays: 2,
      concurrency: 6,
      pacer,
    })) {
      lines.push(...batch)
      await new Promise((resolve) => {
        setImmediate(resolve)
      })
    }

    expect(lines).to.deep.equal(allLines)
  })

  it('stops every request when the consumer stops early', async () => {
    server.fail('export', {stallAfterRecords: 5, stallMs: 10_000}, 6)
    const {pacer} = recordingPacer()
    const iterator = exportBlocks(testClient(server.url), range, {chunkDays: 2, concurrency: 4, pacer})
    const first = await iterator.next()
    expect(first.value?.count).to.be.greaterThan(0)
    await iterator.return()
    const requested = server.requests.length
    expect(requested).to.be.at.most(4)
    await new Promise((resolve) => {
      setTimeout(resolve, 50)
    })
    expect(server.requests.length).to.equal(requested)
  })

  it('reads an empty body announced as gzip as no records (decompressed by mpx, not got)', async () => {
    server.fail('export', {contentEncoding: 'gzip', emptyBody: true}, 2)
    const {pacer} = recordingPacer()
    const lines = await collect(
      exportLines(testClient(server.url), {from: '2024-01-01', to: '2024-01-04'}, {chunkDays: 2, pacer}),
    )
    expect(lines).to.deep.equal([])
    expect(server.requests).to.have.length(2)
  })

  it('refuses a concurrency outside 1 to 100', async () => {
    for (const concurrency of [0, 101, 2.5]) {
      let failure: unknown
      try {
        await collect(exportLines(testClient(server.url), range, {chunkDays: 2, concurrency}))
      } catch (error) {
        failure = error
      }

      expect(failure, String(concurrency)).to.be.instanceOf(UsageError)
      expect((failure as Error).message).to.match(/--concurrency/)
    }

    expect(server.requests).to.have.length(0)
  })

  describe('query estimate', () => {
    it('counts one query per chunk and suggests a --chunk-days within 60 an hour', () => {
      expect(estimateQueries({from: '2024-01-01', to: '2024-01-31'}, 7)).to.deep.equal({queries: 5})
      expect(estimateQueries({from: '2024-01-01', to: '2024-02-29'}, 1)).to.deep.equal({queries: 60})
      expect(estimateQueries({from: '2024-01-01', to: '2024-03-31'}, 1)).to.deep.equal({
        queries: 91,
        suggestedChunkDays: 2,
      })
      const year = estimateQueries({from: '2024-01-01', to: '2024-12-31'}, 1)
      expect(year).to.deep.equal({queries: 366, suggestedChunkDays: 7})
      expect(
        estimateQueries({from: '2024-01-01', to: '2024-12-31'}, year.suggestedChunkDays ?? 0).queries,
      ).to.be.at.most(60)
    })
  })
})
