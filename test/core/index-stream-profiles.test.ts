import type {AddressInfo} from 'node:net'

import {expect} from 'chai'
import {AuthError, Mixpanel, type NormalizedProfile, parseLossless, type RawProfile} from 'mpx-mixpanel-core'
import {once} from 'node:events'
import {createServer, type ServerResponse} from 'node:http'

import {type FakeMixpanel} from '../support/fake-mixpanel.js'
import {generateProfiles} from '../support/generate.js'
import {useFakeMixpanel} from '../support/hooks.js'
import {LIBRARY_ACCOUNT, libraryFor} from '../support/library.js'

const profiles = generateProfiles({count: 260, seed: 21})
const rawLines = [...profiles.lines()]

describe('library: Mixpanel.streamProfiles', () => {
  let server: FakeMixpanel
  let mp: Mixpanel

  useFakeMixpanel({auth: LIBRARY_ACCOUNT, engagePageSize: 50, profiles}, (started) => {
    server = started
    mp = libraryFor(server)
  })

  it('yields normalized profiles one at a time, in order, big integers as bigint', async () => {
    const seen: NormalizedProfile[] = []
    for await (const profile of mp.streamProfiles()) seen.push(profile)
    expect(seen.map((profile) => profile.distinct_id)).to.deep.equal(rawLines.map((_, i) => profiles.distinctIdAt(i)))
    expect(Object.keys(seen[0])).to.deep.equal(['distinct_id', 'last_seen', 'properties'])
    expect(seen.some((profile) => profile.last_seen !== null)).to.equal(true)
    const bigs = seen.flatMap((profile) =>
      Object.values(profile.properties).filter((value) => typeof value === 'bigint'),
    )
    expect(bigs.length).to.be.greaterThan(0)
    for (const big of bigs) expect(String(big)).to.have.length.of.at.least(19)
  })

  it('yields raw profiles as Mixpanel sent them with format: raw, and passes the filters', async () => {
    const seen: RawProfile[] = []
    const stream = mp.streamProfiles({
      cohortId: 5,
      distinctIds: ['u3', 'u9'],
      format: 'raw',
      groupId: '9223372036854775807',
      outputProperties: ['$email'],
      where: 'true',
    })
    for await (const profile of stream) seen.push(profile)
    expect(seen).to.deep.equal([parseLossless(rawLines[3]), parseLossless(rawLines[9])])
    expect(server.requests[0].body).to.include({
      data_group_id: '9223372036854775807',
      distinct_ids: '["u3","u9"]',
      filter_by_cohort: '{"id":5}',
      output_properties: '["$email"]',
      where: 'true',
    })
  })

  it('stops at limit', async () => {
    const seen: NormalizedProfile[] = []
    for await (const profile of mp.streamProfiles({limit: 120})) seen.push(profile)
    expect(seen).to.have.length(120)
  })

  it('makes no request until the first next()', async () => {
    const stream = mp.streamProfiles()
    const iterator = stream[Symbol.asyncIterator]()
    await new Promise((resolve) => {
      setTimeout(resolve, 20)
    })
    expect(server.requests).to.have.length(0)
    const first = await iterator.next()
    expect(first.done).to.equal(false)
    expect(server.requests).to.have.length(1)
    await iterator.return?.()
  })

  it('throws AuthError from the first next() on bad credentials', async () => {
    const bad = new Mixpanel({apiUrl: server.url, credentials: {projectId: 7, secret: 'nope', username: 'lib'}})
    let failure: unknown
    try {
      for await (const profile of bad.streamProfiles()) expect.fail(`unexpected ${profile.distinct_id}`)
    } catch (error) {
      failure = error
    }

    expect(failure).to.be.instanceOf(AuthError)
  })

  describe('early exit', () => {
    it('aborts every page request in flight when the consumer breaks', async () => {
      // Page 0 answers at once; later pages never do, until their connection closes.
      const waiting: ServerResponse[] = []
      let closed = 0
      let allClosed: () => void = () => {}
      const everyPageClosed = new Promise<void>((resolve) => {
        allClosed = resolve
      })
      const http = createServer((request, response) => {
        let body = ''
        request.on('data', (chunk: Buffer) => {
          body += chunk.toString()
        })
        request.on('end', () => {
          const page = new URLSearchParams(body).get('page')
          if (page === '0') {
            response.end(
              '{"page":0,"page_size":2,"results":[{"$distinct_id":"a","$properties":{}},' +
                '{"$distinct_id":"b","$properties":{}}],"session_id":"S","status":"ok","total":40}',
            )
            return
          }

          waiting.push(response)
          response.on('close', () => {
            if (++closed === 5) allClosed()
          })
        })
      })
      http.listen(0, '127.0.0.1')
      await once(http, 'listening')
      try {
        const {port} = http.address() as AddressInfo
        const mp = new Mixpanel({apiUrl: `http://127.0.0.1:${port}`, credentials: {apiSecret: 'x'}})
        const iterator = mp.streamProfiles()[Symbol.asyncIterator]()
        const seen = [((await iterator.next()).value as NormalizedProfile).distinct_id]
        // Wait until the next pages have been asked for, then leave.
        while (waiting.length < 5) {
          await new Promise((resolve) => {
            setTimeout(resolve, 5)
          })
        }

        await iterator.return?.()
        expect(seen).to.deep.equal(['a'])
        await everyPageClosed
        expect(closed).to.equal(5)
      } finally {
        http.closeAllConnections()
        http.close()
      }
    })
  })
})
