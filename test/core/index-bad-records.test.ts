import {expect} from 'chai'
import {BadRecordError, type NormalizedEvent, type NormalizedProfile, type RejectedRecord} from 'mpx-mixpanel-core'

import {type FakeMixpanel, startFakeMixpanel} from '../support/fake-mixpanel.js'
import {generateEvents, generateProfiles} from '../support/generate.js'
import {LIBRARY_ACCOUNT, libraryFor} from '../support/library.js'

const good = [...generateEvents({count: 200, from: '2024-02-01', seed: 12, to: '2024-02-02'}).lines()]
const bad = ['null', '{"event":"X"}', '{"event":"Late","properties":{"time":1706745600000,"$insert_id":"ms"}}']
const lines = [good[0], bad[0], ...good.slice(1, 100), bad[1], ...good.slice(100), bad[2]]
const goodProfiles = [...generateProfiles({count: 50, seed: 12}).lines()]
const badProfiles = ['[1]', '{"$properties":{}}']

describe('library: bad records', () => {
  let server: FakeMixpanel

  before(async () => {
    server = await startFakeMixpanel({
      auth: LIBRARY_ACCOUNT,
      events: lines,
      profiles: [badProfiles[0], ...goodProfiles, badProfiles[1]],
    })
  })

  after(async () => server.close())

  it('streamEvents hands each bad record to onReject, with its reason and days, and goes on', async () => {
    const rejects: RejectedRecord[] = []
    const seen: NormalizedEvent[] = []
    const stream = libraryFor(server).streamEvents({
      chunkDays: 1,
      from: '2024-02-01',
      onReject: (reject) => rejects.push(reject),
      to: '2024-02-02',
    })
    for await (const event of stream) seen.push(event)
    expect(seen).to.have.length(good.length)
    expect(rejects.map((reject) => reject.line)).to.deep.equal(bad)
    expect(rejects[0]).to.deep.equal({
      day: '2024-02-01',
      kind: 'events',
      line: 'null',
      range: {from: '2024-02-01', to: '2024-02-01'},
      reason: 'not an object but null',
    })
    expect(rejects[2]).to.include({
      insertId: 'ms',
      reason: 'properties.time 1706745600000 looks like milliseconds, not seconds',
    })
  })

  it('streamEvents without onReject throws a BadRecordError at the first bad record: none is dropped silently', async () => {
    const seen: NormalizedEvent[] = []
    let thrown: unknown
    try {
      for await (const event of libraryFor(server).streamEvents({from: '2024-02-01', to: '2024-02-02'}))
        seen.push(event)
    } catch (error) {
      thrown = error
    }

    expect(seen).to.have.length(1)
    expect(thrown).to.be.instanceOf(BadRecordError)
    expect((thrown as BadRecordError).reject).to.include({line: 'null', reason: 'not an object but null'})
    expect((thrown as Error).message).to.equal(
      'Mixpanel sent an event of 2024-02-01..2024-02-02 that mpx cannot store (not an object but null): null',
    )
  })

  it('streamProfiles hands profiles that are not usable objects to onReject', async () => {
    const rejects: RejectedRecord[] = []
    const seen: NormalizedProfile[] = []
    for await (const profile of libraryFor(server).streamProfiles({onReject: (reject) => rejects.push(reject)})) {
      seen.push(profile)
    }

    expect(seen).to.have.length(goodProfiles.length)
    expect(rejects.map((reject) => [reject.line, reject.reason])).to.deep.equal([
      ['[1]', 'not an object'],
      ['{"$properties":{}}', 'no $distinct_id'],
    ])
  })
})
