import {expect} from 'chai'
import {normalizeProfileLine} from 'mpx-mixpanel-core/internal/records/profiles.js'

import {runMpxClosingStdout} from '../../support/cli.js'
import {generateProfiles} from '../../support/generate.js'
import {useServiceAccountCli} from '../../support/hooks.js'

const profiles = generateProfiles({count: 730, seed: 4})
const rawLines = [...profiles.lines()]

describe('fetch:profiles', () => {
  // 100 a page: 8 pages, `total` on page 0 only.
  const cli = useServiceAccountCli({engagePageSize: 100, profiles})

  it('streams normalized profiles to stdout in page order, and a summary on stderr', async () => {
    const result = await cli.run(['fetch:profiles', '--stdout'])
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.equal(rawLines.map((line) => normalizeProfileLine(line) + '\n').join(''))
    const first = JSON.parse(result.stdout.split('\n', 1)[0]) as Record<string, unknown>
    expect(Object.keys(first)).to.deep.equal(['distinct_id', 'last_seen', 'properties'])
    expect(first.last_seen).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/)
    // 19-digit integers come out with every digit.
    expect(result.stdout).to.match(/"company_id":\d{19}[,}]/)
    expect(result.stderr).to.match(/Fetched 730 profiles to stdout/)
    expect(cli.server.requests.map((request) => request.query.project_id)).to.deep.equal(
      Array.from({length: 8}, () => '4242'),
    )
  })

  it('writes the results byte for byte with --raw', async () => {
    const result = await cli.run(['fetch:profiles', '--stdout', '--raw', '--quiet'])
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.equal(rawLines.join('\n') + '\n')
    expect(result.stdout).to.match(/"company_id":\d{19}[,}]/)
    expect(result.stderr).to.equal('')
  })

  it('sends every filter flag in the engage body and says that TABLE is ignored with --stdout', async () => {
    const result = await cli.run([
      'fetch:profiles',
      'mytable',
      '--stdout',
      '-w',
      'user["plan"] == "pro"',
      '--cohort',
      '9876',
      '--output-properties',
      '$email, plan',
      '--output-properties',
      '$city',
      '--distinct-id',
      'u3',
      '--distinct-id',
      'u700',
      '--group-id',
      '1234567890123456789',
      '--include-all-users',
      '--as-of-timestamp',
      '1704067200',
      '--limit',
      '5',
    ])
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stderr).to.include('TABLE "mytable" is ignored with --stdout')
    expect(
      result.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).distinct_id),
    ).to.deep.equal(['u3', 'u700'])
    expect(cli.server.requests).to.have.length(1)
    expect(cli.server.requests[0].body).to.deep.equal({
      as_of_timestamp: '1704067200',
      data_group_id: '1234567890123456789',
      distinct_ids: '["u3","u700"]',
      filter_by_cohort: '{"id":9876}',
      include_all_users: 'true',
      output_properties: '["$email","plan","$city"]',
      page: '0',
      page_size: '5',
      where: 'user["plan"] == "pro"',
    })
  })

  it('stops at --limit', async () => {
    const result = await cli.run(['fetch:profiles', '--stdout', '--raw', '--limit', '250'])
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.equal(rawLines.slice(0, 250).join('\n') + '\n')
  })

  it('retries a 429 on page 3 and prints every profile exactly once', async () => {
    cli.server.fail('engage', {match: (request) => request.params.page === '3', status: 429})
    cli.server.fail('engage', {match: (request) => request.params.page === '3', retryAfter: 0, status: 429})
    const result = await cli.run(['fetch:profiles', '--stdout', '--raw'])
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.equal(rawLines.join('\n') + '\n')
    expect(result.stderr).to.match(/engage page 3: HTTP 429.*retry/)
  })

  it('starts again when the session expires, with a warning and no duplicates', async () => {
    cli.server.fail('engage', {match: (request) => request.params.page === '5', sessionExpired: true})
    const result = await cli.run(['fetch:profiles', '--stdout', '--raw'])
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.equal(rawLines.join('\n') + '\n')
    expect(result.stderr).to.match(/session expired at page 5: starting again from page 0/)
  })

  it('exits 2 with a one-line error and no output when Mixpanel rejects the credentials', async () => {
    const result = await cli.run(['fetch:profiles', '--stdout'], {MP_SECRET: 'wrong-secret'})
    expect(result.code).to.equal(2)
    expect(result.stdout).to.equal('')
    expect(result.stderr).to.match(/rejected the credentials/)
    expect(result.stderr.trim().split('\n')).to.have.length(1)
    expect(result.stderr).to.not.include('wrong-secret')
  })

  it('exits 3 quoting the expression when Mixpanel rejects --where', async () => {
    const result = await cli.run(['fetch:profiles', '--stdout', '-w', 'BAD'])
    expect(result.code).to.equal(3)
    expect(result.stderr).to.include('"BAD"')
  })

  it('exits 3 before any request for bad flags and for --raw into DuckDB', async () => {
    for (const args of [
      ['--limit', '0'],
      ['--cohort', 'abc'],
      ['--nope'],
      ['--raw'],
      ['--output-properties', ','],
      ['--no-dedupe'],
    ]) {
      const result = await cli.run(['fetch:profiles', ...args, ...(args[0] === '--raw' ? [] : ['--stdout'])])
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(3)
      expect(result.stdout).to.equal('')
    }

    expect(cli.server.requests).to.have.length(0)
  })

  it('exits quietly with 0 when the reader closes stdout early (| head -1)', async () => {
    cli.server.setProfiles(generateProfiles({count: 20_000, seed: 6}))
    try {
      const {code, stderr} = await runMpxClosingStdout(['fetch:profiles', '--stdout'], {env: cli.env})
      expect(code).to.equal(0)
      expect(stderr).to.not.match(/EPIPE|Error/)
    } finally {
      cli.server.setProfiles(profiles)
    }
  })
})
