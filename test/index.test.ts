import {expect} from 'chai'

import {AuthError, Mixpanel, type NormalizedEvent, type RawEvent} from '../src/index.js'
import {type FakeMixpanel, startFakeMixpanel} from './support/fake-mixpanel.js'
import {generateEvents} from './support/generate.js'

const events = generateEvents({count: 120, from: '2024-02-01', seed: 11, to: '2024-02-03'})

describe('library: Mixpanel.streamEvents', () => {
  let server: FakeMixpanel
  let mp: Mixpanel

  before(async () => {
    server = await startFakeMixpanel({auth: {secret: 'lib-secret', username: 'lib'}, events, gzipChunkBytes: 500})
    mp = new Mixpanel({
      apiUrl: server.url,
      credentials: {projectId: 7, secret: 'lib-secret', username: 'lib'},
      retry: {minDelayMs: 1},
    })
  })

  after(async () => server.close())

  beforeEach(() => server.reset())

  it('yields normalized events one at a time, in order', async () => {
    const seen: NormalizedEvent[] = []
    for await (const event of mp.streamEvents({from: '2024-02-01', to: '2024-02-03'})) seen.push(event)
    expect(seen).to.have.length(120)
    expect(Object.keys(seen[0])).to.deep.equal(['event_name', 'event_time', 'distinct_id', 'insert_id', 'properties'])
    expect(seen[0].event_time).to.match(/^2024-02-01T\d\d:\d\d:\d\d\.\d{3}Z$/)
    const bigs = seen.flatMap((event) => Object.values(event.properties).filter((value) => typeof value === 'bigint'))
    expect(bigs.length).to.be.greaterThan(0)
    for (const big of bigs) expect(String(big)).to.have.length.of.at.least(19)
  })

  it('yields raw events exactly as Mixpanel sent them with format: raw', async () => {
    const seen: RawEvent[] = []
    for await (const event of mp.streamEvents({format: 'raw', from: '2024-02-01', to: '2024-02-03'})) seen.push(event)
    expect(seen.map((event) => event.event)).to.deep.equal([...events.lines()].map((line) => JSON.parse(line).event))
    expect(seen[0].properties).to.have.property('$insert_id')
  })

  it('makes no request until the first next(), and stops requesting when the consumer breaks', async () => {
    const stream = mp.streamEvents({chunkDays: 1, from: '2024-02-01', to: '2024-02-03'})
    await new Promise((resolve) => {
      setTimeout(resolve, 20)
    })
    expect(server.requests).to.have.length(0)
    let count = 0
    for await (const event of stream) {
      expect(event.event_name).to.be.a('string')
      if (++count === 3) break
    }

    expect(server.requests).to.have.length(1)
  })

  it('throws AuthError from the first next() on bad credentials', async () => {
    const bad = new Mixpanel({apiUrl: server.url, credentials: {projectId: 7, secret: 'nope', username: 'lib'}})
    let failure: unknown
    try {
      for await (const event of bad.streamEvents({from: '2024-02-01', to: '2024-02-01'})) expect.fail(String(event))
    } catch (error) {
      failure = error
    }

    expect(failure).to.be.instanceOf(AuthError)
  })
})
