import type {AddressInfo} from 'node:net'

import {expect} from 'chai'
import {AuthError, MpxError, RateLimitError, UsageError} from 'mpx-mixpanel-core/internal/errors.js'
import {MixpanelClient} from 'mpx-mixpanel-core/internal/mixpanel/client.js'
import {type ExportQuery} from 'mpx-mixpanel-core/internal/mixpanel/export/query.js'
import {exportLines} from 'mpx-mixpanel-core/internal/mixpanel/export/source.js'
import {once} from 'node:events'
import {createServer} from 'node:http'

import {type FakeMixpanel, type Fault} from '../../../support/fake-mixpanel.js'
import {generateEvents} from '../../../support/generate.js'
import {useFakeMixpanel} from '../../../support/hooks.js'
import {rejection} from '../../../support/rejection.js'
import {collect, testClient} from '../../../support/source.js'

const events = generateEvents({count: 600, from: '2024-01-01', seed: 7, to: '2024-01-20'})
const allLines = [...events.lines()]

const january: ExportQuery = {from: '2024-01-01', to: '2024-01-20'}

describe('export source', () => {
  let server: FakeMixpanel

  useFakeMixpanel({events, gzipChunkBytes: 333}, (started) => {
    server = started
  })

  it('delivers every line exactly as sent, in date order, across gzip chunks and date chunks', async () => {
    const lines = await collect(exportLines(testClient(server.url), january, {chunkDays: 7}))
    expect(lines).to.deep.equal(allLines)
    const exportRequests = server.requests.filter((request) => request.endpoint === 'export')
    expect(exportRequests.map((r) => `${r.query.from_date}..${r.query.to_date}`)).to.deep.equal([
      '2024-01-01..2024-01-07',
      '2024-01-08..2024-01-14',
      '2024-01-15..2024-01-20',
    ])
    expect(exportRequests[0].headers['accept-encoding']).to.include('gzip')
    expect(exportRequests[0].query.project_id).to.equal('42')
    expect(exportRequests[0].headers.authorization).to.equal(`Basic ${Buffer.from('svc:s3cret').toString('base64')}`)
  })

  it('sends event names, where and limit as Mixpanel expects them', async () => {
    const query = {
      ...january,
      events: ['Signed up', 'Logged in'],
      limit: 5,
      where: 'properties["$browser"] == "Chrome"',
    }
    const lines = await collect(exportLines(testClient(server.url), query, {chunkDays: 30}))
    expect(lines.length).to.be.at.most(5)
    const [request] = server.requests
    expect(JSON.parse(request.query.event)).to.deep.equal(['Signed up', 'Logged in'])
    expect(request.query.where).to.equal('properties["$browser"] == "Chrome"')
    expect(request.query.limit).to.equal('5')
  })

  it('stops at --limit across chunks', async () => {
    const lines = await collect(exportLines(testClient(server.url), {...january, limit: 250}, {chunkDays: 3}))
    expect(lines).to.deep.equal(allLines.slice(0, 250))
  })

  it('makes no request before the first batch is asked for, and closes the connection on early exit', async () => {
    const iterator = exportLines(testClient(server.url), january, {chunkDays: 30})[Symbol.asyncIterator]()
    expect(server.requests).to.have.length(0)
    const first = await iterator.next()
    expect(first.value).to.have.length.greaterThan(0)
    await iterator.return?.()
    expect(server.requests).to.have.length(1)
  })

  /** Faults the source recovers from: every line delivered once, in `requests` requests when given. */
  const recoveries: Array<{faults: Fault[]; requests?: number; title: string}> = [
    {
      faults: [{retryAfter: 0, status: 429}, {status: 429}],
      requests: 3,
      title: 'retries a 429 with Retry-After and one without, then delivers everything once',
    },
    {faults: [{status: 503}, {status: 500}], title: 'retries 5xx answers'},
    {
      faults: [{resetAfterRecords: 123}],
      requests: 2,
      title: 'resumes after a connection reset mid-stream with no duplicate and no gap',
    },
    {faults: [{truncateGzipAfterRecords: 200}], title: 'treats a gzip body cut short as a failure and resumes'},
    {
      faults: [{terminatedEarlyAfterRecords: 50}],
      title: 'never delivers the half record before `terminated early`, and retries',
    },
  ]
  for (const {faults, requests, title} of recoveries) {
    it(title, async () => {
      for (const fault of faults) server.fail('export', fault)
      const lines = await collect(exportLines(testClient(server.url), january, {chunkDays: 30}))
      expect(lines).to.deep.equal(allLines)
      if (requests !== undefined) expect(server.requests).to.have.length(requests)
    })
  }

  it('fails, after delivering only complete records, when every attempt ends `terminated early`', async () => {
    server.fail('export', {terminatedEarlyAfterRecords: 50}, Number.POSITIVE_INFINITY)
    const delivered: string[] = []
    let failure: unknown
    try {
      for await (const batch of exportLines(testClient(server.url, 3), january, {chunkDays: 30}))
        delivered.push(...batch)
    } catch (error) {
      failure = error
    }

    expect(failure).to.be.instanceOf(MpxError)
    expect((failure as Error).message).to.match(/early/)
    // Complete records only, in order; never the half record nor anything after it.
    expect(delivered.length).to.be.within(1, 50)
    expect(delivered).to.deep.equal(allLines.slice(0, delivered.length))
  })

  it('stops with an error naming the range when a replay differs from what was delivered', async () => {
    // First answer: 40 records, then the connection drops. Second answer: other records.
    const other = [...generateEvents({count: 100, from: '2024-01-01', seed: 8, to: '2024-01-20'}).lines()]
    let attempt = 0
    const scripted = createServer((_request, response) => {
      attempt++
      response.writeHead(200, {'content-type': 'text/plain'})
      if (attempt === 1) {
        response.write(allLines.slice(0, 40).join('\n') + '\n', () => response.destroy())
      } else {
        response.end(other.join('\n') + '\n')
      }
    })
    scripted.listen(0, '127.0.0.1')
    await once(scripted, 'listening')
    const {port} = scripted.address() as AddressInfo
    const scriptedClient = new MixpanelClient({
      apiUrl: `http://127.0.0.1:${port}`,
      credentials: {kind: 'api-secret', secret: 'x'},
      retry: {attempts: 3, maxDelayMs: 5, minDelayMs: 1},
    })
    const delivered: string[] = []
    let failure: unknown
    try {
      for await (const batch of exportLines(scriptedClient, january, {chunkDays: 30})) delivered.push(...batch)
    } catch (error) {
      failure = error
    } finally {
      scripted.close()
    }

    expect(attempt).to.equal(2)
    expect(failure).to.be.instanceOf(MpxError)
    expect((failure as Error).message).to.match(/2024-01-01\.\.2024-01-20.*fetch 2024-01-01 to 2024-01-20 again/)
    // The held-back last line of the first answer is never delivered, so at most 39 are.
    expect(delivered).to.deep.equal(allLines.slice(0, delivered.length))
    expect(delivered.length).to.be.within(1, 39)
  })

  it('gives up on a persistent 429 with a RateLimitError', async () => {
    server.fail('export', {retryAfter: 0, status: 429}, Number.POSITIVE_INFINITY)
    const failure = await rejection(collect(exportLines(testClient(server.url, 3), january, {chunkDays: 30})))
    expect(failure).to.be.instanceOf(RateLimitError)
    expect(server.requests).to.have.length(3)
  })

  for (const fault of [
    {status: 401},
    {status: 403},
    {body: 'Unable to authenticate request', contentType: 'text/plain', status: 400},
  ]) {
    it(`raises an AuthError before any record for ${fault.status} ${fault.body ?? ''}`, async () => {
      server.fail('export', fault)
      const delivered: string[] = []
      let failure: unknown
      try {
        for await (const batch of exportLines(testClient(server.url), january, {chunkDays: 30}))
          delivered.push(...batch)
      } catch (error) {
        failure = error
      }

      expect(failure).to.be.instanceOf(AuthError)
      expect(delivered).to.have.length(0)
      expect(server.requests).to.have.length(1)
      expect((failure as Error).message).to.not.include('s3cret')
    })
  }

  it('reports a rejected where expression as a usage error quoting Mixpanel and the expression', async () => {
    const failure = await rejection(
      collect(exportLines(testClient(server.url), {...january, where: 'BAD'}, {chunkDays: 30})),
    )
    expect(failure).to.be.instanceOf(UsageError)
    expect(failure.message).to.include('"BAD"')
  })

  it('yields nothing for an empty range (empty body)', async () => {
    server.fail('export', {emptyBody: true})
    expect(
      await collect(exportLines(testClient(server.url), {from: '2024-01-01', to: '2024-01-01'}, {chunkDays: 30})),
    ).to.deep.equal([])
  })
})
