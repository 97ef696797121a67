import {expect} from 'chai'
import {AuthError, Mixpanel, type NormalizedEvent, NotFoundError, type RawEvent} from 'mpx-mixpanel-core'

import {type FakeMixpanel} from '../support/fake-mixpanel.js'
import {generateEvents} from '../support/generate.js'
import {useFakeMixpanel, useSavedConfig} from '../support/hooks.js'
import {LIBRARY_ACCOUNT, libraryFor} from '../support/library.js'

const events = generateEvents({count: 120, from: '2024-02-01', seed: 11, to: '2024-02-03'})

describe('library: Mixpanel.streamEvents', () => {
  let server: FakeMixpanel
  let mp: Mixpanel

  useFakeMixpanel({auth: LIBRARY_ACCOUNT, events, gzipChunkBytes: 500}, (started) => {
    server = started
    mp = libraryFor(server)
  })

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

  describe('credentials from the config file that mpx auth:add writes', () => {
    useSavedConfig({
      accounts: {
        lib: {projectId: '7', secret: 'lib-secret', type: 'service-account', username: 'lib'},
        other: {projectId: '7', secret: 'wrong', type: 'service-account', username: 'lib'},
      },
      defaultAccount: 'lib',
    })

    const count = async (library: Mixpanel) => {
      let seen = 0
      for await (const event of library.streamEvents({from: '2024-02-01', to: '2024-02-03'})) {
        expect(event.event_name).to.be.a('string')
        seen++
      }

      return seen
    }

    it('uses the default account without credentials or environment, and a named one with account', async () => {
      expect(await count(new Mixpanel({apiUrl: server.url, retry: {minDelayMs: 1}}))).to.equal(120)
      expect(await count(new Mixpanel({account: 'lib', apiUrl: server.url}))).to.equal(120)
      const error = await count(new Mixpanel({account: 'other', apiUrl: server.url})).catch((error_: unknown) => error_)
      expect(error).to.be.instanceOf(AuthError)
    })

    it('fails from the first next() with NotFoundError for an account that is not there', async () => {
      const stream = new Mixpanel({account: 'nope', apiUrl: server.url}).streamEvents({
        from: '2024-02-01',
        to: '2024-02-01',
      })
      const error = await stream[Symbol.asyncIterator]()
        .next()
        .catch((error_: unknown) => error_)
      expect(error).to.be.instanceOf(NotFoundError)
      expect((error as Error).message).to.equal(
        'No account named "nope": list accounts with mpx auth:list, add one with mpx auth:add',
      )
      expect(server.requests).to.have.length(0)
    })
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
