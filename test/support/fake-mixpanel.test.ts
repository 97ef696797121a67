import {expect} from 'chai'
import {request as httpRequest, type IncomingHttpHeaders} from 'node:http'
import {createGunzip, gunzipSync} from 'node:zlib'

import {type FakeMixpanel, startFakeMixpanel} from './fake-mixpanel.js'
import {dayStartSeconds, generateEvents, generateProfiles} from './generate.js'

interface Reply {
  /** Body bytes as received (still gzipped if the server gzipped them). */
  body: Buffer
  /** Chunks as the socket delivered them. */
  chunks: Buffer[]
  /** Transport error (reset, premature close), if any. */
  error?: Error
  headers: IncomingHttpHeaders
  /** Milliseconds from request to each chunk. */
  offsets: number[]
  status: number
}

/** A bare node:http client: no retries, no decompression, so we see exactly what the server sent. */
function call(
  server: FakeMixpanel,
  path: string,
  options: {body?: string; gzip?: boolean; headers?: Record<string, string>; method?: string} = {},
): Promise<Reply> {
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {...options.headers}
    if (options.gzip) headers['Accept-Encoding'] = 'gzip'
    if (options.body !== undefined) headers['Content-Type'] = 'application/x-www-form-urlencoded'
    const req = httpRequest(`${server.url}${path}`, {agent: false, headers, method: options.method ?? 'GET'}, (res) => {
      const chunks: Buffer[] = []
      const offsets: number[] = []
      const done = (error?: Error): void =>
        resolve({
          body: Buffer.concat(chunks),
          chunks,
          error,
          headers: res.headers,
          offsets,
          status: res.statusCode ?? 0,
        })
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk)
        offsets.push(Date.now() - started)
      })
      res.on('end', () => done())
      res.on('error', (error) => done(error))
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

const text = (reply: Reply): string =>
  (reply.headers['content-encoding'] === 'gzip' ? gunzipSync(reply.body) : reply.body).toString('utf8')
const lines = (body: string): string[] => body.split('\n').filter(Boolean)

/** Gunzip chunk by chunk, collecting the decompressed pieces and the error, if any. */
async function gunzipPieces(chunks: Buffer[]): Promise<{error?: Error; pieces: Buffer[]; text: string}> {
  const gunzip = createGunzip()
  const pieces: Buffer[] = []
  gunzip.on('data', (piece: Buffer) => pieces.push(piece))
  const finished = new Promise<{error?: Error}>((resolve) => {
    gunzip.on('end', () => resolve({}))
    gunzip.on('error', (error) => resolve({error}))
  })
  for (const chunk of chunks) gunzip.write(chunk)
  gunzip.end()
  const {error} = await finished
  return {error, pieces, text: Buffer.concat(pieces).toString('utf8')}
}

const exportPath = (query: Record<string, string>): string => `/api/2.0/export?${new URLSearchParams(query)}`
const form = (params: Record<string, string>): string => new URLSearchParams(params).toString()

describe('test support: generators and fake Mixpanel', () => {
  describe('generate', () => {
    it('is deterministic, time-ordered and inside the requested days', () => {
      const a = generateEvents({count: 500, from: '2024-03-01', seed: 7, to: '2024-03-02'})
      const b = generateEvents({count: 500, from: '2024-03-01', seed: 7, to: '2024-03-02'})
      const c = generateEvents({count: 500, from: '2024-03-01', seed: 8, to: '2024-03-02'})
      expect([...a.lines()]).to.deep.equal([...b.lines()])
      expect(a.lineAt(3)).to.not.equal(c.lineAt(3))
      let previous = 0
      for (let i = 0; i < a.count; i++) {
        const event = JSON.parse(a.lineAt(i)) as {event: string; properties: {time: number}}
        expect(event.properties.time).to.equal(a.timeAt(i)).and.to.be.at.least(previous)
        expect(event.event).to.equal(a.eventAt(i))
        previous = event.properties.time
      }

      expect(a.timeAt(0)).to.equal(dayStartSeconds('2024-03-01'))
      expect(a.timeAt(499)).to.be.below(dayStartSeconds('2024-03-03'))
    })

    it('makes realistic events: ~900 bytes, unicode, nulls, missing $insert_id, exact 19-digit integers', () => {
      const events = generateEvents({count: 5000, from: '2024-01-01', to: '2024-01-31'})
      let bytes = 0
      let withoutInsertId = 0
      let bigIds = 0
      for (const line of events.lines()) {
        bytes += Buffer.byteLength(line)
        const {properties} = JSON.parse(line) as {properties: Record<string, unknown>}
        expect(Object.keys(properties).length).to.be.within(24, 30)
        if (!('$insert_id' in properties)) withoutInsertId++
        const big = /"account_id":(\d+)/.exec(line)
        if (big) {
          bigIds++
          expect(big[1]).to.have.length(19)
          expect(BigInt(big[1]) > BigInt(Number.MAX_SAFE_INTEGER)).to.equal(true)
        }
      }

      expect(bytes / events.count).to.be.within(800, 1100)
      expect(withoutInsertId / events.count).to.be.within(0.01, 0.04)
      expect(bigIds / events.count).to.be.within(0.07, 0.13)
      const all = [...events.lines(0, 200)].join('\n')
      expect(all).to.match(/[\u3040-\u30FF\u4E00-\u9FFF]/) // CJK
      expect(all).to.match(/\p{Extended_Pictographic}/u) // emoji
      expect(all).to.include(':null').and.include(':true').and.include('"cart":{')
    })

    it('makes realistic profiles', () => {
      const profiles = generateProfiles({count: 1000, seed: 3})
      let bigIds = 0
      for (let i = 0; i < profiles.count; i++) {
        const line = profiles.lineAt(i)
        const profile = JSON.parse(line) as {$distinct_id: string; $properties: Record<string, unknown>}
        expect(profile.$distinct_id).to.equal(profiles.distinctIdAt(i))
        expect(Object.keys(profile.$properties).length).to.be.within(18, 24)
        if (/"company_id":\d{19}[,}]/.test(line)) bigIds++
      }

      expect(bigIds).to.be.within(50, 150)
      expect(profiles.lineAt(5)).to.match(/"\$last_seen":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"|^(?!.*\$last_seen)/)
    })
  })

  describe('fake Mixpanel export', () => {
    const events = generateEvents({count: 3000, from: '2024-01-01', seed: 42, to: '2024-01-10'})
    let server: FakeMixpanel

    before(async () => {
      server = await startFakeMixpanel({events})
    })

    afterEach(() => server.reset())

    after(() => server.close())

    const expectedLines = (from: string, to: string, names?: string[]): string[] => {
      const start = dayStartSeconds(from)
      const end = dayStartSeconds(to) + 86_400
      const out: string[] = []
      for (let i = 0; i < events.count; i++) {
        if (events.timeAt(i) >= start && events.timeAt(i) < end && (!names || names.includes(events.eventAt(i)))) {
          out.push(events.lineAt(i))
        }
      }

      return out
    }

    it('serves the inclusive UTC day range as text/plain lines, byte for byte', async () => {
      const reply = await call(server, exportPath({from_date: '2024-01-03', project_id: '12', to_date: '2024-01-04'}))
      expect(reply.status).to.equal(200)
      expect(reply.headers['content-type']).to.match(/^text\/plain/)
      expect(reply.headers['content-encoding']).to.equal(undefined)
      const body = text(reply)
      expect(body.endsWith('\n')).to.equal(true)
      const expected = expectedLines('2024-01-03', '2024-01-04')
      expect(expected).to.have.length(600)
      expect(lines(body)).to.deep.equal(expected)
      expect(server.requests).to.have.length(1)
      expect(server.requests[0]).to.include({endpoint: 'export', method: 'GET', path: '/api/2.0/export'})
      expect(server.requests[0].query).to.deep.equal({from_date: '2024-01-03', project_id: '12', to_date: '2024-01-04'})
    })

    it('filters by event names and applies limit', async () => {
      const names = ['Search', 'Signed up']
      const filtered = await call(
        server,
        exportPath({event: JSON.stringify(names), from_date: '2024-01-01', to_date: '2024-01-02'}),
      )
      expect(lines(text(filtered))).to.deep.equal(expectedLines('2024-01-01', '2024-01-02', names))
      const limited = await call(server, exportPath({from_date: '2024-01-01', limit: '7', to_date: '2024-01-10'}))
      expect(lines(text(limited))).to.deep.equal(expectedLines('2024-01-01', '2024-01-10').slice(0, 7))
    })

    it('answers an empty range with an empty 200, even when gzip is accepted', async () => {
      const reply = await call(server, exportPath({from_date: '2023-06-01', to_date: '2023-06-30'}), {gzip: true})
      expect(reply.status).to.equal(200)
      expect(reply.body.length).to.equal(0)
      expect(reply.headers['content-encoding']).to.equal(undefined)
    })

    it('answers bad parameters with 400 JSON errors', async () => {
      const queries: Array<Record<string, string>> = [
        {to_date: '2024-01-02'},
        {from_date: '2024-1-2', to_date: '2024-01-02'},
        {from_date: '2024-01-05', to_date: '2024-01-02'},
        {from_date: '2024-01-01', to_date: '2024-01-02', where: 'BAD'},
        {event: 'Search', from_date: '2024-01-01', to_date: '2024-01-02'},
        {from_date: '2024-01-01', limit: '100001', to_date: '2024-01-02'},
      ]
      for (const query of queries) {
        const reply = await call(server, exportPath(query))
        expect(reply.status, JSON.stringify(query)).to.equal(400)
        expect(JSON.parse(text(reply)))
          .to.have.property('error')
          .that.is.a('string')
      }
    })

    it('gzips when asked, in several chunks that cut records', async () => {
      const chunked = await startFakeMixpanel({events, gzipChunkBytes: 4096})
      try {
        const reply = await call(chunked, exportPath({from_date: '2024-01-01', to_date: '2024-01-01'}), {gzip: true})
        expect(reply.headers['content-encoding']).to.equal('gzip')
        expect(lines(text(reply))).to.deep.equal(expectedLines('2024-01-01', '2024-01-01'))
        expect(reply.chunks.length).to.be.greaterThan(5)
        const {error, pieces} = await gunzipPieces(reply.chunks)
        expect(error).to.equal(undefined)
        expect(pieces.length).to.be.greaterThan(5)
        expect(pieces.some((piece) => piece.at(-1) !== 0x0a)).to.equal(true)
      } finally {
        await chunked.close()
      }
    })

    it('keeps 19-digit integers intact in the text', async () => {
      let index = 0
      while (!events.lineAt(index).includes('"account_id":')) index++
      const id = /"account_id":(\d{19})/.exec(events.lineAt(index))![1]
      const reply = await call(server, exportPath({from_date: '2024-01-01', to_date: '2024-01-10'}), {gzip: true})
      expect(text(reply)).to.include(`"account_id":${id}}`)
    })

    it('serves explicit lines given with setEvents', async () => {
      const explicit = [
        '{"event":"A","properties":{"time":1704153600,"distinct_id":"x","id":12345678901234567890}}',
        '{"event":"B","properties":{"time":1704067200,"distinct_id":"y"}}',
      ]
      server.setEvents(explicit)
      try {
        const reply = await call(server, exportPath({from_date: '2024-01-01', to_date: '2024-01-02'}))
        expect(text(reply)).to.equal(`${explicit.join('\n')}\n`)
        const one = await call(server, exportPath({from_date: '2024-01-02', to_date: '2024-01-02'}))
        expect(text(one)).to.equal(`${explicit[0]}\n`)
      } finally {
        server.setEvents(events)
      }
    })

    describe('faults', () => {
      const day = {from_date: '2024-01-02', to_date: '2024-01-02'}
      const dayLines = (): string[] => expectedLines('2024-01-02', '2024-01-02')

      it('429 with Retry-After and the default body, consumed once', async () => {
        server.fail('export', {retryAfter: 3, status: 429})
        const limited = await call(server, exportPath(day))
        expect(limited.status).to.equal(429)
        expect(limited.headers['retry-after']).to.equal('3')
        expect(JSON.parse(text(limited))).to.deep.equal({
          error: 'too many export requests in progress for this project',
        })
        expect(server.pendingFaults()).to.equal(0)
        expect((await call(server, exportPath(day))).status).to.equal(200)
      })

      it('status faults with custom bodies, times and match', async () => {
        server.fail('export', {body: 'Unable to authenticate request', status: 400}, 2)
        server.fail('export', {match: (r) => r.query.from_date === '2024-01-05', status: 502})
        const wrongDay = await call(server, exportPath({from_date: '2024-01-05', to_date: '2024-01-05'}))
        expect(wrongDay.status).to.equal(400) // the first queued fault matches every request
        const second = await call(server, exportPath(day))
        expect(second.status).to.equal(400)
        expect(second.headers['content-type']).to.match(/^text\/plain/)
        expect(text(second)).to.equal('Unable to authenticate request')
        expect((await call(server, exportPath(day))).status).to.equal(200) // 502 waits for its match
        const gateway = await call(server, exportPath({from_date: '2024-01-05', to_date: '2024-01-05'}))
        expect(gateway.status).to.equal(502)
        expect(gateway.headers['content-type']).to.match(/^text\/html/)
        for (const status of [401, 402, 403, 500, 503]) server.fail('export', {status})
        for (const status of [401, 402, 403, 500, 503]) {
          expect((await call(server, exportPath(day))).status).to.equal(status)
        }
      })

      it('reset() drops unconsumed faults and recorded requests', async () => {
        server.fail('export', {status: 500}, 5)
        await call(server, exportPath(day))
        expect(server.requests).to.have.length(1)
        server.reset()
        expect(server.pendingFaults()).to.equal(0)
        expect(server.requests).to.have.length(0)
        expect((await call(server, exportPath(day))).status).to.equal(200)
      })

      it('resetAfterRecords: K full records, then the connection dies', async () => {
        server.fail('export', {resetAfterRecords: 50})
        const reply = await call(server, exportPath(day))
        expect(reply.status).to.equal(200)
        expect(reply.error).to.be.instanceOf(Error)
        expect(text(reply)).to.equal(`${dayLines().slice(0, 50).join('\n')}\n`)
        server.fail('export', {resetAfterRecords: 10}) // gzipped: a valid prefix, then the end of the world
        const gzipped = await call(server, exportPath(day), {gzip: true})
        expect(gzipped.error).to.be.instanceOf(Error)
        const gunzipped = await gunzipPieces(gzipped.chunks)
        expect(gunzipped.error).to.be.instanceOf(Error)
        expect(gunzipped.text).to.equal(`${dayLines().slice(0, 10).join('\n')}\n`)
      })

      it('terminatedEarlyAfterRecords: a 200 ending in half a record and "terminated early"', async () => {
        server.fail('export', {terminatedEarlyAfterRecords: 20})
        const reply = await call(server, exportPath(day), {gzip: true})
        expect(reply.status).to.equal(200)
        expect(reply.error).to.equal(undefined)
        const got = text(reply).split('\n')
        expect(got.slice(0, 20)).to.deep.equal(dayLines().slice(0, 20))
        expect(got.slice(21)).to.deep.equal(['terminated early', ''])
        expect(() => JSON.parse(got[20])).to.throw()
        expect(dayLines()[20].startsWith(got[20].slice(0, 40))).to.equal(true)
      })

      it('truncateGzipAfterRecords: clean HTTP end, gzip stream without its end', async () => {
        server.fail('export', {truncateGzipAfterRecords: 30})
        const reply = await call(server, exportPath(day), {gzip: true})
        expect(reply.status).to.equal(200)
        expect(reply.error).to.equal(undefined)
        expect(() => gunzipSync(reply.body)).to.throw(/unexpected end of file/)
        const gunzipped = await gunzipPieces(reply.chunks)
        expect(gunzipped.error?.message).to.match(/unexpected end of file/)
        expect(gunzipped.text.startsWith(`${dayLines().slice(0, 30).join('\n')}\n`)).to.equal(true)
      })

      it('stallAfterRecords: pauses with the socket open, then completes', async () => {
        server.fail('export', {stallAfterRecords: 10, stallMs: 300})
        const reply = await call(server, exportPath(day))
        expect(reply.error).to.equal(undefined)
        expect(lines(text(reply))).to.deep.equal(dayLines())
        const gaps = reply.offsets.slice(1).map((offset, i) => offset - reply.offsets[i])
        expect(Math.max(...gaps)).to.be.at.least(250)
        expect(reply.chunks[0].toString()).to.equal(`${dayLines().slice(0, 10).join('\n')}\n`)
      })

      it('duplicateRecords: every record twice', async () => {
        server.fail('export', {duplicateRecords: true})
        const reply = await call(server, exportPath(day), {gzip: true})
        expect(lines(text(reply))).to.deep.equal(dayLines().flatMap((line) => [line, line]))
      })

      it('emptyBody: a 200 with nothing in it', async () => {
        server.fail('export', {emptyBody: true})
        const reply = await call(server, exportPath(day), {gzip: true})
        expect(reply.status).to.equal(200)
        expect(reply.body.length).to.equal(0)
        server.fail('export', {contentEncoding: 'gzip', emptyBody: true})
        const announced = await call(server, exportPath(day), {gzip: true})
        expect(announced.headers['content-encoding']).to.equal('gzip')
        expect(announced.body.length).to.equal(0)
      })
    })
  })

  describe('fake Mixpanel options', () => {
    const events = generateEvents({count: 200, from: '2024-01-01', to: '2024-01-01'})
    const day = exportPath({from_date: '2024-01-01', to_date: '2024-01-01'})

    it('checks HTTP Basic credentials: service account and API secret', async () => {
      const basic = (user: string, pass: string): Record<string, string> => ({
        Authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`,
      })
      const account = await startFakeMixpanel({auth: {secret: 's3cret', username: 'sa.user'}, events})
      const legacy = await startFakeMixpanel({auth: {apiSecret: 'abc123'}, events})
      try {
        const missing = await call(account, day)
        expect(missing.status).to.equal(401)
        expect(JSON.parse(text(missing))).to.have.property('error')
        expect((await call(account, day, {headers: basic('sa.user', 'nope')})).status).to.equal(401)
        expect((await call(account, day, {headers: basic('sa.user', 's3cret')})).status).to.equal(200)
        expect((await call(legacy, day, {headers: basic('abc123', '')})).status).to.equal(200)
        expect((await call(legacy, day, {headers: basic('other', '')})).status).to.equal(401)
      } finally {
        await account.close()
        await legacy.close()
      }
    })

    it('latencyMs delays the response and bytesPerSecond throttles it', async () => {
      const slow = await startFakeMixpanel({bytesPerSecond: 400_000, events, latencyMs: 150})
      try {
        const started = Date.now()
        const reply = await call(slow, day)
        const elapsed = Date.now() - started
        expect(reply.offsets[0]).to.be.at.least(140)
        // ~190 kB at 400 kB/s is ~0.47 s on top of the latency
        expect(reply.body.length).to.be.greaterThan(150_000)
        expect(elapsed).to.be.at.least(150 + (reply.body.length / 400_000) * 1000 * 0.8)
        expect(lines(text(reply))).to.have.length(200)
      } finally {
        await slow.close()
      }
    })

    it('close() ends stalled responses instead of waiting for them', async () => {
      const stalled = await startFakeMixpanel({events})
      stalled.fail('export', {stallAfterRecords: 5, stallMs: 60_000})
      const pending = call(stalled, day)
      await new Promise((resolve) => {
        setTimeout(resolve, 50)
      })
      const started = Date.now()
      await stalled.close()
      expect(Date.now() - started).to.be.below(1000)
      expect((await pending).error).to.be.instanceOf(Error)
    })
  })

  describe('fake Mixpanel engage', () => {
    const profiles = generateProfiles({count: 2500, seed: 9})
    let server: FakeMixpanel

    before(async () => {
      server = await startFakeMixpanel({engagePageSize: 1000, profiles})
    })

    afterEach(() => server.reset())

    after(() => server.close())

    interface Page {
      page: number
      page_size?: number
      results: Array<{$distinct_id: string}>
      session_id: string
      status: string
      total?: number
    }
    const engage = (params: Record<string, string>, gzip = false): Promise<Reply> =>
      call(server, '/api/2.0/engage?project_id=12', {body: form(params), gzip, method: 'POST'})
    const page = (reply: Reply): Page => JSON.parse(text(reply)) as Page

    it('pages with a session; total and page_size on the first page only', async () => {
      const first = await engage({page: '0'})
      expect(first.status).to.equal(200)
      const p0 = page(first)
      expect(p0).to.include({page: 0, page_size: 1000, status: 'ok', total: 2500})
      expect(p0.results).to.have.length(1000)
      expect(p0.session_id).to.be.a('string').with.length.greaterThan(5)
      // Results are the generator's texts spliced in verbatim.
      expect(text(first)).to.include(`"results":[${profiles.lineAt(0)},${profiles.lineAt(1)},`)
      const p2 = page(await engage({page: '2', session_id: p0.session_id}, true))
      expect(p2).to.not.have.property('total')
      expect(p2).to.not.have.property('page_size')
      expect(p2.results.map((r) => r.$distinct_id)).to.deep.equal(
        [...Array.from({length: 500}).keys()].map((k) => `u${2000 + k}`),
      )
      const p3 = page(await engage({page: '3', session_id: p0.session_id}))
      expect(p3.results).to.have.length(0)
      expect(server.requests[0]).to.deep.include({
        body: {page: '0'},
        endpoint: 'engage',
        method: 'POST',
        query: {project_id: '12'},
      })
    })

    it('sends total on every page when totalOnFirstPageOnly is false; GET works; page_size can be smaller', async () => {
      const everyPage = await startFakeMixpanel({profiles, totalOnFirstPageOnly: false})
      try {
        const first = page(await call(everyPage, `/api/2.0/engage?${form({page: '0', page_size: '300'})}`))
        expect(first).to.include({page_size: 300, total: 2500})
        const second = page(await call(everyPage, `/api/2.0/engage?${form({page: '1', session_id: first.session_id})}`))
        expect(second).to.include({page: 1, page_size: 1000, total: 2500})
      } finally {
        await everyPage.close()
      }
    })

    it('rejects later pages without a valid session, and expires sessions on demand', async () => {
      expect((await engage({page: '1'})).status).to.equal(400)
      expect((await engage({page: '1', session_id: 'made-up'})).status).to.equal(400)
      const {session_id: session} = page(await engage({}))
      server.fail('engage', {match: (r) => r.params.page === '2', sessionExpired: true})
      expect((await engage({page: '1', session_id: session})).status).to.equal(200)
      const expired = await engage({page: '2', session_id: session})
      expect(expired.status).to.equal(400)
      expect(JSON.parse(text(expired)).error).to.match(/session.*expired/)
      // An expired session stays expired.
      expect((await engage({page: '1', session_id: session})).status).to.equal(400)
    })

    it('filters by distinct_ids and distinct_id, records the rest, rejects a bad where', async () => {
      const some = page(await engage({distinct_ids: '["u7","u2400","nobody"]', filter_by_cohort: '{"id": 123}'}))
      expect(some.results.map((r) => r.$distinct_id)).to.deep.equal(['u7', 'u2400'])
      expect(some.total).to.equal(2)
      expect(server.requests[0].params).to.include({filter_by_cohort: '{"id": 123}', project_id: '12'})
      const one = page(await engage({distinct_id: 'u42'}))
      expect(one.results.map((r) => r.$distinct_id)).to.deep.equal(['u42'])
      expect((await engage({where: 'BAD'})).status).to.equal(400)
    })

    it('keeps 19-digit integers intact', async () => {
      let index = 0
      while (!profiles.lineAt(index).includes('"company_id":')) index++
      const id = /"company_id":(\d{19})/.exec(profiles.lineAt(index))![1]
      const reply = await engage({distinct_ids: JSON.stringify([profiles.distinctIdAt(index)])}, true)
      expect(text(reply)).to.include(`"company_id":${id}}`)
    })

    it('applies stream faults to engage bodies too', async () => {
      server.fail('engage', {status: 429})
      expect((await engage({})).status).to.equal(429)
      server.fail('engage', {resetAfterRecords: 3})
      const reset = await engage({}, true)
      expect(reset.error).to.be.instanceOf(Error)
      server.fail('engage', {emptyBody: true})
      expect((await engage({})).body.length).to.equal(0)
    })
  })
})
