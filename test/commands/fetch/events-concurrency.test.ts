import {expect} from 'chai'
import {normalizeEventLine} from 'mpx-mixpanel-core/internal/records/events.js'

import {runMpx, serviceAccountEnv} from '../../support/cli.js'
import {type FakeMixpanel} from '../../support/fake-mixpanel.js'
import {generateEvents} from '../../support/generate.js'
import {useFakeMixpanel} from '../../support/hooks.js'

const SECRET = 'sEcReT-concurrency-7'
const events = generateEvents({count: 900, from: '2024-01-01', seed: 5, to: '2024-01-30'})
const rawLines = [...events.lines()]

describe('fetch:events --concurrency', () => {
  let server: FakeMixpanel
  let env: Record<string, string>

  useFakeMixpanel({auth: {secret: SECRET, username: 'svc'}, events, gzipChunkBytes: 2000}, (started) => {
    server = started
    env = serviceAccountEnv(started.url, {secret: SECRET, username: 'svc'})
  })

  it('prints every record once, in date order, with chunks fetched 3 at a time', async () => {
    // The first chunk answers last.
    server.fail('export', {
      match: (request) => request.query.from_date === '2024-01-01',
      stallAfterRecords: 3,
      stallMs: 300,
    })
    const result = await runMpx(
      ['fetch:events', '2024-01-01', '2024-01-30', '--stdout', '--chunk-days', '5', '--concurrency', '3'],
      {env},
    )
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.equal(rawLines.map((line) => `${normalizeEventLine(line)}\n`).join(''))
    expect(server.requests).to.have.length(6)
  })

  it('prints raw records byte for byte with --concurrency', async () => {
    const result = await runMpx(
      ['fetch:events', '2024-01-01', '2024-01-30', '--stdout', '--raw', '--chunk-days', '3', '--concurrency', '4'],
      {env},
    )
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.equal(rawLines.map((line) => `${line}\n`).join(''))
  })

  it('warns before starting when the fetch makes more than 60 requests, suggesting a --chunk-days', async () => {
    // Bad credentials: the fetch stops at the first request, after the warning.
    const result = await runMpx(['fetch:events', '2024-01-01', '2024-03-31', '--stdout', '--chunk-days', '1'], {
      env: {...env, MP_SECRET: 'wrong'},
    })
    expect(result.code).to.equal(2)
    expect(result.stderr).to.match(
      /Warning: this fetch makes 91 export requests .*60 an hour.*--chunk-days 2 makes it 46/,
    )
    expect(server.requests.length).to.be.at.most(1)
  })

  it('does not warn for 60 requests or fewer', async () => {
    const result = await runMpx(['fetch:events', '2024-01-01', '2024-01-30', '--stdout', '--chunk-days', '30'], {env})
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stderr).to.not.match(/requests/)
  })

  it('exits 3 for a concurrency outside 1 to 100', async () => {
    for (const value of ['0', '101']) {
      const result = await runMpx(['fetch:events', '2024-01-01', '2024-01-02', '--stdout', '--concurrency', value], {
        env,
      })
      expect(result.code, value).to.equal(3)
      expect(result.stderr.trim().split('\n'), result.stderr).to.have.length(1)
    }

    expect(server.requests).to.have.length(0)
  })
})
