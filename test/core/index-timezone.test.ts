import {expect} from 'chai'
import {Mixpanel, type NormalizedEvent, UsageError} from 'mpx-mixpanel-core'

import {type FakeMixpanel, startFakeMixpanel} from '../support/fake-mixpanel.js'
import {generateEvents} from '../support/generate.js'
import {useSavedConfig} from '../support/hooks.js'
import {zoneDayStart} from '../support/legacy-time.js'
import {LIBRARY_ACCOUNT} from '../support/library.js'
import {rejection} from '../support/rejection.js'

const LA = 'America/Los_Angeles'
const trueLines = [...generateEvents({count: 300, from: '2024-03-09', seed: 41, to: '2024-03-11'}).lines()]
const trueSeconds = (line: string): number => (JSON.parse(line) as {properties: {time: number}}).properties.time
/** The true instants of Los Angeles' 2024-03-10 (its spring DST change), in order. */
const springDay = trueLines
  .map((line) => trueSeconds(line))
  .filter((seconds) => seconds >= zoneDayStart(LA, '2024-03-10') && seconds < zoneDayStart(LA, '2024-03-11'))
  .map((seconds) => new Date(seconds * 1000).toISOString())

async function eventTimes(library: Mixpanel, from = '2024-03-10', to = '2024-03-10'): Promise<string[]> {
  const times: string[] = []
  for await (const event of library.streamEvents({from, to})) times.push((event as NormalizedEvent).event_time)
  return times
}

describe('library: the project timezone', () => {
  let server: FakeMixpanel
  let warnings: string[]
  const library = (options: {timezone?: string} = {}) =>
    new Mixpanel({
      apiUrl: server.url,
      credentials: {projectId: 7, ...LIBRARY_ACCOUNT},
      onWarning: (message) => warnings.push(message),
      retry: {minDelayMs: 1},
      ...options,
    })

  before(async () => {
    server = await startFakeMixpanel({auth: LIBRARY_ACCOUNT, events: trueLines, timezone: LA})
  })

  after(async () => server.close())

  beforeEach(() => {
    server.reset()
    warnings = []
  })

  it('gives true UTC instants with the timezone option, on a DST change day, and warns of nothing', async () => {
    expect(springDay.length).to.be.greaterThan(50)
    expect(await eventTimes(library({timezone: LA}))).to.deep.equal(springDay)
    expect(warnings).to.deep.equal([])
  })

  it('without it, reports the shifted times once through onWarning, with no CLI flag in the text', async () => {
    const times = await eventTimes(library())
    expect(times).to.have.length(springDay.length)
    expect(times).not.to.deep.equal(springDay)
    expect(warnings).to.have.length(1)
    expect(warnings[0]).to.include('UTC-0').and.to.include('timezone').and.not.to.include('--')
  })

  it('refuses an unknown timezone option with a usage error naming it', async () => {
    const error = await rejection(eventTimes(library({timezone: 'Mars/Olympus'})))
    expect(error).to.be.instanceOf(UsageError)
    expect(error.message).to.include('"Mars/Olympus"').and.not.to.include('--')
    expect(server.requests).to.have.length(0)
  })

  describe("the project's today (MPX_NOW) and the saved account's timezone", () => {
    useSavedConfig(
      {
        accounts: {west: {projectId: '7', ...LIBRARY_ACCOUNT, timezone: LA, type: 'service-account'}},
        defaultAccount: 'west',
      },
      // 05:00 UTC on the 11th: still the 10th in Los Angeles.
      {MPX_NOW: '2024-03-11T05:00:00Z'},
    )

    it("uses the saved account's timezone: its days, its today, true instants", async () => {
      const saved = new Mixpanel({apiUrl: server.url, onWarning: (message) => warnings.push(message)})
      expect(await eventTimes(saved, '2024-03-10', '2024-12-31')).to.deep.equal(springDay)
      expect(server.requests.map((request) => request.params.to_date)).to.deep.equal(['2024-03-10'])
      expect(warnings).to.deep.equal([
        "TO 2024-12-31 is after the project's today (2024-03-10 in America/Los_Angeles): fetching up to 2024-03-10",
      ])
    })

    it("refuses FROM after the project's today", async () => {
      const error = await rejection(eventTimes(library({timezone: LA}), '2024-03-11', '2024-03-11'))
      expect(error).to.be.instanceOf(UsageError)
      expect(error.message).to.include("after the project's today (2024-03-10 in America/Los_Angeles)")
    })
  })
})
