import {expect} from 'chai'
import {AuthError, MpxError, UsageError} from 'mpx-mixpanel-core/internal/errors.js'
import {type EngageQuery} from 'mpx-mixpanel-core/internal/mixpanel/engage/query.js'
import {resultTexts} from 'mpx-mixpanel-core/internal/mixpanel/engage/results.js'
import {profileLines} from 'mpx-mixpanel-core/internal/mixpanel/engage/source.js'
import nock from 'nock'

import {type FakeMixpanel, type RecordedRequest, startFakeMixpanel} from '../../../support/fake-mixpanel.js'
import {generateProfiles} from '../../../support/generate.js'
import {rejection} from '../../../support/rejection.js'
import {collect, testClient} from '../../../support/source.js'

const profiles = generateProfiles({count: 1050, seed: 11})
const allLines = [...profiles.lines()]

const engageRequests = (server: FakeMixpanel): RecordedRequest[] =>
  server.requests.filter((request) => request.endpoint === 'engage')
const pagesAsked = (server: FakeMixpanel): string[] => engageRequests(server).map((request) => request.body.page)

describe('engage source', () => {
  let server: FakeMixpanel

  before(async () => {
    // 100 a page: 11 pages, the last one short; `total` on page 0 only, as Mixpanel may send it.
    server = await startFakeMixpanel({engagePageSize: 100, profiles, totalOnFirstPageOnly: true})
  })

  after(async () => server.close())

  beforeEach(() => server.reset())

  it('delivers every profile exactly as sent, in page order, across pages without total', async () => {
    const lines = await collect(profileLines(testClient(server.url), {}))
    expect(lines).to.deep.equal(allLines)
    const requests = engageRequests(server)
    expect(requests).to.have.length(11)
    expect(requests.map((request) => request.body.page).sort((a, b) => Number(a) - Number(b))).to.deep.equal(
      Array.from({length: 11}, (_, page) => String(page)),
    )
    const [first, ...later] = requests
    expect(first.method).to.equal('POST')
    expect(first.headers['content-type']).to.include('application/x-www-form-urlencoded')
    expect(first.query).to.deep.equal({project_id: '42'})
    expect(first.body.session_id).to.equal(undefined)
    const sessions = new Set(later.map((request) => request.body.session_id))
    expect(sessions.size).to.equal(1)
    expect([...sessions][0])
      .to.be.a('string')
      .and.not.equal('')
  })

  it('keeps 19-digit integers exactly as Mixpanel wrote them', async () => {
    const lines = await collect(profileLines(testClient(server.url), {}))
    const big = lines.filter((line) => /"company_id":\d{19}/.test(line))
    expect(big.length).to.be.greaterThan(10)
    for (const line of big) expect(allLines).to.include(line)
  })

  it('sends each filter in the form body as Mixpanel expects it', async () => {
    const query: EngageQuery = {
      asOfTimestamp: 1_704_067_200,
      cohortId: 123_456,
      distinctIds: ['u1', 'u7', 'u1000'],
      groupId: '1234567890123456789',
      includeAllUsers: false,
      outputProperties: ['$email', 'plan'],
      where: 'user["plan"] == "pro"',
    }
    const lines = await collect(profileLines(testClient(server.url), query))
    expect(lines).to.deep.equal([allLines[1], allLines[7], allLines[1000]])
    const [request] = engageRequests(server)
    expect(request.query).to.deep.equal({project_id: '42'})
    expect(request.body).to.deep.equal({
      as_of_timestamp: '1704067200',
      data_group_id: '1234567890123456789',
      distinct_ids: '["u1","u7","u1000"]',
      filter_by_cohort: '{"id":123456}',
      include_all_users: 'false',
      output_properties: '["$email","plan"]',
      page: '0',
      where: 'user["plan"] == "pro"',
    })
  })

  it('sends one distinct id as distinct_id', async () => {
    const lines = await collect(profileLines(testClient(server.url), {distinctIds: ['u42'], includeAllUsers: true}))
    expect(lines).to.deep.equal([allLines[42]])
    const [request] = engageRequests(server)
    expect(request.body.distinct_id).to.equal('u42')
    expect(request.body.distinct_ids).to.equal(undefined)
    expect(request.body.include_all_users).to.equal('true')
  })

  it('stops at the limit without asking for pages it does not need', async () => {
    expect(await collect(profileLines(testClient(server.url), {limit: 250}))).to.deep.equal(allLines.slice(0, 250))
    expect(pagesAsked(server).sort()).to.deep.equal(['0', '1', '2'])
    server.reset()
    expect(await collect(profileLines(testClient(server.url), {limit: 7}))).to.deep.equal(allLines.slice(0, 7))
    expect(engageRequests(server).map((request) => request.body.page_size)).to.deep.equal(['7'])
  })

  it('retries a 429 on page 3 (with and without Retry-After), a 503 and a reset, with no duplicates', async () => {
    const onPage = (page: string) => (request: RecordedRequest) => request.params.page === page
    server.fail('engage', {match: onPage('3'), status: 429})
    server.fail('engage', {match: onPage('3'), retryAfter: 0, status: 429})
    server.fail('engage', {match: onPage('5'), status: 503})
    server.fail('engage', {match: onPage('8'), resetAfterRecords: 40})
    const lines = await collect(profileLines(testClient(server.url), {}))
    expect(lines).to.deep.equal(allLines)
    expect(server.pendingFaults()).to.equal(0)
    expect(pagesAsked(server).filter((page) => page === '3')).to.have.length(3)
  })

  it('starts again from page 0 when the session expires, skipping what was delivered', async () => {
    server.fail('engage', {match: (request) => request.params.page === '4', sessionExpired: true})
    const restarts: string[] = []
    const batches: string[][] = []
    for await (const batch of profileLines(
      testClient(server.url),
      {},
      {onRestart: (message) => restarts.push(message)},
    )) {
      batches.push(batch)
    }

    expect(batches.flat()).to.deep.equal(allLines)
    expect(restarts).to.have.length(1)
    expect(restarts[0]).to.include('expired at page 4')
    expect(pagesAsked(server).filter((page) => page === '0')).to.have.length(2)
    // Batches are pages: the delivered ones are not sent again after the restart.
    expect(batches.slice(0, 4).map((batch) => batch.length)).to.deep.equal([100, 100, 100, 100])
  })

  it('gives up when the session keeps expiring', async () => {
    server.fail('engage', {match: (request) => request.params.page === '1', sessionExpired: true}, Infinity)
    const lines: string[] = []
    let failure: unknown
    try {
      for await (const batch of profileLines(testClient(server.url, 3), {})) lines.push(...batch)
    } catch (error) {
      failure = error
    }

    expect(failure).to.be.instanceOf(MpxError)
    expect((failure as Error).message).to.match(/kept expiring \(3 times\)/)
    expect(lines).to.deep.equal(allLines.slice(0, 100))
  })

  it('reports bad credentials before any profile', async () => {
    const guarded = await startFakeMixpanel({auth: {secret: 'right', username: 'svc'}, profiles})
    try {
      const batches: string[][] = []
      let failure: unknown
      try {
        for await (const batch of profileLines(testClient(guarded.url), {})) batches.push(batch)
      } catch (error) {
        failure = error
      }

      expect(failure).to.be.instanceOf(AuthError)
      expect(batches).to.have.length(0)
      expect(guarded.requests).to.have.length(1)
    } finally {
      await guarded.close()
    }
  })

  it('names a where expression Mixpanel rejects', async () => {
    const failure = await rejection(collect(profileLines(testClient(server.url), {where: 'BAD'})))
    expect(failure).to.be.instanceOf(UsageError)
    expect(failure.message).to.include('"BAD"')
  })

  it('checks the query before any request', async () => {
    for (const query of [{limit: 0}, {cohortId: -1}, {distinctIds: ['']}, {groupId: ' '}, {outputProperties: ['']}]) {
      const failure = await rejection(collect(profileLines(testClient(server.url), query)))
      expect(failure, JSON.stringify(query)).to.be.instanceOf(UsageError)
    }

    expect(server.requests).to.have.length(0)
  })

  it('makes no request before the first batch is asked for, and stops every request on early exit', async () => {
    const iterator = profileLines(testClient(server.url), {})
    expect(server.requests).to.have.length(0)
    expect((await iterator.next()).value).to.deep.equal(allLines.slice(0, 100))
    expect(engageRequests(server).map((request) => request.body.page)[0]).to.equal('0')
    expect((await iterator.next()).value).to.deep.equal(allLines.slice(100, 200))
    await iterator.return()
    expect((await iterator.next()).done).to.equal(true)
    // Pages 0 and 1, and at most 5 requested ahead.
    expect(engageRequests(server).length).to.be.within(2, 7)
  })

  describe('with a scripted server', () => {
    // Plain http on loopback: nock's TLS emulation trips over requests aborted while connecting.
    const origin = 'http://127.0.0.1:9'
    // nock 15 hands reply functions the fetch Request.
    const pageOf = async (request: Request): Promise<number> =>
      Number(new URLSearchParams(await request.text()).get('page'))
    const result = (id: number) => `{"$distinct_id":"u${id}","$properties":{"n":${id}}}`
    const page = (page: number, ids: number[], extra = '') =>
      `{"page":${page},"results":[${ids.map((id) => result(id)).join(',')}],"session_id":"S1","status":"ok"${extra}}`

    /** Answers the next `times` engage requests with `reply`. */
    const answerEngage = (times: number, reply: (request: Request) => unknown) =>
      nock(origin).post('/api/2.0/engage').query(true).times(times).reply(reply)

    afterEach(() => nock.cleanAll())

    it('fetches pages concurrently, at most 5 at a time, and still delivers them in order', async () => {
      const total = 10 * 3 + 1
      let inFlight = 0
      let maxInFlight = 0
      const answered: number[] = []
      // Answers are held until 5 requests wait (or the last page is asked for), then given latest page first.
      let held: Array<{n: number; send: () => void}> = []
      answerEngage(11, async (request) => {
        const n = await pageOf(request)
        const ids = Array.from({length: n === 10 ? 1 : 3}, (_, k) => n * 3 + k)
        const text = page(n, ids, n === 0 ? `,"page_size":3,"total":${total}` : '')
        if (n === 0) return [200, text]
        inFlight++
        maxInFlight = Math.max(maxInFlight, inFlight)
        const answer = new Promise<void>((resolve) => {
          held.push({
            n,
            send() {
              answered.push(n)
              resolve()
            },
          })
        })
        if (held.length === 5 || n === 10) {
          const release = held.sort((a, b) => b.n - a.n)
          held = []
          for (const {send} of release) send()
        }

        await answer
        inFlight--
        return [200, text]
      })
      const lines = await collect(profileLines(testClient(origin), {}))
      expect(lines).to.deep.equal(Array.from({length: total}, (_, id) => result(id)))
      expect(maxInFlight).to.equal(5)
      expect(answered).to.deep.equal([5, 4, 3, 2, 1, 10, 9, 8, 7, 6])
      expect(nock.isDone()).to.equal(true)
    })

    it('reads one page at a time until a short page when Mixpanel sends no total', async () => {
      const asked: number[] = []
      answerEngage(3, async (request) => {
        const n = await pageOf(request)
        asked.push(n)
        return [200, page(n, n === 2 ? [4] : [n * 2, n * 2 + 1], n === 0 ? ',"page_size":2' : '')]
      })
      expect(await collect(profileLines(testClient(origin), {}))).to.deep.equal([0, 1, 2, 3, 4].map((id) => result(id)))
      expect(asked).to.deep.equal([0, 1, 2])
    })

    it('takes page 0 length as the page size when Mixpanel sends neither page_size nor total', async () => {
      answerEngage(3, async (request) => {
        const n = await pageOf(request)
        return [200, page(n, n === 2 ? [] : [n * 2, n * 2 + 1])]
      })
      expect(await collect(profileLines(testClient(origin), {}))).to.deep.equal([0, 1, 2, 3].map((id) => result(id)))
    })

    it('stops after the last page by total without asking for an empty one', async () => {
      answerEngage(2, async (request) => {
        const n = await pageOf(request)
        return [200, page(n, [n * 2, n * 2 + 1], n === 0 ? ',"page_size":2,"total":4' : '')]
      })
      expect(await collect(profileLines(testClient(origin), {}))).to.have.length(4)
      expect(nock.isDone()).to.equal(true)
    })

    it('fails rather than deliver twice when a restarted session lists other profiles first', async () => {
      let sessions = 0
      answerEngage(4, async (request) => {
        const n = await pageOf(request)
        if (n === 0) {
          sessions++
          // The second session has a new profile first.
          const ids = sessions === 1 ? [0, 1] : [99, 0]
          return [200, page(0, ids, ',"page_size":2,"total":6')]
        }

        return sessions === 1 && n === 1
          ? [400, '{"error":"query session S1 has expired, please run the query again from page 0"}']
          : [200, page(n, [n * 2, n * 2 + 1])]
      })
      const lines: string[] = []
      let failure: unknown
      try {
        for await (const batch of profileLines(testClient(origin), {}, {concurrency: 1})) lines.push(...batch)
      } catch (error) {
        failure = error
      }

      expect(failure).to.be.instanceOf(MpxError)
      expect((failure as Error).message).to.include('changed')
      expect(lines).to.deep.equal([result(0), result(1)])
    })

    it('retries a 200 whose JSON is cut short', async () => {
      let calls = 0
      answerEngage(2, () => {
        calls++
        const text = page(0, [0, 1], ',"page_size":5,"total":2')
        return [200, calls === 1 ? text.slice(0, 40) : text]
      })
      expect(await collect(profileLines(testClient(origin), {}))).to.deep.equal([result(0), result(1)])
    })
  })

  describe('resultTexts', () => {
    it('slices each result exactly, whatever the key order, strings and nesting', () => {
      const first = String.raw`{"$distinct_id":"a\"]},","$properties":{"list":[1,{"x":"}"}],"n":12345678901234567890}}`
      const second = '{"$properties":{},"$distinct_id":7}'
      const text = `{"status":"ok","session_id":"x","results":[${first},${second}],"page":0,"total":2}`
      expect(resultTexts(text)).to.deep.equal([first, second])
      expect(resultTexts('{"results":[]}')).to.deep.equal([])
    })

    it('puts a pretty-printed result on one line, its values unchanged', () => {
      const text =
        '{\n  "results": [\n    {\n      "$distinct_id": "a b",\n      "$properties": {"n": 1}\n    }\n  ]\n}'
      const [only] = resultTexts(text)
      expect(only).to.not.match(/[\n\r]/)
      expect(JSON.parse(only)).to.deep.equal({$distinct_id: 'a b', $properties: {n: 1}})
    })
  })
})
