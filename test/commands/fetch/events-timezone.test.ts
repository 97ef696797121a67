import {expect} from 'chai'
import {normalizeEventLine} from 'mpx-mixpanel-core/internal/records/events.js'
import {join} from 'node:path'

import {jsonLines, runMpx, serviceAccountEnv} from '../../support/cli.js'
import {type FakeMixpanel, startFakeMixpanel} from '../../support/fake-mixpanel.js'
import {generateEvents} from '../../support/generate.js'
import {legacyLine, zoneDayStart} from '../../support/legacy-time.js'
import {temporaryDirectory} from '../../support/temporary.js'

const LA = 'America/Los_Angeles'
const SECRET = 'tz-secret-never-printed'
const account = {secret: SECRET, username: 'svc'}

/** Events with true UTC times around an ordinary day and both of Los Angeles' DST changes in 2024. */
const trueLines = [
  ...generateEvents({count: 300, from: '2024-01-15', seed: 31, to: '2024-01-17'}).lines(),
  ...generateEvents({count: 300, from: '2024-03-09', seed: 32, to: '2024-03-11'}).lines(),
  ...generateEvents({count: 300, from: '2024-11-02', seed: 33, to: '2024-11-04'}).lines(),
]
const trueSeconds = (line: string): number => (JSON.parse(line) as {properties: {time: number}}).properties.time

/** The events of Los Angeles' days FROM..TO, in the order the fake sends them. */
function laDays(from: string, to: string): string[] {
  const next = new Date(Date.parse(`${to}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10)
  const start = zoneDayStart(LA, from)
  const end = zoneDayStart(LA, next)
  return trueLines.filter((line) => trueSeconds(line) >= start && trueSeconds(line) < end)
}

/**
 * The instant mpx gives a true instant back as: itself, but for the second pass of the repeated
 * autumn hour (09:00 to 10:00 UTC on 2024-11-03), which is read as the first (documented).
 */
function expectedInstant(seconds: number): string {
  const repeated =
    seconds >= Date.parse('2024-11-03T09:00:00Z') / 1000 && seconds < Date.parse('2024-11-03T10:00:00Z') / 1000
  return new Date((repeated ? seconds - 3600 : seconds) * 1000).toISOString()
}

type Event = {event_time: string; insert_id: string}

describe('fetch:events of a legacy project (timezone)', () => {
  let server: FakeMixpanel
  let env: Record<string, string>

  before(async () => {
    server = await startFakeMixpanel({auth: account, events: trueLines, gzipChunkBytes: 4000, timezone: LA})
    env = serviceAccountEnv(server.url, account)
  })

  after(async () => server.close())

  beforeEach(() => server.reset())

  for (const [what, from, to] of [
    ['an ordinary day', '2024-01-16', '2024-01-16'],
    ['the spring DST change', '2024-03-10', '2024-03-10'],
    ['the autumn DST change', '2024-11-03', '2024-11-03'],
  ]) {
    it(`gives every event its true instant with --timezone, on ${what}, and says nothing of the zone`, async () => {
      const expected = laDays(from, to)
      expect(expected.length).to.be.greaterThan(50)
      const result = await runMpx(['fetch:events', from, to, '--stdout', '--timezone', LA], {env})
      expect(result.code, result.stderr).to.equal(0)
      expect(server.requests.map((request) => [request.params.from_date, request.params.to_date])).to.deep.equal([
        [from, to],
      ])
      const events = jsonLines(result.stdout) as Event[]
      expect(events.map((event) => event.event_time)).to.deep.equal(
        expected.map((line) => expectedInstant(trueSeconds(line))),
      )
      // Everything else as without the zone.
      const naive = expected.map((line) => JSON.parse(normalizeEventLine(legacyLine(LA, line))) as Event)
      expect(events.map((event) => ({...event, event_time: ''}))).to.deep.equal(
        naive.map((event) => ({...event, event_time: ''})),
      )
      expect(result.stderr).not.to.include('Event times')
    })
  }

  it('reads the repeated autumn hour as its first pass (the events there exist to be checked)', async () => {
    const repeated = laDays('2024-11-03', '2024-11-03').filter(
      (line) => expectedInstant(trueSeconds(line)) !== new Date(trueSeconds(line) * 1000).toISOString(),
    )
    expect(repeated.length).to.be.greaterThan(0)
  })

  it('sends raw records byte for byte, the zone set or not', async () => {
    const result = await runMpx(['fetch:events', '2024-03-10', '2024-03-10', '--stdout', '--raw', '--timezone', LA], {
      env,
    })
    expect(result.code).to.equal(0)
    expect(result.stdout).to.equal(
      laDays('2024-03-10', '2024-03-10')
        .map((line) => `${legacyLine(LA, line)}\n`)
        .join(''),
    )
  })

  it('stores the true instants in DuckDB', async () => {
    const directory = await temporaryDirectory()
    try {
      const db = join(directory.path, 'legacy.duckdb')
      const stored = await runMpx(['fetch:events', '2024-11-02', '2024-11-04', '--db', db, '--timezone', LA], {env})
      expect(stored.code, stored.stderr).to.equal(0)
      const read = await runMpx(
        ['sql', 'SELECT insert_id, epoch(event_time) AS t FROM events ORDER BY t, insert_id', '--db', db],
        {env},
      )
      expect(read.code, read.stderr).to.equal(0)
      const rows = jsonLines(read.stdout) as Array<{insert_id: string; t: number}>
      const expected = laDays('2024-11-02', '2024-11-04')
      expect(rows).to.have.length(expected.length)
      const byId = new Map(
        expected.map((line) => [
          (JSON.parse(normalizeEventLine(legacyLine(LA, line))) as Event).insert_id,
          expectedInstant(trueSeconds(line)),
        ]),
      )
      for (const row of rows) {
        expect(new Date(row.t * 1000).toISOString(), row.insert_id).to.equal(byId.get(row.insert_id))
      }
    } finally {
      await directory.remove()
    }
  })

  it('without a zone, warns once with the offset seen and how to set the zone, and changes nothing', async () => {
    const result = await runMpx(['fetch:events', '2024-01-15', '2024-01-17', '--stdout'], {env})
    expect(result.code, result.stderr).to.equal(0)
    const warnings = result.stderr.split('\n').filter((line) => line.includes('Event times'))
    expect(warnings).to.have.length(1)
    expect(warnings[0]).to.include('UTC-08:00').and.to.include('--timezone').and.to.include('mpx auth:add')
    const expected = laDays('2024-01-15', '2024-01-17').map((line) => normalizeEventLine(legacyLine(LA, line)) + '\n')
    expect(result.stdout).to.equal(expected.join(''))
    expect(result.stderr).not.to.include(SECRET)
  })

  it('warns when the zone set (MP_TIMEZONE here) disagrees with the times', async () => {
    const result = await runMpx(['fetch:events', '2024-01-15', '2024-01-17', '--stdout', '--quiet'], {
      env: {...env, MP_TIMEZONE: 'America/New_York'},
    })
    expect(result.code).to.equal(0)
    expect(result.stderr).to.equal('')
    const loud = await runMpx(['fetch:events', '2024-01-15', '2024-01-17', '--stdout'], {
      env: {...env, MP_TIMEZONE: 'America/New_York'},
    })
    expect(loud.stderr).to.include("Event times do not look like America/New_York's").and.to.include('UTC-08:00')
  })

  it('refuses an unknown zone, naming it (exit 3), before any request', async () => {
    const flag = await runMpx(['fetch:events', '2024-01-15', '2024-01-17', '--stdout', '--timezone', 'Mars/Olympus'], {
      env,
    })
    expect(flag.code).to.equal(3)
    expect(flag.stderr).to.include('Unknown timezone "Mars/Olympus" in --timezone')
    const environment = await runMpx(['fetch:events', '2024-01-15', '2024-01-17', '--stdout'], {
      env: {...env, MP_TIMEZONE: 'Nowhere'},
    })
    expect(environment.code).to.equal(3)
    expect(environment.stderr).to.include('Unknown timezone "Nowhere" in MP_TIMEZONE')
    expect(server.requests).to.have.length(0)
  })

  describe("fetch:events and the project's today", () => {
    let server: FakeMixpanel | undefined

    afterEach(async () => server?.close())

    async function fake(today?: string): Promise<Record<string, string>> {
      server = await startFakeMixpanel({auth: account, events: trueLines, timezone: LA, today})
      return serviceAccountEnv(server.url, account)
    }

    it("clamps TO after the project's today (in its zone) to today, with a one-line note", async () => {
      // 05:00 UTC on 2024-03-12: already the 12th in UTC, still the 11th in Los Angeles.
      const env = {...(await fake()), MPX_NOW: '2024-03-12T05:00:00Z'}
      const result = await runMpx(['fetch:events', '2024-03-10', '9999-12-31', '--stdout', '--timezone', LA], {env})
      expect(result.code, result.stderr).to.equal(0)
      expect(result.stderr).to.include(
        "TO 9999-12-31 is after the project's today (2024-03-11 in America/Los_Angeles): fetching up to 2024-03-11",
      )
      expect(server!.requests.map((request) => request.params.to_date)).to.deep.equal(['2024-03-11'])
      const utc = await runMpx(['fetch:events', '2024-03-10', '9999-12-31', '--stdout', '--quiet'], {env})
      expect(utc.code).to.equal(0)
      expect(server!.requests.at(-1)!.params.to_date).to.equal('2024-03-12')
    })

    it("refuses FROM after the project's today (exit 3), before any request", async () => {
      const env = {...(await fake()), MPX_NOW: '2024-03-12T05:00:00Z'}
      const result = await runMpx(['fetch:events', '2024-03-12', '2024-03-12', '--stdout', '--timezone', LA], {env})
      expect(result.code).to.equal(3)
      expect(result.stderr).to.include(
        "FROM 2024-03-12 is after the project's today (2024-03-11 in America/Los_Angeles)",
      )
      expect(server!.requests).to.have.length(0)
    })

    it('retries once with the day before when Mixpanel answers that to_date is after its today', async () => {
      const env = {...(await fake('2024-03-11')), MPX_NOW: '2024-03-12T20:00:00Z'}
      const result = await runMpx(['fetch:events', '2024-03-10', '2024-03-12', '--stdout', '--timezone', LA], {env})
      expect(result.code, result.stderr).to.equal(0)
      expect(server!.requests.map((request) => request.params.to_date)).to.deep.equal(['2024-03-12', '2024-03-11'])
      expect(result.stderr).to.include(
        "Mixpanel says 2024-03-12 is after the project's today: fetching up to 2024-03-11",
      )
      expect((jsonLines(result.stdout) as Event[]).map((event) => event.event_time)).to.deep.equal(
        laDays('2024-03-10', '2024-03-11').map((line) => expectedInstant(trueSeconds(line))),
      )
    })

    it('fails with a usage error (exit 3) when Mixpanel refuses the day before too', async () => {
      const env = {...(await fake('2024-03-10')), MPX_NOW: '2024-03-12T20:00:00Z'}
      const result = await runMpx(['fetch:events', '2024-03-10', '2024-03-12', '--stdout', '--timezone', LA], {env})
      expect(result.code).to.equal(3)
      expect(result.stderr).to.include('to_date cannot be later than today')
      expect(server!.requests).to.have.length(2)
    })
  })
})
