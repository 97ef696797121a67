import {expect} from 'chai'
import {normalizeEventLine} from 'mpx-mixpanel-core/internal/records/events.js'

import {generateEvents} from '../../support/generate.js'
import {useServiceAccountCli} from '../../support/hooks.js'

const events = generateEvents({count: 900, from: '2024-01-01', seed: 5, to: '2024-01-30'})
const rawLines = [...events.lines()]

describe('fetch:events --concurrency', () => {
  const cli = useServiceAccountCli({events, gzipChunkBytes: 2000})
  /** All the events (2024-01-01..2024-01-30) to stdout, with these flags. */
  const fetchAll = (...flags: string[]) => cli.run(['fetch:events', '2024-01-01', '2024-01-30', '--stdout', ...flags])

  it('prints every record once, in date order, with chunks fetched 3 at a time', async () => {
    // The first chunk answers last.
    cli.server.fail('export', {
      match: (request) => request.query.from_date === '2024-01-01',
      stallAfterRecords: 3,
      stallMs: 300,
    })
    const result = await fetchAll('--chunk-days', '5', '--concurrency', '3')
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.equal(rawLines.map((line) => `${normalizeEventLine(line)}\n`).join(''))
    expect(cli.server.requests).to.have.length(6)
  })

  it('prints raw records byte for byte with --concurrency', async () => {
    const result = await fetchAll('--raw', '--chunk-days', '3', '--concurrency', '4')
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.equal(rawLines.map((line) => `${line}\n`).join(''))
  })

  it('warns before starting when the fetch makes more than 60 requests, suggesting a --chunk-days', async () => {
    // Bad credentials: the fetch stops at the first request, after the warning.
    const result = await cli.run(['fetch:events', '2024-01-01', '2024-03-31', '--stdout', '--chunk-days', '1'], {
      MP_SECRET: 'wrong',
    })
    expect(result.code).to.equal(2)
    expect(result.stderr).to.match(
      /Warning: this fetch makes 91 export requests .*60 an hour.*--chunk-days 2 makes it 46/,
    )
    expect(cli.server.requests.length).to.be.at.most(1)
  })

  it('does not warn for 60 requests or fewer', async () => {
    const result = await fetchAll('--chunk-days', '30')
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stderr).to.not.match(/requests/)
  })

  it('exits 3 for a concurrency outside 1 to 100', async () => {
    for (const value of ['0', '101']) {
      const result = await cli.run(['fetch:events', '2024-01-01', '2024-01-02', '--stdout', '--concurrency', value])
      expect(result.code, value).to.equal(3)
      expect(result.stderr.trim().split('\n'), result.stderr).to.have.length(1)
    }

    expect(cli.server.requests).to.have.length(0)
  })
})
